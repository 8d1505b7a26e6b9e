package dev.adjoint.nn.loss;

import dev.adjoint.Tensor;

/**
 * As {@code nn.HuberLoss}: with {@code d = |input - target|}, {@code 0.5 d^2} where {@code d < delta},
 * else {@code delta (d - 0.5 delta)} (default delta 1): quadratic near the target, linear (with slope
 * delta) beyond it, so outliers pull less than under the squared error.
 */
public final class HuberLoss implements Loss {
    private final Reduction reduction;
    private final double delta;

    public HuberLoss(Reduction reduction, double delta) {
        if (!(delta > 0) || Double.isInfinite(delta)) {
            throw new IllegalArgumentException("HuberLoss: delta must be finite and positive, got " + delta);
        }
        this.reduction = reduction;
        this.delta = delta;
    }

    public HuberLoss(Reduction reduction) {
        this(reduction, 1.0);
    }

    public HuberLoss() {
        this(Reduction.MEAN, 1.0);
    }

    @Override
    public Tensor forward(Tensor input, Tensor target) {
        Reductions.checkSameShape("HuberLoss", input, target);
        Tensor diff = input.sub(target);
        Tensor abs = diff.abs();
        Tensor loss = Tensor.where(abs.lt(delta), diff.square().mul(0.5), abs.sub(0.5 * delta).mul(delta));
        return Reductions.reduce("HuberLoss", loss, reduction);
    }
}
