package dev.adjoint.nn;

import dev.adjoint.Tensor;

/**
 * Gaussian error linear unit, as {@code nn.GELU}: exactly {@code x * (1 + erf(x / sqrt 2)) / 2} by
 * default, or PyTorch's {@code approximate='tanh'} form
 * {@code x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))}.
 */
public final class GELU extends Module {
    /** PyTorch's {@code approximate} argument. */
    public enum Approximation { NONE, TANH }

    private static final double INV_SQRT2 = 1.0 / Math.sqrt(2.0);
    private static final double SQRT_2_OVER_PI = Math.sqrt(2.0 / Math.PI);

    private final Approximation approximation;

    public GELU(Approximation approximation) {
        this.approximation = approximation;
    }

    public GELU() {
        this(Approximation.NONE);
    }

    @Override
    public Tensor forward(Tensor x) {
        if (approximation == Approximation.TANH) {
            Tensor inner = x.add(x.pow(3.0).mul(0.044715)).mul(SQRT_2_OVER_PI);
            return x.mul(0.5).mul(inner.tanh().add(1.0));
        }
        return x.mul(0.5).mul(x.mul(INV_SQRT2).erf().add(1.0));
    }

    @Override
    protected String describe() {
        return "approximate='" + (approximation == Approximation.TANH ? "tanh" : "none") + "'";
    }
}
