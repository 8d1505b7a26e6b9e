package dev.adjoint.nn;

import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;

import java.util.Arrays;

/**
 * What Conv1d, Conv2d and ConvTranspose2d share: the geometry, the checks of their arguments and
 * input, and PyTorch's default initialisation of their weight and bias, registered on the owning
 * module. Kaiming-uniform with a = sqrt(5) on the weight gives U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
 * and the bias gets the same bound; {@code fan_in} is dimension 1 of the weight times the kernel's
 * taps, as torch's {@code _calculate_fan_in_and_fan_out} counts it (for a transposed convolution,
 * whose weight is {@code [C_in, C_out / groups, ...]}, that is {@code C_out / groups} times the taps).
 */
final class ConvLayer {
    final String name;
    final int inChannels;
    final int outChannels;
    final int spatial;
    final int[] kernel;
    final int groups;
    final boolean hasBias;
    final boolean transposed;
    int[] stride;
    int[] padding;
    String paddingMode;
    int[] outputPadding;
    int[] dilation;

    ConvLayer(Module owner, String name, int inChannels, int outChannels, int[] kernelSize, int spatial, int groups,
              boolean bias, boolean transposed, NnContext ctx) {
        this.name = name;
        this.spatial = spatial;
        if (inChannels <= 0 || outChannels <= 0) {
            throw new IllegalArgumentException(name + ": channel counts must be positive, got in=" + inChannels
                    + " out=" + outChannels);
        }
        if (groups < 1 || inChannels % groups != 0 || outChannels % groups != 0) {
            throw new IllegalArgumentException(name + ": in_channels " + inChannels + " and out_channels "
                    + outChannels + " must both be divisible by groups " + groups);
        }
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.kernel = perDim("kernel size", kernelSize, 1);
        this.groups = groups;
        this.hasBias = bias;
        this.transposed = transposed;
        int[] shape = new int[spatial + 2];
        shape[0] = transposed ? inChannels : outChannels;
        shape[1] = (transposed ? outChannels : inChannels) / groups;
        System.arraycopy(kernel, 0, shape, 2, spatial);
        var create = Tensor.on(ctx.backend());
        Tensor weight = create.zeros(ctx.dtype(), shape);
        Init.kaimingUniform(weight, Math.sqrt(5.0), Init.FanMode.FAN_IN, Init.Nonlinearity.LEAKY_RELU, ctx.generator());
        owner.registerParameter("weight", weight);
        if (bias) {
            double bound = 1.0 / Math.sqrt(Init.fans(weight)[0]);
            owner.registerParameter("bias", Init.uniform(create.zeros(ctx.dtype(), outChannels), -bound, bound,
                    ctx.generator()));
        }
    }

    void setGeometry(int[] stride, int[] padding, String paddingMode, int[] dilation) {
        this.stride = perDim("stride", stride, 1);
        this.dilation = perDim("dilation", dilation, 1);
        if (paddingMode != null) {
            if (!paddingMode.equals("same") && !paddingMode.equals("valid")) {
                throw new IllegalArgumentException(name + ": padding must be \"same\" or \"valid\" (or sizes), got \""
                        + paddingMode + "\"");
            }
            if (paddingMode.equals("same") && Arrays.stream(this.stride).anyMatch(s -> s != 1)) {
                throw new IllegalArgumentException(name + ": padding \"same\" needs stride 1, got stride "
                        + Arrays.toString(stride));
            }
            this.paddingMode = paddingMode;
        } else {
            this.padding = perDim("padding", padding, 0);
        }
    }

    /** One value per spatial dimension; a single value is repeated, as PyTorch's {@code _pair}. */
    int[] perDim(String what, int[] values, int min) {
        if (values == null || (values.length != 1 && values.length != spatial)) {
            throw new IllegalArgumentException(name + ": " + what + " must have 1 or " + spatial + " values, got "
                    + Arrays.toString(values));
        }
        int[] out = new int[spatial];
        for (int d = 0; d < spatial; d++) {
            out[d] = values.length == 1 ? values[0] : values[d];
            if (out[d] < min) {
                throw new IllegalArgumentException(name + ": " + what + " must be at least " + min + ", got "
                        + Arrays.toString(values));
            }
        }
        return out;
    }

    /** The layer's own message for an input of the wrong rank or channel count (the op checks the rest). */
    void checkInput(Tensor input) {
        int r = input.rank();
        if (r != spatial + 1 && r != spatial + 2) {
            throw new TensorShapeException(name + ": expected a " + (spatial + 1) + "-D (unbatched) or "
                    + (spatial + 2) + "-D (batched) input, got shape " + input.shape());
        }
        int channels = input.size(r - spatial - 1);
        if (channels != inChannels) {
            throw new TensorShapeException(name + ": input shape " + input.shape() + " has " + channels
                    + " channels, expected in_channels=" + inChannels);
        }
    }

    String describe() {
        StringBuilder sb = new StringBuilder().append(inChannels).append(", ").append(outChannels)
                .append(", kernel_size=").append(tuple(kernel)).append(", stride=").append(tuple(stride));
        if (paddingMode != null) {
            sb.append(", padding=").append(paddingMode);
        } else if (Arrays.stream(padding).anyMatch(p -> p != 0)) {
            sb.append(", padding=").append(tuple(padding));
        }
        if (outputPadding != null && Arrays.stream(outputPadding).anyMatch(p -> p != 0)) {
            sb.append(", output_padding=").append(tuple(outputPadding));
        }
        if (Arrays.stream(dilation).anyMatch(d -> d != 1)) {
            sb.append(", dilation=").append(tuple(dilation));
        }
        if (groups != 1) {
            sb.append(", groups=").append(groups);
        }
        if (!hasBias) {
            sb.append(", bias=False");
        }
        return sb.toString();
    }

    /** As Python prints a tuple: {@code (3, 3)}, {@code (3,)}. */
    static String tuple(int[] values) {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < values.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(values[i]);
        }
        return sb.append(values.length == 1 ? ",)" : ")").toString();
    }
}
