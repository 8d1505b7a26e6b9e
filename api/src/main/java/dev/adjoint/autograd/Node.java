package dev.adjoint.autograd;

import dev.adjoint.Shape;
import dev.adjoint.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * One step of the recorded graph: the function that maps the gradients of the tensors an op produced
 * to the gradients of the tensors it was computed from. Most ops produce one tensor; a custom
 * {@link Function} or a checkpointed segment may produce several, each tensor then being one output
 * slot of the node (its {@code gradFn} plus an output number, as PyTorch's edges). A leaf that
 * requires grad is represented by an {@link AccumulateGrad} node.
 */
public abstract class Node {
    private final String name;
    private final Node[] next;
    /** For each input, which output slot of {@code next[i]} it is. */
    private final int[] nextSlot;
    private final Shape[] inputShapes;
    private final int outputs;
    private List<UnaryOperator<Tensor>>[] hooks;
    /** Where the op was called, recorded only under {@link Autograd#detectAnomaly()}. */
    private final StackTraceElement[] creationSite;
    /** During {@link #run}: which inputs the current backward pass needs a gradient for. */
    private boolean[] wanted;

    protected Node(String name, Node[] next, Shape[] inputShapes) {
        this(name, next, new int[next.length], inputShapes, 1);
    }

    protected Node(String name, Node[] next, int[] nextSlot, Shape[] inputShapes, int outputs) {
        this.name = name;
        this.next = next;
        this.nextSlot = nextSlot;
        this.inputShapes = inputShapes;
        this.outputs = outputs;
        this.creationSite = Anomaly.enabled() ? Anomaly.callSite() : null;
    }

    /** PyTorch-style name, e.g. {@code MulBackward}. */
    public String name() {
        return name;
    }

    /** How many tensors the op produced (1 for every built-in op). */
    public int outputCount() {
        return outputs;
    }

    /** The nodes gradients flow to, one per input; {@code null} where an input needs no gradient. */
    public List<Node> nextFunctions() {
        return Collections.unmodifiableList(Arrays.asList(next));
    }

    /**
     * Registers a hook that sees (and may replace, by returning a tensor of the same shape) the
     * gradient of this node's (first) tensor before it is used. Returning {@code null} keeps the gradient.
     * The handle removes it.
     */
    public RemovableHandle registerHook(UnaryOperator<Tensor> hook) {
        return registerHook(0, hook);
    }

    /** {@link #registerHook(UnaryOperator)} for the tensor in output slot {@code output}. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    public RemovableHandle registerHook(int output, UnaryOperator<Tensor> hook) {
        if (hooks == null) {
            hooks = new List[outputs];
        }
        if (hooks[output] == null) {
            hooks[output] = new ArrayList<>(1);
        }
        // A wrapper of its own, so removing one registration of a hook registered twice removes only that one.
        UnaryOperator<Tensor> entry = hook::apply;
        List<UnaryOperator<Tensor>> list = hooks[output];
        list.add(entry);
        return () -> list.remove(entry);
    }

    Node[] next() {
        return next;
    }

    int nextSlot(int i) {
        return nextSlot[i];
    }

    Shape inputShape(int i) {
        return inputShapes[i];
    }

    StackTraceElement[] creationSite() {
        return creationSite;
    }

    /** Whether a hook is registered on output slot {@code output}. */
    boolean hasHooks(int output) {
        return hooks != null && hooks[output] != null && !hooks[output].isEmpty();
    }

    Tensor runHooks(int output, Tensor grad) {
        if (hooks == null || hooks[output] == null) {
            return grad;
        }
        // A copy, so a hook may remove itself (or another) while the hooks run.
        for (UnaryOperator<Tensor> hook : List.copyOf(hooks[output])) {
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

    /** Applies the node for a backward pass that needs the gradients of the inputs flagged in {@code wanted}. */
    final Tensor[] run(Tensor[] gradOutputs, boolean[] wanted) {
        this.wanted = wanted;
        try {
            return apply(gradOutputs);
        } finally {
            this.wanted = null;
        }
    }

    /**
     * Whether the running backward pass needs the gradient of input {@code i}: it requires grad and
     * leads to something the pass computes ({@link Autograd#grad} skips what leads elsewhere).
     */
    protected boolean inputWanted(int i) {
        return next[i] != null && (wanted == null || wanted[i]);
    }

    /**
     * Gradients with respect to each input (entries may be {@code null} for inputs needing none).
     *
     * @param gradOutputs one gradient per output slot; for a node with several outputs an entry is
     *                    {@code null} where that output received no gradient
     */
    protected abstract Tensor[] apply(Tensor[] gradOutputs);

    /** Drops whatever the node saved for its backward; called after a backward without retainGraph. */
    protected void release() {
    }

    @Override
    public String toString() {
        return name;
    }
}
