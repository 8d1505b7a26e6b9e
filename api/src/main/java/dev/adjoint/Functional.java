package dev.adjoint;

import dev.adjoint.ops.LossOps;
import dev.adjoint.ops.NormalizationOps;

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

    /**
     * torch.nn.functional.layer_norm: normalises over the trailing {@code normalizedShape} dimensions
     * (biased variance, {@code eps} added to it), then {@code * weight + bias}; either may be {@code null}.
     */
    public static Tensor layerNorm(Tensor input, int[] normalizedShape, Tensor weight, Tensor bias, double eps) {
        return NormalizationOps.layerNorm(input, normalizedShape, weight, bias, eps);
    }
}
