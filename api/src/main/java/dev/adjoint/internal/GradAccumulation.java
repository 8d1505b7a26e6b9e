package dev.adjoint.internal;

import dev.adjoint.Tensor;

/**
 * How a gradient arriving in a backward pass is added to what a tensor keeps in {@code grad}: the
 * rule a leaf's accumulator and a non-leaf's retained gradient ({@code Tensor.retainGrad}) share, as
 * they do in PyTorch. Between the api's packages only; not API.
 */
public final class GradAccumulation {
    private GradAccumulation() {
    }

    /**
     * What the tensor keeps after {@code grad} arrives, given what it kept before ({@code current},
     * {@code null} at first).
     *
     * @param recorded whether the backward pass is recorded (createGraph): then the kept gradient is part
     *                 of the graph; otherwise it must not keep any graph alive, and is detached
     * @param ownCopy  whether a first gradient must be copied even when it is dense, because its storage
     *                 is held by something the tensor must not share memory with (an in-place update of
     *                 one, such as gradient clipping, would change the other)
     */
    public static Tensor accumulated(Tensor current, Tensor grad, boolean recorded, boolean ownCopy) {
        Tensor incoming = recorded || !grad.requiresGrad() ? grad : grad.detach();
        // As PyTorch's AccumulateGrad does, keep a dense gradient: a strided view (e.g. the grad of a
        // transposed weight) would send every optimizer op on it down the kernels' strided paths.
        if (!incoming.isContiguous()) {
            incoming = incoming.contiguous();
        } else if (current == null && ownCopy) {
            incoming = incoming.clone();
        }
        return current == null ? incoming : current.add(incoming);
    }
}
