package dev.adjoint.nn.optim;

import java.util.Arrays;
import java.util.List;

/**
 * The 1cycle policy, as {@code OneCycleLR} (1.13): the rate rises from {@code maxLr / divFactor} to
 * {@code maxLr} over the first {@code pctStart} of {@code totalSteps}, then anneals to
 * {@code maxLr / (divFactor * finalDivFactor)} (cosine or linear); with {@code threePhase} it comes back
 * down to the initial rate symmetrically before the final annealing. Momentum (SGD's and RMSprop's
 * {@code momentum}, Adam's {@code beta1}) cycles the other way, between {@code maxMomentum} and
 * {@code baseMomentum}, when {@code cycleMomentum}. Step it once per batch; stepping past
 * {@code totalSteps} is an error, as in PyTorch.
 */
public final class OneCycleLR extends LRScheduler {
    /** How each phase interpolates, PyTorch's {@code anneal_strategy}. */
    public enum AnnealStrategy { COS, LINEAR }

    private final int totalSteps;
    private final AnnealStrategy anneal;
    private final boolean cycleMomentum;
    private final String momentumName;
    /** Per phase: end step, and for lr and momentum the start and end as indices into the per-group values. */
    private final double[] phaseEnd;
    private final int[][] phaseLr;
    private final int[][] phaseMomentum;
    /** Per group: {initial, max, min} learning rates and {max, base} momentum. */
    private final double[][] lrs;
    private final double[][] momenta;

    private static final int INITIAL = 0;
    private static final int MAX = 1;
    private static final int MIN = 2;
    private static final int MAX_MOMENTUM = 0;
    private static final int BASE_MOMENTUM = 1;

    /**
     * As {@code OneCycleLR(optimizer, max_lr, total_steps, pct_start, anneal_strategy, cycle_momentum,
     * base_momentum, max_momentum, div_factor, final_div_factor, three_phase)} with one {@code maxLr}
     * per parameter group.
     */
    public OneCycleLR(Optimizer optimizer, double[] maxLr, int totalSteps, double pctStart, AnnealStrategy anneal,
                      boolean cycleMomentum, double baseMomentum, double maxMomentum, double divFactor,
                      double finalDivFactor, boolean threePhase) {
        super(prepare(optimizer, maxLr, totalSteps, pctStart, divFactor, cycleMomentum, maxMomentum));
        this.totalSteps = totalSteps;
        this.anneal = anneal;
        this.cycleMomentum = cycleMomentum;
        this.momentumName = cycleMomentum ? momentumName(optimizer) : null;
        int groups = optimizer.paramGroups().size();
        lrs = new double[groups][];
        momenta = new double[groups][];
        for (int g = 0; g < groups; g++) {
            double initial = maxLr[g] / divFactor;
            lrs[g] = new double[] {initial, maxLr[g], initial / finalDivFactor};
            momenta[g] = new double[] {maxMomentum, baseMomentum};
        }
        if (threePhase) {
            phaseEnd = new double[] {pctStart * totalSteps - 1, 2 * pctStart * totalSteps - 2, totalSteps - 1};
            phaseLr = new int[][] {{INITIAL, MAX}, {MAX, INITIAL}, {INITIAL, MIN}};
            phaseMomentum = new int[][] {{MAX_MOMENTUM, BASE_MOMENTUM}, {BASE_MOMENTUM, MAX_MOMENTUM},
                {MAX_MOMENTUM, MAX_MOMENTUM}};
        } else {
            phaseEnd = new double[] {pctStart * totalSteps - 1, totalSteps - 1};
            phaseLr = new int[][] {{INITIAL, MAX}, {MAX, MIN}};
            phaseMomentum = new int[][] {{MAX_MOMENTUM, BASE_MOMENTUM}, {BASE_MOMENTUM, MAX_MOMENTUM}};
        }
        initialStep();
    }

    /** PyTorch's defaults: pct_start 0.3, cosine, momentum 0.85-0.95, div_factor 25, final_div_factor 1e4. */
    public OneCycleLR(Optimizer optimizer, double maxLr, int totalSteps) {
        this(optimizer, filled(optimizer, maxLr), totalSteps, 0.3, AnnealStrategy.COS, true, 0.85, 0.95, 25, 1e4, false);
    }

    private static double[] filled(Optimizer optimizer, double value) {
        double[] out = new double[optimizer.paramGroups().size()];
        Arrays.fill(out, value);
        return out;
    }

    private static String momentumName(Optimizer optimizer) {
        Optimizer.ParamGroup first = optimizer.paramGroups().get(0);
        if (first.has("beta1")) {
            return "beta1";
        }
        if (first.has("momentum")) {
            return "momentum";
        }
        throw new IllegalArgumentException("OneCycleLR: " + optimizer.getClass().getSimpleName() + " has neither momentum "
                + "nor betas to cycle; pass cycleMomentum=false");
    }

    /**
     * What PyTorch does before the base constructor: each group's {@code initial_lr} becomes
     * {@code maxLr / divFactor} (the rate the schedule starts from) and its momentum the maximum.
     */
    private static Optimizer prepare(Optimizer optimizer, double[] maxLr, int totalSteps, double pctStart,
                                     double divFactor, boolean cycleMomentum, double maxMomentum) {
        List<Optimizer.ParamGroup> groups = optimizer.paramGroups();
        if (totalSteps <= 0) {
            throw new IllegalArgumentException("OneCycleLR: totalSteps must be positive, got " + totalSteps);
        }
        if (!(pctStart >= 0 && pctStart <= 1)) {
            throw new IllegalArgumentException("OneCycleLR: pctStart must be in [0, 1], got " + pctStart);
        }
        if (maxLr.length != groups.size()) {
            throw new IllegalArgumentException("OneCycleLR: expected " + groups.size() + " values for maxLr (one per "
                    + "parameter group), got " + maxLr.length);
        }
        String momentum = cycleMomentum ? momentumName(optimizer) : null;
        for (int g = 0; g < groups.size(); g++) {
            groups.get(g).setInitialLr(maxLr[g] / divFactor);
            if (momentum != null) {
                groups.get(g).setFromScheduler(momentum, maxMomentum);
            }
        }
        return optimizer;
    }

    @Override
    protected double computeLr(int group, double currentLr, int epoch) {
        if (epoch > totalSteps) {
            throw new IllegalStateException("OneCycleLR: tried to step " + (epoch + 1) + " times; the schedule has "
                    + totalSteps + " steps");
        }
        double start = 0;
        for (int i = 0; i < phaseEnd.length; i++) {
            double end = phaseEnd[i];
            if (epoch <= end || i == phaseEnd.length - 1) {
                double pct = (epoch - start) / (end - start);
                double lr = anneal(lrs[group][phaseLr[i][0]], lrs[group][phaseLr[i][1]], pct);
                if (cycleMomentum) {
                    optimizer.paramGroups().get(group).setFromScheduler(momentumName,
                            anneal(momenta[group][phaseMomentum[i][0]], momenta[group][phaseMomentum[i][1]], pct));
                }
                return lr;
            }
            start = end;
        }
        throw new AssertionError("unreachable: the last phase always matches");
    }

    private double anneal(double start, double end, double pct) {
        if (anneal == AnnealStrategy.COS) {
            return end + (start - end) / 2.0 * (Math.cos(Math.PI * pct) + 1);
        }
        return (end - start) * pct + start;
    }
}
