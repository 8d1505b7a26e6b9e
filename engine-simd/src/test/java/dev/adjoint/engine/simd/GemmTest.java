package dev.adjoint.engine.simd;

import dev.adjoint.Shape;
import dev.adjoint.spi.Layout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packed GEMM ({@link FloatGemm}, {@link DoubleGemm}) gives, bit for bit, the textbook sum in the
 * order it documents: each output element one chain of fused multiply-adds per pass over k
 * ({@link FloatGemm#passDepth}), the passes added in order. A reference written that way with
 * {@link Math#fma} is exact IEEE arithmetic in the interpreter and in compiled code alike, so bitwise
 * agreement with it shows the GEMM right, independent of its register and cache blocks and of the
 * thread count, and the same cold or compiled (a child JVM runs it interpreted). Shapes: odd ones
 * where no dimension is a multiple of a block, tall-skinny and short-wide products, every layout
 * of the operands (transposed views), batches with a broadcast operand. And the blocking is derived
 * from a machine's description of its caches.
 */
class GemmTest {
    /** {@code [batch, m, k] @ [batch, k, n]}, A and/or B passed as transposed views; B broadcast over the batch. */
    private record Case(int batch, int m, int k, int n, boolean aTransposed, boolean bTransposed, boolean bBroadcast) {
        static Case of(int m, int k, int n, boolean aTransposed, boolean bTransposed) {
            return new Case(1, m, k, n, aTransposed, bTransposed, false);
        }

        Layout aLayout() {
            return aTransposed ? new Layout(Shape.of(batch, m, k), new int[] {m * k, 1, m}, 0)
                    : Layout.contiguous(Shape.of(batch, m, k));
        }

        Layout bLayout() {
            int batchStride = bBroadcast ? 0 : k * n;
            return bTransposed ? new Layout(Shape.of(batch, k, n), new int[] {batchStride, 1, k}, 0)
                    : new Layout(Shape.of(batch, k, n), new int[] {batchStride, n, 1}, 0);
        }

        int bSize() {
            return (bBroadcast ? 1 : batch) * k * n;
        }

        @Override
        public String toString() {
            return String.format("[%d, %d, %d] @ [%d, %d, %d]%s%s%s", batch, m, k, batch, k, n,
                    aTransposed ? ", a transposed" : "", bTransposed ? ", b transposed" : "",
                    bBroadcast ? ", b broadcast" : "");
        }
    }

    private static final List<Case> CASES = List.of(
            Case.of(1000, 333, 777, false, false),
            // A transposed with columns more than a line apart: packed a block of rows at a time, two or
            // more blocks (the last ending in a partial micro-panel) on any L2 of up to 4 MiB.
            Case.of(1000, 333, 777, true, false),
            Case.of(1000, 333, 777, false, true),
            Case.of(1000, 333, 777, true, true),
            Case.of(4096, 64, 256, false, false),
            Case.of(4096, 64, 256, false, true),
            Case.of(64, 4096, 64, false, false),
            Case.of(64, 4096, 64, true, false),
            // k = 2 KC + 1 at the largest KC of any machine: three passes, the last a short one.
            Case.of(37, 2100, 65, false, false),
            // Shared packed B over four passes on 2 and 3 threads: both buffers of packed B reused, each
            // block of rows adding a pass after its own previous one while the other thread is elsewhere.
            Case.of(200, 800, 300, false, true),
            // Shared packed B, each block of rows taking all three passes of a block of columns (output
            // rows of one thread's share wider than half of any L2 up to 2 MiB): three blocks of columns
            // in FLOAT32 at 1 MiB of L2, so both buffers of packed B are reused; a last partial micro-panel.
            Case.of(999, 600, 1700, false, false),
            // Two threads each taking half of the columns, each starting its walk down the rows at a
            // different row: over the passes of each block of rows (at any L2 up to 2 MiB), and pass by pass.
            Case.of(1100, 700, 1024, false, false),
            Case.of(200, 600, 1024, false, false),
            // Rows of B 4 KiB apart in FLOAT32: packed; few rows of A: B read in place.
            Case.of(130, 100, 1024, false, false),
            Case.of(20, 100, 1024, false, false),
            // Rows of B 4 KiB apart, at most three micro-panels of A (MR 12, and 6 without AVX-512): B
            // read in place on one thread over two passes, packed when threads share the product.
            Case.of(33, 300, 1024, false, false),
            Case.of(16, 300, 1024, false, false),
            // Rows of B 1 KiB apart in FLOAT32: a shallow B read in place, a deep one read by few
            // micro-panels of A too; a deep one read by many packed.
            Case.of(50, 10, 256, false, false),
            Case.of(50, 300, 256, false, false),
            Case.of(400, 300, 256, false, false),
            Case.of(7, 5, 31, true, true),
            // Last rows cut into 8-row panels (FloatGemm#panelHeight with 12 rows): 8 + 8, 12 + 8, 8 and
            // a half-height panel, one padded 8-row panel; A as it is and transposed (packed by columns).
            Case.of(16, 300, 70, false, false),
            Case.of(16, 300, 70, true, false),
            Case.of(20, 40, 33, true, false),
            Case.of(14, 300, 64, true, false),
            Case.of(14, 300, 64, false, true),
            Case.of(7, 40, 64, true, false),
            // x @ w.T with few rows of x: computed as (w @ x.T).T, the MLP's first layer and an odd one.
            Case.of(64, 784, 256, false, true),
            Case.of(37, 700, 131, false, true),
            // The same with w's rows read in place (FloatGemm#streamsRowsOfB with AVX-512): rows of x
            // not a multiple of a vector, a last block of fewer than six rows of w, k not a multiple
            // of 16 over several passes; and two blocks of x's rows.
            Case.of(61, 700, 131, false, true),
            Case.of(125, 600, 250, false, true),
            // At most a vector of x's rows: w's rows read in place twelve at a time against one vector
            // of x transposed (FloatGemm#streamsNarrowRowsOfB): one row, a few, a vector's worth in
            // FLOAT64 with AVX-512 (and past it in FLOAT64 with AVX2), the last block of w's rows
            // partial (131 = 10 x 12 + 11, 40 = 3 x 12 + 4), k over several passes; and w's rows 4 KiB
            // apart, all on the same sets of L1.
            Case.of(1, 700, 131, false, true),
            Case.of(4, 700, 131, false, true),
            Case.of(8, 600, 40, false, true),
            Case.of(13, 600, 40, false, true),
            Case.of(5, 1024, 30, false, true),
            // Two vectors of x's rows and more (with AVX-512): panels of two vectors, and of two and one;
            // outputs past a quarter of any L2 up to 2 MiB, no longer kept whole before their transpose,
            // many blocks of 96 rows of w over the threads, the last partial, on both kernels' paths.
            Case.of(24, 700, 131, false, true),
            Case.of(40, 600, 200, false, true),
            Case.of(20, 300, 9000, false, true),
            Case.of(56, 300, 5000, false, true),
            // The same in one pass over k (k at most KC, at least half of it), on both kernels' paths.
            Case.of(20, 200, 64, false, true),
            Case.of(56, 250, 130, false, true),
            // The MLP's dy.T @ x: a small B, so on two or three threads each packs all of it and takes
            // its own rows (packsOwnB); an odd one with a last partial micro-panel of rows.
            Case.of(256, 64, 784, true, false),
            Case.of(130, 40, 301, true, false),
            new Case(3, 67, 300, 45, true, false, true),
            new Case(4, 29, 130, 70, false, true, false),
            // Many small matrices, the attention's (q @ k.T, p.T @ dy): the batch's output larger than
            // L2, each matrix's well within it, so each is written in place; odd sizes at the edges.
            new Case(40, 128, 64, 128, false, true, false),
            new Case(33, 77, 65, 129, true, false, false));

    @Test
    void floatProductsHaveTheBitsOfTheDocumentedSumOnAnyThreadCount() {
        for (Case c : CASES) {
            float[] a = floats(c.batch * c.m * c.k, 1);
            float[] b = floats(c.bSize(), 2);
            float[] expected = reference(c, a, b);
            for (int threads = 1; threads <= 3; threads++) {
                float[] out = new float[c.batch * c.m * c.n];
                multiply(c, a, b, out, threads);
                assertBitsEqual(c + " FLOAT32 on " + threads + " threads", expected, out);
            }
        }
    }

    @Test
    void doubleProductsHaveTheBitsOfTheDocumentedSumOnAnyThreadCount() {
        for (Case c : CASES) {
            double[] a = doubles(c.batch * c.m * c.k, 3);
            double[] b = doubles(c.bSize(), 4);
            double[] expected = reference(c, a, b);
            for (int threads = 1; threads <= 3; threads += 2) {
                double[] out = new double[c.batch * c.m * c.n];
                multiply(c, a, b, out, threads);
                assertBitsEqual(c + " FLOAT64 on " + threads + " threads", expected, out);
            }
        }
    }

    /**
     * nn.Linear's epilogue: a bias added to each block of the output before its first pass's products,
     * so each element is {@code bias + pass 1 + pass 2 ...}, on every path (whole matrices, column
     * blocks, shared B, B in place) and at the edges.
     */
    @Test
    void aBiasIsTheFirstTermOfEachSum() {
        for (Case c : CASES) {
            float[] a = floats(c.batch * c.m * c.k, 1);
            float[] b = floats(c.bSize(), 2);
            float[] bias = floats(c.n + 3, 5);
            float[] expected = reference(c, a, b, Arrays.copyOfRange(bias, 3, bias.length));
            for (int threads = 1; threads <= 3; threads++) {
                float[] out = new float[c.batch * c.m * c.n];
                Arrays.fill(out, Float.NaN);
                Layout aLayout = c.aLayout(), bLayout = c.bLayout();
                FloatGemm.multiply(a, aLayout, aLayout.stride(1), aLayout.stride(2), b, bLayout, bLayout.stride(1),
                        bLayout.stride(2), bias, 3, out, Layout.contiguous(Shape.of(c.batch, c.m, c.n)), c.n, c.m, c.n,
                        c.k, 1, c.batch, threads);
                assertBitsEqual(c + " FLOAT32 with a bias on " + threads + " threads", expected, out);
            }
            double[] ad = doubles(c.batch * c.m * c.k, 3);
            double[] bd = doubles(c.bSize(), 4);
            double[] biasD = doubles(c.n, 6);
            double[] expectedD = reference(c, ad, bd, biasD);
            double[] outD = new double[c.batch * c.m * c.n];
            Layout aLayout = c.aLayout(), bLayout = c.bLayout();
            DoubleGemm.multiply(ad, aLayout, aLayout.stride(1), aLayout.stride(2), bd, bLayout, bLayout.stride(1),
                    bLayout.stride(2), biasD, 0, outD, Layout.contiguous(Shape.of(c.batch, c.m, c.n)), c.n, c.m, c.n,
                    c.k, 1, c.batch, 2);
            assertBitsEqual(c + " FLOAT64 with a bias on 2 threads", expectedD, outD);
        }
    }

    /**
     * Operands that are slices of wider buffers (rows longer than k, starting past the buffer's
     * start) give the same bits as dense copies of them: the MLP's {@code x @ w.T}, whose rows of w
     * are read in place ({@link FloatGemm#streamsRowsOfB} with AVX-512), and its {@code dy.T @ x},
     * whose x is read in place in one pass ({@link FloatGemm#onePassReadsBInPlace}), with a bias and
     * without, on one and two threads.
     */
    @Test
    void slicedOperandsGiveTheBitsOfDenseOnes() {
        int m = 64, k = 784, n = 256;
        int xRow = 800, xAt = 7, wRow = 790, wAt = 3;
        float[] xBuffer = floats(m * xRow, 11), wBuffer = floats(n * wRow, 12), bias = floats(n, 13);
        float[] x = new float[m * k], w = new float[n * k];
        for (int i = 0; i < m; i++) {
            System.arraycopy(xBuffer, xAt + i * xRow, x, i * k, k);
        }
        for (int j = 0; j < n; j++) {
            System.arraycopy(wBuffer, wAt + j * wRow, w, j * k, k);
        }
        Layout out = Layout.contiguous(Shape.of(m, n));
        for (int threads = 1; threads <= 2; threads++) {
            for (float[] b : new float[][] {null, bias}) {
                float[] sliced = new float[m * n], dense = new float[m * n];
                FloatGemm.multiply(xBuffer, new Layout(Shape.of(m, k), new int[] {xRow, 1}, xAt), xRow, 1, wBuffer,
                        new Layout(Shape.of(k, n), new int[] {1, wRow}, wAt), 1, wRow, b, 0, sliced, out, n, m, n, k, 0, 1,
                        threads);
                FloatGemm.multiply(x, Layout.contiguous(Shape.of(m, k)), k, 1, w,
                        new Layout(Shape.of(k, n), new int[] {1, k}, 0), 1, k, b, 0, dense, out, n, m, n, k, 0, 1, threads);
                assertBitsEqual("x @ w.T of slices on " + threads + " threads" + (b != null ? " with a bias" : ""),
                        dense, sliced);
            }
            // dy.T @ x: dy [m, n] read transposed, x [m, k] a slice, the product [n, k].
            float[] dy = floats(m * n, 14);
            Layout dyT = new Layout(Shape.of(n, m), new int[] {1, n}, 0);
            Layout product = Layout.contiguous(Shape.of(n, k));
            float[] sliced = new float[n * k], dense = new float[n * k];
            FloatGemm.multiply(dy, dyT, 1, n, xBuffer, new Layout(Shape.of(m, k), new int[] {xRow, 1}, xAt), xRow, 1,
                    sliced, product, k, n, k, m, 0, 1, threads);
            FloatGemm.multiply(dy, dyT, 1, n, x, Layout.contiguous(Shape.of(m, k)), k, 1, dense, product, k, n, k, m, 0, 1,
                    threads);
            assertBitsEqual("dy.T @ x of a slice on " + threads + " threads", dense, sliced);
        }
    }

    @Test
    void aProductInTheInterpreterHasTheSameBits() throws IOException, InterruptedException {
        Case c = Interpreted.CASE;
        float[] expected = reference(c, floats(c.batch * c.m * c.k, 1), floats(c.bSize(), 2));
        // The environment is inherited: JVM options given there (-XX:UseAVX=2, say) change the vector
        // width and so the blocks, and the child must run with the same ones.
        String output = ChildJvm.run(Interpreted.class, List.of("-Xint"));
        assertTrue(output.contains(Interpreted.blocks()), "the child JVM derived other blocks: " + output);
        assertTrue(output.contains("bits " + Arrays.hashCode(expected)), c + " interpreted: " + output);
    }

    /** Run with {@code -Xint} by {@link #aProductInTheInterpreterHasTheSameBits}: prints the hash of its product's bits. */
    static final class Interpreted {
        static final Case CASE = new Case(2, 29, 300, 70, false, true, false);

        public static void main(String[] args) {
            float[] out = new float[CASE.batch * CASE.m * CASE.n];
            multiply(CASE, floats(CASE.batch * CASE.m * CASE.k, 1), floats(CASE.bSize(), 2), out, 2);
            System.out.println(blocks());
            System.out.println("bits " + Arrays.hashCode(out));
        }

        static String blocks() {
            return "blocks " + FloatGemm.MR + " x " + FloatGemm.NR + ", KC " + FloatGemm.KC;
        }
    }

    @Test
    void blocksAreDerivedFromTheCachesTheMachineDescribes(@TempDir Path sys) throws IOException {
        // An Intel Xeon of the Sapphire Rapids class: 48 KiB 12-way L1d, 2 MiB L2, per core.
        cache(sys, 0, "1", "Data", "48K", "12", "0");
        cache(sys, 1, "1", "Instruction", "32K", "8", "0");
        cache(sys, 2, "2", "Unified", "2048K", "16", "0");
        cache(sys, 3, "3", "Unified", "491520K", "16", "0-1");
        GemmBlocking.Caches xeon = GemmBlocking.read(sys);
        assertEquals(new GemmBlocking.Caches(48 * 1024, 12, 2048 * 1024), xeon);
        // FLOAT32, 12 x 32: 11 of 12 ways of L1 hold 44 KiB = (12 + 32) x 256 floats; half of L2 holds 256 x 1024.
        assertEquals(new GemmBlocking.Blocks(12, 32, 256, 1024), GemmBlocking.derive(xeon, 4, 12, 32));
        // FLOAT64, 12 x 16: L1 would hold 192 doubles deep, but a pass is never shallower than 256.
        assertEquals(new GemmBlocking.Blocks(12, 16, 256, 512), GemmBlocking.derive(xeon, 8, 12, 16));
        // An AMD EPYC Zen 4: 32 KiB 8-way L1d would hold 160 floats deep and 128 doubles; 256 both, and
        // half of its 1 MiB L2 holds 256 x 512 floats, 256 x 256 doubles.
        GemmBlocking.Caches zen4 = new GemmBlocking.Caches(32 * 1024, 8, 1024 * 1024);
        assertEquals(new GemmBlocking.Blocks(12, 32, 256, 512), GemmBlocking.derive(zen4, 4, 12, 32));
        assertEquals(new GemmBlocking.Blocks(12, 16, 256, 256), GemmBlocking.derive(zen4, 8, 12, 16));
        // An AVX2 core: 32 KiB 8-way L1d, 256 KiB L2; 6 x 16 floats.
        assertEquals(new GemmBlocking.Blocks(6, 16, 320, 96),
                GemmBlocking.derive(new GemmBlocking.Caches(32 * 1024, 8, 256 * 1024), 4, 6, 16));
        // A transposed A is packed an eighth of L2 at a time: 252 rows of 256 floats, 168 of 192 doubles.
        assertEquals(252, GemmBlocking.transposedRows(xeon, 4, 12, 256));
        assertEquals(168, GemmBlocking.transposedRows(xeon, 8, 12, 192));
        assertEquals(6, GemmBlocking.transposedRows(new GemmBlocking.Caches(32 * 1024, 8, 16 * 1024), 4, 6, 1024));
        // A product of several passes takes them all for a quarter of L2's rows of output at a time:
        // 252 rows of 256 floats on Zen 4, 120 of 512; 504 of 256 floats on the Xeon.
        assertEquals(252, GemmBlocking.passRows(zen4, 4, 12, 256));
        assertEquals(120, GemmBlocking.passRows(zen4, 4, 12, 512));
        assertEquals(504, GemmBlocking.passRows(xeon, 4, 12, 256));
        // A micro-panel of B read in place (runs of 128 bytes, a pass deep) against Zen 4's 4 KiB ways:
        // rows 1 KiB apart start at 4 places of a way, 8 of its 64 sets, so 28 rows fit (7 ways) and 256
        // do not; rows 128 or 384 bytes apart cover every set, as a packed panel does, at any depth.
        assertTrue(GemmBlocking.stridedRunsFitL1(zen4, 1024, 128, 28));
        assertTrue(!GemmBlocking.stridedRunsFitL1(zen4, 1024, 128, 29));
        assertTrue(!GemmBlocking.stridedRunsFitL1(zen4, 1024, 128, 256));
        assertTrue(GemmBlocking.stridedRunsFitL1(zen4, 128, 128, 256));
        assertTrue(GemmBlocking.stridedRunsFitL1(zen4, 384, 128, 256));
        assertTrue(GemmBlocking.stridedRunsFitL1(xeon, 1024, 128, 10 * 4));
        // An L2 shared by a cluster of four cores (hybrid Intel parts) is a quarter each.
        Path cluster = sys.resolve("cluster");
        cache(cluster, 0, "1", "Data", "32K", "8", "0");
        cache(cluster, 2, "2", "Unified", "2048K", "16", "0-3");
        assertEquals(new GemmBlocking.Caches(32 * 1024, 8, 512 * 1024), GemmBlocking.read(cluster));
        assertEquals(GemmBlocking.FALLBACK, GemmBlocking.read(sys.resolve("missing")));
        // Without sysfs (Firecracker guests hide it), getconf's answer: an AMD EPYC (Zen 5) guest's lines.
        assertEquals(new GemmBlocking.Caches(48 * 1024, 12, 1024 * 1024), GemmBlocking.parseGetconf("""
                LEVEL1_ICACHE_SIZE                 32768
                LEVEL1_ICACHE_ASSOC
                LEVEL1_DCACHE_SIZE                 49152
                LEVEL1_DCACHE_ASSOC                12
                LEVEL1_DCACHE_LINESIZE             64
                LEVEL2_CACHE_SIZE                  1048576
                LEVEL2_CACHE_ASSOC                 8
                """));
        assertEquals(null, GemmBlocking.parseGetconf("LEVEL1_DCACHE_SIZE 49152\nLEVEL1_DCACHE_ASSOC\n"));
        GemmBlocking.Caches withoutSysfs = GemmBlocking.detect(sys.resolve("missing"));
        GemmBlocking.Caches reported = GemmBlocking.fromGetconf();
        assertEquals(reported != null ? reported : GemmBlocking.FALLBACK, withoutSysfs);
        // The register block from the vector registers: AVX-512 and AArch64 32, AVX2 16.
        assertEquals(12, GemmBlocking.microRows(GemmBlocking.vectorRegisters("amd64", 512)));
        assertEquals(6, GemmBlocking.microRows(GemmBlocking.vectorRegisters("amd64", 256)));
        assertEquals(12, GemmBlocking.microRows(GemmBlocking.vectorRegisters("aarch64", 128)));
    }

    @Test
    void passesAreEqualAndNeverSlivers() {
        int kc = FloatGemm.KC;
        assertEquals(16, FloatGemm.passDepth(9));
        assertEquals(kc, FloatGemm.passDepth(kc));
        // k = KC + 1: two passes of about half, not KC and 1.
        assertTrue(FloatGemm.passDepth(kc + 1) <= kc / 2 + 16, "pass depth " + FloatGemm.passDepth(kc + 1));
    }

    private static void cache(Path sys, int index, String level, String type, String size, String ways, String cpus)
            throws IOException {
        Path dir = Files.createDirectories(sys.resolve("index" + index));
        Files.writeString(dir.resolve("level"), level + "\n");
        Files.writeString(dir.resolve("type"), type + "\n");
        Files.writeString(dir.resolve("size"), size + "\n");
        Files.writeString(dir.resolve("ways_of_associativity"), ways + "\n");
        Files.writeString(dir.resolve("shared_cpu_list"), cpus + "\n");
    }

    private static void multiply(Case c, float[] a, float[] b, float[] out, int threads) {
        Layout aLayout = c.aLayout(), bLayout = c.bLayout();
        FloatGemm.multiply(a, aLayout, aLayout.stride(1), aLayout.stride(2), b, bLayout, bLayout.stride(1),
                bLayout.stride(2), out, Layout.contiguous(Shape.of(c.batch, c.m, c.n)), c.n, c.m, c.n, c.k, 1, c.batch,
                threads);
    }

    private static void multiply(Case c, double[] a, double[] b, double[] out, int threads) {
        Layout aLayout = c.aLayout(), bLayout = c.bLayout();
        DoubleGemm.multiply(a, aLayout, aLayout.stride(1), aLayout.stride(2), b, bLayout, bLayout.stride(1),
                bLayout.stride(2), out, Layout.contiguous(Shape.of(c.batch, c.m, c.n)), c.n, c.m, c.n, c.k, 1, c.batch,
                threads);
    }

    /** Each element: per pass over k, {@code s = fma(a, b, s)} from 0 in order of k; the passes' sums added in order. */
    private static float[] reference(Case c, float[] a, float[] b) {
        return reference(c, a, b, null);
    }

    /** {@link #reference(Case, float[], float[])} with {@code bias[j]} (when not null) the first term of column j's sum. */
    private static float[] reference(Case c, float[] a, float[] b, float[] bias) {
        Layout aLayout = c.aLayout(), bLayout = c.bLayout();
        int kc = FloatGemm.passDepth(c.k);
        float[] out = new float[c.batch * c.m * c.n];
        float[] row = new float[c.k];
        float[] columns = new float[c.n * c.k];
        for (int t = 0; t < c.batch; t++) {
            for (int j = 0; j < c.n; j++) {
                for (int p = 0; p < c.k; p++) {
                    columns[j * c.k + p] = b[at(bLayout, t, p, j)];
                }
            }
            for (int i = 0; i < c.m; i++) {
                for (int p = 0; p < c.k; p++) {
                    row[p] = a[at(aLayout, t, i, p)];
                }
                for (int j = 0; j < c.n; j++) {
                    float sum = 0;
                    for (int pc = 0; pc < c.k; pc += kc) {
                        float s = 0;
                        for (int p = pc; p < Math.min(c.k, pc + kc); p++) {
                            s = Math.fma(row[p], columns[j * c.k + p], s);
                        }
                        sum = pc == 0 ? (bias == null ? s : bias[j] + s) : sum + s;
                    }
                    out[(t * c.m + i) * c.n + j] = sum;
                }
            }
        }
        return out;
    }

    private static double[] reference(Case c, double[] a, double[] b) {
        return reference(c, a, b, null);
    }

    private static double[] reference(Case c, double[] a, double[] b, double[] bias) {
        Layout aLayout = c.aLayout(), bLayout = c.bLayout();
        int kc = DoubleGemm.passDepth(c.k);
        double[] out = new double[c.batch * c.m * c.n];
        double[] row = new double[c.k];
        double[] columns = new double[c.n * c.k];
        for (int t = 0; t < c.batch; t++) {
            for (int j = 0; j < c.n; j++) {
                for (int p = 0; p < c.k; p++) {
                    columns[j * c.k + p] = b[at(bLayout, t, p, j)];
                }
            }
            for (int i = 0; i < c.m; i++) {
                for (int p = 0; p < c.k; p++) {
                    row[p] = a[at(aLayout, t, i, p)];
                }
                for (int j = 0; j < c.n; j++) {
                    double sum = 0;
                    for (int pc = 0; pc < c.k; pc += kc) {
                        double s = 0;
                        for (int p = pc; p < Math.min(c.k, pc + kc); p++) {
                            s = Math.fma(row[p], columns[j * c.k + p], s);
                        }
                        sum = pc == 0 ? (bias == null ? s : bias[j] + s) : sum + s;
                    }
                    out[(t * c.m + i) * c.n + j] = sum;
                }
            }
        }
        return out;
    }

    private static int at(Layout layout, int t, int r, int c) {
        return layout.offset() + t * layout.stride(0) + r * layout.stride(1) + c * layout.stride(2);
    }

    @Test
    void dotProductsInBlocksGiveTheBitsOfOneRowAtATime() {
        // FloatMatmul.dots reduces a block of 4 x 4 outputs' accumulators together; each output must
        // still get its lanes added in FloatLaneReductions' order, as the row-at-a-time path adds them.
        // Rows and columns that are not multiples of 4, and k with a scalar tail.
        for (int[] mkn : new int[][] {{64, 256, 10}, {9, 37, 7}, {5, 16, 1}, {4, 3, 2}, {13, 100, 6}}) {
            int m = mkn[0], k = mkn[1], n = mkn[2];
            float[] a = floats(m * k, 3);
            float[] b = floats(n * k, 4);
            float[] blocked = new float[m * n];
            float[] rows = new float[m * n];
            FloatMatmul.dots(a, 0, k, b, 0, k, blocked, 0, n, m, n, k);
            for (int i = 0; i < m; i++) {
                FloatMatmul.dots(a, i * k, k, b, 0, k, rows, i * n, n, 1, n, k);
            }
            assertBitsEqual("f32 dots " + m + "x" + k + "x" + n, rows, blocked);
            double[] a64 = doubles(m * k, 5);
            double[] b64 = doubles(n * k, 6);
            double[] blocked64 = new double[m * n];
            double[] rows64 = new double[m * n];
            DoubleMatmul.dots(a64, 0, k, b64, 0, k, blocked64, 0, n, m, n, k);
            for (int i = 0; i < m; i++) {
                DoubleMatmul.dots(a64, i * k, k, b64, 0, k, rows64, i * n, n, 1, n, k);
            }
            assertBitsEqual("f64 dots " + m + "x" + k + "x" + n, rows64, blocked64);
        }
    }

    private static void assertBitsEqual(String what, float[] expected, float[] actual) {
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                throw new AssertionError(what + ": element " + i + " is " + actual[i] + ", the documented sum "
                        + expected[i]);
            }
        }
    }

    private static void assertBitsEqual(String what, double[] expected, double[] actual) {
        for (int i = 0; i < expected.length; i++) {
            if (Double.doubleToRawLongBits(expected[i]) != Double.doubleToRawLongBits(actual[i])) {
                throw new AssertionError(what + ": element " + i + " is " + actual[i] + ", the documented sum "
                        + expected[i]);
            }
        }
    }

    private static float[] floats(int size, long seed) {
        Random random = new Random(seed);
        float[] v = new float[size];
        for (int i = 0; i < size; i++) {
            v[i] = 2 * random.nextFloat() - 1;
        }
        return v;
    }

    private static double[] doubles(int size, long seed) {
        Random random = new Random(seed);
        double[] v = new double[size];
        for (int i = 0; i < size; i++) {
            v[i] = 2 * random.nextDouble() - 1;
        }
        return v;
    }
}
