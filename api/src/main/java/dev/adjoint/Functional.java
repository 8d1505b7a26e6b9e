package dev.adjoint;

import dev.adjoint.ops.ActivationOps;
import dev.adjoint.ops.Einsum;
import dev.adjoint.ops.ElementwiseOps;
import dev.adjoint.ops.LossOps;
import dev.adjoint.ops.NormalizationOps;
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

    // ---- activations ------------------------------------------------------------------------------

    /** {@code x * sigmoid(x)} (also called swish). */
    public static Tensor silu(Tensor x) {
        return ElementwiseOps.unary(UnaryOp.SILU, x);
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
}
