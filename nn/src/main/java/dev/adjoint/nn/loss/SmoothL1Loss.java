package dev.adjoint.nn.loss;

import dev.adjoint.Tensor;

/**
 * As {@code nn.SmoothL1Loss}: with {@code d = |input - target|}, {@code 0.5 d^2 / beta} where
 * {@code d < beta}, else {@code d - 0.5 beta} (default beta 1). Beta 0 is the L1 loss. It equals
 * {@link HuberLoss} with delta = beta, divided by beta. At {@code |d| = beta} the derivative is the
 * linear branch's, as PyTorch's. With beta 0 the derivative at {@code d = 0} is -1 in the input, as
 * PyTorch's; in the target it is +1 here and -1 in PyTorch (whose kernel gets the arguments swapped).
 */
public final class SmoothL1Loss implements Loss {
    private final Reduction reduction;
    private final double beta;

    public SmoothL1Loss(Reduction reduction, double beta) {
        if (!(beta >= 0) || Double.isInfinite(beta)) {
            throw new IllegalArgumentException("SmoothL1Loss: beta must be finite and non-negative, got " + beta);
        }
        this.reduction = reduction;
        this.beta = beta;
    }

    public SmoothL1Loss(Reduction reduction) {
        this(reduction, 1.0);
    }

    public SmoothL1Loss() {
        this(Reduction.MEAN, 1.0);
    }

    @Override
    public Tensor forward(Tensor input, Tensor target) {
        Reductions.checkSameShape("SmoothL1Loss", input, target);
        Tensor diff = input.sub(target);
        Tensor abs = diff.abs();
        if (beta == 0) {
            // The L1 loss, with PyTorch's derivative -1 at d = 0 (its kernel tests d <= -beta first); the
            // quadratic branch would divide by 0.
            return Reductions.reduce("SmoothL1Loss", Tensor.where(diff.gt(0.0), diff, diff.neg()), reduction);
        }
        Tensor loss = Tensor.where(abs.lt(beta), diff.square().mul(0.5 / beta), abs.sub(0.5 * beta));
        return Reductions.reduce("SmoothL1Loss", loss, reduction);
    }
}
