package dev.adjoint;

import dev.adjoint.ops.ActivationOps;
import dev.adjoint.ops.AttentionOps;
import dev.adjoint.ops.ConvOps;
import dev.adjoint.ops.InterpolationOps;
import dev.adjoint.ops.Einsum;
import dev.adjoint.ops.LinearOps;
import dev.adjoint.ops.ElementwiseOps;
import dev.adjoint.ops.LossOps;
import dev.adjoint.ops.BatchNormOps;
import dev.adjoint.ops.NormalizationOps;
import dev.adjoint.ops.PoolOps;
import dev.adjoint.ops.RearrangeOps;
import dev.adjoint.spi.UnaryOp;

import java.util.List;

/** Functions that are not methods of a single tensor, in the spirit of {@code torch.nn.functional}. */
public final class Functional {
    private Functional() {
    }

    /** Mean squared error: {@code mean((input - target)^2)}. */
    public static Tensor mseLoss(Tensor input, Tensor target) {
        return LossOps.mseLoss(input, target);
    }

    /** Mean cross-entropy between logits {@code [N, C]} and INT64 class indices {@code [N]}. */
    public static Tensor crossEntropy(Tensor logits, Tensor target) {
        return LossOps.crossEntropy(logits, target);
    }

    public static Tensor softmax(Tensor x, int dim) {
        return x.softmax(dim);
    }

    public static Tensor logSoftmax(Tensor x, int dim) {
        return x.logSoftmax(dim);
    }
    // ---- linear ---------------------------------------------------------------------------------------

    /**
     * torch.nn.functional.linear: {@code input @ weight^T + bias} for {@code input} {@code [..., in]},
     * {@code weight} {@code [out, in]} and {@code bias} {@code [out]} or {@code null}; the result is
     * {@code [..., out]}. One op with its own backward (the weight's gradient {@code g^T x}, the
     * bias's the sum of {@code g} over every leading dim), what {@code nn.Linear} runs.
     */
    public static Tensor linear(Tensor input, Tensor weight, Tensor bias) {
        return LinearOps.linear(input, weight, bias);
    }

    // ---- convolution ---------------------------------------------------------------------------------

    /**
     * 2-D convolution (cross-correlation, as PyTorch) of {@code input} {@code [N, C, H, W]} (or
     * unbatched {@code [C, H, W]}) with {@code weight} {@code [O, C / groups, kH, kW]}, plus
     * {@code bias} {@code [O]} when not null. {@code stride}, {@code padding} and {@code dilation}
     * give one value for both dimensions or one per dimension (height, width).
     */
    public static Tensor conv2d(Tensor input, Tensor weight, Tensor bias, int[] stride, int[] padding, int[] dilation,
                                int groups) {
        return ConvOps.conv2d(input, weight, bias, stride, padding, dilation, groups);
    }

    /** conv2d with {@code padding} "same" (the output keeps the input's size; stride 1) or "valid" (no padding). */
    public static Tensor conv2d(Tensor input, Tensor weight, Tensor bias, int[] stride, String padding, int[] dilation,
                                int groups) {
        return ConvOps.conv2d(input, weight, bias, stride, padding, dilation, groups);
    }

    /** conv2d with the same stride and padding in both dimensions, dilation 1 and one group. */
    public static Tensor conv2d(Tensor input, Tensor weight, Tensor bias, int stride, int padding) {
        return ConvOps.conv2d(input, weight, bias, new int[] {stride}, new int[] {padding}, new int[] {1}, 1);
    }

    /** conv2d with stride 1, no padding, dilation 1 and one group; {@code bias} may be null. */
    public static Tensor conv2d(Tensor input, Tensor weight, Tensor bias) {
        return conv2d(input, weight, bias, 1, 0);
    }

    /**
     * 1-D convolution of {@code input} {@code [N, C, L]} (or unbatched {@code [C, L]}) with
     * {@code weight} {@code [O, C / groups, k]}, plus {@code bias} {@code [O]} when not null.
     */
    public static Tensor conv1d(Tensor input, Tensor weight, Tensor bias, int stride, int padding, int dilation,
                                int groups) {
        return ConvOps.conv1d(input, weight, bias, stride, padding, dilation, groups);
    }

    /** conv1d with {@code padding} "same" or "valid". */
    public static Tensor conv1d(Tensor input, Tensor weight, Tensor bias, int stride, String padding, int dilation,
                                int groups) {
        return ConvOps.conv1d(input, weight, bias, stride, padding, dilation, groups);
    }

