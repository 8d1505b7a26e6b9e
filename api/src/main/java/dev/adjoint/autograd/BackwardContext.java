package dev.adjoint.autograd;

import dev.adjoint.Tensor;

/** What a {@link BackwardFormula} may read: saved tensors, the op's output, and which inputs need grads. */
public interface BackwardContext {
    /** Tensor {@code i} of those passed as {@code saved} to {@link Graph#record}. */
    Tensor saved(int i);

    /** The op's own output (saved automatically for formulas like exp's that reuse it). */
    Tensor output();

    boolean needsInputGrad(int i);
}
