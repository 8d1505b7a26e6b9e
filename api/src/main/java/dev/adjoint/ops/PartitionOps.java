package dev.adjoint.ops;

import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Ops that cut a tensor into views along a dimension: split, chunk, unbind. Each piece is a narrow(). */
public final class PartitionOps {
    private PartitionOps() {
    }

    /** Pieces of {@code size} elements along {@code dim}, the last one smaller when the size does not divide. */
    public static List<Tensor> split(Tensor x, int size, int dim) {
        int d = x.shape().normalizeDim(dim, "split");
        int n = x.size(d);
        if (size <= 0 && !(size == 0 && n == 0)) {
            throw new TensorShapeException("split: split size must be positive, got " + size + " (shape " + x.shape() + ")");
        }
        List<Tensor> pieces = new ArrayList<>();
        if (n == 0) {
            pieces.add(x);
            return pieces;
        }
        for (int start = 0; start < n; start += size) {
            pieces.add(x.narrow(d, start, Math.min(size, n - start)));
        }
        return pieces;
    }

    /** Pieces of the given sizes along {@code dim}, which must add up to its size. */
    public static List<Tensor> split(Tensor x, int[] sizes, int dim) {
        int d = x.shape().normalizeDim(dim, "split");
        long total = 0;
        for (int size : sizes) {
            if (size < 0) {
                throw new TensorShapeException("split: sizes must not be negative, got " + Arrays.toString(sizes)
                        + " (shape " + x.shape() + ")");
            }
            total += size;
        }
        if (total != x.size(d)) {
            throw new TensorShapeException("split: sizes " + Arrays.toString(sizes) + " add up to " + total
                    + " but dimension " + d + " has size " + x.size(d) + " (shape " + x.shape() + ")");
        }
        List<Tensor> pieces = new ArrayList<>(sizes.length);
        int start = 0;
        for (int size : sizes) {
            pieces.add(x.narrow(d, start, size));
            start += size;
        }
        return pieces;
    }

    /**
     * torch.chunk: at most {@code chunks} pieces of {@code ceil(n / chunks)} elements along {@code dim}
     * (fewer pieces when that size covers the dim sooner).
     */
    public static List<Tensor> chunk(Tensor x, int chunks, int dim) {
        if (chunks <= 0) {
            throw new TensorShapeException("chunk: the number of chunks must be positive, got " + chunks
                    + " (shape " + x.shape() + ")");
        }
        int d = x.shape().normalizeDim(dim, "chunk");
        int n = x.size(d);
        return split(x, n == 0 ? 0 : (n + chunks - 1) / chunks, d);
    }

    /** The slices along {@code dim}, each without that dimension. */
    public static List<Tensor> unbind(Tensor x, int dim) {
        int d = x.shape().normalizeDim(dim, "unbind");
        List<Tensor> slices = new ArrayList<>(x.size(d));
        for (int i = 0; i < x.size(d); i++) {
            slices.add(x.narrow(d, i, 1).squeeze(d));
        }
        return slices;
    }
}
