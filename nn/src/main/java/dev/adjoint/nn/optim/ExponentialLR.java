package dev.adjoint.nn.optim;

/** Multiplies the learning rate by {@code gamma} every epoch, as {@code ExponentialLR}. */
public final class ExponentialLR extends LRScheduler {
    private final double gamma;

    public ExponentialLR(Optimizer optimizer, double gamma) {
        super(optimizer);
        this.gamma = gamma;
        initialStep();
    }

    @Override
    protected double computeLr(int group, double lr, int epoch) {
        return epoch == 0 ? lr : lr * gamma;
    }

    @Override
    protected boolean hasClosedForm() {
        return true;
    }

    @Override
    protected double closedFormLr(int group, int epoch) {
        return baseLr(group) * Math.pow(gamma, epoch);
    }
}
