package dev.adjoint.nn.loss;

/** How per-element losses are combined, as PyTorch's {@code reduction} argument. */
public enum Reduction {
    /** The per-element (per-sample) losses, unreduced. */
    NONE,
    /** Their mean (for NLL/cross-entropy: over the targets that are not ignored). */
    MEAN,
    /** Their sum. */
    SUM
}
