package dev.adjoint.nn.optim;

import dev.adjoint.DType;
import dev.adjoint.Tensor;
import dev.adjoint.nn.StateDicts;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Adjusts an optimizer's learning rate once per {@link #step()}, as {@code torch.optim.lr_scheduler}
 * (1.13, recursive "chainable" form): construction performs step 0, which may already change the
 * rate (a warm-up starts low); each later {@code step()} advances the epoch counter and sets the rate
 * computed from the optimizer's current rate. Call it after {@code optimizer.step()}.
 */
public abstract class LRScheduler {
    protected final Optimizer optimizer;
    private double baseLr;
    private int lastEpoch = -1;
    private int stepCount;
    private double lastLr;

    protected LRScheduler(Optimizer optimizer) {
        this.optimizer = optimizer;
        this.baseLr = optimizer.lr();
    }

    /** Subclasses call this last in their constructor, once their own fields are set (PyTorch's _initial_step). */
    protected final void initialStep() {
        step();
    }

    /** Advances one epoch (or iteration) and updates the optimizer's learning rate. */
    public final void step() {
        stepCount++;
        lastEpoch++;
        double lr = computeLr(optimizer.lr(), lastEpoch);
        optimizer.setLr(lr);
        lastLr = lr;
    }

    /** The next learning rate from the current one ({@code get_lr} in PyTorch). */
    protected abstract double computeLr(double currentLr, int epoch);

    /** The learning rate the last step set ({@code get_last_lr()[0]}). */
    public double lastLr() {
        return lastLr;
    }

    public int lastEpoch() {
        return lastEpoch;
    }

    public double baseLr() {
        return baseLr;
    }

    /** How many times {@link #step()} has run, counting the one at construction. */
    protected int stepCount() {
        return stepCount;
    }

    /** {@code base_lr}, {@code last_epoch}, {@code step_count} and {@code last_lr} as 0-d FLOAT64 tensors. */
    public Map<String, Tensor> stateDict() {
        var create = Tensor.on(optimizer.backend());
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        out.put("base_lr", create.scalar(baseLr, DType.FLOAT64));
        out.put("last_epoch", create.scalar(lastEpoch, DType.FLOAT64));
        out.put("step_count", create.scalar(stepCount, DType.FLOAT64));
        out.put("last_lr", create.scalar(lastLr, DType.FLOAT64));
        return out;
    }

    /**
     * Restores the schedule's position (strict, as {@link Optimizer#loadStateDict}). The optimizer's
     * current rate is restored by the optimizer's own state dict: to resume, build the optimizer and
     * scheduler as at the start, then load both.
     */
    public void loadStateDict(Map<String, Tensor> state) {
        StateDicts.checkCompatible(getClass().getSimpleName(), stateDict(), state);
        baseLr = state.get("base_lr").item();
        lastEpoch = (int) state.get("last_epoch").item();
        stepCount = (int) state.get("step_count").item();
        lastLr = state.get("last_lr").item();
    }
}
