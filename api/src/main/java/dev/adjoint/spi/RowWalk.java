package dev.adjoint.spi;

import java.util.Arrays;

/**
 * The iteration space of one kernel call over several strided operands, reduced to as few dims as
 * the strides allow and walked one innermost row at a time, so that a kernel (a vector loop, or a
 * loop over native buffers) runs along each row and only the row starts are computed here. Dims of
 * size 1 are dropped, and neighbouring dims are merged wherever every operand is contiguous across
 * them ({@code stride[outer] == stride[inner] * size[inner]}), so a dense operand beside a broadcast
 * bias row is two dims, a permuted gradient three or four, however many dims the tensors have.
 */
public final class RowWalk {
    /** Sizes of the merged dims, outermost first; the last is the row. */
    public final int[] sizes;
    /** {@code strides[operand][dim]} over the merged dims. */
    public final int[][] strides;
    /** Where the current row starts in each operand. */
    public final int[] at;
    private final int[] index;

    private RowWalk(int[] sizes, int[][] strides, int[] offsets) {
        this.sizes = sizes;
        this.strides = strides;
        this.at = offsets.clone();
        this.index = new int[sizes.length];
    }

    /** Over {@code layouts[0]}'s shape in its own dim order; every layout has that shape (broadcast ones stride 0). */
    public static RowWalk over(Layout... layouts) {
        int rank = layouts[0].rank();
        int[] order = new int[rank];
        for (int d = 0; d < rank; d++) {
            order[d] = d;
        }
        int[] offsets = new int[layouts.length];
        int[][] strides = new int[layouts.length][];
        for (int i = 0; i < layouts.length; i++) {
            offsets[i] = layouts[i].offset();
            strides[i] = layouts[i].strides();
        }
        return of(layouts[0].shape().toArray(), order, offsets, strides);
    }

    /**
     * Over {@code shape} with its dims taken in {@code order} (outermost first), each operand given
     * by its start offset and its strides in the original dim order.
     */
    public static RowWalk of(int[] shape, int[] order, int[] offsets, int[][] strides) {
        int operands = strides.length;
        // At least one dim: a 0-d tensor is one row of one element.
        int[] sizes = new int[Math.max(order.length, 1)];
        int[][] merged = new int[operands][sizes.length];
        int rank = 0;
        for (int d : order) {
            if (shape[d] == 1) {
                continue;
            }
            if (rank > 0 && mergeable(strides, d, merged, rank - 1, shape[d])) {
                sizes[rank - 1] *= shape[d];
                for (int i = 0; i < operands; i++) {
                    merged[i][rank - 1] = strides[i][d];
                }
                continue;
            }
            sizes[rank] = shape[d];
            for (int i = 0; i < operands; i++) {
                merged[i][rank] = strides[i][d];
            }
            rank++;
        }
        if (rank == 0) {
            // One element (or a space of size-1 dims): a single row of length 1.
            sizes[0] = 1;
            rank = 1;
            for (int i = 0; i < operands; i++) {
                merged[i][0] = 1;
            }
        }
        int[][] trimmed = new int[operands][];
        for (int i = 0; i < operands; i++) {
            trimmed[i] = Arrays.copyOf(merged[i], rank);
        }
        return new RowWalk(Arrays.copyOf(sizes, rank), trimmed, offsets);
    }

    /** Whether the merged dim {@code outer} continues into original dim {@code d} in every operand. */
    private static boolean mergeable(int[][] strides, int d, int[][] merged, int outer, int size) {
        for (int i = 0; i < strides.length; i++) {
            if (merged[i][outer] != strides[i][d] * size) {
                return false;
            }
        }
        return true;
    }

    /** A new walk over the same rows, positioned at row {@code row}; called on a walk still at its first row. */
    public RowWalk from(int row) {
        RowWalk w = new RowWalk(sizes, strides, at);
        for (int d = sizes.length - 2; d >= 0; d--) {
            int i = row % sizes[d];
            row /= sizes[d];
            w.index[d] = i;
            for (int k = 0; k < at.length; k++) {
                w.at[k] += i * strides[k][d];
            }
        }
        return w;
    }

    public int rowLength() {
        return sizes[sizes.length - 1];
    }

    public int rows() {
        int rows = 1;
        for (int d = 0; d < sizes.length - 1; d++) {
            rows *= sizes[d];
        }
        return rows;
    }

    /** The stride of {@code operand} along the row. */
    public int rowStride(int operand) {
        return strides[operand][sizes.length - 1];
    }

    /** Moves {@link #at} to the next row (row-major over the outer dims). */
    public void next() {
        for (int d = sizes.length - 2; d >= 0; d--) {
            index[d]++;
            for (int i = 0; i < at.length; i++) {
                at[i] += strides[i][d];
            }
            if (index[d] < sizes[d]) {
                return;
            }
            index[d] = 0;
            for (int i = 0; i < at.length; i++) {
                at[i] -= strides[i][d] * sizes[d];
            }
        }
    }
}
