package dev.adjoint.ops;

import dev.adjoint.Shape;
import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;

/**
 * Ops that keep some elements and replace the others: maskedFill, tril, triu. Each is a where(), which
 * writes the replacement exactly (an inf or NaN in a dropped element does not survive, as it would a
 * multiplication by 0) and sends the gradient only to the kept elements.
 */
public final class MaskingOps {
    private MaskingOps() {
    }

    /**
     * {@code value} where {@code mask} is true, else {@code x}; the mask (BOOL; another dtype counts its
     * non-zero elements) broadcasts to x's shape. The result has x's dtype: a value for an integer
     * {@code x} truncates toward zero, as PyTorch's masked_fill.
     */
    public static Tensor maskedFill(Tensor x, Tensor mask, Tensor value) {
        if (value.rank() != 0) {
            throw new TensorShapeException("maskedFill: the value must be a 0-d tensor, got shape " + value.shape()
                    + " (input shape " + x.shape() + ")");
        }
        Shape broadcast = Shape.broadcast("maskedFill", mask.shape(), x.shape());
        if (!broadcast.equals(x.shape())) {
            throw new TensorShapeException("maskedFill: mask shape " + mask.shape() + " does not broadcast to the input shape "
                    + x.shape() + " (it would make " + broadcast + ")");
        }
        return Tensor.where(mask, value.dtype() == x.dtype() ? value : value.toType(x.dtype()), x);
    }

    public static Tensor maskedFill(Tensor x, Tensor mask, double value) {
        return maskedFill(x, mask, Dispatch.scalar(x.backend(), x.dtype(), value));
    }

    /**
     * The lower ({@code lower}) or upper triangle of the last two dims, the rest 0: element (i, j) stays
     * where {@code j - i <= diagonal} (tril) or {@code j - i >= diagonal} (triu). Any dtype, kept: a
     * BOOL triangle is the usual causal mask.
     */
    public static Tensor triangle(String op, Tensor x, int diagonal, boolean lower) {
        if (x.rank() < 2) {
            throw new TensorShapeException(op + ": input must have at least 2 dimensions, got shape " + x.shape());
        }
        int rows = x.size(-2);
        int cols = x.size(-1);
        boolean[] keep = new boolean[rows * cols];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                keep[i * cols + j] = lower ? j - i <= diagonal : j - i >= diagonal;
            }
        }
        Tensor mask = Tensor.on(x.backend()).fromArray(keep, rows, cols);
        return Tensor.where(mask, x, Dispatch.scalar(x.backend(), x.dtype(), 0.0));
    }
}
