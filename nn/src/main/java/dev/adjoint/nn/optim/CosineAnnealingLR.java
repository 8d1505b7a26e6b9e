package dev.adjoint.nn.optim;

/**
 * Cosine annealing from the base rate to {@code etaMin} over {@code tMax} epochs, then back up,
 * periodically, as {@code CosineAnnealingLR} in its recursive 1.13 form (each rate from the previous
 * one, so it composes with other changes to the rate); without outside changes it equals
 * {@code etaMin + (base - etaMin) (1 + cos(pi epoch / tMax)) / 2}.
 */
public final class CosineAnnealingLR extends LRScheduler {
    private final int tMax;
    private final double etaMin;

    public CosineAnnealingLR(Optimizer optimizer, int tMax, double etaMin) {
        super(optimizer);
        if (tMax <= 0) {
            throw new IllegalArgumentException("CosineAnnealingLR: tMax must be positive, got " + tMax);
        }
        this.tMax = tMax;
        this.etaMin = etaMin;
        initialStep();
    }

    public CosineAnnealingLR(Optimizer optimizer, int tMax) {
        this(optimizer, tMax, 0.0);
    }

    @Override
    protected double computeLr(int group, double lr, int epoch) {
        double base = baseLr(group);
        if (epoch == 0) {
            return lr;
        }
        if (stepCount() == 1 && epoch > 0) {
            return etaMin + (base - etaMin) * (1 + Math.cos(epoch * Math.PI / tMax)) / 2;
        }
        if (Math.floorMod(epoch - 1 - tMax, 2 * tMax) == 0) {
            // At the bottom of a period the ratio below is 0/0; PyTorch steps up by the first increment instead.
            return lr + (base - etaMin) * (1 - Math.cos(Math.PI / tMax)) / 2;
        }
        return (1 + Math.cos(Math.PI * epoch / tMax)) / (1 + Math.cos(Math.PI * (epoch - 1) / tMax))
                * (lr - etaMin) + etaMin;
    }

    @Override
    protected boolean hasClosedForm() {
        return true;
    }

    @Override
    protected double closedFormLr(int group, int epoch) {
        return etaMin + (baseLr(group) - etaMin) * (1 + Math.cos(Math.PI * epoch / tMax)) / 2;
    }
}
