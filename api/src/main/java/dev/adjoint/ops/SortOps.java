package dev.adjoint.ops;

import dev.adjoint.DType;
import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;
import dev.adjoint.ValuesAndIndices;
import dev.adjoint.autograd.Graph;

import static dev.adjoint.ops.ElementwiseOps.of;

/**
 * Ops that select elements by value: sort (one kernel), topk (the head of a sort), and max / min along
 * a dimension (argmax then gather). The values are differentiable, their gradient going back to the
 * elements they were taken from; the INT64 indices are not.
 */
public final class SortOps {
    private SortOps() {
    }

    /** Stable: equal elements keep their order. NaN sorts above every number, as torch.sort. */
    public static ValuesAndIndices sort(Tensor x, int dim, boolean descending) {
        Dispatch.checkFloating("sort", x);
        int d = x.shape().normalizeDimOrScalarDim(dim, "sort");
        if (x.rank() == 0) {
            return new ValuesAndIndices(ShapeOps.alias(x), zeroIndex(x));
        }
        Tensor[] sorted = Dispatch.sort("sort", x, d, descending);
        Tensor indices = sorted[1];
        Tensor values = Graph.record("SortBackward", sorted[0], of(x), of(indices),
                // The indices of a row are a permutation of it: the gradient goes back to where each value was.
                (g, c) -> of(g.zerosLike().scatterAdd(d, c.saved(0), g)),
                (t, in, y) -> t[0].gather(d, indices));
        return new ValuesAndIndices(values, indices);
    }

    /** The {@code k} largest (or smallest) elements along {@code dim} and their indices, always in sorted order. */
    public static ValuesAndIndices topk(Tensor x, int k, int dim, boolean largest) {
        Dispatch.checkFloating("topk", x);
        int d = x.shape().normalizeDimOrScalarDim(dim, "topk");
        int size = x.rank() == 0 ? 1 : x.size(d);
        if (k < 0 || k > size) {
            throw new TensorShapeException("topk: k = " + k + " is out of range for dimension " + dim + " of size "
                    + size + " (shape " + x.shape() + "; valid: 0 to " + size + ")");
        }
        ValuesAndIndices sorted = sort(x, d, largest);
        if (x.rank() == 0) {
            // k = 0 too gives the element, as torch.topk on a 0-d tensor does.
            return sorted;
        }
        return new ValuesAndIndices(sorted.values().narrow(d, 0, k), sorted.indices().narrow(d, 0, k));
    }

    /**
     * torch.max / torch.min along {@code dim}: the first extreme element (NaN counting as the extreme)
     * and its index. The gradient goes to that element only, as PyTorch's; amax and amin share it
     * between ties instead.
     */
    public static ValuesAndIndices extremum(String op, Tensor x, int dim, boolean keepDim, boolean max) {
        int d = x.shape().normalizeDimOrScalarDim(dim, op);
        if (x.rank() == 0) {
            return new ValuesAndIndices(ShapeOps.alias(x), zeroIndex(x));
        }
        Tensor index = ReductionOps.argExtremum(op, x, d, true, max);
        Tensor values = x.gather(d, index);
        return keepDim ? new ValuesAndIndices(values, index)
                : new ValuesAndIndices(values.squeeze(d), index.squeeze(d));
    }

    private static Tensor zeroIndex(Tensor x) {
        return Dispatch.scalar(x.backend(), DType.INT64, 0);
    }
}
