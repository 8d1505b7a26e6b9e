package dev.adjoint.autograd;

import dev.adjoint.BackendMismatchException;
import dev.adjoint.DTypeMismatchException;
import dev.adjoint.MemoryScope;
import dev.adjoint.Shape;
import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;
import dev.adjoint.func.TensorFunction;
import dev.adjoint.internal.GradientSlices;
import dev.adjoint.internal.GradientSlices.Slice;
import dev.adjoint.spi.Storage;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
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
        Edge edge = rootEdge(root, "backward");
        Tensor seed = seedGradient(root, gradient, "backward");
        run(new Edge[] {edge}, new Tensor[] {seed}, null, true, retainGraph, createGraph);
    }

    /**
     * torch.autograd.grad: the gradients of {@code outputs} (weighted by {@code gradOutputs}, which
     * may be {@code null} for scalar outputs) with respect to {@code inputs}, returned instead of
     * accumulated into {@code grad}. An input the outputs do not depend on yields {@code null} when
     * {@code allowUnused}, and an error otherwise. Only the part of the graph that leads to
     * {@code inputs} runs: gradients of other leaves (a model's weights, when asking for the input's
     * gradient) are not computed.
     */
    public static List<Tensor> grad(List<Tensor> outputs, List<Tensor> inputs, List<Tensor> gradOutputs,
                                    boolean retainGraph, boolean createGraph, boolean allowUnused) {
        if (gradOutputs != null && gradOutputs.size() != outputs.size()) {
            throw new IllegalArgumentException("grad: " + gradOutputs.size() + " gradOutputs for "
                    + outputs.size() + " outputs; pass one per output (or null for scalar outputs)");
        }
        Edge[] roots = new Edge[outputs.size()];
        Tensor[] seeds = new Tensor[outputs.size()];
        for (int i = 0; i < outputs.size(); i++) {
            roots[i] = rootEdge(outputs.get(i), "grad");
            seeds[i] = seedGradient(outputs.get(i), gradOutputs == null ? null : gradOutputs.get(i), "grad");
        }
        Map<Edge, Integer> captureIndex = new java.util.HashMap<>();
        for (int i = 0; i < inputs.size(); i++) {
            Tensor in = inputs.get(i);
            if (!in.requiresGrad()) {
                throw new IllegalArgumentException("grad: input " + i + " (shape " + in.shape()
                        + ") does not require grad");
            }
            Integer earlier = captureIndex.put(new Edge(Graph.gradEdge(in), Graph.outputSlot(in)), i);
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

    /**
     * Activation checkpointing, as {@code torch.utils.checkpoint}: runs {@code segment} without keeping
     * its intermediates — only its inputs are saved — and runs it again during backward to compute its
     * gradients. The gradients are the same bits as without checkpointing (random tensors the segment
     * draws through the tensor factories, such as dropout masks, are replayed). Peak memory falls by
     * the segment's activations; the price is one more forward of the segment per backward. Inside an
     * open dual level (forward mode), where nothing is stored for backward, it simply runs the segment.
     * Parameters the segment reads from outside (a module's weights) get their gradients as usual. A
     * recorded backward (createGraph) differentiates through the recomputation like any other code.
     */
    public static List<Tensor> checkpoint(TensorFunction segment, List<Tensor> inputs) {
        if (ForwardAD.isDualLevelOpen() || !GradMode.isEnabled()) {
            return segment.apply(inputs);
        }
        return CheckpointFrame.run(segment, inputs);
    }

    /** {@link #checkpoint(TensorFunction, List)} for a segment of one input and one output. */
    public static Tensor checkpoint(java.util.function.UnaryOperator<Tensor> segment, Tensor input) {
        return checkpoint(in -> List.of(segment.apply(in.get(0))), List.of(input)).get(0);
    }

    /**
     * Anomaly detection, as {@code torch.autograd.detect_anomaly}: while the returned scope is open,
     * every op records where it was called, and a backward node that produces a NaN or infinite
     * gradient fails with an {@link AnomalyException} naming the node, the input and that call site.
     * Off by default, and then it costs nothing measurable. Process-wide, as in PyTorch.
     */
    public static AnomalyScope detectAnomaly() {
        Anomaly.open();
        return new AnomalyScope();
    }

    /** Ends anomaly detection when closed (scopes nest). */
    public static final class AnomalyScope implements AutoCloseable {
        private boolean closed;

        private AnomalyScope() {
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                Anomaly.close();
            }
        }
    }

    /** One output slot of a node: where a tensor's gradient is delivered. */
    record Edge(Node node, int slot) {
    }

    private record Capture(Map<Edge, Integer> index, Tensor[] grads) {
    }

    private static Edge rootEdge(Tensor root, String op) {
        if (!root.requiresGrad()) {
            throw new IllegalStateException(op + ": the tensor of shape " + root.shape()
                    + " does not require grad and has no gradFn; mark an input with requiresGrad(true) "
                    + "and make sure it was not computed inside noGrad()");
        }
        return new Edge(Graph.gradEdge(root), Graph.outputSlot(root));
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

    private static void run(Edge[] roots, Tensor[] seeds, Capture capture, boolean accumulate,
                            boolean retainGraph, boolean createGraph) {
        Map<Node, Integer> dependencies = countDependencies(roots);
        Map<Node, Boolean> needed = null;
        if (capture != null) {
            // Without accumulation into leaves, only nodes that lead to a captured input take part;
            // the parents of a needed node are needed too, so counting among them stays consistent.
            needed = neededNodes(topologicalOrder(roots, dependencies), capture.index());
            dependencies = new IdentityHashMap<>();
            for (Node node : needed.keySet()) {
                for (Node child : node.next()) {
                    if (child != null && needed.containsKey(child)) {
                        dependencies.merge(child, 1, Integer::sum);
                    }
                }
            }
        }
        // Sums of gradients this pass made itself and nothing else holds yet: further gradients for
        // the same slot are added into them in place, unless the pass is recorded.
        Map<Tensor, Coverage> ownSums = createGraph ? null : new IdentityHashMap<>();
        // Gradients that are one slice of zeros (q, k and v narrowed from one projection) are copied or
        // added into their slice of one sum instead of each padded to the input's size and added whole.
        Map<Tensor, Slice> outerSlices = GradientSlices.running();
        Map<Tensor, Slice> slices = GradientSlices.begin(createGraph);
        try {
            run(roots, seeds, capture, accumulate, retainGraph, createGraph, dependencies, needed, ownSums, slices);
        } finally {
            GradientSlices.end(outerSlices);
        }
    }

    private static void run(Edge[] roots, Tensor[] seeds, Capture capture, boolean accumulate, boolean retainGraph,
                            boolean createGraph, Map<Node, Integer> dependencies, Map<Node, Boolean> needed,
                            Map<Tensor, Coverage> ownSums, Map<Tensor, Slice> slices) {
        Pass pass = new Pass(capture, accumulate, retainGraph, createGraph, dependencies, needed, ownSums, slices);
        if (pass.heldElsewhere != null) {
            for (Tensor seed : seeds) {
                pass.heldElsewhere.put(seed.storage(), Boolean.TRUE);
            }
        }
        for (int i = 0; i < roots.length; i++) {
            addGradient(pass.pending, roots[i].node(), roots[i].slot(), seeds[i], null);
        }
        for (Edge root : roots) {
            Node node = root.node();
            if ((needed == null || needed.containsKey(node)) && dependencies.getOrDefault(node, 0) == 0
                    && !pass.ready.contains(node)) {
                pass.ready.push(node);
            }
        }
        // The backward pass itself is recorded only when asked to, so that higher-order gradients work.
        try (GradMode.Scope scope = GradMode.set(createGraph)) {
            while (!pass.ready.isEmpty()) {
                pass.run(pass.ready.pop());
            }
        }
    }

    /**
     * The state of one backward pass, and the work on one node in {@link #run(Node)}. That work is a
     * method of its own, called once per node, rather than the body of the pass's loop: a step runs
     * the loop once, for a few dozen to a few hundred nodes, so HotSpot would compile the loop's
     * method on-stack, once for each of its nested loops' entries, every compile inlining the whole
     * body (measured on an AMD EPYC Zen 5, the transformer block's step on two threads: three
     * on-stack compiles of 150-350 ms each and then a normal one, 10-15 s into the run, each taking
     * a core from the step's second thread). Called per node, the body counts its calls and is
     * compiled once.
     */
    private static final class Pass {
        final Map<Node, Tensor[]> pending = new IdentityHashMap<>();
        final ArrayDeque<Node> ready = new ArrayDeque<>();
        /**
         * Storages a leaf's gradient may not take as it is, because something else holds them: the
         * caller's seed gradients, and the gradients stored into leaves so far in this pass (add's
         * backward hands one tensor to both inputs, a view's backward a view of the same storage).
         * PyTorch's AccumulateGrad checks the reference count for the same reason.
         */
        final Map<Storage, Boolean> heldElsewhere;
        final Capture capture;
        final boolean accumulate, retainGraph, createGraph, anomaly;
        final Map<Node, Integer> dependencies;
        /**
         * Null when every node reachable from the roots runs (backward); for {@link Autograd#grad}, the
         * nodes that lead to a captured input, each mapped to whether its formula runs.
         */
        final Map<Node, Boolean> needed;
        final Map<Tensor, Coverage> ownSums;
        final Map<Tensor, Slice> slices;
        /**
         * Where the gradients this pass made and no longer holds are released at once
         * ({@link #recycle}): the innermost open scope, and how many storages it had taken when the
         * pass began (the pass's own come after). Null when no scope is open, and when the pass is
         * recorded (the graph it records saves gradients).
         */
        final MemoryScope scope;
        final int since;
        /** Storages of gradients that library formulas made in this pass: the ones it may release. */
        final Map<Storage, Boolean> made;
        /**
         * Storages of gradients that something besides a library formula was given (a hook, a
         * captured result, a leaf's accumulator, a custom Function): never released early.
         */
        final Map<Storage, Boolean> escaped;

        Pass(Capture capture, boolean accumulate, boolean retainGraph, boolean createGraph,
             Map<Node, Integer> dependencies, Map<Node, Boolean> needed, Map<Tensor, Coverage> ownSums,
             Map<Tensor, Slice> slices) {
            this.capture = capture;
            this.accumulate = accumulate;
            this.retainGraph = retainGraph;
            this.createGraph = createGraph;
            this.dependencies = dependencies;
            this.needed = needed;
            this.ownSums = ownSums;
            this.slices = slices;
            this.heldElsewhere = accumulate ? new IdentityHashMap<>() : null;
            this.anomaly = Anomaly.enabled();
            this.scope = createGraph ? null : MemoryScope.current();
            this.since = scope == null ? 0 : scope.size();
            this.made = scope == null ? null : new IdentityHashMap<>();
            this.escaped = scope == null ? null : new IdentityHashMap<>();
        }

        /** Applies {@code node}'s formula to the gradients it has received and hands the results on. */
        void run(Node node) {
            Tensor[] grads = pending.remove(node);
            Tensor[] inputGrads = null;
            if (grads != null) {
                if (ownSums != null) {
                    // Handed on from here (to hooks, formulas that pass a gradient through, leaves):
                    // no longer the pass's alone.
                    for (Tensor grad : grads) {
                        Coverage written = ownSums.remove(grad);
                        if (written != null) {
                            written.complete(grad);
                        }
                    }
                }
                for (int s = 0; s < grads.length; s++) {
                    if (grads[s] == null) {
                        continue;
                    }
                    boolean seen = !(node instanceof OpNode) || node.hasHooks(s);
                    if (seen) {
                        escape(grads[s]);
                    }
                    grads[s] = node.runHooks(s, grads[s]);
                    if (capture != null) {
                        Integer at = capture.index().get(new Edge(node, s));
                        if (at != null) {
                            capture.grads()[at] = grads[s];
                            seen = true;
                        }
                    }
                    if (seen) {
                        escape(grads[s]);
                    }
                }
                if (node instanceof AccumulateGrad leafSink) {
                    if (accumulate) {
                        Tensor stored = leafSink.accumulate(grads[0], createGraph, heldElsewhere);
                        heldElsewhere.put(stored.storage(), Boolean.TRUE);
                    }
                } else if (needed == null || needed.get(node)) {
                    inputGrads = node.run(grads, needed == null ? null : wantedInputs(node, needed));
                    if (anomaly) {
                        checkFinite(node, inputGrads);
                    }
                    if (made != null && node instanceof OpNode op && !op.checkpointed()) {
                        for (Tensor g : inputGrads) {
                            if (g != null) {
                                made.put(g.storage(), Boolean.TRUE);
                            }
                        }
                    }
                    if (!retainGraph) {
                        node.release();
                    }
                }
            }
            Node[] next = node.next();
            for (int i = 0; i < next.length; i++) {
                Node child = next[i];
                if (child == null || (needed != null && !needed.containsKey(child))) {
                    continue;
                }
                if (inputGrads != null && inputGrads[i] != null) {
                    Slice slice = slices == null ? null : slices.get(inputGrads[i]);
                    if (slice != null) {
                        addSlice(pending, child, node.nextSlot(i), slice, ownSums);
                    } else {
                        addGradient(pending, child, node.nextSlot(i),
                                reduceToShape(inputGrads[i], node.inputShape(i), node), ownSums);
                    }
                }
                int left = dependencies.merge(child, -1, Integer::sum);
                if (left == 0) {
                    ready.push(child);
                }
            }
            if (slices != null) {
                slices.clear();
            }
            if (scope != null) {
                recycle(grads, inputGrads);
            }
        }

        private void escape(Tensor grad) {
            if (escaped != null) {
                escaped.put(grad.storage(), Boolean.TRUE);
            }
        }

        /**
         * Releases the storages of a node's gradients and of those its formula returned that a
         * library formula made in this pass, that nothing besides the pass was given, and that no
         * gradient still waiting for a node shares (a view, or one tensor handed to two inputs, as
         * add's formula does): the next tensors of the pass then reuse memory that is still in
         * cache, as PyTorch's allocator reuses a gradient's block once its last reference goes,
         * rather than each gradient taking fresh memory until the step's scope closes.
         */
        private void recycle(Tensor[] grads, Tensor[] inputGrads) {
            // The storages first: two of the tensors may share one, which is released once.
            List<Storage> candidates = new ArrayList<>(2);
            for (Tensor[] tensors : new Tensor[][] {grads, inputGrads}) {
                if (tensors == null) {
                    continue;
                }
                for (Tensor grad : tensors) {
                    if (grad != null && made.containsKey(grad.storage())) {
                        candidates.add(grad.storage());
                    }
                }
            }
            for (Storage storage : candidates) {
                if (!made.containsKey(storage) || escaped.containsKey(storage)
                        || (heldElsewhere != null && heldElsewhere.containsKey(storage)) || pendingHolds(storage)) {
                    continue;
                }
                made.remove(storage);
                scope.releaseIfTakenSince(since, storage);
            }
        }

        private boolean pendingHolds(Storage storage) {
            for (Tensor[] waiting : pending.values()) {
                for (Tensor t : waiting) {
                    if (t != null && t.storage() == storage) {
                        return true;
                    }
                }
            }
            return false;
        }
    }

    /** How many consumers deliver a gradient to each node reachable from the roots. */
    private static Map<Node, Integer> countDependencies(Edge[] roots) {
        Map<Node, Integer> dependencies = new IdentityHashMap<>();
        Map<Node, Boolean> seen = new IdentityHashMap<>();
        // Iterative depth-first walk: deep graphs (long RNN chains) must not overflow the stack.
        ArrayDeque<Node> stack = new ArrayDeque<>();
        for (Edge root : roots) {
            if (seen.put(root.node(), Boolean.TRUE) == null) {
                stack.push(root.node());
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

    /** Every node reachable from the roots, each after all the nodes that feed it gradients. */
    private static List<Node> topologicalOrder(Edge[] roots, Map<Node, Integer> dependencies) {
        Map<Node, Integer> left = new IdentityHashMap<>(dependencies);
        ArrayDeque<Node> stack = new ArrayDeque<>();
        for (Edge root : roots) {
            if (left.getOrDefault(root.node(), 0) == 0 && !stack.contains(root.node())) {
                stack.push(root.node());
            }
        }
        List<Node> order = new ArrayList<>(left.size());
        while (!stack.isEmpty()) {
            Node node = stack.pop();
            order.add(node);
            for (Node child : node.next()) {
                if (child != null && left.merge(child, -1, Integer::sum) == 0) {
                    stack.push(child);
                }
            }
        }
        return order;
    }

    /**
     * The nodes from which a captured edge can be reached (children are visited before parents), each
     * with whether its formula must run: only if one of its inputs leads to a captured edge. A node
     * that is captured and leads to none (the gradFn of a non-leaf input) only receives the gradient
     * that is captured; as in PyTorch, it neither runs nor frees what it saved, so a later backward
     * through it still works.
     */
    private static Map<Node, Boolean> neededNodes(List<Node> order, Map<Edge, Integer> captures) {
        Map<Node, Boolean> targets = new IdentityHashMap<>();
        for (Edge e : captures.keySet()) {
            targets.put(e.node(), Boolean.TRUE);
        }
        Map<Node, Boolean> needed = new IdentityHashMap<>();
        for (int i = order.size() - 1; i >= 0; i--) {
            Node node = order.get(i);
            boolean runs = false;
            for (Node child : node.next()) {
                if (child != null && needed.containsKey(child)) {
                    runs = true;
                    break;
                }
            }
            if (runs || targets.containsKey(node)) {
                needed.put(node, runs);
            }
        }
        return needed;
    }

    private static boolean[] wantedInputs(Node node, Map<Node, Boolean> needed) {
        Node[] next = node.next();
        boolean[] wanted = new boolean[next.length];
        for (int i = 0; i < next.length; i++) {
            wanted[i] = next[i] != null && needed.containsKey(next[i]);
        }
        return wanted;
    }

    private static void checkFinite(Node node, Tensor[] inputGrads) {
        if (inputGrads == null) {
            return;
        }
        for (int i = 0; i < inputGrads.length; i++) {
            Tensor g = inputGrads[i];
            if (g == null) {
                continue;
            }
            for (double v : g.toDoubleArray()) {
                if (!Double.isFinite(v)) {
                    throw new AnomalyException(node.name() + " returned " + (Double.isNaN(v) ? "NaN" : "an infinite")
                            + " value in its gradient for input " + i + " (shape " + g.shape()
                            + "). The op was called at:\n" + Anomaly.format(node.creationSite()));
                }
            }
        }
    }

    /**
     * Adds {@code grad} to what {@code node}'s output {@code slot} has received so far. The first sum
     * is a new tensor; when {@code ownSums} is given (the pass is not recorded), that sum is noted
     * there and later gradients for the slot are added into it in place, so a tensor used k times
     * costs one buffer for its gradient's sum instead of k - 1.
     */
    private static void addGradient(Map<Node, Tensor[]> pending, Node node, int slot, Tensor grad,
                                    Map<Tensor, Coverage> ownSums) {
        Tensor[] grads = pending.get(node);
        if (grads == null) {
            grads = new Tensor[node.outputCount()];
            pending.put(node, grads);
        }
        Tensor sum = grads[slot];
        if (sum == null) {
            grads[slot] = grad;
            return;
        }
        Coverage written = ownSums == null ? null : ownSums.get(sum);
        if (written != null) {
            ownSums.put(sum, written.complete(sum));
        }
        if (written != null && sum.shape().equals(grad.shape()) && sum.dtype() == grad.dtype()
                && sum.storage() != grad.storage()) {
            sum.add_(grad);
        } else {
            grads[slot] = sum.add(grad);
            if (ownSums != null) {
                ownSums.put(grads[slot], Coverage.WHOLE);
            }
        }
    }

    /**
     * Adds a gradient that is zero outside one slice to what {@code node}'s output {@code slot} has
     * received. The first becomes the sum: a tensor laid out as the padded gradient, not cleared, with
     * the slice copied in and its range noted ({@link Coverage}). A later slice of a sum the pass owns
     * is copied into its range when no slice has written there yet (q, k and v of one projection
     * fill the sum between them, with no zeros written and nothing added), otherwise added into
     * its range in place; anything else completes the sum and adds the padded gradient whole.
     */
    private static void addSlice(Map<Node, Tensor[]> pending, Node node, int slot, Slice slice,
                                 Map<Tensor, Coverage> ownSums) {
        Tensor[] grads = pending.get(node);
        Tensor sum = grads == null ? null : grads[slot];
        Tensor part = slice.part();
        int d = slice.dim();
        int start = slice.start();
        int length = part.size(d);
        if (sum == null) {
            Tensor blank = slice.blank().get();
            blank.narrow(d, start, length).copyFrom(part);
            addGradient(pending, node, slot, blank, ownSums);
            // Made here and held by nothing else: later slices may be written into it.
            Coverage written = new Coverage(d, blank.size(d));
            written.add(start, start + length);
            ownSums.put(blank, written);
            return;
        }
        Coverage written = ownSums.get(sum);
        if (written != null && sum.dtype() == part.dtype() && sum.storage() != part.storage()
                && sum.rank() == part.rank() && sum.size(d) >= start + length) {
            Tensor range = sum.narrow(d, start, length);
            if (written.isFree(d, start, start + length)) {
                range.copyFrom(part);
                written.add(start, start + length);
            } else {
                ownSums.put(sum, written.complete(sum));
                range.add_(part);
            }
        } else {
            addGradient(pending, node, slot, slice.padded().get(), ownSums);
        }
    }

    /**
     * What the pass knows of a gradient sum it made and holds alone ({@code ownSums}): written
     * whole ({@link #WHOLE}), or, made from slices ({@link #addSlice}), the positions along one dim that
     * slices have written so far, the rest of its storage as allocated (not cleared) until
     * {@link #complete} zeroes it, before anything reads the sum whole.
     */
    private static final class Coverage {
        static final Coverage WHOLE = new Coverage(-1, 0);
        final int dim;
        final int size;
        /** The positions along {@link #dim} that slices have written. */
        private final BitSet written = new BitSet();

        Coverage(int dim, int size) {
            this.dim = dim;
            this.size = size;
        }

        /** Whether {@code [start, end)} along {@code dim} is this sum's dim and no slice has written there. */
        boolean isFree(int dim, int start, int end) {
            if (this == WHOLE || dim != this.dim) {
                return false;
            }
            int next = written.nextSetBit(start);
            return next < 0 || next >= end;
        }

        void add(int start, int end) {
            written.set(start, end);
        }

        /** Zeroes the ranges of {@code sum} along {@link #dim} that no slice wrote; returns {@link #WHOLE}. */
        Coverage complete(Tensor sum) {
            if (this != WHOLE) {
                int at = written.nextClearBit(0);
                while (at < size) {
                    int end = written.nextSetBit(at);
                    end = end < 0 ? size : Math.min(end, size);
                    sum.narrow(dim, at, end - at).zero_();
                    at = written.nextClearBit(end);
                }
            }
            return WHOLE;
        }
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
