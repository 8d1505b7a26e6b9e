package dev.adjoint.nn;

import dev.adjoint.Functional;
import dev.adjoint.Tensor;

/**
 * {@code x} for {@code x > 0}, else {@code negativeSlope * x}, as {@code nn.LeakyReLU} (default slope
 * 0.01). At 0 the derivative is the slope, as PyTorch's.
 */
public final class LeakyReLU extends Module {
    public static final double DEFAULT_NEGATIVE_SLOPE = 0.01;

    private final double negativeSlope;

    public LeakyReLU(double negativeSlope) {
        this.negativeSlope = negativeSlope;
    }

    public LeakyReLU() {
        this(DEFAULT_NEGATIVE_SLOPE);
    }

    public double negativeSlope() {
        return negativeSlope;
    }

    @Override
    public Tensor forward(Tensor x) {
        return Functional.leakyRelu(x, negativeSlope);
    }

    @Override
    protected String describe() {
        return "negative_slope=" + negativeSlope;
    }
}
