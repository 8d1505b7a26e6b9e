package dev.adjoint.engine.simd;

import dev.adjoint.spi.Window2d;
import jdk.incubator.vector.FloatVector;

/**
 * A pooling window's taps for the windows that lie wholly inside the image: each tap's offset from
 * the window's first pixel in the input ({@code offsets}, through the input's row and column strides)
 * and in the image's {@code h * width + w} numbering ({@code positions}), in row-major tap order,
 * the ranges of output rows and columns whose windows are wholly inside, and for a vector of
 * consecutive windows the offsets of their lanes ({@code laneOffsets}, {@code j * strideW * xCol}
 * as a gather's index map), or null where that stride is 1 and a plain load reads them.
 */
record PoolTaps(int[] offsets, int[] positions, int firstRow, int endRow, int firstColumn, int endColumn,
                int[] laneOffsets) {

    /** Enough lanes for a vector of either element type: FLOAT32's count is the larger. */
    private static final int LANES = FloatVector.SPECIES_PREFERRED.length();

    static PoolTaps of(Window2d w, int xRow, int xCol) {
        int[] offsets = new int[w.taps()];
        int[] positions = new int[w.taps()];
        for (int kh = 0, t = 0; kh < w.kernelH(); kh++) {
            for (int kw = 0; kw < w.kernelW(); kw++, t++) {
                offsets[t] = kh * w.dilationH() * xRow + kw * w.dilationW() * xCol;
                positions[t] = kh * w.dilationH() * w.width() + kw * w.dilationW();
            }
        }
        int spanH = (w.kernelH() - 1) * w.dilationH();
        int spanW = (w.kernelW() - 1) * w.dilationW();
        return new PoolTaps(offsets, positions,
                SimdWindows.firstInside(-w.padH(), w.strideH(), w.outH()),
                Math.min(w.outH(), SimdWindows.endInside(-w.padH() + spanH, w.strideH(), w.height(), w.outH())),
                SimdWindows.firstInside(-w.padW(), w.strideW(), w.outW()),
                Math.min(w.outW(), SimdWindows.endInside(-w.padW() + spanW, w.strideW(), w.width(), w.outW())),
                laneOffsets(w.strideW() * xCol));
    }

    private static int[] laneOffsets(int step) {
        if (step == 1) {
            return null;
        }
        int[] lanes = new int[LANES];
        for (int j = 0; j < LANES; j++) {
            lanes[j] = j * step;
        }
        return lanes;
    }
}
