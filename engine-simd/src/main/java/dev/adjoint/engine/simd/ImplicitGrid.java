package dev.adjoint.engine.simd;

import dev.adjoint.spi.Window2d;

/**
 * The padded images of the implicit-GEMM convolution kernels ({@link FloatConvolution#implicitForward}):
 * each image placed {@code padH} rows down and {@code padW} columns in, in rows of {@code row}
 * elements, wide enough that a window's taps never reach past a row into the next one's pixels.
 * Output position {@code (oh, ow)} is grid position {@code oh * row + ow}, and the kernels compute
 * every grid position of the output's rows, {@code blocks} register blocks of {@code columns}
 * positions; the ones past an output row's end are dropped when the rows are copied out.
 * {@code size} is one channel's images, long enough for every tap of the last block.
 * Element type independent: sizes count elements.
 *
 * <p>A strided window's channel is split into {@code phasesH * phasesW} phase images of
 * {@code phase} elements each: phase {@code (a, b)} holds the padded image's pixels
 * {@code (i * strideH + a, j * strideW + b)} at {@code (i, j)}, so that tap {@code (kh, kw)} of
 * output position {@code (oh, ow)} reads phase {@code (kh dilationH % strideH, kw dilationW % strideW)}
 * at {@code (oh + kh dilationH / strideH, ow + kw dilationW / strideW)}: on the grid, a constant
 * shift of the position as at stride 1, and the same kernels run it with every tap a dense run
 * and no tap computed that the window does not have (a 3 x 3 stride-2 window reads four phases of
 * a quarter of the pixels each; a 1 x 1 one, a single phase, the subsampled image). At stride 1
 * there is one phase, the image itself ({@code phase == size}).
 */
record ImplicitGrid(int row, int blocks, int size, int phase, int phasesH, int phasesW) {

    /** The grid of a window, in register blocks of {@code columns} positions. */
    static ImplicitGrid of(Window2d w, int columns) {
        if (w.strideH() == 1 && w.strideW() == 1) {
            int row = Math.max(w.width() + w.padW(), w.outW() + (w.kernelW() - 1) * w.dilationW());
            int rows = Math.max(w.height() + w.padH(), w.outH() + (w.kernelH() - 1) * w.dilationH());
            int blocks = (w.outH() * row + columns - 1) / columns;
            int reach = (w.kernelH() - 1) * w.dilationH() * row + (w.kernelW() - 1) * w.dilationW();
            int size = Math.max(rows * row, blocks * columns + reach);
            return new ImplicitGrid(row, blocks, size, size, 1, 1);
        }
        int sh = w.strideH();
        int sw = w.strideW();
        int spanH = (w.kernelH() - 1) * w.dilationH();
        int spanW = (w.kernelW() - 1) * w.dilationW();
        // Every pixel of the padded image a phase holds, and every position a tap reads.
        int row = Math.max((w.width() + w.padW() + sw - 1) / sw, w.outW() + spanW / sw);
        int rows = Math.max((w.height() + w.padH() + sh - 1) / sh, w.outH() + spanH / sh);
        int blocks = (w.outH() * row + columns - 1) / columns;
        int reach = spanH / sh * row + spanW / sw;
        int phase = Math.max(rows * row, blocks * columns + reach);
        // The phases the taps read: kh dilationH % strideH never reaches min(strideH, spanH + 1).
        int phasesH = Math.min(sh, spanH + 1);
        int phasesW = Math.min(sw, spanW + 1);
        return new ImplicitGrid(row, blocks, phasesH * phasesW * phase, phase, phasesH, phasesW);
    }

    /** Where tap {@code (kh, kw)} of grid position 0 reads in its channel's images. */
    int tap(Window2d w, int kh, int kw) {
        int y = kh * w.dilationH();
        int x = kw * w.dilationW();
        return (y % w.strideH() * phasesW + x % w.strideW()) * phase + y / w.strideH() * row + x / w.strideW();
    }
}