    /** conv1d with stride 1, no padding, dilation 1 and one group; {@code bias} may be null. */
    public static Tensor conv1d(Tensor input, Tensor weight, Tensor bias) {
        return ConvOps.conv1d(input, weight, bias, 1, 0, 1, 1);
    }

    /**
     * The transposed 2-D convolution (the gradient of conv2d with respect to its input) of
     * {@code input} {@code [N, C_in, H, W]} with {@code weight} {@code [C_in, C_out / groups, kH, kW]}:
     * the output is {@code (H - 1) stride - 2 padding + dilation (kH - 1) + outputPadding + 1} high,
     * and likewise wide. Argument order as torch.nn.functional.conv_transpose2d.
     */
    public static Tensor convTranspose2d(Tensor input, Tensor weight, Tensor bias, int[] stride, int[] padding,
                                         int[] outputPadding, int groups, int[] dilation) {
        return ConvOps.convTranspose2d(input, weight, bias, stride, padding, outputPadding, groups, dilation);
    }

    /** convTranspose2d with the same stride and padding in both dimensions, no output padding, one group, dilation 1. */
    public static Tensor convTranspose2d(Tensor input, Tensor weight, Tensor bias, int stride, int padding) {
        return ConvOps.convTranspose2d(input, weight, bias, new int[] {stride}, new int[] {padding}, new int[] {0}, 1,
                new int[] {1});
    }

    /**
     * Sliding-window columns (im2col): {@code [N, C, H, W]} to {@code [N, C * kH * kW, L]}, column
     * {@code l} holding the window at position {@code l} (row-major over the output positions), zeros
     * where it covers the padding. Argument order as torch.nn.functional.unfold.
     */
    public static Tensor unfold(Tensor input, int[] kernelSize, int[] dilation, int[] padding, int[] stride) {
        return ConvOps.unfold(input, kernelSize, dilation, padding, stride);
    }

    /**
     * The adjoint of {@link #unfold} (col2im): sums {@code [N, C * kH * kW, L]} columns into an image of
     * {@code outputSize}, overlapping windows adding up. Argument order as torch.nn.functional.fold.
     */
    public static Tensor fold(Tensor input, int[] outputSize, int[] kernelSize, int[] dilation, int[] padding,
                              int[] stride) {
        return ConvOps.fold(input, outputSize, kernelSize, dilation, padding, stride);
    }

    // ---- pooling -------------------------------------------------------------------------------------

    /** Pooled values and where each came from, as torch's {@code max_pool2d(..., return_indices=True)}. */
    public record MaxPoolResult(Tensor output, Tensor indices) {
    }

    /**
     * 2-D max pooling of {@code [N, C, H, W]} (or {@code [C, H, W]}); padding never wins. A null or
     * empty {@code stride} means the kernel size.
     */
    public static Tensor maxPool2d(Tensor input, int[] kernelSize, int[] stride, int[] padding, int[] dilation,
                                   boolean ceilMode) {
        return PoolOps.maxPool2d(input, kernelSize, stride, padding, dilation, ceilMode)[0];
    }

    public static Tensor maxPool2d(Tensor input, int[] kernelSize, int[] stride, int[] padding) {
        return maxPool2d(input, kernelSize, stride, padding, new int[] {1}, false);
    }

    /** Square windows of {@code kernelSize}, stride {@code kernelSize}, no padding. */
    public static Tensor maxPool2d(Tensor input, int kernelSize) {
        return maxPool2d(input, new int[] {kernelSize}, null, new int[] {0});
    }

    /**
     * maxPool2d that also returns, for each output, the INT64 position {@code h * W + w} of its maximum
     * within its image (torch's {@code return_indices=True}). Only the output carries a gradient.
     */
    public static MaxPoolResult maxPool2dWithIndices(Tensor input, int[] kernelSize, int[] stride, int[] padding,
                                                     int[] dilation, boolean ceilMode) {
        Tensor[] pooled = PoolOps.maxPool2d(input, kernelSize, stride, padding, dilation, ceilMode);
        return new MaxPoolResult(pooled[0], pooled[1]);
    }

    /**
     * 2-D average pooling. {@code countIncludePad}: whether the padding a window covers counts in its
     * divisor (PyTorch's default: true). A null or empty {@code stride} means the kernel size.
     */
    public static Tensor avgPool2d(Tensor input, int[] kernelSize, int[] stride, int[] padding, boolean ceilMode,
                                   boolean countIncludePad) {
        return PoolOps.avgPool2d(input, kernelSize, stride, padding, ceilMode, countIncludePad);
    }

