package dev.adjoint.spark;

import dev.adjoint.Functional;
import dev.adjoint.Tensor;

import java.io.Serializable;

/**
 * The loss of a micro-batch: the model's output and the INT64 labels in, a scalar out. It should be
 * a mean over the micro-batch (as PyTorch's default reduction), so that the replicas' average is the
 * mean over the global batch.
 */
@FunctionalInterface
public interface LossFunction extends Serializable {
    Tensor compute(Tensor output, Tensor labels);

    /** Cross-entropy of logits against class indices, mean over the batch. */
    static LossFunction crossEntropy() {
        return Functional::crossEntropy;
    }
}
