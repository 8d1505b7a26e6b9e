package dev.adjoint.autograd;

import dev.adjoint.Shape;
import dev.adjoint.Tensor;

/**
 * Records ops into the reverse-mode graph. Every differentiable op of the api goes through
 * {@link #record}; it is also the way to define a custom differentiable function:
 * <pre>{@code
 * Tensor out = Tensor.fromStorage(...);   // or any forward computed under noGrad
 * return Graph.record("CubeBackward", out, new Tensor[] {x}, new Tensor[] {x},
 *         (g, ctx) -> new Tensor[] {g.mul(ctx.saved(0).square().mul(3))});
 * }</pre>
 * The graph lives only in the nodes reachable from the tensors that hold them: there is no global
 * tape, so a result dropped without backward leaves nothing behind.
 */
public final class Graph {
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
        if (!needsGraph(inputs)) {
            return out;
        }
        Node[] next = new Node[inputs.length];
        Shape[] shapes = new Shape[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            shapes[i] = inputs[i].shape();
            if (inputs[i].requiresGrad()) {
                next[i] = inputs[i].gradEdge();
            }
        }
        OpNode node = new OpNode(name, next, shapes, saved, formula);
        out.attachGradFn(node);
        node.bindOutput(out);
        return out;
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
