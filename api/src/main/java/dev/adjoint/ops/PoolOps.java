package dev.adjoint.ops;

import dev.adjoint.Shape;
import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;
import dev.adjoint.autograd.Graph;
import dev.adjoint.spi.Window2d;

import static dev.adjoint.ops.ElementwiseOps.of;

/**
 * 2-D pooling. Max pooling is a kernel that also returns where each maximum came from; its
 * gradient scatters into those positions, and that scatter's own gradient gathers from them, so
 * both directions are differentiable. Average pooling is a kernel pair, the mean of each window and its
 * input gradient (its adjoint), each the other's VJP, so gradients of gradients need no formula of
 * their own; the SPI's defaults compose them from unfold, a sum and fold. Adaptive average pooling
 * is two small matrix products with averaging matrices (its windows differ in size, so they do not
 * fit one unfold).
 */
public final class PoolOps {
    private static final Tensor[] NOTHING = new Tensor[0];

    private PoolOps() {
    }

    /**
     * The pooled values and the INT64 position of each within its image ({@code h * W + w}), as
     * torch's return_indices, in that order.
     */
    public static Tensor[] maxPool2d(Tensor input, int[] kernelSize, int[] stride, int[] padding, int[] dilation,
                                          boolean ceilMode) {
        String op = "maxPool2d";
        WindowArgs.checkInputRank(op, input, 2);
        Window2d window = poolWindow(op, input, kernelSize, stride, padding, dilation, ceilMode);
        Tensor x = WindowArgs.batched(input, 2);
        Tensor[] pooled = Dispatch.maxPool2d(x, window);
        Tensor indices = pooled[1];
        Tensor out = Graph.record("MaxPool2DWithIndicesBackward", pooled[0], of(x), of(indices),
                (g, c) -> of(scatterToMaxima(g, c.saved(0), window)),
                (t, in, y) -> atMaxima(t[0], indices, window));
        return new Tensor[] {WindowArgs.unbatched(out, input, 2), WindowArgs.unbatched(indices, input, 2)};
    }

    /**
     * Max pooling's input gradient, itself recorded: it is linear in {@code grad}, and its VJP reads
     * the incoming gradient back at the maxima.
     */
    private static Tensor scatterToMaxima(Tensor grad, Tensor indices, Window2d window) {
        Tensor out = Dispatch.maxPool2dBackward(grad, indices, window);
        return Graph.record("MaxPool2DWithIndicesBackwardBackward", out, of(grad), of(indices),
                (g, c) -> of(atMaxima(g, c.saved(0), window)),
                (t, in, y) -> scatterToMaxima(t[0], indices, window));
    }

    /**
     * The values of {@code image} ({@code [N, C, H, W]}) at the maxima: max pooling's tangent, and the
     * VJP of its input gradient.
     */
    private static Tensor atMaxima(Tensor image, Tensor indices, Window2d window) {
        int n = image.size(0);
        int channels = image.size(1);
        return image.reshape(n, channels, window.height() * window.width())
                .gather(2, indices.reshape(n, channels, window.positions()))
                .reshape(n, channels, window.outH(), window.outW());
    }

    /**
     * Mean of each window. With {@code countIncludePad} the divisor counts the padding a window covers
     * (but not the part of a ceil-mode window beyond it), otherwise only the pixels inside the image, as PyTorch.
     */
    public static Tensor avgPool2d(Tensor input, int[] kernelSize, int[] stride, int[] padding, boolean ceilMode,
                                   boolean countIncludePad) {
        String op = "avgPool2d";
        WindowArgs.checkInputRank(op, input, 2);
        Dispatch.checkFloating(op, input);
        Window2d window = poolWindow(op, input, kernelSize, stride, padding, new int[] {1}, ceilMode);
        Tensor x = WindowArgs.batched(input, 2);
        return WindowArgs.unbatched(averages(x, window, countIncludePad), input, 2);
    }

    /** The window means of a batched {@code x}; its gradient is {@link #averagesInputGrad}. */
    private static Tensor averages(Tensor x, Window2d window, boolean countIncludePad) {
        Tensor out = Dispatch.empty(x.backend(), x.dtype(), Shape.of(x.size(0), x.size(1), window.outH(), window.outW()));
        if (out.numel() > 0) {
            x.backend().avgPool2d(x.storage(), x.layout(), window, countIncludePad, out.storage(), out.layout());
        }
        return Graph.record("AvgPool2DBackward", out, of(x), NOTHING,
                (g, c) -> of(averagesInputGrad(g, window, countIncludePad)),
                (t, in, y) -> averages(t[0], window, countIncludePad));
    }

