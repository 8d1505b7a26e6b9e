package dev.adjoint.engine.simd;

import dev.adjoint.spi.Layout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import static dev.adjoint.engine.simd.GemmBlocking.roundUp;

/**
 * FLOAT32 packed GEMM for a batch of matrices, {@code o[m, n] = a[m, k] @ b[k, n]},
 * output rows contiguous, {@code a} and {@code b} with any strides. The BLIS loop nest: for each
 * {@code NC}-wide block of columns and {@code KC}-deep pass, B is packed into {@code KC x NR}
 * micro-panels; for each {@code MC}-row block A is packed into {@code MR x KC} micro-panels; then an
 * {@code MR x NR} register block of the output is computed per pair of micro-panels. Transposed
 * operands only change how the packing reads them. Products accumulate in float with fused
 * multiply-adds, as BLAS sgemm does (the error grows like {@code k * ulp} of the sum of |products|).
 * {@link DoubleGemm} mirrors this class; keep the two in step.
 *
 * <p>The work is cut into {@link MatmulThreads} tickets ({@link Product}), run by the calling
 * thread alone or with the helper threads. Packing buffers and the product itself are per thread
 * and grow to the largest block seen, so a steady stream of products allocates nothing here.
 */
final class FloatGemm {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /**
     * The register block: MR rows x 2 vectors. With 512-bit vectors (AVX-512: 32 registers) 8 rows:
     * 16 accumulators, two vectors of B and a broadcast of A, 19 of the 32 zmm registers, and 16
     * independent FMA chains, enough to cover the FMA latency (4 cycles) on both FMA pipes. Measured
     * against 12 x 2, 6 x 3, 8 x 3, 4 x 4 and 6 x 4 on Zen 5 (docs/benchmarks.md): none faster, 8 x 3
     * much slower (spills). Narrower vectors mean AVX2's 16 ymm registers (or NEON's 32 of 128 bits),
     * where 8 x 2 would spill: 6 rows, 12 accumulators + 3 = 15 registers, the classic Haswell block.
     */
    static final int MR = S.vectorBitSize() >= 512 ? 8 : 6;
    static final int NR = 2 * L;
    static final int KC = GemmBlocking.kc(NR * Float.BYTES);
    static final int MC = GemmBlocking.mc(KC, Float.BYTES, MR);
    static final int NC = GemmBlocking.nc(KC, Float.BYTES, NR);

    /** An MR-long column of a transposed A, copied in one vector when the hardware has one that wide. */
    private static final VectorSpecies<Float> A8 = MR == 8 && S.vectorBitSize() >= 8 * Float.SIZE
            ? VectorSpecies.of(float.class, VectorShape.forBitSize(8 * Float.SIZE)) : S;
    /**
     * Two-vector shuffles of the in-register transposes: {@code LOg} interleaves groups of g elements
     * from the low halves of two vectors, {@code HIg} from the high halves (null where g > L / 2).
     */
    private static final VectorShuffle<Float> LO1 = interleave(1, 0), HI1 = interleave(1, L / 2);
    private static final VectorShuffle<Float> LO2 = interleave(2, 0), HI2 = interleave(2, L / 2);
    private static final VectorShuffle<Float> LO4 = interleave(4, 0), HI4 = interleave(4, L / 2);
    private static final VectorShuffle<Float> LO8 = interleave(8, 0), HI8 = interleave(8, L / 2);

    private static VectorShuffle<Float> interleave(int g, int from) {
        if (g > L / 2) {
            return null;
        }
        int[] lanes = new int[L];
        for (int j = 0; j < L; j++) {
            int group = j / (2 * g);
            int within = j % (2 * g);
            // Lanes L..2L-1 name the second vector of a two-vector rearrange.
            lanes[j] = within < g ? from + group * g + within : L + from + group * g + within - g;
        }
        return VectorShuffle.fromArray(S, lanes, 0);
    }

