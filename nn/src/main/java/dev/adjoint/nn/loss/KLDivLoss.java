package dev.adjoint.nn.loss;

import dev.adjoint.Tensor;

/**
 * Kullback-Leibler divergence, as {@code nn.KLDivLoss}: the input holds log-probabilities and the target
 * probabilities (or log-probabilities with {@code logTarget}); per element
 * {@code y (log y - x)}, with 0 where {@code y = 0} (PyTorch's xlogy), or {@code exp(y) (y - x)} with
 * {@code logTarget}. {@link Reduction#BATCHMEAN} (sum / batch size) gives the KL divergence per sample;
 * PyTorch's default MEAN averages over every element, which is not.
 */
public final class KLDivLoss implements Loss {
    private final Reduction reduction;
    private final boolean logTarget;

    public KLDivLoss(Reduction reduction, boolean logTarget) {
        this.reduction = reduction;
        this.logTarget = logTarget;
    }

    public KLDivLoss(Reduction reduction) {
        this(reduction, false);
    }

    /** PyTorch's defaults: MEAN, target as probabilities. */
    public KLDivLoss() {
        this(Reduction.MEAN, false);
    }

    @Override
    public Tensor forward(Tensor input, Tensor target) {
        Reductions.checkSameShape("KLDivLoss", input, target);
        Tensor loss;
        if (logTarget) {
            loss = target.exp().mul(target.sub(input));
        } else {
            Tensor positive = target.gt(0.0);
            // log sees 1 where y = 0, so neither the value nor the (unselected) gradient there is NaN;
            // a NaN target stays NaN, as in xlogy.
            Tensor safe = Tensor.where(positive, target, target.onesLike().detach());
            Tensor yLogY = Tensor.where(positive, target.mul(safe.log()), target.mul(0.0));
            loss = yLogY.sub(target.mul(input));
        }
        if (reduction == Reduction.BATCHMEAN) {
            return input.rank() == 0 ? loss.sum() : loss.sum().div(input.size(0));
        }
        return Reductions.reduce("KLDivLoss", loss, reduction);
    }
}
