package dev.adjoint.autograd;

import dev.adjoint.Shape;
import dev.adjoint.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * One step of the recorded graph: the function that maps the gradient of one tensor to the
 * gradients of the tensors it was computed from. Every op produces a single output, so a node
 * stands for exactly one tensor (its {@code gradFn}); a leaf that requires grad is represented by
 * an {@link AccumulateGrad} node.
 */
public abstract class Node {
    private final String name;
    private final Node[] next;
    private final Shape[] inputShapes;
    private List<UnaryOperator<Tensor>> hooks;

    protected Node(String name, Node[] next, Shape[] inputShapes) {
        this.name = name;
        this.next = next;
        this.inputShapes = inputShapes;
    }

    /** PyTorch-style name, e.g. {@code MulBackward}. */
    public String name() {
        return name;
    }

    /** The nodes gradients flow to, one per input; {@code null} where an input needs no gradient. */
    public List<Node> nextFunctions() {
        return Collections.unmodifiableList(Arrays.asList(next));
    }

    /**
     * Registers a hook that sees (and may replace, by returning a tensor of the same shape) the
     * gradient of this node's tensor before it is used. Returning {@code null} keeps the gradient.
     */
    public void registerHook(UnaryOperator<Tensor> hook) {
        if (hooks == null) {
            hooks = new ArrayList<>(1);
        }
        hooks.add(hook);
    }

    Node[] next() {
        return next;
    }

    Shape inputShape(int i) {
        return inputShapes[i];
    }

    Tensor runHooks(Tensor grad) {
        if (hooks == null) {
            return grad;
        }
        for (UnaryOperator<Tensor> hook : hooks) {
            Tensor replaced = hook.apply(grad);
            if (replaced != null) {
                if (!replaced.shape().equals(grad.shape())) {
                    throw new IllegalStateException(name + ": a hook returned a gradient of shape "
                            + replaced.shape() + " for a tensor of shape " + grad.shape());
                }
                grad = replaced;
            }
        }
        return grad;
    }

    /** Gradients with respect to each input (entries may be {@code null} for inputs needing none). */
    protected abstract Tensor[] apply(Tensor gradOutput);

    /** Drops whatever the node saved for its backward; called after a backward without retainGraph. */
    protected void release() {
    }

    @Override
    public String toString() {
        return name;
    }
}
