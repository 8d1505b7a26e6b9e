package dev.adjoint;

import dev.adjoint.ops.LossOps;

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
}
