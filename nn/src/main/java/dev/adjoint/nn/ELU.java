package dev.adjoint.nn;

import dev.adjoint.Functional;
import dev.adjoint.Tensor;

/**
 * Exponential linear unit, {@code x} for {@code x > 0}, else {@code alpha (exp(x) - 1)}, as
 * {@code nn.ELU} (default alpha 1). At 0 the derivative is {@code alpha}, as PyTorch's.
 */
public final class ELU extends Module {
    private final double alpha;

    public ELU(double alpha) {
        this.alpha = alpha;
    }

    public ELU() {
        this(1.0);
    }

    public double alpha() {
        return alpha;
    }

    @Override
    public Tensor forward(Tensor x) {
        return Functional.elu(x, alpha);
    }

    @Override
    protected String describe() {
        return "alpha=" + alpha;
    }
}
