package dev.adjoint.autograd;

import dev.adjoint.Shape;
import dev.adjoint.Tensor;
import dev.adjoint.internal.GradAccumulation;
import dev.adjoint.internal.TensorInternals;
import dev.adjoint.spi.ScopedStorage;
import dev.adjoint.spi.Storage;
import java.util.Map;

/**
 * The sink node of a leaf tensor that requires grad: a backward pass adds the incoming gradient
 * into the leaf's {@code grad}. One per leaf, created the first time the leaf is used by an op.
 */
public final class AccumulateGrad extends Node {
    private final Tensor leaf;

    public AccumulateGrad(Tensor leaf) {
        super("AccumulateGrad", new Node[0], new Shape[0]);
        this.leaf = leaf;
    }

    public Tensor leaf() {
        return leaf;
    }

    /**
     * Adds {@code grad} into the leaf's gradient and returns what the leaf now holds. A first gradient
     * is stored as it comes unless its storage is in {@code heldElsewhere}; then a copy is stored, so
     * that no two leaves' gradients (nor a leaf's and the caller's) share memory that an in-place
     * update of one, such as gradient clipping, would change in the other. Synchronized, as PyTorch's
     * accumulator holds a mutex: backward passes of graphs built on several threads from one leaf
     * would otherwise each read the same old gradient and the last store would drop the others' sums.
     */
    synchronized Tensor accumulate(Tensor grad, boolean createGraph, Map<Storage, Boolean> heldElsewhere) {
        Tensor sum = GradAccumulation.accumulated(leaf.grad(), grad, createGraph,
                heldElsewhere.containsKey(grad.storage()));
        // A leaf's gradient is state across steps (read after the step, accumulated over several): no
        // MemoryScope the backward runs in may take its memory back.
        if (sum.storage() instanceof ScopedStorage scoped) {
            scoped.markLongLived();
        }
        if (createGraph) {
            // Part of a recorded graph, which may hold it: the caller's to clear.
            leaf.setGrad(sum);
        } else {
            TensorInternals.get().storeBackwardGrad(leaf, sum);
        }
        return sum;
    }

    @Override
    protected Tensor[] apply(Tensor[] gradOutputs) {
        return new Tensor[0];
    }
}
