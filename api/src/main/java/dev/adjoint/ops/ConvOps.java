package dev.adjoint.ops;

import dev.adjoint.Shape;
import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;
import dev.adjoint.autograd.Graph;
import dev.adjoint.spi.Window2d;

import java.util.Locale;

import static dev.adjoint.ops.ElementwiseOps.of;

/**
 * Convolutions over three primitives, the convolution without bias and its two adjoints (its input
 * gradient, a transposed convolution, and its weight gradient). Each is linear in both operands,
 * and the derivatives of each are the other two: recorded with those as vector-Jacobian products
 * and with themselves as Jacobian-vector products, gradients of gradients work without a formula
 * of their own. A backend may run the three with kernels of its own; the SPI's defaults compose
 * them from unfold, matmul and fold. The movement primitives unfold (im2col) and fold (col2im)
 * are also ops of their own here, each the other's adjoint. conv1d is conv2d over images of
 * height 1.
 */
public final class ConvOps {
    private static final Tensor[] NOTHING = new Tensor[0];

    private ConvOps() {
    }

    // ---- the two primitives ------------------------------------------------------------------------

    /** unfold of a batched {@code [N, C, H, W]} input along {@code window}; see {@link dev.adjoint.spi.Backend#unfold}. */
    static Tensor unfold(Tensor x, Window2d window) {
        Tensor out = Dispatch.unfold(x, window);
        int channels = x.size(1);
        return Graph.record("Im2ColBackward", out, of(x), NOTHING, (g, c) -> of(fold(g, window, channels)),
                (t, in, y) -> unfold(t[0], window));
    }

    /** fold of {@code [N, channels * taps, positions]} columns into {@code [N, channels, height, width]}. */
    static Tensor fold(Tensor cols, Window2d window, int channels) {
        Tensor out = Dispatch.fold(cols, window, channels);
        return Graph.record("Col2ImBackward", out, of(cols), NOTHING, (g, c) -> of(unfold(g, window)),
                (t, in, y) -> fold(t[0], window, channels));
    }

    /**
     * {@code x [N, C, H, W]} convolved with {@code w [O, C / groups, kH, kW]}, no bias. Its gradients:
     * for the input, {@link #convolutionInputGrad}; for the weight, {@link #convolutionWeightGrad}.
     */
    static Tensor convolution(Tensor x, Tensor w, Window2d window, int groups) {
        Tensor out = Dispatch.conv2d(x, w, window, groups);
        return Graph.record("ConvolutionBackward", out, of(x, w), of(x, w), (g, c) -> of(
                        c.needsInputGrad(0) ? convolutionInputGrad(g, c.saved(1), window, groups) : null,
                        c.needsInputGrad(1) ? convolutionWeightGrad(c.saved(0), g, window, groups, w.shape()) : null),
                (t, in, y) -> bilinear(t, in, (a, b) -> convolution(a, b, window, groups)));
    }

    /**
     * The input gradient of {@link #convolution} for output gradient {@code g} ({@code [N, O, outH,
     * outW]}): a transposed convolution, {@code [N, w.size(1) * groups, H, W]}. With
     * {@code <convolution(x, w), g> = <x, inputGrad(g, w)>} for every x, its derivatives with respect
     * to g and w, against a gradient {@code u} shaped like x, are {@code convolution(u, w)} and
     * {@code weightGrad(u, g)}.
     */
    static Tensor convolutionInputGrad(Tensor g, Tensor w, Window2d window, int groups) {
        Tensor out = Dispatch.conv2dInputGrad(g, w, window, groups);
        return Graph.record("ConvolutionInputGradBackward", out, of(g, w), of(g, w), (u, c) -> of(
                        c.needsInputGrad(0) ? convolution(u, c.saved(1), window, groups) : null,
                        c.needsInputGrad(1) ? convolutionWeightGrad(u, c.saved(0), window, groups, w.shape()) : null),
                (t, in, y) -> bilinear(t, in, (a, b) -> convolutionInputGrad(a, b, window, groups)));
    }

