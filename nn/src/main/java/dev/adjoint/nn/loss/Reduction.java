package dev.adjoint.nn.loss;

/** How per-element losses are combined, as PyTorch's {@code reduction} argument. */
public enum Reduction {
    /** The per-element (per-sample) losses, unreduced. */
    NONE,
    /**
     * Their mean (for NLL/cross-entropy with class indices: over the targets that are not ignored,
     * weighted by the class weights).
     */
    MEAN,
    /** Their sum. */
    SUM,
    /**
     * The sum divided by the batch size (the input's first dimension), PyTorch's {@code 'batchmean'}:
     * for {@link KLDivLoss} only, where it is the mathematically correct KL divergence per sample.
     */
    BATCHMEAN
}
