package dev.adjoint.nn.optim;

/** Multiplies the learning rate by {@code gamma} every {@code stepSize} epochs, as {@code StepLR}. */
public final class StepLR extends LRScheduler {
    private final int stepSize;
    private final double gamma;

    public StepLR(Optimizer optimizer, int stepSize, double gamma) {
        super(optimizer);
        if (stepSize <= 0) {
            throw new IllegalArgumentException("StepLR: stepSize must be positive, got " + stepSize);
        }
        this.stepSize = stepSize;
        this.gamma = gamma;
        initialStep();
    }

    @Override
    protected double computeLr(int group, double lr, int epoch) {
        return epoch == 0 || epoch % stepSize != 0 ? lr : lr * gamma;
    }

    @Override
    protected boolean hasClosedForm() {
        return true;
    }

    @Override
    protected double closedFormLr(int group, int epoch) {
        return baseLr(group) * Math.pow(gamma, Math.floorDiv(epoch, stepSize));
    }
}