    public static Tensor avgPool2d(Tensor input, int[] kernelSize, int[] stride, int[] padding) {
        return avgPool2d(input, kernelSize, stride, padding, false, true);
    }

    /** Square windows of {@code kernelSize}, stride {@code kernelSize}, no padding. */
    public static Tensor avgPool2d(Tensor input, int kernelSize) {
        return avgPool2d(input, new int[] {kernelSize}, null, new int[] {0});
    }

    /** Averages over windows that tile the image into {@code outputSize} (one value for both dimensions, or two). */
    public static Tensor adaptiveAvgPool2d(Tensor input, int[] outputSize) {
        return PoolOps.adaptiveAvgPool2d(input, outputSize);
    }

    /**
     * Resamples the spatial dimensions of {@code input} ({@code [N, C, L]}, {@code [N, C, H, W]} or
     * {@code [N, C, D, H, W]}) to {@code size}, as torch.nn.functional.interpolate(input, size, mode=...):
     * one entry per spatial dimension, or one for all.
     */
    public static Tensor interpolate(Tensor input, int[] size, InterpolationMode mode) {
        return InterpolationOps.interpolate(input, size, null, mode, false);
    }

    /**
     * Resamples the spatial dimensions of {@code input} by {@code scaleFactor} (output size
     * {@code floor(in * scaleFactor)}; the factors also place the source positions, as PyTorch's
     * default {@code recompute_scale_factor=None}), one entry per spatial dimension or one for all.
     */
    public static Tensor interpolate(Tensor input, double[] scaleFactor, InterpolationMode mode) {
        return InterpolationOps.interpolate(input, null, scaleFactor, mode, false);
    }

    /**
     * torch.nn.functional.interpolate: exactly one of {@code size} and {@code scaleFactor};
     * {@code alignCorners} (linear and bicubic modes only) maps the corner elements of input and output onto each
     * other instead of their outer edges.
     */
    public static Tensor interpolate(Tensor input, int[] size, double[] scaleFactor, InterpolationMode mode,
                                     boolean alignCorners) {
        return InterpolationOps.interpolate(input, size, scaleFactor, mode, alignCorners);
    }

    /**
     * torch.nn.functional.interpolate with {@code antialias} (BILINEAR and BICUBIC only): where a dimension
     * shrinks, each output element averages every input element under its filter stretched by the
     * downscale factor, as PyTorch's {@code antialias=True} (and PIL's resize) instead of sampling the
     * nearest 2 or 4.
     */
    public static Tensor interpolate(Tensor input, int[] size, double[] scaleFactor, InterpolationMode mode,
                                     boolean alignCorners, boolean antialias) {
        return InterpolationOps.interpolate(input, size, scaleFactor, mode, alignCorners, antialias);
    }

    // ---- normalisation -------------------------------------------------------------------------------

    /**
     * Batch normalisation over dimension 1 of {@code input} {@code [N, C, ...]}, as
     * torch.nn.functional.batch_norm. Training: normalises with the batch's statistics and, when the
     * running statistics are given, updates them in place (momentum, unbiased variance). Evaluation:
     * normalises with the running statistics. {@code weight} and {@code bias} ({@code [C]}) may be null.
     */
    public static Tensor batchNorm(Tensor input, Tensor runningMean, Tensor runningVar, Tensor weight, Tensor bias,
                                   boolean training, double momentum, double eps) {
        return BatchNormOps.batchNorm(input, runningMean, runningVar, weight, bias, training, momentum, eps);
    }

    /**
     * Group normalisation of {@code input} {@code [N, C, ...]}, as torch.nn.functional.group_norm: the
     * C channels in {@code groups} consecutive groups, each sample's group normalised over its channels
     * and trailing dimensions (biased variance), then {@code weight} and {@code bias} ({@code [C]}, may
     * be null) per channel.
     */
    public static Tensor groupNorm(Tensor input, int groups, Tensor weight, Tensor bias, double eps) {
        return NormalizationOps.groupNorm(input, groups, weight, bias, eps);
    }

    // ---- shape --------------------------------------------------------------------------------------

    /** Constant zero padding; {@code pad} holds (before, after) pairs from the last dimension backward. */
    public static Tensor pad(Tensor x, int[] pad) {
        return RearrangeOps.pad(x, pad, PadMode.CONSTANT, 0.0);
    }

