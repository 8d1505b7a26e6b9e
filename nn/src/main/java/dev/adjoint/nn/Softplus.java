package dev.adjoint.nn;

import dev.adjoint.Functional;
import dev.adjoint.Tensor;

/**
 * {@code log(1 + exp(beta x)) / beta}, a smooth ReLU, as {@code nn.Softplus} (defaults beta 1,
 * threshold 20): where {@code beta x > threshold} it is {@code x} itself, as PyTorch.
 */
public final class Softplus extends Module {
    private final double beta;
    private final double threshold;

    public Softplus(double beta, double threshold) {
        if (!(beta != 0 && Double.isFinite(beta))) {
            throw new IllegalArgumentException("Softplus: beta must be finite and non-zero, got " + beta);
        }
        this.beta = beta;
        this.threshold = threshold;
    }

    public Softplus() {
        this(1.0, 20.0);
    }

    @Override
    public Tensor forward(Tensor x) {
        return Functional.softplus(x, beta, threshold);
    }

    @Override
    protected String describe() {
        return "beta=" + beta + ", threshold=" + threshold;
    }
}
