package dev.adjoint.engine.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * FLOAT32 matrix products for one matrix of a batch, {@code o[m, n] = a[m, k] @ b[k, n]}, output
 * rows contiguous. Products accumulate in float with fused multiply-adds, as BLAS sgemm does; the
 * rounding error grows like {@code k * ulp} of the sum of |products|.
 * {@link DoubleMatmul} mirrors this class; keep the two in step.
 */
final class FloatMatmul {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private FloatMatmul() {
    }

    /**
     * Rows of {@code b} contiguous (column stride 1), {@code a} any strides. A register block of
     * 4 rows x 2 vectors of output lives in 8 accumulators while {@code p} runs over {@code k}: each
     * step loads two vectors of a row of {@code b} and broadcasts four elements of {@code a}. Column
     * tails take masked vectors, row tails a 1-row block. No packing or cache blocking yet.
     */
    static void rowsOfB(float[] a, int aOff, int aRow, int aCol, float[] b, int bOff, int bRow,
                        float[] o, int oOff, int oRow, int m, int n, int k) {
        int l = S.length();
        int i = 0;
        for (; i + 4 <= m; i += 4) {
            int j = 0;
            for (; j + 2 * l <= n; j += 2 * l) {
                block4x2(a, aOff + i * aRow, aRow, aCol, b, bOff + j, bRow, o, oOff + i * oRow + j, oRow, k);
            }
            for (; j < n; j += l) {
                block4x1(a, aOff + i * aRow, aRow, aCol, b, bOff + j, bRow, o, oOff + i * oRow + j, oRow, k,
                        S.indexInRange(j, n));
            }
        }
        for (; i < m; i++) {
            int j = 0;
            for (; j + 2 * l <= n; j += 2 * l) {
                block1x2(a, aOff + i * aRow, aCol, b, bOff + j, bRow, o, oOff + i * oRow + j, k);
            }
            for (; j < n; j += l) {
                block1x1(a, aOff + i * aRow, aCol, b, bOff + j, bRow, o, oOff + i * oRow + j, k, S.indexInRange(j, n));
            }
        }
    }

    private static void block4x2(float[] a, int a0, int aRow, int aCol, float[] b, int b0, int bRow,
                                 float[] o, int o0, int oRow, int k) {
        int l = S.length();
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        int a1 = a0 + aRow;
        int a2 = a1 + aRow;
        int a3 = a2 + aRow;
        for (int p = 0, ap = 0, bp = b0; p < k; p++, ap += aCol, bp += bRow) {
            FloatVector b0v = FloatVector.fromArray(S, b, bp);
            FloatVector b1v = FloatVector.fromArray(S, b, bp + l);
            FloatVector x = FloatVector.broadcast(S, a[a0 + ap]);
            c00 = b0v.fma(x, c00);
            c01 = b1v.fma(x, c01);
            x = FloatVector.broadcast(S, a[a1 + ap]);
            c10 = b0v.fma(x, c10);
            c11 = b1v.fma(x, c11);
            x = FloatVector.broadcast(S, a[a2 + ap]);
            c20 = b0v.fma(x, c20);
            c21 = b1v.fma(x, c21);
            x = FloatVector.broadcast(S, a[a3 + ap]);
            c30 = b0v.fma(x, c30);
            c31 = b1v.fma(x, c31);
        }
        c00.intoArray(o, o0);
        c01.intoArray(o, o0 + l);
        c10.intoArray(o, o0 + oRow);
        c11.intoArray(o, o0 + oRow + l);
        c20.intoArray(o, o0 + 2 * oRow);
        c21.intoArray(o, o0 + 2 * oRow + l);
        c30.intoArray(o, o0 + 3 * oRow);
        c31.intoArray(o, o0 + 3 * oRow + l);
    }

    private static void block4x1(float[] a, int a0, int aRow, int aCol, float[] b, int b0, int bRow,
                                 float[] o, int o0, int oRow, int k, VectorMask<Float> mask) {
        FloatVector c0 = FloatVector.zero(S), c1 = FloatVector.zero(S);
        FloatVector c2 = FloatVector.zero(S), c3 = FloatVector.zero(S);
        int a1 = a0 + aRow;
        int a2 = a1 + aRow;
        int a3 = a2 + aRow;
        for (int p = 0, ap = 0, bp = b0; p < k; p++, ap += aCol, bp += bRow) {
            FloatVector bv = FloatVector.fromArray(S, b, bp, mask);
            c0 = bv.fma(FloatVector.broadcast(S, a[a0 + ap]), c0);
            c1 = bv.fma(FloatVector.broadcast(S, a[a1 + ap]), c1);
            c2 = bv.fma(FloatVector.broadcast(S, a[a2 + ap]), c2);
            c3 = bv.fma(FloatVector.broadcast(S, a[a3 + ap]), c3);
        }
        c0.intoArray(o, o0, mask);
        c1.intoArray(o, o0 + oRow, mask);
        c2.intoArray(o, o0 + 2 * oRow, mask);
        c3.intoArray(o, o0 + 3 * oRow, mask);
    }

