package dev.adjoint.ops;

import dev.adjoint.DType;
import dev.adjoint.DTypeMismatchException;
import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;

/** Loss functions as compositions of differentiable ops; written once, checked on every backend. */
public final class LossOps {
    private LossOps() {
    }

    /** mean((input - target)^2); shapes must match exactly (broadcasting here is almost always a bug). */
    public static Tensor mseLoss(Tensor input, Tensor target) {
        if (!input.shape().equals(target.shape())) {
            throw new TensorShapeException("mseLoss: input shape " + input.shape() + " and target shape "
                    + target.shape() + " must be equal");
        }
        return input.sub(target).square().mean();
    }

    /**
     * Mean cross-entropy of logits {@code [N, C]} against class indices {@code [N]} (INT64), through
     * logSoftmax so that large logits stay finite.
     */
    public static Tensor crossEntropy(Tensor logits, Tensor target) {
        if (logits.rank() != 2) {
            throw new TensorShapeException("crossEntropy: logits must have shape [N, C], got " + logits.shape());
        }
        if (target.dtype() != DType.INT64) {
            throw new DTypeMismatchException("crossEntropy: target must hold INT64 class indices, got "
                    + target.dtype() + " with shape " + target.shape());
        }
        if (target.rank() != 1 || target.size(0) != logits.size(0)) {
            throw new TensorShapeException("crossEntropy: target shape " + target.shape()
                    + " does not match logits shape " + logits.shape() + " (expected [" + logits.size(0) + "])");
        }
        int classes = logits.size(1);
        Dispatch.checkIndexValues("crossEntropy", "target", target, classes, classes + " classes",
                "target shape " + target.shape() + ", logits shape " + logits.shape());
        Tensor picked = logits.logSoftmax(1).gather(1, target.unsqueeze(1));
        return picked.mean().neg();
    }
}
