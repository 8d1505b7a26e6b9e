package dev.adjoint.ops;

import dev.adjoint.Shape;
import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;
import dev.adjoint.autograd.Graph;
import dev.adjoint.spi.Layout;

import java.util.Arrays;

import static dev.adjoint.ops.ElementwiseOps.of;

/** torch.matmul, reduced to one batched kernel call over operands of equal rank. */
public final class LinalgOps {
    private LinalgOps() {
    }

    /**
     * 1-D operands are promoted to matrices (a row vector on the left, a column vector on the right)
     * and the added dimension removed afterwards; batch dimensions broadcast. Each promotion is an
     * ordinary differentiable reshape, so the backward pass needs no special cases.
     */
    public static Tensor matmul(Tensor a, Tensor b) {
        Dispatch.checkSameBackend("matmul", a, b);
        Dispatch.checkSameDType("matmul", a, b);
        Dispatch.checkFloating("matmul", a);
        if (a.rank() == 0 || b.rank() == 0) {
            throw new TensorShapeException("matmul: both arguments need at least 1 dimension, got shapes "
                    + a.shape() + " and " + b.shape());
        }
        int ka = a.shape().dim(-1);
        int kb = b.rank() == 1 ? b.shape().dim(0) : b.shape().dim(-2);
        if (ka != kb) {
            throw new TensorShapeException("matmul: shapes " + a.shape() + " and " + b.shape()
                    + " cannot be multiplied (" + ka + " != " + kb + ")");
        }
        Tensor left = a.rank() == 1 ? a.unsqueeze(0) : a;
        Tensor right = b.rank() == 1 ? b.unsqueeze(1) : b;
        if (left.rank() > 2 && b.rank() == 2 && ka > 0) {
            // A batch of matrices times one matrix (nn.Linear on [batch, tokens, features]): the batch
            // folds into the rows, as torch.matmul does, so the product is one matrix product and the
            // gradient of b one product over all rows, instead of a product per batch element (of
            // few rows, when the batch is a permuted view) and a sum over the batch afterwards.
            Tensor folded = foldedMatmul(left, right, ka);
            if (folded != null) {
                return folded;
            }
        }
        Tensor product = batchedMatmul(left, right);
        if (b.rank() == 1) {
            product = product.squeeze(-1);
        }
        if (a.rank() == 1) {
            product = product.squeeze(b.rank() == 1 ? -1 : -2);
        }
        return product;
    }

    /** torch.outer: {@code a[i] * b[j]} for vectors a and b, a broadcast product. */
    public static Tensor outer(Tensor a, Tensor b) {
        Dispatch.checkSameBackend("outer", a, b);
        Dispatch.checkSameDType("outer", a, b);
        if (a.rank() != 1 || b.rank() != 1) {
            throw new TensorShapeException("outer: both arguments must be 1-D, got shapes " + a.shape() + " and " + b.shape());
        }
        return a.unsqueeze(1).mul(b.unsqueeze(0));
    }

    /**
     * {@code left @ right} for a matrix {@code right}, with left's leading dimensions taken as the rows
     * of one product; null when a leading dimension is a broadcast (stride 0), which the batched product
     * handles. Each output row depends on its input row alone, so the rows may be taken in any order:
     * the leading dimensions are ordered by stride, and where that order lays them out as one strided
     * run (a contiguous tensor, a transposed batch such as attention's {@code [tokens, batch, features]}
     * view, a narrow of the features) the rows are a view of left and the product's output is permuted
     * back; otherwise they are a contiguous copy, as torch.matmul's reshape makes.
     */
    private static Tensor foldedMatmul(Tensor left, Tensor right, int k) {
        int rank = left.rank();
        Layout layout = left.layout();
        Integer[] order = new Integer[rank - 1];
        for (int d = 0; d < rank - 1; d++) {
            if (layout.stride(d) == 0 && left.size(d) > 1) {
                return null;
            }
            order[d] = d;
        }
        // Outermost first; a stable sort keeps size-1 dimensions' places among equal strides.
        Arrays.sort(order, (p, q) -> Integer.compare(layout.stride(q), layout.stride(p)));
        int[] permutation = new int[rank];
        boolean identity = true;
        for (int d = 0; d < rank - 1; d++) {
            permutation[d] = order[d];
            identity &= order[d] == d;
        }
        permutation[rank - 1] = rank - 1;
        Tensor ordered = identity ? left : left.permute(permutation);
        int rows = left.numel() / k;
        Tensor matrix = ordered.reshape(rows, k);
        int[] orderedShape = ordered.shape().toArray();
        orderedShape[rank - 1] = right.size(1);
        Tensor product = batchedMatmul(matrix, right).reshape(orderedShape);
        if (identity) {
            return product;
        }
        int[] inverse = new int[rank];
        for (int d = 0; d < rank; d++) {
            inverse[permutation[d]] = d;
        }
        return product.permute(inverse);
    }