    private static void block1x2(float[] a, int a0, int aCol, float[] b, int b0, int bRow, float[] o, int o0, int k) {
        int l = S.length();
        FloatVector c0 = FloatVector.zero(S), c1 = FloatVector.zero(S);
        for (int p = 0, ap = a0, bp = b0; p < k; p++, ap += aCol, bp += bRow) {
            FloatVector x = FloatVector.broadcast(S, a[ap]);
            c0 = FloatVector.fromArray(S, b, bp).fma(x, c0);
            c1 = FloatVector.fromArray(S, b, bp + l).fma(x, c1);
        }
        c0.intoArray(o, o0);
        c1.intoArray(o, o0 + l);
    }

    private static void block1x1(float[] a, int a0, int aCol, float[] b, int b0, int bRow, float[] o, int o0, int k,
                                 VectorMask<Float> mask) {
        FloatVector c = FloatVector.zero(S);
        for (int p = 0, ap = a0, bp = b0; p < k; p++, ap += aCol, bp += bRow) {
            c = FloatVector.fromArray(S, b, bp, mask).fma(FloatVector.broadcast(S, a[ap]), c);
        }
        c.intoArray(o, o0, mask);
    }

    /**
     * Rows of {@code a} and columns of {@code b} contiguous ({@code a @ w.T}, or a matrix-vector
     * product): each output is a dot product along {@code p}, four columns at a time so one load of
     * {@code a} feeds four accumulators.
     */
    static void dots(float[] a, int aOff, int aRow, float[] b, int bOff, int bCol, float[] o, int oOff, int oRow,
                     int m, int n, int k) {
        for (int i = 0; i < m; i++) {
            int ai = aOff + i * aRow;
            int oi = oOff + i * oRow;
            int j = 0;
            for (; j + 4 <= n; j += 4) {
                dot4(a, ai, b, bOff + j * bCol, bCol, o, oi + j, k);
            }
            for (; j < n; j++) {
                o[oi + j] = dot(a, ai, b, bOff + j * bCol, k);
            }
        }
    }

    private static void dot4(float[] a, int ai, float[] b, int b0, int bCol, float[] o, int o0, int k) {
        int l = S.length();
        int bound = S.loopBound(k);
        int b1 = b0 + bCol;
        int b2 = b1 + bCol;
        int b3 = b2 + bCol;
        FloatVector c0 = FloatVector.zero(S), c1 = FloatVector.zero(S);
        FloatVector c2 = FloatVector.zero(S), c3 = FloatVector.zero(S);
        for (int p = 0; p < bound; p += l) {
            FloatVector x = FloatVector.fromArray(S, a, ai + p);
            c0 = FloatVector.fromArray(S, b, b0 + p).fma(x, c0);
            c1 = FloatVector.fromArray(S, b, b1 + p).fma(x, c1);
            c2 = FloatVector.fromArray(S, b, b2 + p).fma(x, c2);
            c3 = FloatVector.fromArray(S, b, b3 + p).fma(x, c3);
        }
        float s0 = c0.reduceLanes(VectorOperators.ADD);
        float s1 = c1.reduceLanes(VectorOperators.ADD);
        float s2 = c2.reduceLanes(VectorOperators.ADD);
        float s3 = c3.reduceLanes(VectorOperators.ADD);
        for (int p = bound; p < k; p++) {
            float x = a[ai + p];
            s0 = Math.fma(x, b[b0 + p], s0);
            s1 = Math.fma(x, b[b1 + p], s1);
            s2 = Math.fma(x, b[b2 + p], s2);
            s3 = Math.fma(x, b[b3 + p], s3);
        }
        o[o0] = s0;
        o[o0 + 1] = s1;
        o[o0 + 2] = s2;
        o[o0 + 3] = s3;
    }

    private static float dot(float[] a, int ai, float[] b, int bj, int k) {
        int l = S.length();
        int bound = S.loopBound(k);
        FloatVector c = FloatVector.zero(S);
        for (int p = 0; p < bound; p += l) {
            c = FloatVector.fromArray(S, b, bj + p).fma(FloatVector.fromArray(S, a, ai + p), c);
        }
        float s = c.reduceLanes(VectorOperators.ADD);
        for (int p = bound; p < k; p++) {
            s = Math.fma(a[ai + p], b[bj + p], s);
        }
        return s;
    }
}
