package dev.adjoint.nn;

import dev.adjoint.Functional;
import dev.adjoint.Tensor;

/**
 * Gaussian error linear unit, as {@code nn.GELU}: exactly {@code x * (1 + erf(x / sqrt 2)) / 2} by
 * default, or PyTorch's {@code approximate='tanh'} form
 * {@code x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))}.
 */
public final class GELU extends Module {
    /** PyTorch's {@code approximate} argument. */
    public enum Approximation { NONE, TANH }

    private final Approximation approximation;

    public GELU(Approximation approximation) {
        this.approximation = approximation;
    }

    public GELU() {
        this(Approximation.NONE);
    }

    @Override
    public Tensor forward(Tensor x) {
        return Functional.gelu(x, approximation == Approximation.TANH ? "tanh" : "none");
    }

    @Override
    protected String describe() {
        return "approximate='" + (approximation == Approximation.TANH ? "tanh" : "none") + "'";
    }
}
