package dev.adjoint.engine.simd;

import dev.adjoint.spi.Layout;
import dev.adjoint.spi.heap.HeapStorage;

/**
 * Copies a strided view into a destination whose rows are dense, matrix by matrix. The common case
 * is a transpose (the gradient of a transposed weight made contiguous): walking it element by
 * element with a cursor costs several ns per element, and reading it row by row would stride
 * through memory. Square tiles keep both the source columns and the destination rows in L1.
 */
final class TiledCopy {
    /** 32 x 32 doubles = 8 KiB per side: both tiles fit in the 48 KiB L1d with room to spare. */
    private static final int TILE = 32;

    private TiledCopy() {
    }

    /** Same floating dtype, rank >= 2, and the destination's last dimension has stride 1. */
    static boolean applies(HeapStorage s, Layout sl, HeapStorage d, Layout dl) {
        int rank = sl.rank();
        return s.dtype == d.dtype && s.dtype.isFloatingPoint() && rank >= 2 && dl.stride(rank - 1) == 1;
    }

    /**
     * Bands of {@link #TILE} rows of every matrix, over threads when there are enough elements
     * ({@link RowThreads}); a copy is the same whichever thread writes a band.
     */
    static void copy(HeapStorage s, Layout sl, HeapStorage d, Layout dl) {
        int rank = sl.rank();
        int[] shape = sl.shape().toArray();
        int rows = shape[rank - 2];
        int cols = shape[rank - 1];
        int srcRow = sl.stride(rank - 2);
        int srcCol = sl.stride(rank - 1);
        int dstRow = dl.stride(rank - 2);
        int matrices = 1;
        for (int dim = 0; dim < rank - 2; dim++) {
            matrices *= shape[dim];
        }
        int bands = (rows + TILE - 1) / TILE;
        RowThreads.forRows(matrices * bands, TILE * cols, (first, last, part) -> {
            for (int t = first; t < last; t++) {
                int m = t / bands;
                int r0 = t % bands * TILE;
                int r1 = Math.min(rows, r0 + TILE);
                int from = matrixStart(shape, rank - 2, sl, m) + r0 * srcRow;
                int to = matrixStart(shape, rank - 2, dl, m) + r0 * dstRow;
                if (s.f32 != null) {
                    FloatKernels.copyBand(s.f32, from, srcRow, srcCol, d.f32, to, dstRow, r1 - r0, cols, TILE);
                } else {
                    DoubleKernels.copyBand(s.f64, from, srcRow, srcCol, d.f64, to, dstRow, r1 - r0, cols, TILE);
                }
            }
        });
    }

    /** Where matrix {@code m} (row-major over the leading {@code batchRank} dims of {@code shape}) starts in {@code layout}. */
    private static int matrixStart(int[] shape, int batchRank, Layout layout, int m) {
        int at = layout.offset();
        for (int dim = batchRank - 1; dim >= 0; dim--) {
            at += m % shape[dim] * layout.stride(dim);
            m /= shape[dim];
        }
        return at;
    }
}
