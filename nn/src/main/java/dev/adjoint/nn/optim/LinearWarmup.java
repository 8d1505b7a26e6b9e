package dev.adjoint.nn.optim;

/**
 * Scales the learning rate linearly from {@code startFactor * base} to {@code endFactor * base} over
 * {@code totalIters} steps, then holds it, as {@code LinearLR} (recursive 1.13 form). Construction
 * already sets the rate to {@code startFactor * base}.
 */
public final class LinearWarmup extends LRScheduler {
    private final double startFactor;
    private final double endFactor;
    private final int totalIters;

    public LinearWarmup(Optimizer optimizer, double startFactor, double endFactor, int totalIters) {
        super(optimizer);
        if (!(startFactor > 0 && startFactor <= 1) || !(endFactor >= 0 && endFactor <= 1)) {
            throw new IllegalArgumentException("LinearWarmup: need 0 < startFactor <= 1 and 0 <= endFactor <= 1, got "
                    + startFactor + " and " + endFactor);
        }
        if (totalIters <= 0) {
            throw new IllegalArgumentException("LinearWarmup: totalIters must be positive, got " + totalIters);
        }
        this.startFactor = startFactor;
        this.endFactor = endFactor;
        this.totalIters = totalIters;
        initialStep();
    }

    /** PyTorch's defaults: from 1/3 of the rate to the full rate over 5 steps. */
    public LinearWarmup(Optimizer optimizer) {
        this(optimizer, 1.0 / 3.0, 1.0, 5);
    }

    @Override
    protected double computeLr(int group, double lr, int epoch) {
        if (epoch == 0) {
            return lr * startFactor;
        }
        if (epoch > totalIters) {
            return lr;
        }
        return lr * (1.0 + (endFactor - startFactor)
                / (totalIters * startFactor + (epoch - 1) * (endFactor - startFactor)));
    }

    @Override
    protected boolean hasClosedForm() {
        return true;
    }

    @Override
    protected double closedFormLr(int group, int epoch) {
        return baseLr(group) * (startFactor + (endFactor - startFactor) * Math.min(totalIters, epoch) / totalIters);
    }
}
