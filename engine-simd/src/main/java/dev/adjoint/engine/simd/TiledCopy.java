package dev.adjoint.engine.simd;

import dev.adjoint.Shape;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.heap.HeapStorage;
import dev.adjoint.spi.StridedCursor;

import java.util.Arrays;

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

    static void copy(HeapStorage s, Layout sl, HeapStorage d, Layout dl) {
        int rank = sl.rank();
        Shape batch = Shape.of(Arrays.copyOf(sl.shape().toArray(), rank - 2));
        int rows = sl.shape().dim(rank - 2);
        int cols = sl.shape().dim(rank - 1);
        int srcRow = sl.stride(rank - 2);
        int srcCol = sl.stride(rank - 1);
        int dstRow = dl.stride(rank - 2);
        StridedCursor c = StridedCursor.over(batch, sl, dl);
        int matrices = batch.numel();
        for (int m = 0; m < matrices; m++, c.advance()) {
            if (s.f32 != null) {
                matrix(s.f32, c.position[0], srcRow, srcCol, d.f32, c.position[1], dstRow, rows, cols);
            } else {
                matrix(s.f64, c.position[0], srcRow, srcCol, d.f64, c.position[1], dstRow, rows, cols);
            }
        }
    }

    private static void matrix(float[] src, int s, int srcRow, int srcCol, float[] dst, int d, int dstRow,
                               int rows, int cols) {
        if (srcCol == 1) {
            for (int r = 0; r < rows; r++) {
                System.arraycopy(src, s + r * srcRow, dst, d + r * dstRow, cols);
            }
            return;
        }
        for (int r0 = 0; r0 < rows; r0 += TILE) {
            int rEnd = Math.min(rows, r0 + TILE);
            for (int c0 = 0; c0 < cols; c0 += TILE) {
                int cEnd = Math.min(cols, c0 + TILE);
                for (int r = r0; r < rEnd; r++) {
                    int from = s + r * srcRow;
                    int to = d + r * dstRow;
                    for (int col = c0; col < cEnd; col++) {
                        dst[to + col] = src[from + col * srcCol];
                    }
                }
            }
        }
    }

    private static void matrix(double[] src, int s, int srcRow, int srcCol, double[] dst, int d, int dstRow,
                               int rows, int cols) {
        if (srcCol == 1) {
            for (int r = 0; r < rows; r++) {
                System.arraycopy(src, s + r * srcRow, dst, d + r * dstRow, cols);
            }
            return;
        }
        for (int r0 = 0; r0 < rows; r0 += TILE) {
            int rEnd = Math.min(rows, r0 + TILE);
            for (int c0 = 0; c0 < cols; c0 += TILE) {
                int cEnd = Math.min(cols, c0 + TILE);
                for (int r = r0; r < rEnd; r++) {
                    int from = s + r * srcRow;
                    int to = d + r * dstRow;
                    for (int col = c0; col < cEnd; col++) {
                        dst[to + col] = src[from + col * srcCol];
                    }
                }
            }
        }
    }
}
