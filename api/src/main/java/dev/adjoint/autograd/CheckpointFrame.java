package dev.adjoint.autograd;

import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.func.TensorFunction;
import dev.adjoint.internal.RandomReplay;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * One checkpointed segment ({@link Autograd#checkpoint}). While its forward runs, the graph is
 * recorded as usual, but every tensor a node would keep for backward (saved inputs, its output) is
 * replaced by its position in the order the segment saved them; the tensors themselves are not kept.
 * The first time backward asks for one, the segment runs again — with grad mode on, the same inputs
 * and the random generators set back to where they were — and the tensors it saves, in the same
 * order, stand in for the dropped ones. Parameters the segment reads from outside get their gradients
 * through the ordinary graph, as without checkpointing.
 */
final class CheckpointFrame {
    private static final ThreadLocal<CheckpointFrame> ACTIVE = new ThreadLocal<>();
    /**
     * Frames active on any thread: every recorded op asks whether it is inside one, and this volatile
     * read answers "no" without the thread-local lookup when no checkpoint runs anywhere.
     */
    private static final java.util.concurrent.atomic.AtomicInteger ACTIVE_ANYWHERE =
            new java.util.concurrent.atomic.AtomicInteger();

    private final TensorFunction segment;
    private final List<Tensor> inputs;
    private final int[] inputVersions;
    private Map<Generator, Generator.State> randomStates;
    /** Positions handed out while the forward ran. */
    private int count;
    /** The recomputed tensors, by position; {@code null} until backward first needs one. */
    private List<Tensor> materialized;
    /** True while the segment is being recomputed: records append to {@link #materialized}. */
    private boolean recomputing;
    /** Nodes of the forward that still hold a position here. */
    private int liveNodes;
    private boolean released;

    private CheckpointFrame(TensorFunction segment, List<Tensor> inputs) {
        this.segment = segment;
        this.inputs = List.copyOf(inputs);
        this.inputVersions = new int[inputs.size()];
        for (int i = 0; i < inputVersions.length; i++) {
            inputVersions[i] = inputs.get(i).version();
        }
    }

    static CheckpointFrame active() {
        return ACTIVE_ANYWHERE.get() == 0 ? null : ACTIVE.get();
    }

    /** Runs the segment's forward with this frame active. */
    static List<Tensor> run(TensorFunction segment, List<Tensor> inputs) {
        CheckpointFrame frame = new CheckpointFrame(segment, inputs);
        CheckpointFrame enclosing = ACTIVE.get();
        Map<Generator, Generator.State> enclosingRandom = RandomReplay.start();
        ACTIVE.set(frame);
        ACTIVE_ANYWHERE.incrementAndGet();
        try {
            return segment.apply(frame.inputs);
        } finally {
            ACTIVE_ANYWHERE.decrementAndGet();
            ACTIVE.set(enclosing);
            frame.randomStates = RandomReplay.stop(enclosingRandom);
        }
    }

    /**
     * Registers what a node recorded inside the segment. In the forward, returns the position of the
     * first of {@code tensors} (they are then dropped by the node); during recomputation, keeps them
     * and returns -1 (the node of the recomputed graph keeps its own references).
     */
    int register(Tensor[] tensors) {
        if (recomputing) {
            for (Tensor t : tensors) {
                materialized.add(t);
            }
            return -1;
        }
        int first = count;
        count += tensors.length;
        liveNodes++;
        return first;
    }

    /**
     * A node of the segment is done with its tensors (backward applied it): once every node is, the
     * recomputed tensors go too, instead of living as long as the graph object does.
     */
    void nodeReleased() {
        if (--liveNodes == 0) {
            materialized = null;
            released = true;
        }
    }

    /** The tensor saved at {@code position}, recomputing the segment the first time. */
    Tensor get(int position, String node) {
        if (released) {
            throw new GraphFreedException(node + ": trying to backward through a checkpointed segment a second "
                    + "time, but its recomputed tensors were freed after the first backward; pass retainGraph=true");
        }
        if (materialized == null) {
            recompute(node);
        }
        return materialized.get(position);
    }

    private void recompute(String node) {
        for (int i = 0; i < inputs.size(); i++) {
            Tensor in = inputs.get(i);
            if (in.version() != inputVersions[i]) {
                throw new IllegalStateException(node + ": input " + i + " of a checkpointed segment (shape "
                        + in.shape() + ") was modified in place after the forward (version " + in.version()
                        + ", expected " + inputVersions[i] + "), so the segment cannot be recomputed for backward");
            }
        }
        Map<Generator, Generator.State> now = new IdentityHashMap<>();
        randomStates.forEach((g, before) -> {
            now.put(g, g.state());
            g.setState(before);
        });
        List<Tensor> recomputed = new ArrayList<>(count);
        CheckpointFrame enclosing = ACTIVE.get();
        materialized = recomputed;
        recomputing = true;
        ACTIVE.set(this);
        ACTIVE_ANYWHERE.incrementAndGet();
        try (var grad = GradMode.enable()) {
            segment.apply(inputs);
        } catch (RuntimeException e) {
            materialized = null;
            throw e;
        } finally {
            ACTIVE_ANYWHERE.decrementAndGet();
            recomputing = false;
            ACTIVE.set(enclosing);
            // Leave every generator where the rest of the program expects it.
            now.forEach(Generator::setState);
        }
        if (recomputed.size() != count) {
            materialized = null;
            throw new IllegalStateException(node + ": a checkpointed segment saved " + recomputed.size()
                    + " tensors when recomputed for backward but " + count + " in its forward; the segment must "
                    + "run the same ops each time (no control flow on values that change between the runs)");
        }
    }
}
