package dev.adjoint.nn.loss;

import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;

/** Squared error {@code (input - target)^2}, reduced, as {@code nn.MSELoss}. */
public final class MSELoss implements Loss {
    private final Reduction reduction;

    public MSELoss(Reduction reduction) {
        this.reduction = reduction;
    }

    public MSELoss() {
        this(Reduction.MEAN);
    }

    @Override
    public Tensor forward(Tensor input, Tensor target) {
        // Equal shapes only: a broadcast here ([N] against [N, 1]) is almost always a bug.
        if (!input.shape().equals(target.shape())) {
            throw new TensorShapeException("MSELoss: input shape " + input.shape() + " and target shape "
                    + target.shape() + " must be equal");
        }
        return Reductions.reduce("MSELoss", input.sub(target).square(), reduction);
    }
}