    /**
     * The weight gradient of {@link #convolution} for input {@code x} and output gradient {@code g}:
     * shaped {@code weightShape}. With {@code <convolution(x, w), g> = <w, weightGrad(x, g)>}, its
     * derivatives with respect to x and g, against a gradient {@code u} shaped like the weight, are
     * {@code inputGrad(g, u)} and {@code convolution(x, u)}.
     */
    static Tensor convolutionWeightGrad(Tensor x, Tensor g, Window2d window, int groups, Shape weightShape) {
        Tensor out = Dispatch.conv2dWeightGrad(x, g, window, groups, weightShape);
        return Graph.record("ConvolutionWeightGradBackward", out, of(x, g), of(x, g), (u, c) -> of(
                        c.needsInputGrad(0) ? convolutionInputGrad(c.saved(1), u, window, groups) : null,
                        c.needsInputGrad(1) ? convolution(c.saved(0), u, window, groups) : null),
                (t, in, y) -> bilinear(t, in, (a, b) -> convolutionWeightGrad(a, b, window, groups, weightShape)));
    }

    /** The tangent of a bilinear {@code f(a, b)}: {@code f(ta, b) + f(a, tb)}, either term absent without its tangent. */
    private static Tensor bilinear(Tensor[] t, Tensor[] in, java.util.function.BinaryOperator<Tensor> f) {
        if (t[0] == null) {
            return f.apply(in[0], t[1]);
        }
        return t[1] == null ? f.apply(t[0], in[1]) : f.apply(t[0], in[1]).add(f.apply(in[0], t[1]));
    }

    /** torch.nn.functional.unfold: {@code [N, C, H, W]} (or unbatched {@code [C, H, W]}) to {@code [N, C * kH * kW, L]}. */
    public static Tensor unfold(Tensor input, int[] kernelSize, int[] dilation, int[] padding, int[] stride) {
        String op = "unfold";
        WindowArgs.checkInputRank(op, input, 2);
        int[] k = WindowArgs.perDim(op, "kernel size", kernelSize, 2, 1);
        int[] d = WindowArgs.perDim(op, "dilation", dilation, 2, 1);
        int[] p = WindowArgs.perDim(op, "padding", padding, 2, 0);
        int[] s = WindowArgs.perDim(op, "stride", stride, 2, 1);
        int[] size = WindowArgs.spatialSizes(input, 2);
        Window2d window = window(op, input, size, k, s, p, p, d);
        Tensor x = WindowArgs.batched(input, 2);
        return WindowArgs.unbatched(unfold(x, window), input, 2);
    }

    /**
     * torch.nn.functional.fold: sums {@code [N, C * kH * kW, L]} (or unbatched {@code [C * kH * kW, L]})
     * sliding-window columns back into {@code [N, C, outputSize[0], outputSize[1]]}.
     */
    public static Tensor fold(Tensor input, int[] outputSize, int[] kernelSize, int[] dilation, int[] padding,
                              int[] stride) {
        String op = "fold";
        Dispatch.checkFloating(op, input);
        if (input.rank() != 2 && input.rank() != 3) {
            throw new TensorShapeException(op + ": expected a 2-D (unbatched) or 3-D (batched) input, got shape "
                    + input.shape());
        }
        int[] size = WindowArgs.perDim(op, "output size", outputSize, 2, 1);
        int[] k = WindowArgs.perDim(op, "kernel size", kernelSize, 2, 1);
        int[] d = WindowArgs.perDim(op, "dilation", dilation, 2, 1);
        int[] p = WindowArgs.perDim(op, "padding", padding, 2, 0);
        int[] s = WindowArgs.perDim(op, "stride", stride, 2, 1);
        Tensor cols = input.rank() == 2 ? input.unsqueeze(0) : input;
        int taps = k[0] * k[1];
        if (cols.size(1) % taps != 0) {
            throw new TensorShapeException(op + ": dimension 1 of the input (" + cols.size(1) + ", shape "
                    + input.shape() + ") must be divisible by the kernel's " + WindowArgs.size(k) + " = " + taps
                    + " taps");
        }
        Window2d window = window(op, input, size, k, s, p, p, d);
        if (cols.size(2) != window.positions()) {
            throw new TensorShapeException(op + ": the input (shape " + input.shape() + ") has " + cols.size(2)
                    + " window positions, but a " + WindowArgs.size(k) + " kernel with stride " + WindowArgs.size(s)
                    + ", padding " + WindowArgs.size(p) + " and dilation " + WindowArgs.size(d) + " has "
                    + window.outH() + "x" + window.outW() + " = " + window.positions() + " positions in an output of "
                    + WindowArgs.size(size));
        }
        Tensor out = fold(cols, window, cols.size(1) / taps);
        return input.rank() == 2 ? out.squeeze(0) : out;
    }

