package dev.adjoint.engine.simd;

import dev.adjoint.spi.Window2d;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * FLOAT32 sliding-window kernels, one image plane or one row of columns per call (the caller,
 * {@link SimdWindows}, picks the work and the threads). Image rows are dense; along a row, the
 * window positions whose tap falls inside the image form one range, so the padding is a fill on
 * either side and, at stride 1, the inside a single copy or vector add.
 * {@link DoubleWindows} mirrors this class; keep the two in step.
 */
final class FloatWindows {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private FloatWindows() {
    }

    /**
     * Row {@code (kh, kw)} of unfold for one image: the pixel that tap reads at each window position,
     * 0 on the padding, written to {@code out[at .. at + outH * outW)}. The image starts at
     * {@code plane}, its rows {@code xRow} apart and its columns dense.
     */
    static void unfoldRow(float[] x, int plane, int xRow, Window2d w, int kh, int kw, float[] out, int at) {
        int shift = kw * w.dilationW() - w.padW();
        int lo = SimdWindows.firstInside(shift, w.strideW(), w.outW());
        int hi = SimdWindows.endInside(shift, w.strideW(), w.width(), w.outW());
        int outW = w.outW();
        for (int oh = 0; oh < w.outH(); oh++, at += outW) {
            int h = w.row(oh, kh);
            if (h < 0 || h >= w.height() || lo >= hi) {
                Arrays.fill(out, at, at + outW, 0f);
                continue;
            }
            Arrays.fill(out, at, at + lo, 0f);
            int src = plane + h * xRow + shift;
            if (w.strideW() == 1) {
                System.arraycopy(x, src + lo, out, at + lo, hi - lo);
            } else {
                for (int ow = lo, s = src + lo * w.strideW(); ow < hi; ow++, s += w.strideW()) {
                    out[at + ow] = x[s];
                }
            }
            Arrays.fill(out, at + hi, at + outW, 0f);
        }
    }

    /**
     * Adds row {@code (kh, kw)} of fold's input for one image, {@code cols[at .. at + outH * outW)}, into
     * the dense image at {@code out[plane ..]}; values on the padding are dropped.
     */
    static void foldRow(float[] cols, int at, Window2d w, int kh, int kw, float[] out, int plane) {
        int shift = kw * w.dilationW() - w.padW();
        int lo = SimdWindows.firstInside(shift, w.strideW(), w.outW());
        int hi = SimdWindows.endInside(shift, w.strideW(), w.width(), w.outW());
        if (lo >= hi) {
            return;
        }
        for (int oh = 0; oh < w.outH(); oh++, at += w.outW()) {
            int h = w.row(oh, kh);
            if (h < 0 || h >= w.height()) {
                continue;
            }
            int dst = plane + h * w.width() + shift;
            if (w.strideW() == 1) {
                addRun(cols, at + lo, out, dst + lo, hi - lo);
            } else {
                for (int ow = lo, d = dst + lo * w.strideW(); ow < hi; ow++, d += w.strideW()) {
                    out[d] += cols[at + ow];
                }
            }
        }
    }

    /** {@code dst[d .. d + n) += src[s .. s + n)}. */
    private static void addRun(float[] src, int s, float[] dst, int d, int n) {
        int l = S.length();
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += l) {
            FloatVector.fromArray(S, dst, d + i).add(FloatVector.fromArray(S, src, s + i)).intoArray(dst, d + i);
        }
        for (; i < n; i++) {
            dst[d + i] += src[s + i];
        }
    }

    /**
     * Max pooling of one image (at {@code plane}, rows {@code xRow} and columns {@code xCol} apart):
     * each window's largest tap inside the image and its position {@code h * width + w}, written from
     * {@code at}. A larger value or a NaN takes over, so ties keep the first tap and NaN wins, as the
     * reference loops (and PyTorch) do.
     */
    static void maxPoolPlane(float[] x, int plane, int xRow, int xCol, Window2d w, float[] out, long[] indices,
                             int at) {
        for (int oh = 0; oh < w.outH(); oh++) {
            for (int ow = 0; ow < w.outW(); ow++, at++) {
                float best = Float.NEGATIVE_INFINITY;
                int bestAt = -1;
                for (int kh = 0; kh < w.kernelH(); kh++) {
                    int h = w.row(oh, kh);
                    if (h < 0 || h >= w.height()) {
                        continue;
                    }
                    for (int kw = 0; kw < w.kernelW(); kw++) {
                        int c = w.column(ow, kw);
                        if (c < 0 || c >= w.width()) {
                            continue;
                        }
                        float v = x[plane + h * xRow + c * xCol];
                        if (bestAt < 0 || v > best || v != v) {
                            best = v;
                            bestAt = h * w.width() + c;
                        }
                    }
                }
                out[at] = best;
                indices[at] = bestAt;
            }
        }
    }

    /** {@code dst[d + index[i]] += src[s + i]} for the {@code n} entries of one row (scatter-add along the last dim). */
    static void scatterAddRow(float[] dst, int d, long[] index, int i0, float[] src, int s, int n) {
        for (int i = 0; i < n; i++) {
            dst[d + (int) index[i0 + i]] += src[s + i];
        }
    }

    /** {@code out[o + i] = src[s + index[i]]} for the {@code n} entries of one row (gather along the last dim). */
    static void gatherRow(float[] src, int s, long[] index, int i0, float[] out, int o, int n) {
        for (int i = 0; i < n; i++) {
            out[o + i] = src[s + (int) index[i0 + i]];
        }
    }
}
