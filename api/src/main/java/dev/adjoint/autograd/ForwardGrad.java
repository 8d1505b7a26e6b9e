package dev.adjoint.autograd;

import dev.adjoint.Tensor;

/**
 * A tangent attached to a tensor at one dual level. It is visible only while that level is the open
 * one on the current thread; closing the level makes every tangent attached in it disappear without
 * visiting the tensors.
 */
public record ForwardGrad(ForwardAD.DualLevel level, Tensor tangent) {
}
