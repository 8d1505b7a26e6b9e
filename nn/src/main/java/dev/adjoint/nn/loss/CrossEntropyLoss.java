package dev.adjoint.nn.loss;

import dev.adjoint.Tensor;

/**
 * Cross-entropy of logits {@code [N, C]} against INT64 class indices {@code [N]}, as
 * {@code nn.CrossEntropyLoss}: {@link NLLLoss} of {@code logSoftmax(logits, 1)}, which stays finite for
 * large logits. {@code ignoreIndex} targets are skipped and MEAN averages over the rest.
 */
public final class CrossEntropyLoss implements Loss {
    private final Reduction reduction;
    private final long ignoreIndex;

    public CrossEntropyLoss(Reduction reduction, long ignoreIndex) {
        this.reduction = reduction;
        this.ignoreIndex = ignoreIndex;
    }

    public CrossEntropyLoss(Reduction reduction) {
        this(reduction, NLLLoss.DEFAULT_IGNORE_INDEX);
    }

    public CrossEntropyLoss() {
        this(Reduction.MEAN);
    }

    @Override
    public Tensor forward(Tensor logits, Tensor target) {
        return NLLLoss.nll("CrossEntropyLoss", logits.logSoftmax(1), target, reduction, ignoreIndex);
    }
}
