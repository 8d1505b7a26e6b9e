package dev.adjoint.ops;

import dev.adjoint.DType;
import dev.adjoint.InterpolationMode;
import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;

import java.util.Arrays;

/**
 * torch.nn.functional.interpolate, written above the SPI: each spatial dimension in turn is resampled
 * by {@code indexSelect} (nearest modes) or by several of them weighted and summed (linear, cubic and
 * area modes, which are all separable: a weight per output element and tap along each dimension), so
 * every backend runs it and its gradients (scatter-adds of the output's gradient onto the input
 * elements each output element read) come from those ops. Source positions and weights are computed
 * as PyTorch's CPU kernels compute them (in the input's precision, except where the nearest modes'
 * kernels round to float); the separable sums add the terms in another order than PyTorch's 2-D and
 * 3-D kernels, so the last bits may differ.
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
        return interpolate(input, size, scaleFactor, mode, alignCorners, false);
    }

    /**
     * {@link #interpolate(Tensor, int[], double[], InterpolationMode, boolean)} with {@code antialias}
     * (BILINEAR and BICUBIC only): where a dimension shrinks, each output element reads every input
     * element under its filter stretched by the downscale factor (a triangle, or Keys' cubic with
     * a = -0.5), its weights normalised to sum to one, as PyTorch's {@code antialias=True} and PIL's resize.
     */
    public static Tensor interpolate(Tensor input, int[] size, double[] scaleFactor, InterpolationMode mode,
                                     boolean alignCorners, boolean antialias) {
        String op = "interpolate";
        Dispatch.checkFloating(op, input);
        int spatial = input.rank() - 2;
        if (spatial < 1 || spatial > 3) {
            throw new TensorShapeException(op + ": expected an input of shape [N, C, L], [N, C, H, W] or [N, C, D, H, W], got "
                    + input.shape());
        }
        int modeRank = switch (mode) {
            case LINEAR -> 1;
            case BILINEAR, BICUBIC -> 2;
            case TRILINEAR -> 3;
            default -> 0;
        };
        if (modeRank != 0 && modeRank != spatial) {
            throw new TensorShapeException(op + ": mode " + mode + " needs " + (modeRank + 2)
                    + " dimensions, got input shape " + input.shape());
        }
        if (alignCorners && modeRank == 0) {
            throw new IllegalArgumentException(op + ": alignCorners applies to the linear and bicubic modes only, not "
                    + mode + " (input shape " + input.shape() + ")");
        }
        if (antialias && mode != InterpolationMode.BILINEAR && mode != InterpolationMode.BICUBIC) {
            throw new IllegalArgumentException(op + ": antialias applies to the bilinear and bicubic modes only, not "
                    + mode + " (input shape " + input.shape() + ")");
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
        // PyTorch's CPU forward picks its nearest-neighbour kernel by memory format, and the two kernels
        // choose different sources: a 2-D or 3-D input that is channels-last contiguous goes to the
        // channels-last kernel, any other to the generic one. Adjoint has no memory formats, so it takes
        // PyTorch's choice for a contiguous input, which is channels-last contiguous exactly when it has
        // one channel (or all spatial sizes 1, where every source is element 0 either way).
        boolean channelsLastKernel = spatial >= 2 && input.size(1) == 1;
        Tensor y = input;
        for (int d = 0; d < spatial; d++) {
            double scale = scales == null ? 0 : scales[d];
            y = switch (mode) {
                case NEAREST, NEAREST_EXACT -> nearest(y, d + 2, out[d], scale,
                        mode == InterpolationMode.NEAREST_EXACT, channelsLastKernel);
                case LINEAR, BILINEAR, TRILINEAR -> antialias ? antialiased(y, d + 2, out[d], scale, alignCorners, false)
                        : linear(y, d + 2, out[d], scale, alignCorners);
                case BICUBIC -> antialias ? antialiased(y, d + 2, out[d], scale, alignCorners, true)
                        : cubic(y, d + 2, out[d], scale, alignCorners);
                case AREA -> area(y, d + 2, out[d]);
            };
        }
        // A new tensor, as PyTorch's, even where every size stays: writing into it must not change the input.
        return y == input ? input.clone() : y;
    }

    /**
     * Along {@code dim}: output element i reads the input element that PyTorch 1.13's CPU forward reads
     * for a contiguous input, by {@link #nearestSource}. The gradient is that of this selection (a
     * scatter-add onto the elements read). PyTorch's backward instead uses the channels-last kernel's
     * rule for every input (UpSampleKernel.cpp, cpu_upsample_nearest_backward), so where the two rules
     * differ PyTorch's gradient is not the gradient of its own forward (pytorch/pytorch#97135); this
     * one is.
     */
    private static Tensor nearest(Tensor x, int dim, int outSize, double scaleFactor, boolean exact,
                                  boolean channelsLastKernel) {
        int inSize = x.size(dim);
        long[] index = new long[outSize];
        boolean identity = inSize == outSize;
        for (int i = 0; i < outSize; i++) {
            index[i] = nearestSource(i, inSize, outSize, scaleFactor, exact, channelsLastKernel, x.dtype());
            identity &= index[i] == i;
        }
        return identity ? x : x.indexSelect(dim, Tensor.on(x.backend()).fromArray(index, outSize));
    }

    /**
     * The input element output element {@code i} of a nearest (or nearest-exact) resampling reads, as
     * PyTorch 1.13's CPU kernels compute it; {@code scaleFactor} is the user's (0 when a size was given).
     * <ul>
     * <li>The channels-last kernel (UpSample.h, nearest_idx / nearest_exact_idx): for nearest, an output
     * of the input's size copies and one of twice its size reads {@code i / 2}, whatever the scale
     * factor; otherwise {@code floor(i * scale)}, or {@code floor((i + 0.5) * scale)} for nearest-exact,
     * with the scale {@code 1 / scaleFactor} (or in / out) rounded to float.</li>
     * <li>The generic kernel (UpSampleKernel.cpp, HelperInterpNearest): no special sizes, and the scale
     * and source position in the input's precision: {@code i * scale}, or for nearest-exact
     * {@code max(scale * (i + 0.5) - 0.5, 0) + 0.5}.</li>
     * </ul>
     * Both floor with C's {@code floorf}, so a FLOAT64 position is rounded to float first, and clamp to
     * the last element.
     */
    private static long nearestSource(int i, int inSize, int outSize, double scaleFactor, boolean exact,
                                      boolean channelsLastKernel, DType dtype) {
        float position;
        if (channelsLastKernel) {
            if (!exact && outSize == inSize) {
                return i;
            }
            if (!exact && outSize == 2 * inSize) {
                return i >> 1;
            }
            float scale = scaleFactor > 0 ? (float) (1.0 / scaleFactor) : (float) inSize / outSize;
            position = exact ? (float) ((i + 0.5) * scale) : i * scale;
        } else if (dtype == DType.FLOAT32) {
            float scale = scaleFactor > 0 ? (float) (1.0 / scaleFactor) : (float) inSize / outSize;
            position = exact ? (float) (Math.max(scale * (i + 0.5f) - 0.5f, 0f) + 0.5) : i * scale;
        } else {
            double scale = scaleFactor > 0 ? 1.0 / scaleFactor : (double) inSize / outSize;
            position = (float) (exact ? Math.max(scale * (i + 0.5) - 0.5, 0) + 0.5 : i * scale);
        }
        return Math.min((long) Math.floor(position), inSize - 1);
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
            double source = single ? sourceFloat(i, inSize, outSize, scaleFactor, alignCorners, false)
                    : sourceDouble(i, inSize, outSize, scaleFactor, alignCorners, false);
            lo[i] = (long) source;
            hi[i] = lo[i] < inSize - 1 ? lo[i] + 1 : lo[i];
            double l = Math.min(Math.max(source - lo[i], 0), 1);
            upper[i] = single ? (float) l : l;
            lower[i] = single ? 1f - (float) l : 1 - l;
        }
        return weightedTaps(x, dim, new long[][] {lo, hi}, new double[][] {lower, upper});
    }

    /** PyTorch's cubic convolution constant (upsample_bicubic2d's {@code A}). */
    private static final double CUBIC_A = -0.75;

    /**
     * Along {@code dim}: output element i is {@code sum_k w_k x[clamp(floor(s) - 1 + k)]}, k = 0..3, with the
     * source position s unclamped (a cubic reads one element beyond each neighbour) and the weights of
     * PyTorch's get_cubic_upsample_coefficients at {@code t = s - floor(s)}, in the input's precision.
     */
    private static Tensor cubic(Tensor x, int dim, int outSize, double scaleFactor, boolean alignCorners) {
        int inSize = x.size(dim);
        boolean single = x.dtype() == DType.FLOAT32;
        long[][] taps = new long[4][outSize];
        double[][] weights = new double[4][outSize];
        for (int i = 0; i < outSize; i++) {
            double source = single ? sourceFloat(i, inSize, outSize, scaleFactor, alignCorners, true)
                    : sourceDouble(i, inSize, outSize, scaleFactor, alignCorners, true);
            long floor = (long) Math.floor(source);
            double[] w = single ? cubicWeightsFloat((float) (source - floor)) : cubicWeightsDouble(source - floor);
            for (int k = 0; k < 4; k++) {
                taps[k][i] = Math.min(Math.max(floor - 1 + k, 0), inSize - 1);
                weights[k][i] = w[k];
            }
        }
        return weightedTaps(x, dim, taps, weights);
    }

    private static double[] cubicWeightsDouble(double t) {
        return new double[] {cubicFar(t + 1, CUBIC_A), cubicNear(t, CUBIC_A), cubicNear(1 - t, CUBIC_A),
                cubicFar(2 - t, CUBIC_A)};
    }

    /** The cubic convolution kernel with parameter {@code a} at distance {@code x} in [0, 1]. */
    private static double cubicNear(double x, double a) {
        return ((a + 2) * x - (a + 3)) * x * x + 1;
    }

    /** The cubic convolution kernel with parameter {@code a} at distance {@code x} in [1, 2]. */
    private static double cubicFar(double x, double a) {
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
    }

    /** {@link #cubicWeightsDouble} in float arithmetic, as PyTorch's float kernel computes them. */
    private static double[] cubicWeightsFloat(float t) {
        return new double[] {cubicFarFloat(t + 1f), cubicNearFloat(t), cubicNearFloat(1f - t), cubicFarFloat(2f - t)};
    }

    private static float cubicNearFloat(float x) {
        float a = (float) CUBIC_A;
        return ((a + 2f) * x - (a + 3f)) * x * x + 1f;
    }

    private static float cubicFarFloat(float x) {
        float a = (float) CUBIC_A;
        return ((a * x - 5f * a) * x + 8f * a) * x - 4f * a;
    }

    /**
     * Along {@code dim}, antialiased (PyTorch's _compute_weights_aa): with {@code scale} input elements per
     * output element, output element i centred at {@code scale (i + 0.5)} reads the input elements within
     * the filter's support (1 for the triangle, 2 for the cubic, times {@code scale} where it shrinks),
     * each weighted by the filter at its distance divided by {@code max(scale, 1)}, the weights normalised.
     * Computed in double whatever the dtype.
     */
    private static Tensor antialiased(Tensor x, int dim, int outSize, double scaleFactor, boolean alignCorners,
                                      boolean cubic) {
        int inSize = x.size(dim);
        double scale = alignCorners ? (outSize > 1 ? (double) (inSize - 1) / (outSize - 1) : 0)
                : scaleFactor > 0 ? 1.0 / scaleFactor : (double) inSize / outSize;
        double halfWidth = cubic ? 2 : 1;
        double support = scale >= 1 ? halfWidth * scale : halfWidth;
        double invScale = scale >= 1 ? 1 / scale : 1;
        long[] first = new long[outSize];
        double[][] filtered = new double[outSize][];
        int widest = 0;
        for (int i = 0; i < outSize; i++) {
            double center = scale * (i + 0.5);
            first[i] = Math.max((long) (center - support + 0.5), 0);
            int count = (int) (Math.min((long) (center + support + 0.5), inSize) - first[i]);
            double[] w = new double[Math.max(count, 0)];
            double total = 0;
            for (int j = 0; j < w.length; j++) {
                double at = (j + first[i] - center + 0.5) * invScale;
                w[j] = cubic ? keysCubic(at) : Math.max(0, 1 - Math.abs(at));
                total += w[j];
            }
            for (int j = 0; j < w.length && total != 0; j++) {
                w[j] /= total;
            }
            filtered[i] = w;
            widest = Math.max(widest, w.length);
        }
        long[][] taps = new long[widest][outSize];
        double[][] weights = new double[widest][outSize];
        for (int k = 0; k < widest; k++) {
            for (int i = 0; i < outSize; i++) {
                taps[k][i] = Math.min(first[i] + Math.min(k, Math.max(filtered[i].length - 1, 0)), inSize - 1);
                weights[k][i] = k < filtered[i].length ? filtered[i][k] : 0;
            }
        }
        return weightedTaps(x, dim, taps, weights);
    }

    /** Keys' cubic convolution kernel with a = -0.5, the antialiasing filter of PyTorch and PIL. */
    private static double keysCubic(double x) {
        double distance = Math.abs(x);
        return distance < 1 ? cubicNear(distance, -0.5) : distance < 2 ? cubicFar(distance, -0.5) : 0;
    }

    /**
     * Along {@code dim}: output element i is the mean of the input elements from {@code floor(i in / out)}
     * to {@code ceil((i + 1) in / out)} (exclusive), adaptive average pooling's windows; windows shorter
     * than the longest repeat their last element with weight zero.
     */
    private static Tensor area(Tensor x, int dim, int outSize) {
        int inSize = x.size(dim);
        if (inSize == outSize) {
            return x;
        }
        int[] start = new int[outSize];
        int[] end = new int[outSize];
        int widest = 0;
        for (int i = 0; i < outSize; i++) {
            start[i] = (int) ((long) i * inSize / outSize);
            end[i] = (int) (((long) (i + 1) * inSize + outSize - 1) / outSize);
            widest = Math.max(widest, end[i] - start[i]);
        }
        long[][] taps = new long[widest][outSize];
        double[][] weights = new double[widest][outSize];
        for (int k = 0; k < widest; k++) {
            for (int i = 0; i < outSize; i++) {
                taps[k][i] = Math.min(start[i] + k, end[i] - 1);
                weights[k][i] = start[i] + k < end[i] ? 1 : 0;
            }
        }
        double[] counts = new double[outSize];
        for (int i = 0; i < outSize; i++) {
            counts[i] = end[i] - start[i];
        }
        return weightedTaps(x, dim, taps, weights).div(alongDim(x, dim, counts));
    }

    /** {@code sum_k x[taps[k]] * weights[k]} along {@code dim}, each tap an indexSelect. */
    private static Tensor weightedTaps(Tensor x, int dim, long[][] taps, double[][] weights) {
        var create = Tensor.on(x.backend());
        int outSize = taps[0].length;
        Tensor sum = null;
        for (int k = 0; k < taps.length; k++) {
            Tensor term = x.indexSelect(dim, create.fromArray(taps[k], outSize)).mul(alongDim(x, dim, weights[k]));
            sum = sum == null ? term : sum.add(term);
        }
        return sum;
    }

    /** {@code values} as a tensor of x's dtype that broadcasts along {@code dim} of x. */
    private static Tensor alongDim(Tensor x, int dim, double[] values) {
        int[] shape = new int[x.rank()];
        Arrays.fill(shape, 1);
        shape[dim] = values.length;
        return Tensor.on(x.backend()).fromArray(values, x.dtype(), shape);
    }

    /** PyTorch's area_pixel_compute_source_index in float; {@code cubic} leaves it unclamped below 0. */
    private static float sourceFloat(int i, int inSize, int outSize, double scaleFactor, boolean alignCorners,
                                     boolean cubic) {
        if (alignCorners) {
            float scale = outSize > 1 ? (float) (inSize - 1) / (outSize - 1) : 0f;
            return scale * i;
        }
        float scale = scaleFactor > 0 ? (float) (1.0 / scaleFactor) : (float) inSize / outSize;
        float source = scale * (i + 0.5f) - 0.5f;
        return cubic ? source : Math.max(source, 0f);
    }

    /** PyTorch's area_pixel_compute_source_index in double; {@code cubic} leaves it unclamped below 0. */
    private static double sourceDouble(int i, int inSize, int outSize, double scaleFactor, boolean alignCorners,
                                       boolean cubic) {
        if (alignCorners) {
            double scale = outSize > 1 ? (double) (inSize - 1) / (outSize - 1) : 0;
            return scale * i;
        }
        double scale = scaleFactor > 0 ? 1.0 / scaleFactor : (double) inSize / outSize;
        double source = scale * (i + 0.5) - 0.5;
        return cubic ? source : Math.max(source, 0);
    }
}
