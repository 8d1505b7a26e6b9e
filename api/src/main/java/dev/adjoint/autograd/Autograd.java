package dev.adjoint.autograd;

import dev.adjoint.BackendMismatchException;
import dev.adjoint.DTypeMismatchException;
import dev.adjoint.Shape;
import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The reverse sweep shared by every backend: a topological order of the nodes reachable from the
 * roots, then each node's formula applied once all of its consumers have delivered their gradients.
 */
public final class Autograd {
    private Autograd() {
    }

    /** {@code root.backward(gradient, retainGraph, createGraph)}: accumulates into leaves' {@code grad}. */
    public static void backward(Tensor root, Tensor gradient, boolean retainGraph, boolean createGraph) {
        Node edge = rootEdge(root, "backward");
        Tensor seed = seedGradient(root, gradient, "backward");
        run(new Node[] {edge}, new Tensor[] {seed}, null, true, retainGraph, createGraph);
    }

    /**
     * torch.autograd.grad: the gradients of {@code outputs} (weighted by {@code gradOutputs}, which
     * may be {@code null} for scalar outputs) with respect to {@code inputs}, returned instead of
     * accumulated into {@code grad}. An input the outputs do not depend on yields {@code null} when
     * {@code allowUnused}, and an error otherwise.
     */
    public static List<Tensor> grad(List<Tensor> outputs, List<Tensor> inputs, List<Tensor> gradOutputs,
                                    boolean retainGraph, boolean createGraph, boolean allowUnused) {
        if (gradOutputs != null && gradOutputs.size() != outputs.size()) {
            throw new IllegalArgumentException("grad: " + gradOutputs.size() + " gradOutputs for "
                    + outputs.size() + " outputs; pass one per output (or null for scalar outputs)");
        }
        Node[] roots = new Node[outputs.size()];
        Tensor[] seeds = new Tensor[outputs.size()];
        for (int i = 0; i < outputs.size(); i++) {
            roots[i] = rootEdge(outputs.get(i), "grad");
            seeds[i] = seedGradient(outputs.get(i), gradOutputs == null ? null : gradOutputs.get(i), "grad");
        }
        Map<Node, Integer> captureIndex = new IdentityHashMap<>();
        for (int i = 0; i < inputs.size(); i++) {
            Tensor in = inputs.get(i);
            if (!in.requiresGrad()) {
                throw new IllegalArgumentException("grad: input " + i + " (shape " + in.shape()
                        + ") does not require grad");
            }
            Integer earlier = captureIndex.put(in.gradEdge(), i);
            if (earlier != null) {
                throw new IllegalArgumentException("grad: inputs " + earlier + " and " + i
                        + " are the same tensor (shape " + in.shape() + "); pass each input once");
            }
        }
        Tensor[] captured = new Tensor[inputs.size()];
        // As in PyTorch, a recorded backward keeps the graph: its result still refers to saved tensors.
        run(roots, seeds, new Capture(captureIndex, captured), false, retainGraph || createGraph, createGraph);
        for (int i = 0; i < captured.length; i++) {
            if (captured[i] == null && !allowUnused) {
                throw new IllegalArgumentException("grad: input " + i + " (shape " + inputs.get(i).shape()
                        + ") was not used to compute the outputs; pass allowUnused=true to get null for it");
            }
        }
        return Arrays.asList(captured);
    }

    private record Capture(Map<Node, Integer> index, Tensor[] grads) {
    }

    private static Node rootEdge(Tensor root, String op) {
        if (!root.requiresGrad()) {
            throw new IllegalStateException(op + ": the tensor of shape " + root.shape()
                    + " does not require grad and has no gradFn; mark an input with requiresGrad(true) "
                    + "and make sure it was not computed inside noGrad()");
        }
        return root.gradEdge();
    }

    private static Tensor seedGradient(Tensor root, Tensor gradient, String op) {
        if (gradient == null) {
            if (root.numel() != 1) {
                throw new TensorShapeException(op + ": a gradient can be created implicitly only for scalar outputs, "
                        + "but the output has shape " + root.shape() + "; pass a gradient of that shape");
            }
            return root.onesLike();
        }
        if (!gradient.shape().equals(root.shape())) {
            throw new TensorShapeException(op + ": gradient has shape " + gradient.shape()
                    + " but the output has shape " + root.shape());
        }
        if (gradient.backend() != root.backend()) {
            // Checked here: otherwise the first backward formula fails on it, naming an op such as "mul".
            throw new BackendMismatchException(op + ": gradient is on backend '" + gradient.backend().name()
                    + "' (shape " + gradient.shape() + ") but the output is on backend '" + root.backend().name()
                    + "' (shape " + root.shape() + "); move it with gradient.to(output.backend())");
        }
        if (gradient.dtype() != root.dtype()) {
            throw new DTypeMismatchException(op + ": gradient has dtype " + gradient.dtype()
                    + " but the output has dtype " + root.dtype());
        }
        return gradient;
    }

