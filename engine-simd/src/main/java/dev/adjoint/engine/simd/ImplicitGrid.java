package dev.adjoint.engine.simd;

import dev.adjoint.spi.Window2d;

/**
 * The padded images of the implicit-GEMM convolution kernels ({@link FloatConvolution#implicitForward}):
 * each image placed {@code padH} rows down and {@code padW} columns in, in rows of {@code row}
 * elements, wide enough that a window's taps never reach past a row into the next one's pixels.
 * Output position {@code (oh, ow)} is grid position {@code oh * row + ow}, and the kernels compute
 * every grid position of the output's rows, {@code blocks} register blocks of {@code columns}
 * positions; the ones past an output row's end are dropped when the rows are copied out.
 * {@code size} is one channel's image, long enough for every tap of the last block.
 * Element type independent: sizes count elements.
 */
record ImplicitGrid(int row, int blocks, int size) {

    /** The grid of a stride-1 window, in register blocks of {@code columns} positions. */
    static ImplicitGrid of(Window2d w, int columns) {
        int row = Math.max(w.width() + w.padW(), w.outW() + (w.kernelW() - 1) * w.dilationW());
        int rows = Math.max(w.height() + w.padH(), w.outH() + (w.kernelH() - 1) * w.dilationH());
        int blocks = (w.outH() * row + columns - 1) / columns;
        int reach = (w.kernelH() - 1) * w.dilationH() * row + (w.kernelW() - 1) * w.dilationW();
        return new ImplicitGrid(row, blocks, Math.max(rows * row, blocks * columns + reach));
    }
}
