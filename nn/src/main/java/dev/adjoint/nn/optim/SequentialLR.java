package dev.adjoint.nn.optim;

import dev.adjoint.Tensor;
import dev.adjoint.nn.StateDicts;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs schedulers one after another, switching at the milestone epochs, as {@code SequentialLR} (1.13):
 * {@code schedulers.get(i)} drives the rate from {@code milestones[i - 1]} on, restarting from its own
 * epoch 0 (with its closed form, so from the base rate) at the switch. Typical: a linear warm-up, then
 * a decay.
 * <pre>{@code
 * var warmup = new LinearWarmup(opt, 0.1, 1.0, 5);
 * var decay = new ExponentialLR(opt, 0.9);
 * var schedule = new SequentialLR(opt, List.of(warmup, decay), new int[] {5});
 * }</pre>
 * Build the schedulers on the same optimizer right before this one; it resets the rate to the base and
 * replays the first scheduler's initial step, as PyTorch does.
 */
public final class SequentialLR extends LRScheduler {
    private final List<LRScheduler> schedulers;
    private final int[] milestones;

    public SequentialLR(Optimizer optimizer, List<LRScheduler> schedulers, int[] milestones) {
        super(optimizer);
        if (schedulers.isEmpty()) {
            throw new IllegalArgumentException("SequentialLR: expected at least one scheduler");
        }
        for (int i = 0; i < schedulers.size(); i++) {
            if (schedulers.get(i).optimizer != optimizer) {
                throw new IllegalArgumentException("SequentialLR: scheduler " + i + " belongs to another optimizer");
            }
        }
        if (milestones.length != schedulers.size() - 1) {
            throw new IllegalArgumentException("SequentialLR: expected " + (schedulers.size() - 1) + " milestones for "
                    + schedulers.size() + " schedulers, got " + milestones.length);
        }
        this.schedulers = List.copyOf(schedulers);
        this.milestones = milestones.clone();
        setPosition(0, 0);
        List<Optimizer.ParamGroup> groups = optimizer.paramGroups();
        for (int g = 0; g < groups.size(); g++) {
            groups.get(g).setFromScheduler("lr", baseLr(g));
        }
        for (LRScheduler s : schedulers) {
            s.rewindEpoch();
        }
        schedulers.get(0).initialStep();
        setLastLrs(schedulers.get(0).lastLrs());
    }

    @Override
    public void step() {
        int epoch = lastEpoch() + 1;
        setPosition(epoch, stepCount() + 1);
        int index = bisectRight(milestones, epoch);
        LRScheduler scheduler = schedulers.get(index);
        if (index > 0 && milestones[index - 1] == epoch) {
            scheduler.stepTo(0);
        } else {
            scheduler.step();
        }
        setLastLrs(scheduler.lastLrs());
    }

    private static int bisectRight(int[] sorted, int value) {
        int i = 0;
        while (i < sorted.length && sorted[i] <= value) {
            i++;
        }
        return i;
    }

    /** Never called: {@link #step()} delegates to the active scheduler. */
    @Override
    protected double computeLr(int group, double currentLr, int epoch) {
        throw new UnsupportedOperationException("SequentialLR computes no rate itself");
    }

    /** Its own position and each scheduler's state under {@code scheduler.<i>.}. */
    @Override
    public Map<String, Tensor> stateDict() {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>(super.stateDict());
        for (int i = 0; i < schedulers.size(); i++) {
            String prefix = "scheduler." + i + ".";
            schedulers.get(i).stateDict().forEach((k, v) -> out.put(prefix + k, v));
        }
        return out;
    }

    @Override
    public void loadStateDict(Map<String, Tensor> state) {
        StateDicts.checkCompatible(getClass().getSimpleName(), stateDict(), state);
        Map<String, Tensor> own = new LinkedHashMap<>(state);
        own.keySet().removeIf(k -> k.startsWith("scheduler."));
        super.loadStateDict(own);
        for (int i = 0; i < schedulers.size(); i++) {
            String prefix = "scheduler." + i + ".";
            Map<String, Tensor> sub = new LinkedHashMap<>();
            state.forEach((k, v) -> {
                if (k.startsWith(prefix)) {
                    sub.put(k.substring(prefix.length()), v);
                }
            });
            schedulers.get(i).loadStateDict(sub);
        }
    }
}
