package dev.adjoint.nn.loss;

import dev.adjoint.Tensor;

/** Absolute error {@code |input - target|}, reduced, as {@code nn.L1Loss}; its derivative at 0 is 0. */
public final class L1Loss implements Loss {
    private final Reduction reduction;

    public L1Loss(Reduction reduction) {
        this.reduction = reduction;
    }

    public L1Loss() {
        this(Reduction.MEAN);
    }

    @Override
    public Tensor forward(Tensor input, Tensor target) {
        Reductions.checkSameShape("L1Loss", input, target);
        return Reductions.reduce("L1Loss", input.sub(target).abs(), reduction);
    }
}
