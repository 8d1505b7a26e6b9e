package dev.adjoint.autograd;

import dev.adjoint.Tensor;

/**
 * The vector-Jacobian product of one op, written with ordinary (differentiable) Tensor ops so that
 * a backward pass recorded with {@code createGraph} can itself be differentiated.
 */
@FunctionalInterface
public interface BackwardFormula {
    /**
     * @param grad gradient of the op's output
     * @param ctx  the tensors saved at forward time, and which inputs need a gradient
     * @return one gradient per input, in input order; an entry may be {@code null} when that input
     *         needs none. A gradient may have the broadcast (output) shape: the engine sums it back
     *         to the input's shape.
     */
    Tensor[] apply(Tensor grad, BackwardContext ctx);
}
