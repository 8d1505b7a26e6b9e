package dev.adjoint.engine.simd;

import dev.adjoint.spi.Window2d;
import jdk.incubator.vector.FloatVector;

/**
 * The geometry of the zero-bordered scratch image the stride-1 unfold and fold work in: the image
 * placed {@code padH} rows down and {@code padW} columns in, enough rows and columns after it for
 * every tap of every window position (a ceil-mode or "same" extent may reach further than the
 * padding before the image), and one vector of slack at the end of each row so that a run's last
 * vector may be loaded or stored whole. Element type independent: sizes count elements.
 */
record PaddedImage(int rows, int rowLength, int padH, int padW, int strideH, int dilationH, int dilationW) {

    /** The widest vector of either element type, in elements: FLOAT32's lane count is the larger. */
    private static final int SLACK = FloatVector.SPECIES_PREFERRED.length();

    static PaddedImage of(Window2d w) {
        int rows = Math.max(w.height() + w.padH(), (w.outH() - 1) * w.strideH() + (w.kernelH() - 1) * w.dilationH() + 1);
        int columns = Math.max(w.width() + w.padW(), (w.outW() - 1) * w.strideW() + (w.kernelW() - 1) * w.dilationW() + 1);
        return new PaddedImage(rows, columns + SLACK, w.padH(), w.padW(), w.strideH(), w.dilationH(), w.dilationW());
    }

    /** Elements in the scratch image. */
    int size() {
        return rows * rowLength;
    }

    /** Where image row {@code h} starts. */
    int start(int h) {
        return (h + padH) * rowLength + padW;
    }

    /** Where tap {@code (kh, kw)} of output row {@code oh} reads (or adds) its run of positions, at stride 1 along the width. */
    int tap(int oh, int kh, int kw) {
        return (oh * strideH + kh * dilationH) * rowLength + kw * dilationW;
    }
}
