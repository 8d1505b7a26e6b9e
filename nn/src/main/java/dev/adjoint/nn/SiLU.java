package dev.adjoint.nn;

import dev.adjoint.Functional;
import dev.adjoint.Tensor;

/** Sigmoid-weighted linear unit (swish), {@code x * sigmoid(x)}, as {@code nn.SiLU}. */
public final class SiLU extends Module {
    @Override
    public Tensor forward(Tensor input) {
        return Functional.silu(input);
    }
}
