package dev.adjoint.nn;

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
        Tensor scaled = beta == 1.0 ? x : x.mul(beta);
        // log(1 + e^u) = max(u, 0) + log1p(e^-|u|): exp never sees a positive argument, so no overflow.
        // maximum() rather than relu() because it splits the derivative at u = 0 (relu's is 0 there), and
        // abs' is 0 there, giving sigmoid(0) = 1/2 as the exact formula does.
        Tensor soft = scaled.maximum(0.0).add(scaled.abs().neg().exp().log1p());
        if (beta != 1.0) {
            soft = soft.div(beta);
        }
        return Tensor.where(scaled.gt(threshold), x, soft);
    }

    @Override
    protected String describe() {
        return "beta=" + beta + ", threshold=" + threshold;
    }
}
