package dev.adjoint.nn;

import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;

/**
 * Parameter initialisers, as {@code torch.nn.init}: each fills an existing tensor in place (through
 * {@link Tensor#copyFrom} inside {@link Tensor#noGrad()}) from a seeded {@link Generator} and returns it.
 * Values are drawn in double precision on the host in row-major order, then converted to the tensor's
 * dtype, so a seed gives the same values on every backend.
 */
public final class Init {
    private Init() {
    }

    /** Whether a fan is counted over inputs or outputs (PyTorch's {@code mode}). */
    public enum FanMode { FAN_IN, FAN_OUT }

    /** The nonlinearity a gain is computed for ({@code torch.nn.init.calculate_gain}). */
    public enum Nonlinearity { LINEAR, SIGMOID, TANH, RELU, LEAKY_RELU, SELU }

    /**
     * PyTorch's recommended gain: 1 for linear and sigmoid, 5/3 for tanh, sqrt(2) for ReLU,
     * sqrt(2 / (1 + slope^2)) for leaky ReLU (slope {@code param}), 3/4 for SELU.
     */
    public static double calculateGain(Nonlinearity nonlinearity, double param) {
        return switch (nonlinearity) {
            case LINEAR, SIGMOID -> 1.0;
            case TANH -> 5.0 / 3.0;
            case RELU -> Math.sqrt(2.0);
            case LEAKY_RELU -> Math.sqrt(2.0 / (1.0 + param * param));
            case SELU -> 3.0 / 4.0;
        };
    }

    /** {fan_in, fan_out}: dims 1 and 0 times the receptive field (product of dims 2..), as PyTorch. */
    public static int[] fans(Tensor t) {
        if (t.rank() < 2) {
            throw new TensorShapeException("Init: fan in and fan out need a tensor with at least 2 dimensions, got shape "
                    + t.shape());
        }
        int receptive = 1;
        for (int d = 2; d < t.rank(); d++) {
            receptive *= t.size(d);
        }
        return new int[] {t.size(1) * receptive, t.size(0) * receptive};
    }

    public static Tensor uniform(Tensor t, double low, double high, Generator generator) {
        double[] v = new double[t.numel()];
        for (int i = 0; i < v.length; i++) {
            v[i] = low + (high - low) * generator.nextUniform();
        }
        return fill(t, v);
    }

    public static Tensor normal(Tensor t, double mean, double std, Generator generator) {
        double[] v = new double[t.numel()];
        for (int i = 0; i < v.length; i++) {
            v[i] = mean + std * generator.nextGaussian();
        }
        return fill(t, v);
    }

    public static Tensor constant(Tensor t, double value) {
        try (var scope = Tensor.noGrad()) {
            t.copyFrom(t.fullLike(value));
        }
        return t;
    }

    public static Tensor zeros(Tensor t) {
        return constant(t, 0.0);
    }

    public static Tensor ones(Tensor t) {
        return constant(t, 1.0);
    }

    /**
     * He uniform: U(-b, b) with b = gain * sqrt(3 / fan); {@code a} is the leaky-ReLU slope used for
     * the gain. With a = sqrt(5), LEAKY_RELU and FAN_IN this is nn.Linear's default, b = 1/sqrt(fan_in).
     */
    public static Tensor kaimingUniform(Tensor t, double a, FanMode mode, Nonlinearity nonlinearity,
                                        Generator generator) {
        double std = calculateGain(nonlinearity, a) / Math.sqrt(fan(t, mode));
        double bound = Math.sqrt(3.0) * std;
        return uniform(t, -bound, bound, generator);
    }

    /** He normal: N(0, std^2) with std = gain / sqrt(fan). */
    public static Tensor kaimingNormal(Tensor t, double a, FanMode mode, Nonlinearity nonlinearity,
                                       Generator generator) {
        double std = calculateGain(nonlinearity, a) / Math.sqrt(fan(t, mode));
        return normal(t, 0.0, std, generator);
    }

    /** Glorot uniform: U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out)). */
    public static Tensor xavierUniform(Tensor t, double gain, Generator generator) {
        int[] f = fans(t);
        double std = gain * Math.sqrt(2.0 / (f[0] + f[1]));
        double bound = Math.sqrt(3.0) * std;
        return uniform(t, -bound, bound, generator);
    }

    /** Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)). */
    public static Tensor xavierNormal(Tensor t, double gain, Generator generator) {
        int[] f = fans(t);
        return normal(t, 0.0, gain * Math.sqrt(2.0 / (f[0] + f[1])), generator);
    }

    private static int fan(Tensor t, FanMode mode) {
        int[] f = fans(t);
        int fan = mode == FanMode.FAN_IN ? f[0] : f[1];
        if (fan == 0) {
            throw new TensorShapeException("Init: cannot initialise a tensor with zero elements (shape " + t.shape() + ")");
        }
        return fan;
    }

    private static Tensor fill(Tensor t, double[] values) {
        Tensor source = Tensor.on(t.backend()).fromArray(values, t.dtype(), t.shape().toArray());
        try (var scope = Tensor.noGrad()) {
            t.copyFrom(source);
        }
        return t;
    }
}
