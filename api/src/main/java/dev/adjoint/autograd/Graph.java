package dev.adjoint.autograd;

import dev.adjoint.Shape;
import dev.adjoint.Tensor;
import dev.adjoint.internal.TensorInternals;

/**
 * Records ops into the reverse-mode graph. Every differentiable op of the api goes through
 * {@link #record}; it is also the way to define a custom differentiable function:
 * <pre>{@code
 * Tensor out = ...;   // the forward, computed under noGrad
 * return Graph.record("CubeBackward", out, new Tensor[] {x}, new Tensor[] {x},
 *         (g, ctx) -> new Tensor[] {g.mul(ctx.saved(0).square().mul(3))});
 * }</pre>
 * The graph lives only in the nodes reachable from the tensors that hold them: there is no global
 * tape, so a result dropped without backward leaves nothing behind.
 */
public final class Graph {
    private static final TensorInternals INTERNALS = TensorInternals.get();

    private Graph() {
    }

    /**
     * Attaches a node to {@code out} when grad mode is on and some input requires grad; otherwise
     * returns {@code out} untouched.
     *
     * @param name    PyTorch-style node name, e.g. {@code "MulBackward"}
     * @param out     the freshly computed output (no history of its own)
     * @param inputs  the op's differentiable inputs, in the order the formula returns gradients
     * @param saved   tensors the formula reads through {@link BackwardContext#saved}
     * @param formula the vector-Jacobian product
     */
    public static Tensor record(String name, Tensor out, Tensor[] inputs, Tensor[] saved, BackwardFormula formula) {
        return record(name, out, inputs, saved, formula, null);
    }

    /**
     * {@link #record(String, Tensor, Tensor[], Tensor[], BackwardFormula)} for an op that also has a
     * forward-mode rule: when a dual level is open and some input carries a tangent, {@code out} gets
     * the tangent {@code jvp} computes. The two formulas of one op sit side by side at its call site.
     *
     * @param jvp the Jacobian-vector product, or {@code null} if the op has none (forward mode through
     *            it then fails with a message naming it)
     */
    public static Tensor record(String name, Tensor out, Tensor[] inputs, Tensor[] saved, BackwardFormula formula,
                                JvpFormula jvp) {
        if (ForwardAD.anyForwardGrad(inputs)) {
            ForwardAD.propagate(name, out, inputs, jvp);
        }
        if (!needsGraph(inputs)) {
            return out;
        }
        Node[] next = new Node[inputs.length];
        int[] slots = new int[inputs.length];
        Shape[] shapes = new Shape[inputs.length];
        edges(inputs, next, slots, shapes);
        OpNode node = new OpNode(name, next, slots, shapes, saved, formula);
        INTERNALS.attachGradFn(out, node, 0);
        node.bindOutput(out);
        return out;
    }

    /** For each input: the node its gradient flows to (null if it needs none), which output of it, its shape. */
    static void edges(Tensor[] inputs, Node[] next, int[] slots, Shape[] shapes) {
        for (int i = 0; i < inputs.length; i++) {
            shapes[i] = inputs[i].shape();
            if (inputs[i].requiresGrad()) {
                next[i] = INTERNALS.gradEdge(inputs[i]);
                slots[i] = INTERNALS.outputSlot(inputs[i]);
            }
        }
    }

    /** Gives {@code out} its producing node and output slot. */
    static void attach(Tensor out, Node node, int slot) {
        INTERNALS.attachGradFn(out, node, slot);
    }

    static Node gradEdge(Tensor t) {
        return INTERNALS.gradEdge(t);
    }

    static int outputSlot(Tensor t) {
        return INTERNALS.outputSlot(t);
    }

    /** True when an op over {@code inputs} would be recorded: grad mode is on and some input requires grad. */
    public static boolean needsGraph(Tensor... inputs) {
        // requiresGrad first: it is a field read, while the grad mode costs a ThreadLocal lookup that
        // untracked ops (and every op of a backward pass without createGraph) then never pay.
        for (Tensor t : inputs) {
            if (t.requiresGrad()) {
                return GradMode.isEnabled();
            }
        }
        return false;
    }
}
