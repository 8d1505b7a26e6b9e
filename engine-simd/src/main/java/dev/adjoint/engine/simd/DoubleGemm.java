package dev.adjoint.engine.simd;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorSpecies;

import static dev.adjoint.engine.simd.GemmBlocking.roundUp;

/**
 * FLOAT64 packed GEMM for one matrix (or one rectangle of it), {@code o[m, n] = a[m, k] @ b[k, n]},
 * output rows contiguous, {@code a} and {@code b} with any strides. The BLIS loop nest: for each
 * {@code NC}-wide block of columns and {@code KC}-deep pass, B is packed into {@code KC x NR}
 * micro-panels; for each {@code MC}-row block A is packed into {@code MR x KC} micro-panels; then an
 * {@code MR x NR} register block of the output is computed per pair of micro-panels. Transposed
 * operands only change how the packing reads them. Products accumulate in double with fused
 * multiply-adds, as BLAS dgemm does. Mirrors {@link FloatGemm}; keep the two in step.
 *
 * <p>Runs on the calling thread; {@link MatmulThreads} splits large products into rectangles and
 * calls this once per rectangle. Packing buffers are per thread and grow to the largest block seen,
 * so a steady stream of products allocates nothing here.
 */
final class DoubleGemm {
    private static final VectorSpecies<Double> S = DoubleVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /**
     * The register block: MR rows x 2 vectors. The same shape as {@link FloatGemm}'s: with 512-bit vectors, 16 accumulators, two
     * vectors of B and a broadcast of A: 19 of the 32 zmm registers, and 16 independent FMA chains,
     * enough to cover the FMA latency (4 cycles) on both FMA pipes. Measured against 12 x 2, 6 x 3,
     * 8 x 3, 4 x 4 and 6 x 4 on Zen 5 (docs/benchmarks.md): none faster, 8 x 3 much slower (spills).
     */
    static final int MR = 8;
    static final int NR = 2 * L;
    static final int KC = GemmBlocking.kc(NR * Double.BYTES);
    static final int MC = GemmBlocking.mc(KC, Double.BYTES, MR);
    static final int NC = GemmBlocking.nc(KC, Double.BYTES, NR);

    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

    /** One thread's packing space; grown, never shrunk. */
    private static final class Buffers {
        double[] a = new double[0];
        double[] b = new double[0];
        /** An edge block is computed here in full and then only its valid part is written out. */
        final double[] tile = new double[MR * NR];

        double[] a(int size) {
            if (a.length < size) {
                a = new double[size];
            }
            return a;
        }

        double[] b(int size) {
            if (b.length < size) {
                b = new double[size];
            }
            return b;
        }
    }

    private DoubleGemm() {
    }

