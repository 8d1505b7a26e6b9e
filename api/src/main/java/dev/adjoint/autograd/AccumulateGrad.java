package dev.adjoint.autograd;

import dev.adjoint.Shape;
import dev.adjoint.Tensor;
import dev.adjoint.spi.ScopedStorage;

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

    void accumulate(Tensor grad, boolean createGraph) {
        // Without createGraph the stored grad must not keep any graph alive.
        Tensor incoming = createGraph || !grad.requiresGrad() ? grad : grad.detach();
        // As PyTorch's AccumulateGrad does, store a dense gradient: a strided view (e.g. the grad of a
        // transposed weight) would send every optimizer op on it down the kernels' strided paths.
        if (!incoming.isContiguous()) {
            incoming = incoming.contiguous();
        }
        Tensor current = leaf.grad();
        Tensor sum = current == null ? incoming : current.add(incoming);
        // A leaf's gradient is state across steps (read after the step, accumulated over several): no
        // MemoryScope the backward runs in may take its memory back. Marked on the storage, not through
        // Backend.markLongLived, which would also keep it from nd4j's Nd4jScope, which frees it with the step.
        if (sum.storage() instanceof ScopedStorage scoped) {
            scoped.markLongLived();
        }
        leaf.setGrad(sum);
    }

    @Override
    protected Tensor[] apply(Tensor[] gradOutputs) {
        return new Tensor[0];
    }
}
