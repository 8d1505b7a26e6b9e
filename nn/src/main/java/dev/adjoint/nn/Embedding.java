package dev.adjoint.nn;

import dev.adjoint.DType;
import dev.adjoint.DTypeMismatchException;
import dev.adjoint.Tensor;
import dev.adjoint.ops.Dispatch;

import java.util.Arrays;

/**
 * A lookup table {@code [numEmbeddings, embeddingDim]}, as {@code nn.Embedding}: indices of any shape
 * {@code S} (INT64) give rows of shape {@code S + [embeddingDim]}. Initialised N(0, 1) as PyTorch.
 * The gradient of a row used several times is the sum of its uses (through indexSelect's backward).
 */
public final class Embedding extends Module {
    private final int numEmbeddings;
    private final int embeddingDim;

    public Embedding(int numEmbeddings, int embeddingDim, NnContext ctx) {
        if (numEmbeddings <= 0 || embeddingDim <= 0) {
            throw new IllegalArgumentException("Embedding: sizes must be positive, got num=" + numEmbeddings
                    + " dim=" + embeddingDim);
        }
        this.numEmbeddings = numEmbeddings;
        this.embeddingDim = embeddingDim;
        Tensor weight = Tensor.on(ctx.backend()).zeros(ctx.dtype(), numEmbeddings, embeddingDim);
        registerParameter("weight", Init.normal(weight, 0.0, 1.0, ctx.generator()));
    }

    public Embedding(int numEmbeddings, int embeddingDim) {
        this(numEmbeddings, embeddingDim, NnContext.defaults());
    }

    public Tensor weight() {
        return parameter("weight");
    }

    @Override
    public Tensor forward(Tensor indices) {
        if (indices.dtype() != DType.INT64) {
            throw new DTypeMismatchException("Embedding: indices must be INT64, got " + indices.dtype()
                    + " with shape " + indices.shape());
        }
        int[] shape = indices.shape().toArray();
        int[] outShape = Arrays.copyOf(shape, shape.length + 1);
        outShape[shape.length] = embeddingDim;
        Dispatch.checkIndexValues("Embedding", "index", indices, numEmbeddings, numEmbeddings + " embeddings",
                "indices shape " + indices.shape() + ", weight shape " + weight().shape());
        return weight().indexSelect(0, indices.reshape(-1)).reshape(outShape);
    }

    @Override
    protected String describe() {
        return numEmbeddings + ", " + embeddingDim;
    }
}