    /** Tickets per thread in each phase of a shared-B product. */
    private static final int CHUNKS_PER_THREAD = 4;
    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);
    private static final ThreadLocal<Product> PRODUCTS = ThreadLocal.withInitial(Product::new);

    /** One thread's packing space; grown, never shrunk. */
    private static final class Buffers {
        float[] a = new float[0];
        float[] b = new float[0];
        /** An edge block is computed here in full and then only its valid part is written out. */
        final float[] tile = new float[MR * NR];

        float[] a(int size) {
            if (a.length < size) {
                a = new float[size];
            }
            return a;
        }

        float[] b(int size) {
            if (b.length < size) {
                b = new float[size];
            }
            return b;
        }
    }

    private FloatGemm() {
    }

    /**
     * {@code o[m, n] = a[m, k] @ b[k, n]} for every matrix of a batch (the leading {@code batchRank}
     * dims of {@code outLayout}, row-major; none for a single product),
     * each starting where the three layouts say, on up to {@code threads} threads: a batch at least as
     * long as the thread count is shared out as whole matrices; otherwise the threads work on one
     * matrix at a time, in independent column blocks or sharing each packed pass of B (see
     * {@link Product}).
     */
    static void multiply(float[] a, Layout aLayout, int aRow, int aCol, float[] b, Layout bLayout, int bRow, int bCol,
                         float[] o, Layout outLayout, int oRow, int m, int n, int k, int batchRank, int batches,
                         int threads) {
        Product p = PRODUCTS.get();
        p.set(a, aRow, aCol, b, bRow, bCol, o, oRow, m, n, k, batches, threads);
        for (int t = 0; t < batches; t++) {
            p.aAt[t] = SimdBackend.batchOffset(outLayout, batchRank, aLayout, t);
            p.bAt[t] = SimdBackend.batchOffset(outLayout, batchRank, bLayout, t);
            p.oAt[t] = SimdBackend.batchOffset(outLayout, batchRank, outLayout, t);
        }
        MatmulThreads.run(p, threads);
    }

    /**
     * A batched product as {@link MatmulThreads} tickets; one per calling thread, reused. Three modes:
     * <ul>
     *   <li>whole matrices: a ticket per matrix of the batch (one thread, or a batch at least as long
     *       as the thread count);</li>
     *   <li>columns: one matrix at a time, a ticket per block of columns (multiples of NR), each
     *       packing its own A and its own columns of B: nothing shared, no phase to wait for. For
     *       outputs at least twice as wide as tall (the MLP's {@code x @ w.T} and {@code dy.T @ x}),
     *       where A is the small operand, so packing it once per thread costs little;</li>
     *   <li>shared B: one matrix at a time; for each NC block of columns and pass over k,
     *       {@code packChunks} tickets pack that pass of B into {@link #pb} together, then
     *       {@code computeChunks} tickets each pack their own rows of A and multiply them against
     *       it. For tall and square outputs, where B would otherwise be packed once per thread.</li>
     * </ul>
     */
    private static final class Product extends MatmulThreads.Job {
        float[] a, b, o;
        int[] aAt = new int[1], bAt = new int[1], oAt = new int[1];
        int aRow, aCol, bRow, bCol, oRow, m, n, k, batches;
        /** Depth of a pass: k split into equal passes of at most KC, so no pass is a sliver. */
        int kc, kBlocks, nBlocks;
        /** True when each ticket is a whole matrix, on the thread's own buffers. */
        boolean whole;
        /** Independent column blocks (else shared B), when not whole. */
        boolean columns;
        int packChunks, computeChunks;
        float[] pb = new float[0];

        void set(float[] a, int aRow, int aCol, float[] b, int bRow, int bCol, float[] o, int oRow,
                 int m, int n, int k, int batches, int threads) {
            this.a = a;
            this.b = b;
            this.o = o;
            this.aRow = aRow;
            this.aCol = aCol;
            this.bRow = bRow;
            this.bCol = bCol;
            this.oRow = oRow;
            this.m = m;
            this.n = n;
            this.k = k;
            this.batches = batches;
            if (aAt.length < batches) {
                aAt = new int[batches];
                bAt = new int[batches];
                oAt = new int[batches];
            }
            int passes = Math.max(1, (k + KC - 1) / KC);
            // Rounded to 16 so the in-register transposes of the packing cover whole passes.
            kc = Math.min(KC, roundUp(Math.max(1, (k + passes - 1) / passes), 16));
            kBlocks = Math.max(1, (k + kc - 1) / kc);
            nBlocks = (n + NC - 1) / NC;
            whole = threads <= 1 || batches >= threads || m == 0 || n == 0 || k == 0;
            columns = !whole && (2 * m <= n || m < 2 * MR * threads);
            // Columns: one block per thread, as each packs all of A. Shared B: a few blocks of rows (and
            // of B panels) per thread, so that a helper that starts late or loses its core to another
            // process holds back little; A is packed once per pass either way.
            computeChunks = columns ? threads : Math.min(CHUNKS_PER_THREAD * threads, (m + MR - 1) / MR);
            if (!whole && !columns) {
                packChunks = Math.min(CHUNKS_PER_THREAD * threads, (Math.min(NC, n) + NR - 1) / NR);
                int size = roundUp(Math.min(NC, n), NR) * Math.min(kc, k);
                if (pb.length < size) {
                    pb = new float[size];
                }
            }
        }

        @Override
        int tickets() {
            return whole ? batches : columns ? batches * computeChunks
                    : batches * nBlocks * kBlocks * (packChunks + computeChunks);
        }

        @Override
        int phaseStart(int ticket) {
            if (whole || columns) {
                return 0;
            }
            int r = ticket % (packChunks + computeChunks);
            return ticket - (r < packChunks ? r : r - packChunks);
        }

        @Override
        void run(int ticket) {
            Buffers buffers = BUFFERS.get();
            if (whole) {
                one(aAt[ticket], bAt[ticket], oAt[ticket], n, buffers);
                return;
            }
            if (columns) {
                int t = ticket / computeChunks;
                int c = ticket % computeChunks;
                int from = MatmulThreads.from(n, c, computeChunks, NR);
                int to = MatmulThreads.from(n, c + 1, computeChunks, NR);
                if (from < to) {
                    one(aAt[t], bAt[t] + from * bCol, oAt[t] + from, to - from, buffers);
                }
                return;
            }
            int perStep = packChunks + computeChunks;
            int step = ticket / perStep;
            int r = ticket % perStep;
            int t = step / (nBlocks * kBlocks);
            int jc = step / kBlocks % nBlocks * NC;
            int pc = step % kBlocks * kc;
            int nc = Math.min(NC, n - jc);
            int kcc = Math.min(kc, k - pc);
            if (r < packChunks) {
                int from = MatmulThreads.from(nc, r, packChunks, NR);
                int to = MatmulThreads.from(nc, r + 1, packChunks, NR);
                packB(b, bAt[t] + pc * bRow + jc * bCol, bRow, bCol, kcc, from, to, pb);
                return;
            }
            int c = r - packChunks;
            int rows0 = MatmulThreads.from(m, c, computeChunks, MR);
            int rows1 = MatmulThreads.from(m, c + 1, computeChunks, MR);
            block(aAt[t] + pc * aCol, oAt[t] + jc, rows0, rows1, 0, nc, kcc, pc > 0, pb, buffers);
        }

        /** One whole matrix (or its first {@code n} columns from the offsets given) on this thread. */
        private void one(int aOff, int bOff, int oOff, int n, Buffers buffers) {
            if (m == 0 || n == 0) {
                return;
            }
            if (k == 0) {
                for (int i = 0; i < m; i++) {
                    java.util.Arrays.fill(o, oOff + i * oRow, oOff + i * oRow + n, 0f);
                }
                return;
            }
            float[] pbOwn = buffers.b(roundUp(Math.min(NC, n), NR) * Math.min(kc, k));
            for (int jc = 0; jc < n; jc += NC) {
                int nc = Math.min(NC, n - jc);
                for (int pc = 0; pc < k; pc += kc) {
                    int kcc = Math.min(kc, k - pc);
                    packB(b, bOff + pc * bRow + jc * bCol, bRow, bCol, kcc, 0, nc, pbOwn);
                    block(aOff + pc * aCol, oOff + jc, 0, m, 0, nc, kcc, pc > 0, pbOwn, buffers);
                }
            }
        }

        /**
         * Rows {@code [rows0, rows1)} x columns {@code [cols0, cols1)} of one pass (depth {@code kcc})
         * of an NC block, against the packed B of that pass: A packed MC rows at a time.
         */
        private void block(int a0, int o0, int rows0, int rows1, int cols0, int cols1, int kcc, boolean add,
                           float[] pbUsed, Buffers buffers) {
            if (rows0 >= rows1 || cols0 >= cols1) {
                return;
            }
            float[] pa = buffers.a(Math.min(MC, roundUp(rows1 - rows0, MR)) * kcc);
            for (int ic = rows0; ic < rows1; ic += MC) {
                int mc = Math.min(MC, rows1 - ic);
                packA(a, a0 + ic * aRow, aRow, aCol, mc, kcc, pa);
                macroKernel(pa, pbUsed, cols0 * kcc, mc, cols1 - cols0, kcc, o, o0 + ic * oRow + cols0, oRow, add,
                        buffers.tile);
            }
        }
    }

    /** Every B micro-panel (kept in L1) against every A micro-panel of the block (streamed from L2). */
    private static void macroKernel(float[] pa, float[] pb, int pb0, int mc, int nc, int kc, float[] o, int o0,
                                    int oRow, boolean add, float[] tile) {
        for (int jr = 0; jr < nc; jr += NR) {
            int nr = Math.min(NR, nc - jr);
            for (int ir = 0; ir < mc; ir += MR) {
                int mr = Math.min(MR, mc - ir);
                int c0 = o0 + ir * oRow + jr;
                if (mr == MR && nr == NR) {
                    microKernel(kc, pa, ir * kc, pb, pb0 + jr * kc, o, c0, oRow, add);
                } else {
                    microKernel(kc, pa, ir * kc, pb, pb0 + jr * kc, tile, 0, NR, false);
                    writeTile(tile, mr, nr, o, c0, oRow, add);
                }
            }
        }
    }

    /**
     * {@code c[0..MR, 0..NR] (+)= A micro-panel @ B micro-panel}, with the kernel of this machine's MR
     * (a constant, so C2 keeps one branch).
     */
    private static void microKernel(int kc, float[] pa, int a0, float[] pb, int b0, float[] c, int c0, int cRow,
                                    boolean add) {
        if (MR == 8) {
            microKernel8(kc, pa, a0, pb, b0, c, c0, cRow, add);
        } else {
            microKernel6(kc, pa, a0, pb, b0, c, c0, cRow, add);
        }
    }

    /**
     * {@code c[0..MR, 0..NR] (+)= A micro-panel @ B micro-panel}. Each step of {@code p} loads one
     * row of the B panel (two vectors) and broadcasts MR elements of a column of the A panel.
     */
    private static void microKernel8(int kc, float[] pa, int a0, float[] pb, int b0, float[] c, int c0, int cRow,
                                    boolean add) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        FloatVector c60 = FloatVector.zero(S), c61 = FloatVector.zero(S);
        FloatVector c70 = FloatVector.zero(S), c71 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            // Indices linear in p, so C2 hoists every bounds check out of the loop.
            int ai = a0 + p * 8;
            int bi = b0 + p * NR;
            FloatVector b0v = FloatVector.fromArray(S, pb, bi);
            FloatVector b1v = FloatVector.fromArray(S, pb, bi + L);
            FloatVector x = FloatVector.broadcast(S, pa[ai]);
            c00 = b0v.fma(x, c00);
            c01 = b1v.fma(x, c01);
            x = FloatVector.broadcast(S, pa[ai + 1]);
            c10 = b0v.fma(x, c10);
            c11 = b1v.fma(x, c11);
            x = FloatVector.broadcast(S, pa[ai + 2]);
            c20 = b0v.fma(x, c20);
            c21 = b1v.fma(x, c21);
            x = FloatVector.broadcast(S, pa[ai + 3]);
            c30 = b0v.fma(x, c30);
            c31 = b1v.fma(x, c31);
            x = FloatVector.broadcast(S, pa[ai + 4]);
            c40 = b0v.fma(x, c40);
            c41 = b1v.fma(x, c41);
            x = FloatVector.broadcast(S, pa[ai + 5]);
            c50 = b0v.fma(x, c50);
            c51 = b1v.fma(x, c51);
            x = FloatVector.broadcast(S, pa[ai + 6]);
            c60 = b0v.fma(x, c60);
            c61 = b1v.fma(x, c61);
            x = FloatVector.broadcast(S, pa[ai + 7]);
            c70 = b0v.fma(x, c70);
            c71 = b1v.fma(x, c71);
        }
        // Written out rather than through a helper: a vector passed to a call C2 does not inline is
        // boxed, an allocation per accumulator per call (measured: 15 MB per 1024^3 product).
        if (add) {
            c00 = c00.add(FloatVector.fromArray(S, c, c0));
            c01 = c01.add(FloatVector.fromArray(S, c, c0 + L));
            c10 = c10.add(FloatVector.fromArray(S, c, c0 + cRow));
            c11 = c11.add(FloatVector.fromArray(S, c, c0 + cRow + L));
            c20 = c20.add(FloatVector.fromArray(S, c, c0 + 2 * cRow));
            c21 = c21.add(FloatVector.fromArray(S, c, c0 + 2 * cRow + L));
            c30 = c30.add(FloatVector.fromArray(S, c, c0 + 3 * cRow));
            c31 = c31.add(FloatVector.fromArray(S, c, c0 + 3 * cRow + L));
            c40 = c40.add(FloatVector.fromArray(S, c, c0 + 4 * cRow));
            c41 = c41.add(FloatVector.fromArray(S, c, c0 + 4 * cRow + L));
            c50 = c50.add(FloatVector.fromArray(S, c, c0 + 5 * cRow));
            c51 = c51.add(FloatVector.fromArray(S, c, c0 + 5 * cRow + L));
            c60 = c60.add(FloatVector.fromArray(S, c, c0 + 6 * cRow));
            c61 = c61.add(FloatVector.fromArray(S, c, c0 + 6 * cRow + L));
            c70 = c70.add(FloatVector.fromArray(S, c, c0 + 7 * cRow));
            c71 = c71.add(FloatVector.fromArray(S, c, c0 + 7 * cRow + L));
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

    /** {@link #microKernel} for 6 rows (MR on machines with 16 vector registers). */
    private static void microKernel6(int kc, float[] pa, int a0, float[] pb, int b0, float[] c, int c0, int cRow,
                                    boolean add) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            // Indices linear in p, so C2 hoists every bounds check out of the loop.
            int ai = a0 + p * 6;
            int bi = b0 + p * NR;
            FloatVector b0v = FloatVector.fromArray(S, pb, bi);
            FloatVector b1v = FloatVector.fromArray(S, pb, bi + L);
            FloatVector x = FloatVector.broadcast(S, pa[ai]);
            c00 = b0v.fma(x, c00);
            c01 = b1v.fma(x, c01);
            x = FloatVector.broadcast(S, pa[ai + 1]);
            c10 = b0v.fma(x, c10);
            c11 = b1v.fma(x, c11);
            x = FloatVector.broadcast(S, pa[ai + 2]);
            c20 = b0v.fma(x, c20);
            c21 = b1v.fma(x, c21);
            x = FloatVector.broadcast(S, pa[ai + 3]);
            c30 = b0v.fma(x, c30);
            c31 = b1v.fma(x, c31);
            x = FloatVector.broadcast(S, pa[ai + 4]);
            c40 = b0v.fma(x, c40);
            c41 = b1v.fma(x, c41);
            x = FloatVector.broadcast(S, pa[ai + 5]);
            c50 = b0v.fma(x, c50);
            c51 = b1v.fma(x, c51);
        }
        // Written out rather than through a helper: a vector passed to a call C2 does not inline is
        // boxed, an allocation per accumulator per call (measured: 15 MB per 1024^3 product).
        if (add) {
            c00 = c00.add(FloatVector.fromArray(S, c, c0));
            c01 = c01.add(FloatVector.fromArray(S, c, c0 + L));
            c10 = c10.add(FloatVector.fromArray(S, c, c0 + cRow));
            c11 = c11.add(FloatVector.fromArray(S, c, c0 + cRow + L));
            c20 = c20.add(FloatVector.fromArray(S, c, c0 + 2 * cRow));
            c21 = c21.add(FloatVector.fromArray(S, c, c0 + 2 * cRow + L));
            c30 = c30.add(FloatVector.fromArray(S, c, c0 + 3 * cRow));
            c31 = c31.add(FloatVector.fromArray(S, c, c0 + 3 * cRow + L));
            c40 = c40.add(FloatVector.fromArray(S, c, c0 + 4 * cRow));
            c41 = c41.add(FloatVector.fromArray(S, c, c0 + 4 * cRow + L));
            c50 = c50.add(FloatVector.fromArray(S, c, c0 + 5 * cRow));
            c51 = c51.add(FloatVector.fromArray(S, c, c0 + 5 * cRow + L));
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
    }

    private static void writeTile(float[] tile, int mr, int nr, float[] o, int c0, int oRow, boolean add) {
        for (int i = 0; i < mr; i++) {
            int t = i * NR;
            int c = c0 + i * oRow;
            for (int j = 0; j < nr; j++) {
                o[c + j] = add ? o[c + j] + tile[t + j] : tile[t + j];
            }
        }
    }

    /**
     * B rows {@code [0, kc)} and columns {@code [from, to)} ({@code from} a multiple of NR) from
     * {@code b0} into micro-panels of NR columns, each stored row after row ({@code kc x NR}) at
     * {@code from * kc} onwards, the last one of the matrix padded with zeros. Reads
     * rows of B two vectors at a time when columns are contiguous, otherwise column by column
     * (contiguous for a transposed B).
     */
    private static void packB(float[] b, int b0, int bRow, int bCol, int kc, int from, int to, float[] pb) {
        if (bCol == 1) {
            // Row-major B, four panels at a time: each row of B is read 4 NR wide, 8 cache lines in a
            // row instead of 2, so every page of B visited yields four times the data (+0.5-1% at
            // 1024^3, interleaved A/B runs). The rest, and any narrower edge, panel by panel below.
            int grouped = from + (to - from) / (4 * NR) * (4 * NR);
            for (int jr = from; jr < grouped; jr += 4 * NR) {
                packFourPanels(b, b0 + jr, bRow, kc, pb, jr * kc);
            }
            from = grouped;
        }
        for (int jr = from; jr < to; jr += NR) {
            // Chunks end on a multiple of NR except at the end of the block, so this is the true edge.
            int nr = Math.min(NR, to - jr);
            int dst = jr * kc;
            int src = b0 + jr * bCol;
            if (bCol == 1 && nr == NR) {
                for (int p = 0; p < kc; p++, dst += NR, src += bRow) {
                    FloatVector.fromArray(S, b, src).intoArray(pb, dst);
                    FloatVector.fromArray(S, b, src + L).intoArray(pb, dst + L);
                }
            } else if (bRow == 1 && nr == NR && (L == 8 || L == 16)) {
                // A transposed B (w.T of a Linear layer): each column is contiguous along k, so
                // L x L blocks are transposed in registers, for each half of the panel.
                int p = 0;
                for (; p + L <= kc; p += L) {
                    if (L == 16) {
                        transpose16(b, src + p, bCol, pb, dst + p * NR, NR);
                        transpose16(b, src + p + L * bCol, bCol, pb, dst + p * NR + L, NR);
                    } else {
                        transpose8(b, src + p, bCol, pb, dst + p * NR, NR);
                        transpose8(b, src + p + L * bCol, bCol, pb, dst + p * NR + L, NR);
                    }
                }
                for (int j = 0; j < NR; j++) {
                    packStrided(b, src + j * bCol + p, 1, true, kc - p, pb, dst + p * NR + j, NR);
                }
            } else {
                for (int j = 0; j < NR; j++) {
                    packStrided(b, src + j * bCol, bRow, j < nr, kc, pb, dst + j, NR);
                }
            }
        }
    }

    /** Four whole micro-panels of a row-major B (4 NR columns from {@code src}) to {@code dst} onwards. */
    private static void packFourPanels(float[] b, int src, int bRow, int kc, float[] pb, int dst) {
        int panel = NR * kc;
        for (int p = 0; p < kc; p++, src += bRow, dst += NR) {
            FloatVector.fromArray(S, b, src).intoArray(pb, dst);
            FloatVector.fromArray(S, b, src + L).intoArray(pb, dst + L);
            FloatVector.fromArray(S, b, src + NR).intoArray(pb, dst + panel);
            FloatVector.fromArray(S, b, src + NR + L).intoArray(pb, dst + panel + L);
            FloatVector.fromArray(S, b, src + 2 * NR).intoArray(pb, dst + 2 * panel);
            FloatVector.fromArray(S, b, src + 2 * NR + L).intoArray(pb, dst + 2 * panel + L);
            FloatVector.fromArray(S, b, src + 3 * NR).intoArray(pb, dst + 3 * panel);
            FloatVector.fromArray(S, b, src + 3 * NR + L).intoArray(pb, dst + 3 * panel + L);
        }
    }

    /**
     * A rows {@code [0, mc)} and columns {@code [0, kc)} from {@code a0} into micro-panels of MR rows,
     * each stored column after column ({@code kc x MR}), the last one padded with zeros. A row-major A
     * is transposed in registers 8 rows x L columns at a time; a transposed A has its MR elements of a
     * column contiguous (one vector copy); anything else, and edge panels, element by element.
     */
    private static void packA(float[] a, int a0, int aRow, int aCol, int mc, int kc, float[] pa) {
        for (int ir = 0; ir < mc; ir += MR) {
            int mr = Math.min(MR, mc - ir);
            int dst = ir * kc;
            int src = a0 + ir * aRow;
            if (aRow == 1 && mr == MR && MR == A8.length()) {
                for (int p = 0; p < kc; p++, dst += MR, src += aCol) {
                    FloatVector.fromArray(A8, a, src).intoArray(pa, dst);
                }
            } else if (aCol == 1 && mr == MR && MR == 8 && L >= 8) {
                // Row-major A: 8 rows x L columns are transposed in registers into L columns of 8.
                int p = 0;
                for (; p + L <= kc; p += L) {
                    transpose8(a, src + p, aRow, pa, dst + p * MR, L);
                }
                for (int i = 0; i < MR; i++) {
                    packStrided(a, src + i * aRow + p, 1, true, kc - p, pa, dst + p * MR + i, MR);
                }
            } else {
                for (int i = 0; i < MR; i++) {
                    packStrided(a, src + i * aRow, aCol, i < mr, kc, pa, dst + i, MR);
                }
            }
        }
    }

    /**
     * Rows {@code src, src + rowStride, ...} (8 of them, L elements each) to their transpose: L
     * columns of 8, written as L / 8 columns (L elements) at a time at {@code dst + q * dstStride}. Three rounds of two-vector shuffles,
     * interleaving 1, 2, then 4 elements of row pairs; the rows are read in bit-reversed order so the
     * columns come out with their rows in order.
     */
    private static void transpose8(float[] x, int src, int rowStride, float[] to, int dst, int dstStride) {
        FloatVector v0 = FloatVector.fromArray(S, x, src);
        FloatVector v1 = FloatVector.fromArray(S, x, src + 4 * rowStride);
        FloatVector v2 = FloatVector.fromArray(S, x, src + 2 * rowStride);
        FloatVector v3 = FloatVector.fromArray(S, x, src + 6 * rowStride);
        FloatVector v4 = FloatVector.fromArray(S, x, src + rowStride);
        FloatVector v5 = FloatVector.fromArray(S, x, src + 5 * rowStride);
        FloatVector v6 = FloatVector.fromArray(S, x, src + 3 * rowStride);
        FloatVector v7 = FloatVector.fromArray(S, x, src + 7 * rowStride);
        FloatVector t0 = v0.rearrange(LO1, v4);
        FloatVector t1 = v0.rearrange(HI1, v4);
        FloatVector t2 = v1.rearrange(LO1, v5);
        FloatVector t3 = v1.rearrange(HI1, v5);
        FloatVector t4 = v2.rearrange(LO1, v6);
        FloatVector t5 = v2.rearrange(HI1, v6);
        FloatVector t6 = v3.rearrange(LO1, v7);
        FloatVector t7 = v3.rearrange(HI1, v7);
        v0 = t0.rearrange(LO2, t4);
        v1 = t0.rearrange(HI2, t4);
        v2 = t1.rearrange(LO2, t5);
        v3 = t1.rearrange(HI2, t5);
        v4 = t2.rearrange(LO2, t6);
        v5 = t2.rearrange(HI2, t6);
        v6 = t3.rearrange(LO2, t7);
        v7 = t3.rearrange(HI2, t7);
        t0 = v0.rearrange(LO4, v4);
        t1 = v0.rearrange(HI4, v4);
        t2 = v1.rearrange(LO4, v5);
        t3 = v1.rearrange(HI4, v5);
        t4 = v2.rearrange(LO4, v6);
        t5 = v2.rearrange(HI4, v6);
        t6 = v3.rearrange(LO4, v7);
        t7 = v3.rearrange(HI4, v7);
        t0.intoArray(to, dst);
        t1.intoArray(to, dst + dstStride);
        t2.intoArray(to, dst + 2 * dstStride);
        t3.intoArray(to, dst + 3 * dstStride);
        t4.intoArray(to, dst + 4 * dstStride);
        t5.intoArray(to, dst + 5 * dstStride);
        t6.intoArray(to, dst + 6 * dstStride);
        t7.intoArray(to, dst + 7 * dstStride);
    }

    /**
     * Rows {@code src, src + rowStride, ...} (16 of them, 16 elements each) to their transpose: 16
     * columns of 16, column {@code q} stored at {@code dst + q * dstStride}. Four rounds of two-vector
     * shuffles, as in {@link #transpose8}.
     */
    private static void transpose16(float[] x, int src, int rowStride, float[] to, int dst, int dstStride) {
        FloatVector v0 = FloatVector.fromArray(S, x, src);
        FloatVector v1 = FloatVector.fromArray(S, x, src + 8 * rowStride);
        FloatVector v2 = FloatVector.fromArray(S, x, src + 4 * rowStride);
        FloatVector v3 = FloatVector.fromArray(S, x, src + 12 * rowStride);
        FloatVector v4 = FloatVector.fromArray(S, x, src + 2 * rowStride);
        FloatVector v5 = FloatVector.fromArray(S, x, src + 10 * rowStride);
        FloatVector v6 = FloatVector.fromArray(S, x, src + 6 * rowStride);
        FloatVector v7 = FloatVector.fromArray(S, x, src + 14 * rowStride);
        FloatVector v8 = FloatVector.fromArray(S, x, src + rowStride);
        FloatVector v9 = FloatVector.fromArray(S, x, src + 9 * rowStride);
        FloatVector v10 = FloatVector.fromArray(S, x, src + 5 * rowStride);
        FloatVector v11 = FloatVector.fromArray(S, x, src + 13 * rowStride);
        FloatVector v12 = FloatVector.fromArray(S, x, src + 3 * rowStride);
        FloatVector v13 = FloatVector.fromArray(S, x, src + 11 * rowStride);
        FloatVector v14 = FloatVector.fromArray(S, x, src + 7 * rowStride);
        FloatVector v15 = FloatVector.fromArray(S, x, src + 15 * rowStride);
        FloatVector t0 = v0.rearrange(LO1, v8);
        FloatVector t1 = v0.rearrange(HI1, v8);
        FloatVector t2 = v1.rearrange(LO1, v9);
        FloatVector t3 = v1.rearrange(HI1, v9);
        FloatVector t4 = v2.rearrange(LO1, v10);
        FloatVector t5 = v2.rearrange(HI1, v10);
        FloatVector t6 = v3.rearrange(LO1, v11);
        FloatVector t7 = v3.rearrange(HI1, v11);
        FloatVector t8 = v4.rearrange(LO1, v12);
        FloatVector t9 = v4.rearrange(HI1, v12);
        FloatVector t10 = v5.rearrange(LO1, v13);
        FloatVector t11 = v5.rearrange(HI1, v13);
        FloatVector t12 = v6.rearrange(LO1, v14);
        FloatVector t13 = v6.rearrange(HI1, v14);
        FloatVector t14 = v7.rearrange(LO1, v15);
        FloatVector t15 = v7.rearrange(HI1, v15);
        v0 = t0.rearrange(LO2, t8);
        v1 = t0.rearrange(HI2, t8);
        v2 = t1.rearrange(LO2, t9);
        v3 = t1.rearrange(HI2, t9);
        v4 = t2.rearrange(LO2, t10);
        v5 = t2.rearrange(HI2, t10);
        v6 = t3.rearrange(LO2, t11);
        v7 = t3.rearrange(HI2, t11);
        v8 = t4.rearrange(LO2, t12);
        v9 = t4.rearrange(HI2, t12);
        v10 = t5.rearrange(LO2, t13);
        v11 = t5.rearrange(HI2, t13);
        v12 = t6.rearrange(LO2, t14);
        v13 = t6.rearrange(HI2, t14);
        v14 = t7.rearrange(LO2, t15);
        v15 = t7.rearrange(HI2, t15);
        t0 = v0.rearrange(LO4, v8);
        t1 = v0.rearrange(HI4, v8);
        t2 = v1.rearrange(LO4, v9);
        t3 = v1.rearrange(HI4, v9);
        t4 = v2.rearrange(LO4, v10);
        t5 = v2.rearrange(HI4, v10);
        t6 = v3.rearrange(LO4, v11);
        t7 = v3.rearrange(HI4, v11);
        t8 = v4.rearrange(LO4, v12);
        t9 = v4.rearrange(HI4, v12);
        t10 = v5.rearrange(LO4, v13);
        t11 = v5.rearrange(HI4, v13);
        t12 = v6.rearrange(LO4, v14);
        t13 = v6.rearrange(HI4, v14);
        t14 = v7.rearrange(LO4, v15);
        t15 = v7.rearrange(HI4, v15);
        v0 = t0.rearrange(LO8, t8);
        v1 = t0.rearrange(HI8, t8);
        v2 = t1.rearrange(LO8, t9);
        v3 = t1.rearrange(HI8, t9);
        v4 = t2.rearrange(LO8, t10);
        v5 = t2.rearrange(HI8, t10);
        v6 = t3.rearrange(LO8, t11);
        v7 = t3.rearrange(HI8, t11);
        v8 = t4.rearrange(LO8, t12);
        v9 = t4.rearrange(HI8, t12);
        v10 = t5.rearrange(LO8, t13);
        v11 = t5.rearrange(HI8, t13);
        v12 = t6.rearrange(LO8, t14);
        v13 = t6.rearrange(HI8, t14);
        v14 = t7.rearrange(LO8, t15);
        v15 = t7.rearrange(HI8, t15);
        v0.intoArray(to, dst);
        v1.intoArray(to, dst + dstStride);
        v2.intoArray(to, dst + 2 * dstStride);
        v3.intoArray(to, dst + 3 * dstStride);
        v4.intoArray(to, dst + 4 * dstStride);
        v5.intoArray(to, dst + 5 * dstStride);
        v6.intoArray(to, dst + 6 * dstStride);
        v7.intoArray(to, dst + 7 * dstStride);
        v8.intoArray(to, dst + 8 * dstStride);
        v9.intoArray(to, dst + 9 * dstStride);
        v10.intoArray(to, dst + 10 * dstStride);
        v11.intoArray(to, dst + 11 * dstStride);
        v12.intoArray(to, dst + 12 * dstStride);
        v13.intoArray(to, dst + 13 * dstStride);
        v14.intoArray(to, dst + 14 * dstStride);
        v15.intoArray(to, dst + 15 * dstStride);
    }

    /** {@code count} elements {@code step} apart from {@code src} (or zeros) to every {@code gap}-th slot of {@code dst}. */
    private static void packStrided(float[] from, int src, int step, boolean valid, int count, float[] to, int dst,
                                    int gap) {
        if (valid) {
            for (int p = 0; p < count; p++, src += step, dst += gap) {
                to[dst] = from[src];
            }
        } else {
            for (int p = 0; p < count; p++, dst += gap) {
                to[dst] = 0f;
            }
        }
    }
}
