package dev.adjoint.engine.simd;

import dev.adjoint.spi.Window2d;
import jdk.incubator.vector.FloatVector;

/**
 * The geometry of the zero-bordered scratch image the unfold, fold and direct convolution kernels
 * work in: the image placed {@code padH} rows down and {@code padW} columns in, enough rows and
 * columns after it for every tap of every window position (a ceil-mode or "same" extent may reach
 * further than the padding before the image), and one vector of slack at the end of each row so
 * that a run's last vector may be loaded or stored whole. Element type independent: sizes count elements.
 *
 * <p>A phased image ({@link #phased}, for windows strided along the width) stores each padded row
 * as {@code phases} sub-rows of {@code phaseLength}: sub-row {@code q} holds the row's columns
 * {@code q, q + phases, q + 2 phases, ...}, each followed by its slack. A tap's reads along an
 * output row, every {@code phases}-th column, are then one dense run of a sub-row, as at stride 1.
 */
record PaddedImage(int rows, int rowLength, int padH, int padW, int strideH, int dilationH, int dilationW,
                   int phases, int phaseLength, int[] tapColumns) {

    /** The widest vector of either element type, in elements: FLOAT32's lane count is the larger. */
    private static final int SLACK = FloatVector.SPECIES_PREFERRED.length();

    /** The scratch image of a window read at stride 1 along the width (its rows as they are). */
    static PaddedImage of(Window2d w) {
        int length = columns(w) + SLACK;
        return new PaddedImage(rows(w), length, w.padH(), w.padW(), w.strideH(), w.dilationH(), w.dilationW(), 1,
                length, null);
    }

    /** The scratch image of a window, each row split into {@code strideW} phases (one, as {@link #of}, at stride 1). */
    static PaddedImage phased(Window2d w) {
        int phases = w.strideW();
        if (phases == 1) {
            return of(w);
        }
        int phaseLength = (columns(w) + phases - 1) / phases + SLACK;
        // Each kernel column's place in a row, computed once: a division per tap would cost more than its loads.
        int[] tapColumns = new int[w.kernelW()];
        for (int kw = 0; kw < tapColumns.length; kw++) {
            int x = kw * w.dilationW();
            tapColumns[kw] = x % phases * phaseLength + x / phases;
        }
        return new PaddedImage(rows(w), phases * phaseLength, w.padH(), w.padW(), w.strideH(), w.dilationH(),
                w.dilationW(), phases, phaseLength, tapColumns);
    }

    private static int rows(Window2d w) {
        return Math.max(w.height() + w.padH(), (w.outH() - 1) * w.strideH() + (w.kernelH() - 1) * w.dilationH() + 1);
    }

    private static int columns(Window2d w) {
        return Math.max(w.width() + w.padW(), (w.outW() - 1) * w.strideW() + (w.kernelW() - 1) * w.dilationW() + 1);
    }

    /** Elements in the scratch image. */
    int size() {
        return rows * rowLength;
    }

    /** Where image row {@code h} starts (an unphased image: its row is one run). */
    int start(int h) {
        return (h + padH) * rowLength + padW;
    }

    /** Where image pixel {@code (h, x)} is. */
    int at(int h, int x) {
        return (h + padH) * rowLength + column(x + padW);
    }

    /**
     * Where tap {@code (kh, kw)} of output row {@code oh} reads (or adds) its run of positions: at
     * stride 1 along the width, or in a phased image.
     */
    int tap(int oh, int kh, int kw) {
        return (oh * strideH + kh * dilationH) * rowLength + (phases == 1 ? kw * dilationW : tapColumns[kw]);
    }

    /** Where padded column {@code x} of a row is, from the row's start. */
    private int column(int x) {
        return phases == 1 ? x : x % phases * phaseLength + x / phases;
    }
}