    // ---- convolutions ------------------------------------------------------------------------------

    public static Tensor conv2d(Tensor input, Tensor weight, Tensor bias, int[] stride, int[] padding, int[] dilation,
                                int groups) {
        return convolution("conv2d", input, weight, bias, stride, padding, null, dilation, groups, 2);
    }

    /** conv2d with padding {@code "same"} (output as large as the input; stride 1 only) or {@code "valid"} (none). */
    public static Tensor conv2d(Tensor input, Tensor weight, Tensor bias, int[] stride, String padding,
                                int[] dilation, int groups) {
        return convolution("conv2d", input, weight, bias, stride, null, padding, dilation, groups, 2);
    }

    public static Tensor conv1d(Tensor input, Tensor weight, Tensor bias, int stride, int padding, int dilation,
                                int groups) {
        return convolution("conv1d", input, weight, bias, new int[] {stride}, new int[] {padding}, null,
                new int[] {dilation}, groups, 1);
    }

    public static Tensor conv1d(Tensor input, Tensor weight, Tensor bias, int stride, String padding, int dilation,
                                int groups) {
        return convolution("conv1d", input, weight, bias, new int[] {stride}, null, padding, new int[] {dilation},
                groups, 1);
    }

    /**
     * A convolution over {@code spatial} (1 or 2) dimensions. Exactly one of {@code padding} (per
     * dimension) and {@code paddingMode} ("same" or "valid") is given.
     */
    private static Tensor convolution(String op, Tensor input, Tensor weight, Tensor bias, int[] stride,
                                      int[] padding, String paddingMode, int[] dilation, int groups, int spatial) {
        WindowArgs.checkInputRank(op, input, spatial);
        Dispatch.checkSameBackend(op, input, weight);
        Dispatch.checkSameDType(op, input, weight);
        if (weight.rank() != spatial + 2) {
            throw new TensorShapeException(op + ": weight must be " + (spatial + 2) + "-D [out_channels, in_channels / "
                    + "groups, " + (spatial == 2 ? "kH, kW" : "kW") + "], got shape " + weight.shape());
        }
        int outChannels = weight.size(0);
        checkChannels(op, input, spatial, weight, groups, outChannels, weight.size(1) * groups, "weight");
        checkBias(op, input, bias, outChannels);
        int[] s = WindowArgs.perDim(op, "stride", stride, spatial, 1);
        int[] d = WindowArgs.perDim(op, "dilation", dilation, spatial, 1);
        int[] kernel = WindowArgs.spatialSizes(weight, spatial);
        int[] size = WindowArgs.spatialSizes(input, spatial);
        int[] before;
        int[] after;
        if (paddingMode == null) {
            before = WindowArgs.perDim(op, "padding", padding, spatial, 0);
            after = before;
        } else {
            String mode = paddingMode.toLowerCase(Locale.ROOT);
            before = new int[spatial];
            after = new int[spatial];
            if (mode.equals("same")) {
                for (int i = 0; i < spatial; i++) {
                    if (s[i] != 1) {
                        throw new IllegalArgumentException(op + ": padding \"same\" needs stride 1, got stride "
                                + WindowArgs.size(s));
                    }
                    // As PyTorch: any odd padding goes after the image.
                    int total = d[i] * (kernel[i] - 1);
                    before[i] = total / 2;
                    after[i] = total - before[i];
                }
            } else if (!mode.equals("valid")) {
                throw new IllegalArgumentException(op + ": padding must be \"same\" or \"valid\" (or sizes), got \""
                        + paddingMode + "\"");
            }
        }
        Tensor x = WindowArgs.batched(input, spatial);
        Tensor w = weight;
        if (spatial == 1) {
            // Images of height 1, a kernel of height 1.
            x = x.unsqueeze(2);
            w = weight.unsqueeze(2);
            size = new int[] {1, size[0]};
            kernel = new int[] {1, kernel[0]};
            s = new int[] {1, s[0]};
            d = new int[] {1, d[0]};
            before = new int[] {0, before[0]};
            after = new int[] {0, after[0]};
        }
        Window2d window = window(op, input, size, kernel, s, before, after, d);
        Tensor out = convolve(x, w, bias, window, groups);
        if (spatial == 1) {
            out = out.squeeze(2);
        }
        return WindowArgs.unbatched(out, input, spatial);
    }

