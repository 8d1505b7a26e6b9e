package dev.adjoint.nn.optim;

import dev.adjoint.DType;
import dev.adjoint.Tensor;
import dev.adjoint.nn.StateDicts;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Adjusts the learning rate of each of an optimizer's parameter groups once per {@link #step()}, as
 * {@code torch.optim.lr_scheduler} (1.13, recursive "chainable" form): construction performs step 0,
 * which may already change the rate (a warm-up starts low); each later {@code step()} advances the
 * epoch counter and sets each group's rate computed from its current rate. Call it after
 * {@code optimizer.step()}.
 *
 * <p>Each group's base rate is PyTorch's {@code initial_lr}: the group's rate when the first scheduler
 * was attached to the optimizer, so several schedulers on one optimizer (see {@link SequentialLR}) share it.
 */
public abstract class LRScheduler {
    protected final Optimizer optimizer;
    private final double[] baseLrs;
    private int lastEpoch = -1;
    private int stepCount;
    private final double[] lastLrs;

    protected LRScheduler(Optimizer optimizer) {
        this.optimizer = optimizer;
        List<Optimizer.ParamGroup> groups = optimizer.paramGroups();
        baseLrs = new double[groups.size()];
        lastLrs = new double[groups.size()];
        for (int g = 0; g < groups.size(); g++) {
            baseLrs[g] = groups.get(g).initialLrOrCurrent();
        }
    }

    /** Subclasses call this last in their constructor, once their own fields are set (PyTorch's _initial_step). */
    protected final void initialStep() {
        stepCount = 0;
        step();
    }

    /** Advances one epoch (or iteration) and updates every group's learning rate. */
    public void step() {
        stepCount++;
        lastEpoch++;
        List<Optimizer.ParamGroup> groups = optimizer.paramGroups();
        double[] next = new double[groups.size()];
        for (int g = 0; g < next.length; g++) {
            next[g] = computeLr(g, groups.get(g).get("lr"), lastEpoch);
        }
        apply(next);
    }

    /**
     * PyTorch's {@code step(epoch)}: jumps to {@code epoch}, with the closed form of the schedule where
     * there is one. What {@link SequentialLR} does at its milestones.
     */
    final void stepTo(int epoch) {
        stepCount++;
        lastEpoch = epoch;
        List<Optimizer.ParamGroup> groups = optimizer.paramGroups();
        double[] next = new double[groups.size()];
        for (int g = 0; g < next.length; g++) {
            next[g] = hasClosedForm() ? closedFormLr(g, epoch) : computeLr(g, groups.get(g).get("lr"), epoch);
        }
        apply(next);
    }

    private void apply(double[] lrs) {
        List<Optimizer.ParamGroup> groups = optimizer.paramGroups();
        for (int g = 0; g < lrs.length; g++) {
            groups.get(g).setFromScheduler("lr", lrs[g]);
            lastLrs[g] = lrs[g];
        }
    }

    /** The next learning rate of group {@code group} from its current one ({@code get_lr} in PyTorch). */
    protected abstract double computeLr(int group, double currentLr, int epoch);

    /** Whether {@link #closedFormLr} is defined (PyTorch's {@code _get_closed_form_lr}). */
    protected boolean hasClosedForm() {
        return false;
    }

    /** The rate at {@code epoch} from the base rate alone, for schedules that have such a form. */
    protected double closedFormLr(int group, int epoch) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " has no closed form");
    }

    /** The learning rate the last step set for group 0 ({@code get_last_lr()[0]}). */
    public double lastLr() {
        return lastLrs[0];
    }

    /** The learning rates the last step set, one per group ({@code get_last_lr()}). */
    public double[] lastLrs() {
        return lastLrs.clone();
    }

    public int lastEpoch() {
        return lastEpoch;
    }

    /** The base rate of group 0. */
    public double baseLr() {
        return baseLrs[0];
    }

    public double baseLr(int group) {
        return baseLrs[group];
    }

    /** How many times {@link #step()} has run, counting the one at construction. */
    protected int stepCount() {
        return stepCount;
    }

    /** PyTorch's SequentialLR "undoes" its schedulers' construction step by moving their epoch back. */
    void rewindEpoch() {
        lastEpoch--;
    }

    void setPosition(int lastEpoch, int stepCount) {
        this.lastEpoch = lastEpoch;
        this.stepCount = stepCount;
    }

    void setLastLrs(double[] lrs) {
        System.arraycopy(lrs, 0, lastLrs, 0, lastLrs.length);
    }

    /**
     * {@code base_lr.<g>} and {@code last_lr.<g>} per group, {@code last_epoch} and {@code step_count},
     * as 0-d FLOAT64 tensors.
     */
    public Map<String, Tensor> stateDict() {
        return positionState();
    }

    /** This scheduler's own entries of the state dict (a subclass may add its own). */
    private Map<String, Tensor> positionState() {
        var create = Tensor.on(optimizer.backend());
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        for (int g = 0; g < baseLrs.length; g++) {
            out.put("base_lr." + g, create.scalar(baseLrs[g], DType.FLOAT64));
            out.put("last_lr." + g, create.scalar(lastLrs[g], DType.FLOAT64));
        }
        out.put("last_epoch", create.scalar(lastEpoch, DType.FLOAT64));
        out.put("step_count", create.scalar(stepCount, DType.FLOAT64));
        return out;
    }

    /**
     * Restores the schedule's position (strict, as {@link Optimizer#loadStateDict}). The optimizer's
     * current rates are restored by the optimizer's own state dict: to resume, build the optimizer and
     * scheduler as at the start, then load both.
     */
    public void loadStateDict(Map<String, Tensor> state) {
        StateDicts.checkCompatible(getClass().getSimpleName(), positionState(), state);
        for (int g = 0; g < baseLrs.length; g++) {
            baseLrs[g] = state.get("base_lr." + g).item();
            lastLrs[g] = state.get("last_lr." + g).item();
        }
        lastEpoch = (int) state.get("last_epoch").item();
        stepCount = (int) state.get("step_count").item();
    }
}
