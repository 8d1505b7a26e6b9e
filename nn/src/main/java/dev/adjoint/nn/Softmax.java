package dev.adjoint.nn;

import dev.adjoint.Tensor;

/**
 * {@code exp(x) / sum(exp(x))} along {@code dim}, as {@code nn.Softmax(dim)}; the values along that
 * dimension are positive and sum to 1. The dimension is required (PyTorch's implicit choice is deprecated).
 */
public final class Softmax extends Module {
    private final int dim;

    public Softmax(int dim) {
        this.dim = dim;
    }

    public int dim() {
        return dim;
    }

    @Override
    public Tensor forward(Tensor input) {
        return input.softmax(dim);
    }

    @Override
    protected String describe() {
        return "dim=" + dim;
    }
}
