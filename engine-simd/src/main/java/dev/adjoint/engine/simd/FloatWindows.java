package dev.adjoint.engine.simd;

import dev.adjoint.spi.Window2d;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * FLOAT32 sliding-window kernels, one image plane per call (the caller, {@link SimdWindows}, picks
 * the work and the threads). Image rows are dense. At stride 1 along the width the image is copied
 * into (or accumulated in) a zero-bordered scratch image first, so that every row of every tap is one
 * run of {@code outW} elements with no padding to test for: a vector copy or add, its last vector
 * masked. At larger strides, along a row the positions whose tap falls inside the image form one
 * range, and the padding is a fill on either side.
 * {@link DoubleWindows} mirrors this class; keep the two in step.
 */
final class FloatWindows {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Ints with as many lanes as {@link #S}: the winning tap of each window. */
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class,
            VectorShape.forBitSize(S.length() * Integer.SIZE));

    private FloatWindows() {
    }

    /** A thread's zero-bordered scratch image; grown, never shrunk. */
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[][] {new float[0]});

    private static float[] scratch(int size) {
        float[][] holder = SCRATCH.get();
        if (holder[0].length < size) {
            holder[0] = new float[size];
        }
        return holder[0];
    }

    /**
     * unfold of one image at stride 1 along the width: the {@code taps} rows of columns it gives,
     * row {@code t} at {@code out[at + t * rowStride ..]}. The image starts at {@code plane}, its rows
     * {@code xRow} apart and its columns dense; {@code pad} is the scratch image's geometry.
     */
    static void unfoldPlane(float[] x, int plane, int xRow, Window2d w, PaddedImage pad, float[] out, int at,
                            int rowStride) {
        float[] image = scratch(pad.size());
        Arrays.fill(image, 0, pad.size(), 0f);
        for (int h = 0; h < w.height(); h++) {
            System.arraycopy(x, plane + h * xRow, image, pad.start(h), w.width());
        }
        int outW = w.outW();
        for (int kh = 0, t = 0; kh < w.kernelH(); kh++) {
            for (int kw = 0; kw < w.kernelW(); kw++, t++) {
                int o = at + t * rowStride;
                for (int oh = 0; oh < w.outH(); oh++, o += outW) {
                    copyRun(image, pad.tap(oh, kh, kw), out, o, outW);
                }
            }
        }
    }

    /**
     * fold of one image at stride 1 along the width: its {@code taps} rows of columns (row {@code t}
     * at {@code cols[at + t * rowStride ..]}) summed into a zero-bordered scratch image, whose inside
     * is then copied to the dense image at {@code out[plane ..]}.
     */
    static void foldPlane(float[] cols, int at, int rowStride, Window2d w, PaddedImage pad, float[] out, int plane) {
        float[] image = scratch(pad.size());
        Arrays.fill(image, 0, pad.size(), 0f);
        int outW = w.outW();
        for (int kh = 0, t = 0; kh < w.kernelH(); kh++) {
            for (int kw = 0; kw < w.kernelW(); kw++, t++) {
                int c = at + t * rowStride;
                for (int oh = 0; oh < w.outH(); oh++, c += outW) {
                    addMaskedRun(cols, c, image, pad.tap(oh, kh, kw), outW);
                }
            }
        }
        for (int h = 0; h < w.height(); h++) {
            System.arraycopy(image, pad.start(h), out, plane + h * w.width(), w.width());
        }
    }

    /** {@code dst[d .. d + n) = src[s .. s + n)}; {@code src} may be read up to a vector past the run. */
    private static void copyRun(float[] src, int s, float[] dst, int d, int n) {
        int l = S.length();
        int i = 0;
        for (; i + l <= n; i += l) {
            FloatVector.fromArray(S, src, s + i).intoArray(dst, d + i);
        }
        if (i < n) {
            FloatVector.fromArray(S, src, s + i).intoArray(dst, d + i, S.indexInRange(i, n));
        }
    }

    /** {@code dst[d .. d + n) += src[s .. s + n)}; {@code dst} may be written (unchanged) up to a vector past the run. */
    private static void addMaskedRun(float[] src, int s, float[] dst, int d, int n) {
        int l = S.length();
        int i = 0;
        for (; i + l <= n; i += l) {
            FloatVector.fromArray(S, dst, d + i).add(FloatVector.fromArray(S, src, s + i)).intoArray(dst, d + i);
        }
        if (i < n) {
            VectorMask<Float> tail = S.indexInRange(i, n);
            FloatVector.fromArray(S, dst, d + i).add(FloatVector.fromArray(S, src, s + i, tail)).intoArray(dst, d + i);
        }
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
     * reference loops (and PyTorch) do. Windows wholly inside the image (all but a border at most
     * padding wide) go a vector of them at a time, their taps through precomputed offsets.
     */
    static void maxPoolPlane(float[] x, int plane, int xRow, int xCol, Window2d w, PoolTaps taps, float[] out,
                             long[] indices, int at) {
        int l = S.length();
        for (int oh = 0; oh < w.outH(); oh++) {
            boolean rowInside = oh >= taps.firstRow() && oh < taps.endRow();
            int ow = 0;
            if (rowInside) {
                for (; ow < taps.firstColumn(); ow++) {
                    maxPoolBorder(x, plane, xRow, xCol, w, oh, ow, out, indices, at + ow);
                }
                for (; ow < taps.endColumn(); ow += Math.min(l, taps.endColumn() - ow)) {
                    maxPoolVector(x, plane, xRow, xCol, w, taps, oh, ow, Math.min(l, taps.endColumn() - ow), out,
                            indices, at + ow);
                }
            }
            for (; ow < w.outW(); ow++) {
                maxPoolBorder(x, plane, xRow, xCol, w, oh, ow, out, indices, at + ow);
            }
            at += w.outW();
        }
    }

    /**
     * Up to a vector of consecutive windows wholly inside the image ({@code count} of them, lane j the
     * window at column {@code ow + j}): each tap is a load at stride {@code strideW * xCol} (a gather,
     * or a plain load when that is 1), masked when fewer windows than lanes remain, and a lane takes
     * the tap where it is larger or NaN, so the comparisons need no branches (a scalar loop
     * mispredicts about every other one on random data).
     */
    private static void maxPoolVector(float[] x, int plane, int xRow, int xCol, Window2d w, PoolTaps taps, int oh,
                                      int ow, int count, float[] out, long[] indices, int at) {
        int h0 = oh * w.strideH() - w.padH();
        int c0 = ow * w.strideW() - w.padW();
        int base = plane + h0 * xRow + c0 * xCol;
        int[] offsets = taps.offsets();
        int[] lanes = taps.laneOffsets();
        if (lanes != null && base + offsets[offsets.length - 1] + lanes[S.length() - 1] >= x.length) {
            // A gather checks every lane's index, masked or not: near the end of the array, one window at a time.
            for (int j = 0; j < count; j++) {
                maxPoolBorder(x, plane, xRow, xCol, w, oh, ow + j, out, indices, at + j);
            }
            return;
        }
        VectorMask<Float> valid = S.indexInRange(0, count);
        FloatVector best = load(x, base + offsets[0], lanes, valid);
        IntVector bestTap = IntVector.zero(I);
        for (int t = 1; t < offsets.length; t++) {
            FloatVector v = load(x, base + offsets[t], lanes, valid);
            VectorMask<Float> take = v.compare(VectorOperators.GT, best).or(v.test(VectorOperators.IS_NAN));
            best = best.blend(v, take);
            bestTap = bestTap.blend(t, take.cast(I));
        }
        best.intoArray(out, at, valid);
        int[] winners = new int[S.length()];
        bestTap.intoArray(winners, 0);
        int first = h0 * w.width() + c0;
        int[] positions = taps.positions();
        for (int j = 0; j < count; j++) {
            indices[at + j] = first + j * w.strideW() + positions[winners[j]];
        }
    }

    /** The {@code valid} lanes from {@code x[at + lanes[j]]}, or {@code x[at + j]} when {@code lanes} is null. */
    private static FloatVector load(float[] x, int at, int[] lanes, VectorMask<Float> valid) {
        return lanes == null ? FloatVector.fromArray(S, x, at, valid) : FloatVector.fromArray(S, x, at, lanes, 0, valid);
    }

    /** One window that may hang over the image's edge: only its taps inside the image compete. */
    private static void maxPoolBorder(float[] x, int plane, int xRow, int xCol, Window2d w, int oh, int ow,
                                      float[] out, long[] indices, int at) {
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