    /**
     * Average pooling's input gradient, itself recorded: it is linear in {@code grad} and the adjoint
     * of {@link #averages}, so each is the other's VJP.
     */
    private static Tensor averagesInputGrad(Tensor grad, Window2d window, boolean countIncludePad) {
        // Zeros: kernels may add each window's share into its pixels rather than write each pixel once.
        Tensor out = Dispatch.zeros(grad.backend(), grad.dtype(),
                Shape.of(grad.size(0), grad.size(1), window.height(), window.width()));
        if (grad.numel() > 0) {
            grad.backend().avgPool2dInputGrad(grad.storage(), grad.layout(), window, countIncludePad, out.storage(),
                    out.layout());
        }
        return Graph.record("AvgPool2DBackwardBackward", out, of(grad), NOTHING,
                (g, c) -> of(averages(g, window, countIncludePad)),
                (t, in, y) -> averagesInputGrad(t[0], window, countIncludePad));
    }

    /**
     * Average over {@code outputSize} windows that tile the image: window {@code i} along a dimension
     * of size {@code s} covers {@code floor(i s / out)} to {@code ceil((i + 1) s / out)}, as PyTorch.
     * Computed as {@code A_h @ x @ A_w^T} with averaging matrices {@code A}, or as a mean for a 1x1 output.
     */
    public static Tensor adaptiveAvgPool2d(Tensor input, int[] outputSize) {
        String op = "adaptiveAvgPool2d";
        WindowArgs.checkInputRank(op, input, 2);
        int[] out = WindowArgs.perDim(op, "output size", outputSize, 2, 1);
        int[] size = WindowArgs.spatialSizes(input, 2);
        if (size[0] == 0 || size[1] == 0) {
            throw new TensorShapeException(op + ": the input's spatial dimensions must be non-empty, got shape "
                    + input.shape());
        }
        int r = input.rank();
        if (out[0] == 1 && out[1] == 1) {
            return input.mean(new int[] {r - 2, r - 1}, true);
        }
        Tensor rows = averaging(input, out[0], size[0]);
        Tensor cols = averaging(input, out[1], size[1]);
        return rows.matmul(input.matmul(cols.transpose(0, 1)));
    }

    /** {@code [out, size]}: row i holds 1 / (window length) over window i's span. */
    private static Tensor averaging(Tensor like, int out, int size) {
        double[] values = new double[out * size];
        for (int i = 0; i < out; i++) {
            int start = (int) ((long) i * size / out);
            int end = (int) (((long) (i + 1) * size + out - 1) / out);
            for (int j = start; j < end; j++) {
                values[i * size + j] = 1.0 / (end - start);
            }
        }
        return Tensor.on(like.backend()).fromArray(values, like.dtype(), out, size);
    }

    // ---- the pooling window ------------------------------------------------------------------------

    /**
     * The window of a pooling op: stride defaults to the kernel (an empty or null {@code stride}),
     * padding at most half the kernel (so every window reaches into the image, as PyTorch requires),
     * at least one output position, and every window with at least one tap inside the image.
     */
    private static Window2d poolWindow(String op, Tensor input, int[] kernelSize, int[] stride, int[] padding,
                                       int[] dilation, boolean ceilMode) {
        int[] k = WindowArgs.perDim(op, "kernel size", kernelSize, 2, 1);
        int[] s = stride == null || stride.length == 0 ? k : WindowArgs.perDim(op, "stride", stride, 2, 1);
        int[] p = WindowArgs.perDim(op, "padding", padding, 2, 0);
        int[] d = WindowArgs.perDim(op, "dilation", dilation, 2, 1);
        int[] size = WindowArgs.spatialSizes(input, 2);
        int[] out = new int[2];
        for (int i = 0; i < 2; i++) {
            if (p[i] > k[i] / 2) {
                throw new IllegalArgumentException(op + ": padding " + WindowArgs.size(p)
                        + " must be at most half the kernel size " + WindowArgs.size(k));
            }
            out[i] = Window2d.outputSize(size[i], k[i], s[i], p[i], d[i], ceilMode);
            if (out[i] < 1) {
                throw new TensorShapeException(op + ": the output would be empty for input shape " + input.shape()
                        + " with kernel " + WindowArgs.size(k) + ", stride " + WindowArgs.size(s) + ", padding "
                        + WindowArgs.size(p) + ", dilation " + WindowArgs.size(d));
            }
        }
        Window2d window = new Window2d(size[0], size[1], k[0], k[1], s[0], s[1], p[0], p[1], d[0], d[1], out[0], out[1]);
        for (int i = 0; i < out[0]; i++) {
            checkReachesImage(op, input, window, i, true);
        }
        for (int j = 0; j < out[1]; j++) {
            checkReachesImage(op, input, window, j, false);
        }
        return window;
    }

    private static void checkReachesImage(String op, Tensor input, Window2d w, int position, boolean rows) {
        int kernel = rows ? w.kernelH() : w.kernelW();
        int size = rows ? w.height() : w.width();
        for (int t = 0; t < kernel; t++) {
            int at = rows ? w.row(position, t) : w.column(position, t);
            if (at >= 0 && at < size) {
                return;
            }
        }
        throw new TensorShapeException(op + ": window " + (rows ? "row " : "column ") + position
                + " has no tap inside the input (shape " + input.shape() + ", " + w + ")");
    }
}
