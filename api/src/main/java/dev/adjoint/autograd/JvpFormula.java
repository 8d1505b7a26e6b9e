package dev.adjoint.autograd;

import dev.adjoint.Tensor;

/**
 * The Jacobian-vector product of one op: its output's tangent from its inputs' tangents. It sits
 * beside the op's {@link BackwardFormula} (the vector-Jacobian product), written with ordinary Tensor
 * ops, so forward mode composes with reverse mode (forward-over-reverse gives Hessian-vector products).
 */
@FunctionalInterface
public interface JvpFormula {
    /**
     * @param tangents one per input, in input order; {@code null} where that input has no tangent
     *                 (at least one is non-null)
     * @param inputs   the op's inputs (primal values; tangents are not visible while a formula runs)
     * @param output   the op's output (primal)
     * @return the output's tangent; it may have any shape that broadcasts to the output's (the engine
     *         expands it), or be {@code null} for a zero tangent
     */
    Tensor apply(Tensor[] tangents, Tensor[] inputs, Tensor output);
}
