package dev.adjoint.autograd;

import dev.adjoint.Shape;
import dev.adjoint.Tensor;

/** The node of an ordinary op: a formula plus the tensors it saved at forward time. */
final class OpNode extends Node implements BackwardContext {
    private final BackwardFormula formula;
    private Tensor[] saved;
    private Tensor output;
    private boolean released;

    OpNode(String name, Node[] next, Shape[] inputShapes, Tensor[] saved, BackwardFormula formula) {
        super(name, next, inputShapes);
        this.saved = saved;
        this.formula = formula;
    }

    void bindOutput(Tensor output) {
        this.output = output;
    }

    @Override
    protected Tensor[] apply(Tensor gradOutput) {
        return formula.apply(gradOutput, this);
    }

    @Override
    protected void release() {
        released = true;
        saved = null;
        output = null;
    }

    @Override
    public Tensor saved(int i) {
        if (released) {
            throw freed();
        }
        return saved[i];
    }

    @Override
    public Tensor output() {
        if (released) {
            throw freed();
        }
        return output;
    }

    @Override
    public boolean needsInputGrad(int i) {
        return next()[i] != null;
    }

    private GraphFreedException freed() {
        return new GraphFreedException(name() + ": trying to backward through the graph a second time, but the "
                + "tensors saved for backward were freed after the first backward. Pass retainGraph=true to "
                + "the first backward (or autograd grad) call if you need to backward through it again.");
    }
}