    /**
     * {@code x [N, C, H, W]} convolved with {@code w [O, C / groups, kH, kW]}, plus the bias. A 1x1
     * kernel with stride 1 and no padding reads each pixel once: that is one matrix product per
     * sample and group over the input in place (the engine sums the weight gradient over the batch).
     */
    private static Tensor convolve(Tensor x, Tensor w, Tensor bias, Window2d window, int groups) {
        int n = x.size(0);
        int outChannels = w.size(0);
        Tensor product;
        if (isPointwise(window)) {
            int depth = w.size(1);
            product = w.reshape(groups, outChannels / groups, depth)
                    .matmul(x.reshape(n, groups, depth, window.positions()))
                    .reshape(n, outChannels, window.outH(), window.outW());
        } else {
            return bias == null ? convolution(x, w, window, groups) : convolution(x, w, bias, window, groups);
        }
        return bias == null ? product : product.add(bias.reshape(1, outChannels, 1, 1));
    }

    /**
     * {@link #convolution} plus a per-channel {@code bias} ({@code [O]}), in the convolution's own
     * kernel ({@code Backend.conv2dBiased}): one node, and no second output-sized tensor and pass as
     * {@code add} would make. The bias's gradient is the output gradient summed over the batch and
     * the positions; its tangent adds like the bias.
     */
    static Tensor convolution(Tensor x, Tensor w, Tensor bias, Window2d window, int groups) {
        Tensor out = Dispatch.conv2d(x, w, bias, window, groups);
        return Graph.record("ConvolutionBackward", out, of(x, w, bias), of(x, w), (g, c) -> of(
                        c.needsInputGrad(0) ? convolutionInputGrad(g, c.saved(1), window, groups) : null,
                        c.needsInputGrad(1) ? convolutionWeightGrad(c.saved(0), g, window, groups, w.shape()) : null,
                        c.needsInputGrad(2) ? g.sum(new int[] {0, 2, 3}, false) : null),
                (t, in, y) -> {
                    Tensor product = t[0] == null && t[1] == null ? null
                            : bilinear(t, in, (a, b) -> convolution(a, b, window, groups));
                    if (t[2] == null) {
                        return product;
                    }
                    Tensor tb = t[2].reshape(1, w.size(0), 1, 1);
                    return product == null ? tb : product.add(tb);
                });
    }

    private static boolean isPointwise(Window2d w) {
        return w.taps() == 1 && w.strideH() == 1 && w.strideW() == 1 && w.padH() == 0 && w.padW() == 0
                && w.outH() == w.height() && w.outW() == w.width();
    }