    static void multiply(double[] a, int aOff, int aRow, int aCol, double[] b, int bOff, int bRow, int bCol,
                         double[] o, int oOff, int oRow, int m, int n, int k) {
        if (m == 0 || n == 0) {
            return;
        }
        if (k == 0) {
            for (int i = 0; i < m; i++) {
                java.util.Arrays.fill(o, oOff + i * oRow, oOff + i * oRow + n, 0.0);
            }
            return;
        }
        Buffers buffers = BUFFERS.get();
        double[] pa = buffers.a(Math.min(MC, roundUp(m, MR)) * Math.min(KC, k));
        double[] pb = buffers.b(Math.min(NC, roundUp(n, NR)) * Math.min(KC, k));
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                packB(b, bOff + pc * bRow + jc * bCol, bRow, bCol, kc, nc, pb);
                for (int ic = 0; ic < m; ic += MC) {
                    int mc = Math.min(MC, m - ic);
                    packA(a, aOff + ic * aRow + pc * aCol, aRow, aCol, mc, kc, pa);
                    // The first pass over k writes the output, later passes add to it.
                    macroKernel(pa, pb, mc, nc, kc, o, oOff + ic * oRow + jc, oRow, pc > 0, buffers.tile);
                }
            }
        }
    }

    /** Every B micro-panel (kept in L1) against every A micro-panel of the block (streamed from L2). */
    private static void macroKernel(double[] pa, double[] pb, int mc, int nc, int kc, double[] o, int o0, int oRow,
                                    boolean add, double[] tile) {
        for (int jr = 0; jr < nc; jr += NR) {
            int nr = Math.min(NR, nc - jr);
            for (int ir = 0; ir < mc; ir += MR) {
                int mr = Math.min(MR, mc - ir);
                int c0 = o0 + ir * oRow + jr;
                if (mr == MR && nr == NR) {
                    microKernel(kc, pa, ir * kc, pb, jr * kc, o, c0, oRow, add);
                } else {
                    microKernel(kc, pa, ir * kc, pb, jr * kc, tile, 0, NR, false);
                    writeTile(tile, mr, nr, o, c0, oRow, add);
                }
            }
        }
    }

    /**
     * {@code c[0..MR, 0..NR] (+)= A micro-panel @ B micro-panel}. Each step of {@code p} loads one
     * row of the B panel (two vectors) and broadcasts MR elements of a column of the A panel.
     */
    private static void microKernel(int kc, double[] pa, int a0, double[] pb, int b0, double[] c, int c0, int cRow,
                                    boolean add) {
        DoubleVector c00 = DoubleVector.zero(S), c01 = DoubleVector.zero(S);
        DoubleVector c10 = DoubleVector.zero(S), c11 = DoubleVector.zero(S);
        DoubleVector c20 = DoubleVector.zero(S), c21 = DoubleVector.zero(S);
        DoubleVector c30 = DoubleVector.zero(S), c31 = DoubleVector.zero(S);
        DoubleVector c40 = DoubleVector.zero(S), c41 = DoubleVector.zero(S);
        DoubleVector c50 = DoubleVector.zero(S), c51 = DoubleVector.zero(S);
        DoubleVector c60 = DoubleVector.zero(S), c61 = DoubleVector.zero(S);
        DoubleVector c70 = DoubleVector.zero(S), c71 = DoubleVector.zero(S);
        for (int p = 0; p < kc; p++) {
            // Indices linear in p, so C2 hoists every bounds check out of the loop.
            int ai = a0 + p * MR;
            int bi = b0 + p * NR;
            DoubleVector b0v = DoubleVector.fromArray(S, pb, bi);
            DoubleVector b1v = DoubleVector.fromArray(S, pb, bi + L);
            DoubleVector x = DoubleVector.broadcast(S, pa[ai]);
            c00 = b0v.fma(x, c00);
            c01 = b1v.fma(x, c01);
            x = DoubleVector.broadcast(S, pa[ai + 1]);
            c10 = b0v.fma(x, c10);
            c11 = b1v.fma(x, c11);
            x = DoubleVector.broadcast(S, pa[ai + 2]);
            c20 = b0v.fma(x, c20);
            c21 = b1v.fma(x, c21);
            x = DoubleVector.broadcast(S, pa[ai + 3]);
            c30 = b0v.fma(x, c30);
            c31 = b1v.fma(x, c31);
            x = DoubleVector.broadcast(S, pa[ai + 4]);
            c40 = b0v.fma(x, c40);
            c41 = b1v.fma(x, c41);
            x = DoubleVector.broadcast(S, pa[ai + 5]);
            c50 = b0v.fma(x, c50);
            c51 = b1v.fma(x, c51);
            x = DoubleVector.broadcast(S, pa[ai + 6]);
            c60 = b0v.fma(x, c60);
            c61 = b1v.fma(x, c61);
            x = DoubleVector.broadcast(S, pa[ai + 7]);
            c70 = b0v.fma(x, c70);
            c71 = b1v.fma(x, c71);
        }
        // Written out rather than through a helper: a vector passed to a call C2 does not inline is
        // boxed, an allocation per accumulator per call (measured: 15 MB per 1024^3 product).
        if (add) {
            c00 = c00.add(DoubleVector.fromArray(S, c, c0));
            c01 = c01.add(DoubleVector.fromArray(S, c, c0 + L));
            c10 = c10.add(DoubleVector.fromArray(S, c, c0 + cRow));
            c11 = c11.add(DoubleVector.fromArray(S, c, c0 + cRow + L));
            c20 = c20.add(DoubleVector.fromArray(S, c, c0 + 2 * cRow));
            c21 = c21.add(DoubleVector.fromArray(S, c, c0 + 2 * cRow + L));
            c30 = c30.add(DoubleVector.fromArray(S, c, c0 + 3 * cRow));
            c31 = c31.add(DoubleVector.fromArray(S, c, c0 + 3 * cRow + L));
            c40 = c40.add(DoubleVector.fromArray(S, c, c0 + 4 * cRow));
            c41 = c41.add(DoubleVector.fromArray(S, c, c0 + 4 * cRow + L));
            c50 = c50.add(DoubleVector.fromArray(S, c, c0 + 5 * cRow));
            c51 = c51.add(DoubleVector.fromArray(S, c, c0 + 5 * cRow + L));
            c60 = c60.add(DoubleVector.fromArray(S, c, c0 + 6 * cRow));
            c61 = c61.add(DoubleVector.fromArray(S, c, c0 + 6 * cRow + L));
            c70 = c70.add(DoubleVector.fromArray(S, c, c0 + 7 * cRow));
            c71 = c71.add(DoubleVector.fromArray(S, c, c0 + 7 * cRow + L));
        }
        c00.intoArray(c, c0);
        c01.intoArray(c, c0 + L);
        c10.intoArray(c, c0 + cRow);
        c11.intoArray(c, c0 + cRow + L);
        c20.intoArray(c, c0 + 2 * cRow);
        c21.intoArray(c, c0 + 2 * cRow + L);
        c30.intoArray(c, c0 + 3 * cRow);
        c31.intoArray(c, c0 + 3 * cRow + L);
        c40.intoArray(c, c0 + 4 * cRow);
        c41.intoArray(c, c0 + 4 * cRow + L);
        c50.intoArray(c, c0 + 5 * cRow);
        c51.intoArray(c, c0 + 5 * cRow + L);
        c60.intoArray(c, c0 + 6 * cRow);
        c61.intoArray(c, c0 + 6 * cRow + L);
        c70.intoArray(c, c0 + 7 * cRow);
        c71.intoArray(c, c0 + 7 * cRow + L);
    }

    private static void writeTile(double[] tile, int mr, int nr, double[] o, int c0, int oRow, boolean add) {
        for (int i = 0; i < mr; i++) {
            int t = i * NR;
            int c = c0 + i * oRow;
            for (int j = 0; j < nr; j++) {
                o[c + j] = add ? o[c + j] + tile[t + j] : tile[t + j];
            }
        }
    }

    /**
     * B rows {@code [0, kc)} and columns {@code [0, nc)} from {@code b0} into micro-panels of NR
     * columns, each stored row after row ({@code kc x NR}), the last one padded with zeros. Reads
     * rows of B two vectors at a time when columns are contiguous, otherwise column by column
     * (contiguous for a transposed B).
     */
    private static void packB(double[] b, int b0, int bRow, int bCol, int kc, int nc, double[] pb) {
        for (int jr = 0; jr < nc; jr += NR) {
            int nr = Math.min(NR, nc - jr);
            int dst = jr * kc;
            int src = b0 + jr * bCol;
            if (bCol == 1 && nr == NR) {
                for (int p = 0; p < kc; p++, dst += NR, src += bRow) {
                    DoubleVector.fromArray(S, b, src).intoArray(pb, dst);
                    DoubleVector.fromArray(S, b, src + L).intoArray(pb, dst + L);
                }
            } else {
                for (int j = 0; j < NR; j++) {
                    packStrided(b, src + j * bCol, bRow, j < nr, kc, pb, dst + j, NR);
                }
            }
        }
    }

    /**
     * A rows {@code [0, mc)} and columns {@code [0, kc)} from {@code a0} into micro-panels of MR rows,
     * each stored column after column ({@code kc x MR}), the last one padded with zeros. Row by row
     * (contiguous reads for a row-major A) or, for a transposed A, MR contiguous elements per column.
     */
    private static void packA(double[] a, int a0, int aRow, int aCol, int mc, int kc, double[] pa) {
        for (int ir = 0; ir < mc; ir += MR) {
            int mr = Math.min(MR, mc - ir);
            int dst = ir * kc;
            int src = a0 + ir * aRow;
            if (aRow == 1 && mr == MR) {
                for (int p = 0; p < kc; p++, dst += MR, src += aCol) {
                    System.arraycopy(a, src, pa, dst, MR);
                }
            } else {
                for (int i = 0; i < MR; i++) {
                    packStrided(a, src + i * aRow, aCol, i < mr, kc, pa, dst + i, MR);
                }
            }
        }
    }

    /** {@code count} elements {@code step} apart from {@code src} (or zeros) to every {@code gap}-th slot of {@code dst}. */
    private static void packStrided(double[] from, int src, int step, boolean valid, int count, double[] to, int dst,
                                    int gap) {
        if (valid) {
            for (int p = 0; p < count; p++, src += step, dst += gap) {
                to[dst] = from[src];
            }
        } else {
            for (int p = 0; p < count; p++, dst += gap) {
                to[dst] = 0.0;
            }
        }
    }
}
