package dev.adjoint.nn;

import dev.adjoint.Tensor;

/** Elementwise {@code 1 / (1 + exp(-x))}, as {@code nn.Sigmoid}. */
public final class Sigmoid extends Module {
    @Override
    public Tensor forward(Tensor input) {
        return input.sigmoid();
    }
}
