package dev.adjoint.nn.optim;

import java.util.Arrays;

/**
 * Multiplies the learning rate by {@code gamma} at each milestone epoch, as {@code MultiStepLR}; a
 * milestone listed twice multiplies by {@code gamma^2} there, as PyTorch's counter of milestones.
 */
public final class MultiStepLR extends LRScheduler {
    private final int[] milestones;
    private final double gamma;

    public MultiStepLR(Optimizer optimizer, int[] milestones, double gamma) {
        super(optimizer);
        this.milestones = milestones.clone();
        Arrays.sort(this.milestones);
        this.gamma = gamma;
        initialStep();
    }

    @Override
    protected double computeLr(int group, double lr, int epoch) {
        int times = 0;
        for (int m : milestones) {
            if (m == epoch) {
                times++;
            }
        }
        return times == 0 ? lr : lr * Math.pow(gamma, times);
    }

    @Override
    protected boolean hasClosedForm() {
        return true;
    }

    /** {@code base * gamma^(number of milestones <= epoch)} (bisect_right). */
    @Override
    protected double closedFormLr(int group, int epoch) {
        int passed = 0;
        for (int m : milestones) {
            if (m <= epoch) {
                passed++;
            }
        }
        return baseLr(group) * Math.pow(gamma, passed);
    }
}