    /** Both operands have rank >= 2 and matching inner sizes; batch dims broadcast. */
    private static Tensor batchedMatmul(Tensor a, Tensor b) {
        Shape batch = Shape.broadcast("matmul", batchShape(a.shape()), batchShape(b.shape()));
        int m = a.size(-2);
        int k = a.size(-1);
        int n = b.size(-1);
        Layout aLayout = a.layout().broadcastTo(withMatrix(batch, m, k));
        Layout bLayout = b.layout().broadcastTo(withMatrix(batch, k, n));
        Tensor out = Dispatch.matmul(Dispatch.view(a, aLayout), Dispatch.view(b, bLayout), withMatrix(batch, m, n));
        // dA = dC @ B^T and dB = A^T @ dC; for broadcast batch dims the engine sums them back.
        // Each gradient is computed in its input's layout: for an operand that is a transposed view
        // (nn.Linear's x @ W^T) the product is taken transposed, (dC^T @ A)^T, so that the gradient
        // reaching W through the transpose is dense and AccumulateGrad need not copy it.
        boolean aColumnMajor = isColumnMajor(a);
        boolean bColumnMajor = isColumnMajor(b);
        return Graph.record("MmBackward", out, of(a, b), of(a, b), (g, c) -> of(
                !c.needsInputGrad(0) ? null
                        : aColumnMajor ? c.saved(1).matmul(g.transpose(-1, -2)).transpose(-1, -2)
                        : g.matmul(c.saved(1).transpose(-1, -2)),
                !c.needsInputGrad(1) ? null
                        : bColumnMajor ? g.transpose(-1, -2).matmul(c.saved(0)).transpose(-1, -2)
                        : c.saved(0).transpose(-1, -2).matmul(g)),
                // d(AB) = dA B + A dB
                (t, in, y) -> t[0] == null ? in[0].matmul(t[1])
                        : t[1] == null ? t[0].matmul(in[1]) : t[0].matmul(in[1]).add(in[0].matmul(t[1])));
    }

    /**
     * Whether {@code t} is the transpose of a dense tensor (and not itself dense), or its matrices
     * run down their columns in memory (the key of attention, {@code k.transpose(-1, -2)} of a slice
     * of the fused projection): either way its gradient taken transposed is born in the order the
     * transpose's backward makes dense again.
     */
    private static boolean isColumnMajor(Tensor t) {
        if (t.isContiguous() || t.rank() < 2) {
            return false;
        }
        Layout layout = t.layout();
        int rows = t.size(-2);
        int columns = t.size(-1);
        if (rows > 1 && columns > 1 && layout.stride(t.rank() - 2) == 1 && layout.stride(t.rank() - 1) >= rows) {
            return true;
        }
        int[] dims = t.shape().toArray();
        int[] strides = layout.strides();
        int r = dims.length;
        swap(dims, r - 1, r - 2);
        swap(strides, r - 1, r - 2);
        return new Layout(Shape.of(dims), strides, layout.offset()).isContiguous();
    }

    private static void swap(int[] values, int i, int j) {
        int v = values[i];
        values[i] = values[j];
        values[j] = v;
    }

    /** The dims of {@code s} before its last two (a batch of matrices' batch shape). */
    static Shape batchShape(Shape s) {
        int[] dims = new int[s.rank() - 2];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = s.dim(i);
        }
        return Shape.of(dims);
    }

    /** {@code batch} followed by a {@code rows x cols} matrix. */
    static Shape withMatrix(Shape batch, int rows, int cols) {
        int[] dims = new int[batch.rank() + 2];
        for (int i = 0; i < batch.rank(); i++) {
            dims[i] = batch.dim(i);
        }
        dims[batch.rank()] = rows;
        dims[batch.rank() + 1] = cols;
        return Shape.of(dims);
    }
}
