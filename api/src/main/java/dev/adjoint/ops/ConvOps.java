package dev.adjoint.ops;

import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;
import dev.adjoint.autograd.Graph;
import dev.adjoint.spi.Window2d;

import java.util.Locale;

import static dev.adjoint.ops.ElementwiseOps.of;

/**
 * Convolutions as composites over two movement primitives, unfold (im2col) and fold (col2im),
 * each recorded with the other as its vector-Jacobian product and itself as its Jacobian-vector
 * product (both are linear). A convolution is unfold, one
 * (grouped) matrix product with the weight, and a reshape; a transposed convolution is a matrix
 * product and a fold. Their gradients are therefore ordinary differentiable ops: the input gradient
 * of a convolution comes out as a transposed convolution and the weight gradient as a convolution,
 * and gradients of gradients work without a formula of their own. conv1d is conv2d over images of
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
     * {@code x [N, C, H, W]} convolved with {@code w [O, C / groups, kH, kW]}: the unfolded input,
     * stored as {@code [C * taps, N, positions]}, is viewed as {@code [groups, C / groups * taps,
     * N * positions]} and multiplied by the weight viewed as {@code [groups, O / groups, C / groups *
     * taps]}: one matrix product per group over the whole batch, giving {@code [O, N, positions]}.
     * Backward, the same layout makes the weight gradient one product per group with the batch in its
     * inner dimension (no sum over samples afterwards).
     */
    private static Tensor convolve(Tensor x, Tensor w, Tensor bias, Window2d window, int groups) {
        int n = x.size(0);
        int outChannels = w.size(0);
        int depth = w.size(1) * window.taps();
        int positions = window.positions();
        Tensor weights = w.reshape(groups, outChannels / groups, depth);
        if (isPointwise(window)) {
            // A 1x1 kernel with stride 1 and no padding reads each pixel once: unfold would only move
            // the batch dimension. Multiply the input in place instead, one product per sample and
            // group; the weight gradient is summed over the batch by the engine.
            Tensor product = weights.matmul(x.reshape(n, groups, depth, positions)).reshape(n, outChannels, positions);
            Tensor out = bias == null ? product : product.add(bias.reshape(1, outChannels, 1));
            return out.reshape(n, outChannels, window.outH(), window.outW());
        }
        Tensor cols = unfold(x, window).permute(1, 0, 2).reshape(groups, depth, n * positions);
        Tensor product = weights.matmul(cols);
        // [N, O, positions] over the product's [O, N, positions] memory: each row of positions is dense, so
        // the bias add (or, without one, a copy) writes the output in [N, O, H, W] order a row at a time.
        Tensor out = product.reshape(outChannels, n, positions).permute(1, 0, 2);
        out = bias == null ? out.contiguous() : out.add(bias.reshape(1, outChannels, 1));
        return out.reshape(n, outChannels, window.outH(), window.outW());
    }

    private static boolean isPointwise(Window2d w) {
        return w.taps() == 1 && w.strideH() == 1 && w.strideW() == 1 && w.padH() == 0 && w.padW() == 0
                && w.outH() == w.height() && w.outW() == w.width();
    }

    /**
     * torch.nn.functional.conv_transpose2d: the adjoint of conv2d with respect to its input. The
     * input {@code [N, C_in, H, W]} times the weight {@code [C_in, C_out / groups, kH, kW]} gives the
     * columns a conv2d of the output-sized image would have unfolded, and fold sums them into it.
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
        Tensor x = WindowArgs.batched(input, 2);
        int n = x.size(0);
        int positions = window.positions();
        int inPerGroup = weight.size(0) / groups;
        int depth = weight.size(1) * window.taps();
        Tensor pixels = x.reshape(n, groups, inPerGroup, positions).permute(1, 2, 0, 3)
                .reshape(groups, inPerGroup, n * positions);
        Tensor cols = weight.reshape(groups, inPerGroup, depth).transpose(1, 2).matmul(pixels);
        Tensor out = fold(cols.reshape(groups * depth, n, positions).permute(1, 0, 2), window, outChannels);
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