    /**
     * torch.nn.functional.pad: {@code pad} holds (before, after) pairs from the last dimension backward
     * ({@code [left, right, top, bottom]} pads the last two); {@code value} fills CONSTANT padding, where a
     * negative pad crops.
     */
    public static Tensor pad(Tensor x, int[] pad, PadMode mode, double value) {
        return RearrangeOps.pad(x, pad, mode, value);
    }

    /**
     * torch.einsum: {@code einsum("ij,jk->ik", a, b)} is a matmul, {@code "bij,bkj->bik"} a batched one with b
     * transposed, {@code "ii->i"} a diagonal, {@code "i,j->ij"} an outer product; {@code ...} names the dims
     * not spelled out. Composed of differentiable ops (one batched matmul per pair of operands).
     */
    public static Tensor einsum(String equation, Tensor... operands) {
        return Einsum.einsum(equation, List.of(operands));
    }

    // ---- dropout --------------------------------------------------------------------------------------

    /**
     * torch.nn.functional.dropout: in training, each element zeroed with probability {@code p} and the
     * rest scaled by {@code 1 / (1 - p)} (inverted dropout), the mask drawn from {@code generator} one
     * uniform number per element in row-major order (the same on every backend; replayed by
     * {@code Autograd.checkpoint}); the gradient flows through the kept elements with the same scale.
     * Not training, or {@code p == 0}: {@code input} itself. {@code p == 1}: zeros, as PyTorch (with a
     * zero gradient), drawing nothing.
     */
    public static Tensor dropout(Tensor input, double p, boolean training, Generator generator) {
        if (!(p >= 0.0 && p <= 1.0)) {
            throw new IllegalArgumentException("dropout: probability must be in [0, 1], got " + p + " (input shape "
                    + input.shape() + ")");
        }
        if (!input.dtype().isFloatingPoint()) {
            throw new DTypeMismatchException("dropout: the input must be FLOAT32 or FLOAT64, got " + input.dtype()
                    + " with shape " + input.shape());
        }
        if (!training || p == 0.0) {
            return input;
        }
        if (p == 1.0) {
            return input.mul(0.0);
        }
        return input.mul(Sampling.dropoutMask(input.backend(), input.dtype(), input.shape(), p, generator));
    }

    // ---- activations ------------------------------------------------------------------------------

    /** {@code x * sigmoid(x)} (also called swish). */
    public static Tensor silu(Tensor x) {
        return ElementwiseOps.unary(UnaryOp.SILU, x);
    }

    /** torch.nn.functional.gelu: the exact form, {@code x * Phi(x) = x/2 * (1 + erf(x / sqrt 2))}. */
    public static Tensor gelu(Tensor x) {
        return ElementwiseOps.unary(UnaryOp.GELU, x);
    }

    /**
     * torch.nn.functional.gelu with PyTorch's {@code approximate} argument: {@code "none"} for the exact
     * form, {@code "tanh"} for {@code x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))}.
     */
    public static Tensor gelu(Tensor x, String approximate) {
        return switch (approximate) {
            case "none" -> ElementwiseOps.unary(UnaryOp.GELU, x);
            case "tanh" -> ElementwiseOps.unary(UnaryOp.GELU_TANH, x);
            default -> throw new IllegalArgumentException("gelu: approximate must be 'none' or 'tanh', got '"
                    + approximate + "'");
        };
    }

    /** {@code log(sigmoid(x))}, finite for large negative x where composing the two would give -inf. */
    public static Tensor logSigmoid(Tensor x) {
        return ElementwiseOps.unary(UnaryOp.LOG_SIGMOID, x);
    }

    /** {@code log(1 + e^x)}, linear above 20 as PyTorch's default. */
    public static Tensor softplus(Tensor x) {
        return ActivationOps.softplus(x, 1.0, 20.0);
    }

    /** {@code log(1 + e^(beta x)) / beta}, and {@code x} itself where {@code beta x > threshold}. */
    public static Tensor softplus(Tensor x, double beta, double threshold) {
        return ActivationOps.softplus(x, beta, threshold);
    }

    /** elu with {@code alpha = 1}. */
    public static Tensor elu(Tensor x) {
        return ActivationOps.elu(x, 1.0);
    }

    /** {@code x} where positive, else {@code alpha (e^x - 1)}. */
    public static Tensor elu(Tensor x, double alpha) {
        return ActivationOps.elu(x, alpha);
    }

