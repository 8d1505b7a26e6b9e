package dev.adjoint.nn.optim;

import dev.adjoint.DType;
import dev.adjoint.Tensor;
import dev.adjoint.nn.StateDicts;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Lowers every group's learning rate by {@code factor} when a metric has stopped improving for more than
 * {@code patience} epochs, as {@code ReduceLROnPlateau} (1.13). Improvement is relative
 * ({@code metric < best (1 - threshold)} in MIN mode) or absolute ({@code metric < best - threshold});
 * after a reduction, {@code cooldown} epochs pass before bad epochs count again; no rate goes below its
 * {@code minLr}, and a change smaller than {@code eps} is not made. Unlike the other schedulers, its
 * {@link #step(double)} takes the metric (e.g. the validation loss) and construction changes nothing.
 */
public final class ReduceLROnPlateau {
    /** Whether lower ({@code MIN}, a loss) or higher ({@code MAX}, an accuracy) metrics are better. */
    public enum Mode { MIN, MAX }

    /** PyTorch's {@code threshold_mode}: improvement relative to the best value, or by an absolute amount. */
    public enum ThresholdMode { REL, ABS }

    private final Optimizer optimizer;
    private final Mode mode;
    private final double factor;
    private final int patience;
    private final double threshold;
    private final ThresholdMode thresholdMode;
    private final int cooldown;
    private final double[] minLrs;
    private final double eps;
    private double best;
    private int numBadEpochs;
    private int cooldownCounter;
    private int lastEpoch;
    private final double[] lastLrs;

    /** As {@code ReduceLROnPlateau(optimizer, mode, factor, patience, threshold, threshold_mode, cooldown, min_lr, eps)}. */
    public ReduceLROnPlateau(Optimizer optimizer, Mode mode, double factor, int patience, double threshold,
                             ThresholdMode thresholdMode, int cooldown, double minLr, double eps) {
        if (!(factor < 1.0)) {
            throw new IllegalArgumentException("ReduceLROnPlateau: factor must be < 1, got " + factor);
        }
        if (patience < 0 || cooldown < 0) {
            throw new IllegalArgumentException("ReduceLROnPlateau: patience and cooldown must be non-negative, got "
                    + patience + " and " + cooldown);
        }
        this.optimizer = optimizer;
        this.mode = mode;
        this.factor = factor;
        this.patience = patience;
        this.threshold = threshold;
        this.thresholdMode = thresholdMode;
        this.cooldown = cooldown;
        this.minLrs = new double[optimizer.paramGroups().size()];
        Arrays.fill(minLrs, minLr);
        this.eps = eps;
        this.best = worst();
        this.lastLrs = currentLrs();
    }

    /** PyTorch's defaults: factor 0.1, patience 10, threshold 1e-4 relative, no cooldown, min_lr 0, eps 1e-8. */
    public ReduceLROnPlateau(Optimizer optimizer, Mode mode) {
        this(optimizer, mode, 0.1, 10, 1e-4, ThresholdMode.REL, 0, 0, 1e-8);
    }

    /** Records one epoch's metric and lowers the rates if it has plateaued. */
    public void step(double metric) {
        lastEpoch++;
        if (isBetter(metric, best)) {
            best = metric;
            numBadEpochs = 0;
        } else {
            numBadEpochs++;
        }
        if (cooldownCounter > 0) {
            cooldownCounter--;
            numBadEpochs = 0;
        }
        if (numBadEpochs > patience) {
            reduce();
            cooldownCounter = cooldown;
            numBadEpochs = 0;
        }
        System.arraycopy(currentLrs(), 0, lastLrs, 0, lastLrs.length);
    }

    private void reduce() {
        List<Optimizer.ParamGroup> groups = optimizer.paramGroups();
        for (int g = 0; g < groups.size(); g++) {
            double old = groups.get(g).get("lr");
            double next = Math.max(old * factor, minLrs[g]);
            if (old - next > eps) {
                groups.get(g).setFromScheduler("lr", next);
            }
        }
    }

    private boolean isBetter(double a, double best) {
        if (mode == Mode.MIN) {
            return thresholdMode == ThresholdMode.REL ? a < best * (1 - threshold) : a < best - threshold;
        }
        return thresholdMode == ThresholdMode.REL ? a > best * (threshold + 1) : a > best + threshold;
    }

    private double worst() {
        return mode == Mode.MIN ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY;
    }

    private double[] currentLrs() {
        return optimizer.paramGroups().stream().mapToDouble(g -> g.get("lr")).toArray();
    }

    /** The rate of group 0 after the last step. */
    public double lastLr() {
        return lastLrs[0];
    }

    public double[] lastLrs() {
        return lastLrs.clone();
    }

    /** The best metric so far (+inf or -inf before the first step). */
    public double best() {
        return best;
    }

    public int numBadEpochs() {
        return numBadEpochs;
    }

    /** {@code best}, {@code num_bad_epochs}, {@code cooldown_counter}, {@code last_epoch} as 0-d FLOAT64. */
    public Map<String, Tensor> stateDict() {
        var create = Tensor.on(optimizer.backend());
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        out.put("best", create.scalar(best, DType.FLOAT64));
        out.put("num_bad_epochs", create.scalar(numBadEpochs, DType.FLOAT64));
        out.put("cooldown_counter", create.scalar(cooldownCounter, DType.FLOAT64));
        out.put("last_epoch", create.scalar(lastEpoch, DType.FLOAT64));
        return out;
    }

    public void loadStateDict(Map<String, Tensor> state) {
        StateDicts.checkCompatible(getClass().getSimpleName(), stateDict(), state);
        best = state.get("best").item();
        numBadEpochs = (int) state.get("num_bad_epochs").item();
        cooldownCounter = (int) state.get("cooldown_counter").item();
        lastEpoch = (int) state.get("last_epoch").item();
    }
}
