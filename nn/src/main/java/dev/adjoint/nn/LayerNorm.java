package dev.adjoint.nn;

import dev.adjoint.Functional;
import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;

import java.util.Arrays;

/**
 * Normalises over the trailing {@code normalizedShape} dimensions, as {@code nn.LayerNorm}:
 * {@code (x - mean) / sqrt(var + eps) * weight + bias} with the biased variance (divided by n, not
 * n - 1), as PyTorch. Weight starts at ones and bias at zeros.
 */
public final class LayerNorm extends Module {
    private final int[] normalizedShape;
    private final double eps;
    private final boolean elementwiseAffine;

    public LayerNorm(int[] normalizedShape, double eps, boolean elementwiseAffine, NnContext ctx) {
        if (normalizedShape.length == 0) {
            throw new IllegalArgumentException("LayerNorm: normalizedShape must have at least one dimension");
        }
        this.normalizedShape = normalizedShape.clone();
        this.eps = eps;
        this.elementwiseAffine = elementwiseAffine;
        if (elementwiseAffine) {
            var create = Tensor.on(ctx.backend());
            registerParameter("weight", create.ones(ctx.dtype(), normalizedShape));
            registerParameter("bias", create.zeros(ctx.dtype(), normalizedShape));
        }
    }

    /** Over the last dimension of size {@code size}, eps 1e-5, with weight and bias. */
    public LayerNorm(int size, NnContext ctx) {
        this(new int[] {size}, 1e-5, true, ctx);
    }

    public LayerNorm(int size) {
        this(size, NnContext.defaults());
    }

    /** The weight, or {@code null} without elementwise affine. */
    public Tensor weight() {
        return elementwiseAffine ? parameter("weight") : null;
    }

    public Tensor bias() {
        return elementwiseAffine ? parameter("bias") : null;
    }

    @Override
    public Tensor forward(Tensor x) {
        return Functional.layerNorm(x, normalizedShape, weight(), bias(), eps);
    }

    @Override
    protected String describe() {
        return Arrays.toString(normalizedShape) + ", eps=" + eps + ", elementwise_affine=" + elementwiseAffine;
    }
}
