package dev.adjoint.engine.simd;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * FLOAT64 matrix products for one matrix of a batch, {@code o[m, n] = a[m, k] @ b[k, n]}, output
 * rows contiguous. Products accumulate with fused multiply-adds.
 * Mirrors {@link FloatMatmul}; keep the two in step.
 */
final class DoubleMatmul {
    private static final VectorSpecies<Double> S = DoubleVector.SPECIES_PREFERRED;

    private DoubleMatmul() {
    }

    /**
     * Rows of {@code b} contiguous (column stride 1), {@code a} any strides. A register block of
     * 4 rows x 2 vectors of output lives in 8 accumulators while {@code p} runs over {@code k}: each
     * step loads two vectors of a row of {@code b} and broadcasts four elements of {@code a}. Column
     * tails take masked vectors, row tails a 1-row block. No packing or cache blocking yet.
     */
    static void rowsOfB(double[] a, int aOff, int aRow, int aCol, double[] b, int bOff, int bRow,
                        double[] o, int oOff, int oRow, int m, int n, int k) {
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

    private static void block4x2(double[] a, int a0, int aRow, int aCol, double[] b, int b0, int bRow,
                                 double[] o, int o0, int oRow, int k) {
        int l = S.length();
        DoubleVector c00 = DoubleVector.zero(S), c01 = DoubleVector.zero(S);
        DoubleVector c10 = DoubleVector.zero(S), c11 = DoubleVector.zero(S);
        DoubleVector c20 = DoubleVector.zero(S), c21 = DoubleVector.zero(S);
        DoubleVector c30 = DoubleVector.zero(S), c31 = DoubleVector.zero(S);
        int a1 = a0 + aRow;
        int a2 = a1 + aRow;
        int a3 = a2 + aRow;
        for (int p = 0, ap = 0, bp = b0; p < k; p++, ap += aCol, bp += bRow) {
            DoubleVector b0v = DoubleVector.fromArray(S, b, bp);
            DoubleVector b1v = DoubleVector.fromArray(S, b, bp + l);
            DoubleVector x = DoubleVector.broadcast(S, a[a0 + ap]);
            c00 = b0v.fma(x, c00);
            c01 = b1v.fma(x, c01);
            x = DoubleVector.broadcast(S, a[a1 + ap]);
            c10 = b0v.fma(x, c10);
            c11 = b1v.fma(x, c11);
            x = DoubleVector.broadcast(S, a[a2 + ap]);
            c20 = b0v.fma(x, c20);
            c21 = b1v.fma(x, c21);
            x = DoubleVector.broadcast(S, a[a3 + ap]);
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

    private static void block4x1(double[] a, int a0, int aRow, int aCol, double[] b, int b0, int bRow,
                                 double[] o, int o0, int oRow, int k, VectorMask<Double> mask) {
        DoubleVector c0 = DoubleVector.zero(S), c1 = DoubleVector.zero(S);
        DoubleVector c2 = DoubleVector.zero(S), c3 = DoubleVector.zero(S);
        int a1 = a0 + aRow;
        int a2 = a1 + aRow;
        int a3 = a2 + aRow;
        for (int p = 0, ap = 0, bp = b0; p < k; p++, ap += aCol, bp += bRow) {
            DoubleVector bv = DoubleVector.fromArray(S, b, bp, mask);
            c0 = bv.fma(DoubleVector.broadcast(S, a[a0 + ap]), c0);
            c1 = bv.fma(DoubleVector.broadcast(S, a[a1 + ap]), c1);
            c2 = bv.fma(DoubleVector.broadcast(S, a[a2 + ap]), c2);
            c3 = bv.fma(DoubleVector.broadcast(S, a[a3 + ap]), c3);
        }
        c0.intoArray(o, o0, mask);
        c1.intoArray(o, o0 + oRow, mask);
        c2.intoArray(o, o0 + 2 * oRow, mask);
        c3.intoArray(o, o0 + 3 * oRow, mask);
    }

    private static void block1x2(double[] a, int a0, int aCol, double[] b, int b0, int bRow, double[] o, int o0, int k) {
        int l = S.length();
        DoubleVector c0 = DoubleVector.zero(S), c1 = DoubleVector.zero(S);
        for (int p = 0, ap = a0, bp = b0; p < k; p++, ap += aCol, bp += bRow) {
            DoubleVector x = DoubleVector.broadcast(S, a[ap]);
            c0 = DoubleVector.fromArray(S, b, bp).fma(x, c0);
            c1 = DoubleVector.fromArray(S, b, bp + l).fma(x, c1);
        }
        c0.intoArray(o, o0);
        c1.intoArray(o, o0 + l);
    }

    private static void block1x1(double[] a, int a0, int aCol, double[] b, int b0, int bRow, double[] o, int o0, int k,
                                 VectorMask<Double> mask) {
        DoubleVector c = DoubleVector.zero(S);
        for (int p = 0, ap = a0, bp = b0; p < k; p++, ap += aCol, bp += bRow) {
            c = DoubleVector.fromArray(S, b, bp, mask).fma(DoubleVector.broadcast(S, a[ap]), c);
        }
        c.intoArray(o, o0, mask);
    }

    /**
     * Rows of {@code a} and columns of {@code b} contiguous ({@code a @ w.T}, or a matrix-vector
     * product): each output is a dot product along {@code p}, four columns at a time so one load of
     * {@code a} feeds four accumulators.
     */
    static void dots(double[] a, int aOff, int aRow, double[] b, int bOff, int bCol, double[] o, int oOff, int oRow,
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

    private static void dot4(double[] a, int ai, double[] b, int b0, int bCol, double[] o, int o0, int k) {
        int l = S.length();
        int bound = S.loopBound(k);
        int b1 = b0 + bCol;
        int b2 = b1 + bCol;
        int b3 = b2 + bCol;
        DoubleVector c0 = DoubleVector.zero(S), c1 = DoubleVector.zero(S);
        DoubleVector c2 = DoubleVector.zero(S), c3 = DoubleVector.zero(S);
        for (int p = 0; p < bound; p += l) {
            DoubleVector x = DoubleVector.fromArray(S, a, ai + p);
            c0 = DoubleVector.fromArray(S, b, b0 + p).fma(x, c0);
            c1 = DoubleVector.fromArray(S, b, b1 + p).fma(x, c1);
            c2 = DoubleVector.fromArray(S, b, b2 + p).fma(x, c2);
            c3 = DoubleVector.fromArray(S, b, b3 + p).fma(x, c3);
        }
        double s0 = c0.reduceLanes(VectorOperators.ADD);
        double s1 = c1.reduceLanes(VectorOperators.ADD);
        double s2 = c2.reduceLanes(VectorOperators.ADD);
        double s3 = c3.reduceLanes(VectorOperators.ADD);
        for (int p = bound; p < k; p++) {
            double x = a[ai + p];
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

    private static double dot(double[] a, int ai, double[] b, int bj, int k) {
        int l = S.length();
        int bound = S.loopBound(k);
        DoubleVector c = DoubleVector.zero(S);
        for (int p = 0; p < bound; p += l) {
            c = DoubleVector.fromArray(S, b, bj + p).fma(DoubleVector.fromArray(S, a, ai + p), c);
        }
        double s = c.reduceLanes(VectorOperators.ADD);
        for (int p = bound; p < k; p++) {
            s = Math.fma(a[ai + p], b[bj + p], s);
        }
        return s;
    }
}
