package dev.adjoint.nn;

import dev.adjoint.Tensor;

/**
 * {@code x - logsumexp(x)} along {@code dim}, as {@code nn.LogSoftmax(dim)}: the logarithm of
 * {@link Softmax}, computed without forming the softmax, so it stays finite for large logits.
 */
public final class LogSoftmax extends Module {
    private final int dim;

    public LogSoftmax(int dim) {
        this.dim = dim;
    }

    public int dim() {
        return dim;
    }

    @Override
    public Tensor forward(Tensor input) {
        return input.logSoftmax(dim);
    }

    @Override
    protected String describe() {
        return "dim=" + dim;
    }
}
