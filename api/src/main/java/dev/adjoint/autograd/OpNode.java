package dev.adjoint.autograd;

import dev.adjoint.Shape;
import dev.adjoint.Tensor;

/** The node of an ordinary op: a formula plus the tensors it saved at forward time. */
final class OpNode extends Node implements BackwardContext {
    private final BackwardFormula formula;
    private Tensor[] saved;
    /** Each saved tensor's version when it was saved: an in-place write since then is an error. */
    private final int[] savedVersions;
    private Tensor output;
    private int outputVersion;
    private boolean released;

    /** Inside a checkpointed segment: where the saved tensors, then the output, are kept instead. */
    private CheckpointFrame frame;
    private int framePosition;

    OpNode(String name, Node[] next, int[] nextSlot, Shape[] inputShapes, Tensor[] saved, BackwardFormula formula) {
        super(name, next, nextSlot, inputShapes, 1);
        this.saved = saved;
        this.formula = formula;
        this.savedVersions = new int[saved.length];
        for (int i = 0; i < saved.length; i++) {
            savedVersions[i] = saved[i] == null ? 0 : saved[i].version();
        }
    }

    void bindOutput(Tensor output) {
        this.output = output;
        this.outputVersion = output.version();
        CheckpointFrame active = CheckpointFrame.active();
        if (active != null) {
            Tensor[] kept = java.util.Arrays.copyOf(saved, saved.length + 1);
            kept[saved.length] = output;
            int position = active.register(kept);
            if (position >= 0) {
                // Checkpointed: keep positions, not tensors; the frame recomputes them for backward.
                frame = active;
                framePosition = position;
                saved = new Tensor[saved.length];
                this.output = null;
            }
        }
    }

    /** Whether its saved tensors are recomputed in the backward pass by a checkpointed segment. */
    boolean checkpointed() {
        return frame != null;
    }

    @Override
    protected Tensor[] apply(Tensor[] gradOutputs) {
        return formula.apply(gradOutputs[0], this);
    }

    @Override
    protected void release() {
        released = true;
        saved = null;
        output = null;
        if (frame != null) {
            frame.nodeReleased();
            frame = null;
        }
    }

    @Override
    public Tensor saved(int i) {
        if (released) {
            throw freed();
        }
        if (frame != null) {
            return frame.get(framePosition + i, name());
        }
        Tensor t = saved[i];
        if (t != null && t.version() != savedVersions[i]) {
            throw modified("saved tensor " + i, t, savedVersions[i]);
        }
        return t;
    }

    @Override
    public Tensor output() {
        if (released) {
            throw freed();
        }
        if (frame != null) {
            return frame.get(framePosition + saved.length, name());
        }
        if (output.version() != outputVersion) {
            throw modified("output", output, outputVersion);
        }
        return output;
    }

    @Override
    public boolean needsInputGrad(int i) {
        return inputWanted(i);
    }

    private IllegalStateException modified(String what, Tensor t, int expected) {
        return new IllegalStateException(name() + ": its " + what + " (shape " + t.shape() + ", " + t.dtype()
                + "), needed for the gradient, was modified by an in-place operation: it is at version "
                + t.version() + ", expected version " + expected + ". Use an out-of-place op (add instead of "
                + "add_), or clone() the tensor before updating it.");
    }

    private GraphFreedException freed() {
        return new GraphFreedException(name() + ": trying to backward through the graph a second time, but the "
                + "tensors saved for backward were freed after the first backward. Pass retainGraph=true to "
                + "the first backward (or autograd grad) call if you need to backward through it again.");
    }
}