    /**
     * torch.nn.functional.conv_transpose2d: the adjoint of conv2d with respect to its input. The
     * input {@code [N, C_in, H, W]} is the output gradient of a conv2d of the output-sized image by
     * the weight {@code [C_in, C_out / groups, kH, kW]}, and the result that conv2d's input gradient.
     */
    public static Tensor convTranspose2d(Tensor input, Tensor weight, Tensor bias, int[] stride, int[] padding,
                                         int[] outputPadding, int groups, int[] dilation) {
        String op = "convTranspose2d";
        WindowArgs.checkInputRank(op, input, 2);
        Dispatch.checkSameBackend(op, input, weight);
        Dispatch.checkSameDType(op, input, weight);
        if (weight.rank() != 4) {
            throw new TensorShapeException(op + ": weight must be 4-D [in_channels, out_channels / groups, kH, kW], "
                    + "got shape " + weight.shape());
        }
        int outChannels = weight.size(1) * groups;
        checkChannels(op, input, 2, weight, groups, weight.size(0), weight.size(0), "weight");
        checkBias(op, input, bias, outChannels);
        int[] s = WindowArgs.perDim(op, "stride", stride, 2, 1);
        int[] p = WindowArgs.perDim(op, "padding", padding, 2, 0);
        int[] op2 = WindowArgs.perDim(op, "output padding", outputPadding, 2, 0);
        int[] d = WindowArgs.perDim(op, "dilation", dilation, 2, 1);
        int[] kernel = WindowArgs.spatialSizes(weight, 2);
        int[] size = WindowArgs.spatialSizes(input, 2);
        int[] outSize = new int[2];
        for (int i = 0; i < 2; i++) {
            if (op2[i] >= s[i] && op2[i] >= d[i]) {
                throw new IllegalArgumentException(op + ": output padding " + WindowArgs.size(op2)
                        + " must be smaller than either the stride " + WindowArgs.size(s) + " or the dilation "
                        + WindowArgs.size(d));
            }
            long extent = (long) (size[i] - 1) * s[i] - 2L * p[i] + (long) d[i] * (kernel[i] - 1) + op2[i] + 1;
            if (extent < 1) {
                throw new TensorShapeException(op + ": the output would be empty (" + extent + " along dimension "
                        + i + ") for input " + input.shape() + ", weight " + weight.shape() + ", stride "
                        + WindowArgs.size(s) + ", padding " + WindowArgs.size(p) + ", dilation " + WindowArgs.size(d));
            }
            outSize[i] = (int) extent;
        }
        Window2d window = new Window2d(outSize[0], outSize[1], kernel[0], kernel[1], s[0], s[1], p[0], p[1], d[0], d[1],
                size[0], size[1]);
        // The adjoint of a convolution of the output-sized image by the same weight.
        Tensor out = convolutionInputGrad(WindowArgs.batched(input, 2), weight, window, groups);
        if (bias != null) {
            out = out.add(bias.reshape(1, outChannels, 1, 1));
        }
        return WindowArgs.unbatched(out, input, 2);
    }

    // ---- checks ------------------------------------------------------------------------------------

    /** Input channels must equal {@code expected}, and {@code divisible} must divide into {@code groups}. */
    private static void checkChannels(String op, Tensor input, int spatial, Tensor weight, int groups, int divisible,
                                      int expected, String what) {
        if (groups < 1) {
            throw new IllegalArgumentException(op + ": groups must be positive, got " + groups);
        }
        if (divisible % groups != 0) {
            throw new TensorShapeException(op + ": " + what + " shape " + weight.shape() + " has " + divisible
                    + " channels in dimension 0, which do not split into " + groups + " groups");
        }
        int channels = input.size(input.rank() - spatial - 1);
        if (channels != expected) {
            throw new TensorShapeException(op + ": input shape " + input.shape() + " has " + channels
                    + " channels, but " + what + " shape " + weight.shape() + " with groups " + groups + " expects "
                    + expected);
        }
    }

    private static void checkBias(String op, Tensor input, Tensor bias, int outChannels) {
        if (bias == null) {
            return;
        }
        Dispatch.checkSameBackend(op, input, bias);
        Dispatch.checkSameDType(op, input, bias);
        if (bias.rank() != 1 || bias.size(0) != outChannels) {
            throw new TensorShapeException(op + ": bias shape " + bias.shape() + " must be [" + outChannels
                    + "] (one value per output channel)");
        }
    }

    /** The window of a convolution or unfold, checking that the (dilated) kernel fits the padded input. */
    static Window2d window(String op, Tensor input, int[] size, int[] kernel, int[] stride, int[] before, int[] after,
                           int[] dilation) {
        int[] out = new int[2];
        for (int i = 0; i < 2; i++) {
            long padded = (long) size[i] + before[i] + after[i];
            long span = (long) dilation[i] * (kernel[i] - 1) + 1;
            if (span > padded) {
                throw new TensorShapeException(op + ": the kernel " + WindowArgs.size(kernel) + " with dilation "
                        + WindowArgs.size(dilation) + " spans " + span + " along dimension " + i
                        + ", more than the padded input's " + padded + " (input shape " + input.shape() + ")");
            }
            out[i] = (int) ((padded - span) / stride[i] + 1);
        }
        return new Window2d(size[0], size[1], kernel[0], kernel[1], stride[0], stride[1], before[0], before[1],
                dilation[0], dilation[1], out[0], out[1]);
    }
}
