package dev.adjoint.ops;

import dev.adjoint.DType;
import dev.adjoint.InterpolationMode;
import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;

import java.util.Arrays;

/**
 * torch.nn.functional.interpolate, written above the SPI: each spatial dimension in turn is resampled
 * by {@code indexSelect} (nearest modes) or by two of them weighted and summed (linear modes, which are
 * separable), so every backend runs it and its gradients (scatter-adds of the output's gradient onto
 * the input elements each output element read) come from those ops. Source positions and weights are
 * computed as PyTorch computes them, in the input's precision.
 */
public final class InterpolationOps {
    private InterpolationOps() {
    }

    /**
     * Resamples the spatial dimensions (all but the first two) of {@code input} to {@code size}, or to
     * {@code floor(in * scaleFactor)} with the scale factors also setting the source positions (PyTorch's
     * default, {@code recompute_scale_factor=None}); exactly one of them is given, with one entry per
     * spatial dimension or a single entry for all. {@code alignCorners} only with the linear modes.
     */
    public static Tensor interpolate(Tensor input, int[] size, double[] scaleFactor, InterpolationMode mode,
                                     boolean alignCorners) {
        String op = "interpolate";
        Dispatch.checkFloating(op, input);
        int spatial = input.rank() - 2;
        if (spatial < 1 || spatial > 3) {
            throw new TensorShapeException(op + ": expected an input of shape [N, C, L], [N, C, H, W] or [N, C, D, H, W], got "
                    + input.shape());
        }
        int linearRank = switch (mode) {
            case LINEAR -> 1;
            case BILINEAR -> 2;
            case TRILINEAR -> 3;
            default -> 0;
        };
        if (linearRank != 0 && linearRank != spatial) {
            throw new TensorShapeException(op + ": mode " + mode + " needs " + (linearRank + 2)
                    + " dimensions, got input shape " + input.shape());
        }
        if (alignCorners && linearRank == 0) {
            throw new IllegalArgumentException(op + ": alignCorners applies to the linear modes only, not " + mode
                    + " (input shape " + input.shape() + ")");
        }
        if ((size == null) == (scaleFactor == null)) {
            throw new IllegalArgumentException(op + ": give either size or scaleFactor, not " + (size == null ? "neither" : "both")
                    + " (input shape " + input.shape() + ")");
        }
        int given = size != null ? size.length : scaleFactor.length;
        if (given != 1 && given != spatial) {
            throw new IllegalArgumentException(op + ": " + (size != null ? "size " + Arrays.toString(size)
                    : "scaleFactor " + Arrays.toString(scaleFactor)) + " must have 1 or " + spatial
                    + " entries for input shape " + input.shape());
        }
        int[] out = new int[spatial];
        double[] scales = scaleFactor == null ? null : new double[spatial];
        for (int d = 0; d < spatial; d++) {
            int in = input.size(d + 2);
            if (size != null) {
                out[d] = size[given == 1 ? 0 : d];
            } else {
                scales[d] = scaleFactor[given == 1 ? 0 : d];
                if (!(scales[d] > 0) || Double.isInfinite(scales[d])) {
                    throw new IllegalArgumentException(op + ": scaleFactor " + Arrays.toString(scaleFactor)
                            + " must be positive and finite (input shape " + input.shape() + ")");
                }
                out[d] = (int) Math.floor(in * scales[d]);
            }
            if (in <= 0 || out[d] <= 0) {
                throw new TensorShapeException(op + ": input and output sizes must be positive, got input shape "
                        + input.shape() + " and output size " + Arrays.toString(out));
            }
        }
        Tensor y = input;
        for (int d = 0; d < spatial; d++) {
            double scale = scales == null ? 0 : scales[d];
            y = linearRank == 0 ? nearest(y, d + 2, out[d], scale, mode == InterpolationMode.NEAREST_EXACT)
                    : linear(y, d + 2, out[d], scale, alignCorners);
        }
        // A new tensor, as PyTorch's, even where every size stays: writing into it must not change the input.
        return y == input ? input.clone() : y;
    }

    /** Along {@code dim}: output element i reads the input element PyTorch's nearest_idx chooses. */
    private static Tensor nearest(Tensor x, int dim, int outSize, double scaleFactor, boolean exact) {
        int inSize = x.size(dim);
        if (inSize == outSize) {
            return x;
        }
        long[] index = new long[outSize];
        // PyTorch computes the nearest source in float whatever the dtype.
        float scale = scaleFactor > 0 ? (float) (1.0 / scaleFactor) : (float) inSize / outSize;
        for (int i = 0; i < outSize; i++) {
            float at = exact ? (float) ((i + 0.5) * scale) : i * scale;
            index[i] = Math.min((long) Math.floor(at), inSize - 1);
        }
        return x.indexSelect(dim, Tensor.on(x.backend()).fromArray(index, outSize));
    }

    /**
     * Along {@code dim}: output element i is {@code (1 - l) x[i0] + l x[i1]} with the source position,
     * its two neighbours and the weight {@code l} as PyTorch's upsample_linear kernels compute them in
     * the input's precision (area_pixel_compute_scale and _source_index).
     */
    private static Tensor linear(Tensor x, int dim, int outSize, double scaleFactor, boolean alignCorners) {
        int inSize = x.size(dim);
        long[] lo = new long[outSize];
        long[] hi = new long[outSize];
        double[] lower = new double[outSize];
        double[] upper = new double[outSize];
        boolean single = x.dtype() == DType.FLOAT32;
        for (int i = 0; i < outSize; i++) {
            double source = single ? sourceFloat(i, inSize, outSize, scaleFactor, alignCorners)
                    : sourceDouble(i, inSize, outSize, scaleFactor, alignCorners);
            lo[i] = (long) source;
            hi[i] = lo[i] < inSize - 1 ? lo[i] + 1 : lo[i];
            double l = Math.min(Math.max(source - lo[i], 0), 1);
            upper[i] = single ? (float) l : l;
            lower[i] = single ? 1f - (float) l : 1 - l;
        }
        int[] weightShape = new int[x.rank()];
        Arrays.fill(weightShape, 1);
        weightShape[dim] = outSize;
        var create = Tensor.on(x.backend());
        Tensor below = x.indexSelect(dim, create.fromArray(lo, outSize))
                .mul(create.fromArray(lower, x.dtype(), weightShape));
        Tensor above = x.indexSelect(dim, create.fromArray(hi, outSize))
                .mul(create.fromArray(upper, x.dtype(), weightShape));
        return below.add(above);
    }

    private static float sourceFloat(int i, int inSize, int outSize, double scaleFactor, boolean alignCorners) {
        if (alignCorners) {
            float scale = outSize > 1 ? (float) (inSize - 1) / (outSize - 1) : 0f;
            return scale * i;
        }
        float scale = scaleFactor > 0 ? (float) (1.0 / scaleFactor) : (float) inSize / outSize;
        return Math.max(scale * (i + 0.5f) - 0.5f, 0f);
    }

    private static double sourceDouble(int i, int inSize, int outSize, double scaleFactor, boolean alignCorners) {
        if (alignCorners) {
            double scale = outSize > 1 ? (double) (inSize - 1) / (outSize - 1) : 0;
            return scale * i;
        }
        double scale = scaleFactor > 0 ? 1.0 / scaleFactor : (double) inSize / outSize;
        return Math.max(scale * (i + 0.5) - 0.5, 0);
    }
}
