package dev.adjoint.nn;

import dev.adjoint.Tensor;

/** Elementwise {@code max(x, 0)}, as {@code nn.ReLU}. */
public final class ReLU extends Module {
    @Override
    public Tensor forward(Tensor input) {
        return input.relu();
    }
}