    private static void run(Node[] roots, Tensor[] seeds, Capture capture, boolean accumulate,
                            boolean retainGraph, boolean createGraph) {
        Map<Node, Integer> dependencies = countDependencies(roots);
        Map<Node, Tensor> pending = new IdentityHashMap<>();
        for (int i = 0; i < roots.length; i++) {
            addGradient(pending, roots[i], seeds[i]);
        }
        ArrayDeque<Node> ready = new ArrayDeque<>();
        for (Node root : roots) {
            if (dependencies.getOrDefault(root, 0) == 0 && !ready.contains(root)) {
                ready.push(root);
            }
        }
        // The backward pass itself is recorded only when asked to, so that higher-order gradients work.
        try (GradMode.Scope scope = GradMode.set(createGraph)) {
            while (!ready.isEmpty()) {
                Node node = ready.pop();
                Tensor grad = pending.remove(node);
                Tensor[] inputGrads = null;
                if (grad != null) {
                    grad = node.runHooks(grad);
                    if (capture != null) {
                        Integer slot = capture.index().get(node);
                        if (slot != null) {
                            capture.grads()[slot] = grad;
                        }
                    }
                    if (node instanceof AccumulateGrad leafSink) {
                        if (accumulate) {
                            leafSink.accumulate(grad, createGraph);
                        }
                    } else {
                        inputGrads = node.apply(grad);
                        if (!retainGraph) {
                            node.release();
                        }
                    }
                }
                Node[] next = node.next();
                for (int i = 0; i < next.length; i++) {
                    Node child = next[i];
                    if (child == null) {
                        continue;
                    }
                    if (inputGrads != null && inputGrads[i] != null) {
                        addGradient(pending, child, reduceToShape(inputGrads[i], node.inputShape(i), node));
                    }
                    int left = dependencies.merge(child, -1, Integer::sum);
                    if (left == 0) {
                        ready.push(child);
                    }
                }
            }
        }
    }

    private static Map<Node, Integer> countDependencies(Node[] roots) {
        Map<Node, Integer> dependencies = new IdentityHashMap<>();
        Map<Node, Boolean> seen = new IdentityHashMap<>();
        // Iterative depth-first walk: deep graphs (long RNN chains) must not overflow the stack.
        ArrayDeque<Node> stack = new ArrayDeque<>();
        for (Node root : roots) {
            if (seen.put(root, Boolean.TRUE) == null) {
                stack.push(root);
            }
        }
        while (!stack.isEmpty()) {
            Node node = stack.pop();
            for (Node child : node.next()) {
                if (child == null) {
                    continue;
                }
                dependencies.merge(child, 1, Integer::sum);
                if (seen.put(child, Boolean.TRUE) == null) {
                    stack.push(child);
                }
            }
        }
        return dependencies;
    }

    private static void addGradient(Map<Node, Tensor> pending, Node node, Tensor grad) {
        Tensor existing = pending.get(node);
        pending.put(node, existing == null ? grad : existing.add(grad));
    }

    /** Sums a gradient that has an input's broadcast shape back down to the input's own shape. */
    private static Tensor reduceToShape(Tensor grad, Shape target, Node node) {
        Shape shape = grad.shape();
        if (shape.equals(target)) {
            return grad;
        }
        int lead = shape.rank() - target.rank();
        if (lead < 0) {
            throw new IllegalStateException(node.name() + " returned a gradient of shape " + shape
                    + " for an input of shape " + target);
        }
        List<Integer> dims = new ArrayList<>();
        for (int i = 0; i < shape.rank(); i++) {
            if (i < lead || (target.dim(i - lead) == 1 && shape.dim(i) != 1)) {
                dims.add(i);
            } else if (target.dim(i - lead) != shape.dim(i)) {
                throw new IllegalStateException(node.name() + " returned a gradient of shape " + shape
                        + " for an input of shape " + target);
            }
        }
        Tensor reduced = dims.isEmpty() ? grad : grad.sum(dims.stream().mapToInt(Integer::intValue).toArray(), true);
        return reduced.reshape(target.toArray());
    }
}
