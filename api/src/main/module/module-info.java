/**
 * Adjoint's tensors, reverse and forward mode, function transforms, gradient checks and the backend
 * SPI. The op implementations ({@code dev.adjoint.ops}) and the plumbing behind {@code Tensor}
 * ({@code dev.adjoint.internal}) are not exported.
 */
module dev.adjoint.api {
    exports dev.adjoint;
    exports dev.adjoint.autograd;
    exports dev.adjoint.func;
    exports dev.adjoint.check;
    exports dev.adjoint.backend;
    exports dev.adjoint.spi;
    /** Storage and loops for backends that keep their data in Java arrays. */
    exports dev.adjoint.spi.heap;
    /** nn checks index arguments with the same messages as the ops. */
    exports dev.adjoint.ops to dev.adjoint.nn;

    uses dev.adjoint.spi.Backend;
}
