package dev.adjoint.nn.optim;

import java.util.List;
import java.util.function.IntToDoubleFunction;

/**
 * Sets each group's learning rate to its base rate times {@code lambda(epoch)}, as {@code LambdaLR}: one
 * function for every group, or one per group.
 * <pre>{@code
 * new LambdaLR(optimizer, epoch -> Math.pow(0.95, epoch));
 * }</pre>
 */
public final class LambdaLR extends LRScheduler {
    private final List<IntToDoubleFunction> lambdas;

    public LambdaLR(Optimizer optimizer, IntToDoubleFunction lambda) {
        this(optimizer, java.util.Collections.nCopies(optimizer.paramGroups().size(), lambda));
    }

    /** One function per parameter group, in order. */
    public LambdaLR(Optimizer optimizer, List<IntToDoubleFunction> lambdas) {
        super(optimizer);
        if (lambdas.size() != optimizer.paramGroups().size()) {
            throw new IllegalArgumentException("LambdaLR: expected " + optimizer.paramGroups().size()
                    + " functions (one per parameter group), got " + lambdas.size());
        }
        this.lambdas = List.copyOf(lambdas);
        initialStep();
    }

    @Override
    protected double computeLr(int group, double lr, int epoch) {
        return baseLr(group) * lambdas.get(group).applyAsDouble(epoch);
    }
}