    /** leakyRelu with PyTorch's default slope 0.01. */
    public static Tensor leakyRelu(Tensor x) {
        return ActivationOps.leakyRelu(x, 0.01);
    }

    /** {@code x} where positive, else {@code negativeSlope * x}. */
    public static Tensor leakyRelu(Tensor x, double negativeSlope) {
        return ActivationOps.leakyRelu(x, negativeSlope);
    }

    /** hardtanh on [-1, 1]. */
    public static Tensor hardtanh(Tensor x) {
        return ActivationOps.hardtanh(x, -1.0, 1.0);
    }

    /** {@code x} clamped to {@code [min, max]}, with a zero gradient at and beyond the bounds (relu6 is [0, 6]). */
    public static Tensor hardtanh(Tensor x, double min, double max) {
        return ActivationOps.hardtanh(x, min, max);
    }

    /**
     * torch.nn.functional.layer_norm: normalises over the trailing {@code normalizedShape} dimensions
     * (biased variance, {@code eps} added to it), then {@code * weight + bias}; either may be {@code null}.
     */
    public static Tensor layerNorm(Tensor input, int[] normalizedShape, Tensor weight, Tensor bias, double eps) {
        return NormalizationOps.layerNorm(input, normalizedShape, weight, bias, eps);
    }

    // ---- attention -----------------------------------------------------------------------------------

    /**
     * torch.nn.functional.scaled_dot_product_attention: {@code softmax(q k^T / sqrt(E)) v}
     * for query {@code [..., L, E]}, key {@code [..., S, E]} and value {@code [..., S, Ev]}, batch dims
     * broadcasting; the result is {@code [..., L, Ev]}. One op with its own backward; a backend may fuse it.
     * The overloads with {@code dropoutP} drop out weights as well.
     */
    public static Tensor scaledDotProductAttention(Tensor query, Tensor key, Tensor value) {
        return AttentionOps.scaledDotProductAttention(query, key, value, null, false, Double.NaN);
    }

    /**
     * With {@code attnMask} broadcastable to {@code [..., L, S]}: BOOL, true where the key takes part
     * (PyTorch 2's convention, the opposite of nn.MultiheadAttention's), or of the query's dtype, added to
     * the scores. A query whose keys are all masked out gets NaN.
     */
    public static Tensor scaledDotProductAttention(Tensor query, Tensor key, Tensor value, Tensor attnMask) {
        return AttentionOps.scaledDotProductAttention(query, key, value, attnMask, false, Double.NaN);
    }

    /** With {@code isCausal}: query {@code i} sees keys {@code j <= i}; an error together with a mask. */
    public static Tensor scaledDotProductAttention(Tensor query, Tensor key, Tensor value, Tensor attnMask,
                                                   boolean isCausal) {
        return AttentionOps.scaledDotProductAttention(query, key, value, attnMask, isCausal, Double.NaN);
    }

    /** The full form: {@code scale} multiplies {@code q k^T}, NaN for the default {@code 1 / sqrt(E)}. */
    public static Tensor scaledDotProductAttention(Tensor query, Tensor key, Tensor value, Tensor attnMask,
                                                   boolean isCausal, double scale) {
        return AttentionOps.scaledDotProductAttention(query, key, value, attnMask, isCausal, scale);
    }

    /**
     * With PyTorch's {@code dropout_p}: inverted dropout of probability {@code dropoutP} on the weights,
     * {@code dropout(softmax(q k^T / sqrt(E) + mask), dropoutP) v}, the mask drawn from {@code generator}
     * as nn.Dropout draws one for a tensor of the weights' shape {@code [..., L, S]} (the same numbers, the
     * generator left in the same state). Dropout is not switched off by itself outside training: pass 0
     * there, as PyTorch's callers pass {@code dropout_p if training else 0}.
     */
    public static Tensor scaledDotProductAttention(Tensor query, Tensor key, Tensor value, Tensor attnMask,
                                                   double dropoutP, Generator generator) {
        return AttentionOps.scaledDotProductAttention(query, key, value, attnMask, false, Double.NaN, dropoutP,
                generator);
    }

    /** The full form with dropout: {@code scale} NaN for {@code 1 / sqrt(E)}. */
    public static Tensor scaledDotProductAttention(Tensor query, Tensor key, Tensor value, Tensor attnMask,
                                                   boolean isCausal, double scale, double dropoutP,
                                                   Generator generator) {
        return AttentionOps.scaledDotProductAttention(query, key, value, attnMask, isCausal, scale, dropoutP,
                generator);
    }
}
