package dev.adjoint.engine.simd;

import dev.adjoint.DType;
import dev.adjoint.Shape;
import dev.adjoint.spi.BinaryOp;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.ReduceOp;
import dev.adjoint.spi.Storage;
import dev.adjoint.spi.UnaryOp;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The unary kernels (GELU, SiLU, softplus, log-sigmoid, expm1 (ELU's), log, log1p, sinh, cosh,
 * tanh, asinh, acosh, atanh, erf, sin, cos, tan, the roundings, and the derivatives of GELU, SiLU,
 * tanh and sigmoid) and
 * the binary ones (add, sub, mul, div, max, min and the comparisons, of two arrays or of an array and
 * one value either side), the reductions over a leading axis and the fused softmax's rows
 * ({@link #softmaxRowsStopAllocatingOnceCompiled}) allocate nothing once C2 has compiled
 * them: each loop body must fit what C2 inlines in one compilation, and call erf, exp, log, log1p and
 * tanh from the loop body itself (not from a helper called there), or a transcendental may be left a
 * call and every vector is boxed (GELU's exact derivative in FLOAT32 allocated 12 bytes per element
 * that way, 12 MB per 2^20 floats, and ran three times slower; softplus with exp and log1p in one
 * loop 18). Each kernel is called until one call allocates (almost) nothing, which the compiled code
 * does; the interpreter and C1 box, so the first calls always allocate. Allocation is counted per
 * thread by the JVM, so nothing depends on the machine's speed or load.
 *
 * <p>The kernels run in a child JVM, as a program using them would: in this test JVM, after the
 * conformance suite has run every op through the same dispatch methods, C2's profiles differ from
 * any real program's.
 */
class KernelAllocationTest {
    private static final int N = 1 << 14;
    /** Calls before giving up: C2 compiles a loop this hot within a few hundred. */
    private static final int MAX_CALLS = 20_000;
    /** Seconds of calls before giving up, whatever their number. */
    private static final int MIN_SECONDS = 10;

    @Test
    void kernelsStopAllocatingOnceCompiled() throws IOException, InterruptedException {
        String output = runChild();
        assertEveryKernelStopsAllocating(output, Child.KERNELS);
        assertEveryBinaryKernelStopsAllocating(output);
    }

    /**
     * As above with C2 counting a call site as hot only where it is reached four times per call of
     * the method it is in, not a quarter of a time: a profile that undercounts call sites sixteenfold,
     * as one started late in the JIT's history can. A call from a loop body still passes (it is
     * reached once per iteration), a call from a method called once per iteration does not, and a
     * vector method above MaxInlineSize (35 bytes) there was left a call, its vectors boxed: 11 MB
     * more per transformer-block step in some runs and not in others.
     */
    @Test
    void kernelsStopAllocatingWhenCallSitesAreUndercounted() throws IOException, InterruptedException {
        String output = runChild("-XX:+UnlockDiagnosticVMOptions", "-XX:InlineFrequencyRatio=4");
        assertEveryKernelStopsAllocating(output, Child.KERNELS);
        assertEveryBinaryKernelStopsAllocating(output);
    }

    private static String runChild(String... jvmOptions) throws IOException, InterruptedException {
        return ChildJvm.run(Child.class, List.of(jvmOptions));
    }

    /**
     * The fused softmax's rows ({@link FloatRows#softmaxRows}, {@link DoubleRows#softmaxRows}), softmax
     * and log-softmax, allocate nothing once compiled: rows no longer than a vector (a lane per row, and
     * the rows left over one at a time) and rows of one to several vectors with a masked tail, 70 rows a
     * call. A row's lanes were summed by a helper taking the vector, which C2 left a call once it had
     * inlined the two exponentials before it (past its node budget) and boxed: 6.7-52 KB per call
     * here. A child JVM per row length, as a program with one softmax layer; each beside {@link Child},
     * whose kernels' JIT history these calls would change. Not covered: a program whose softmax rows
     * are of both kinds, in FLOAT64, can still reach the node budget (three or four exponentials in one
     * compiled softmaxRows), and -XX:InlineFrequencyRatio=4, where a row of one to three vectors runs
     * its exponentials' call sites too few times a call for C2 to inline them.
     */
    @Test
    void softmaxRowsStopAllocatingOnceCompiled() throws IOException, InterruptedException {
        for (int n : SoftmaxChild.LENGTHS) {
            String output = ChildJvm.run(SoftmaxChild.class, List.of(), String.valueOf(n));
            for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                for (boolean log : new boolean[] {false, true}) {
                    String kernel = SoftmaxChild.name(dtype, n, log);
                    assertTrue(output.contains(kernel + " stops allocating"), kernel + ": " + output);
                }
            }
        }
    }

    /**
     * Max pooling allocates nothing once compiled, at stride 1, at stride 2 (taps' even lanes from two
     * loads) and at stride 3 (a gather), with and without padding, in both dtypes. With 16 vector
     * registers (AVX2), where vectors do not compress in one instruction, stride 2 took a masked
     * gather that C2 left to the Java fallback: every vector boxed, 24 MB per call of the
     * Fashion-MNIST CNN's first pool, and the pools of other strides compiled in the same method
     * boxed with it. A child JVM of its own, all four pools in turn, as one network's.
     */
    @Test
    void maxPoolingStopsAllocatingOnceCompiled() throws IOException, InterruptedException {
        String output = ChildJvm.run(PoolChild.class, List.of());
        for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            for (int[] pool : PoolChild.POOLS) {
                String kernel = PoolChild.name(dtype, pool);
                assertTrue(output.contains(kernel + " stops allocating"), kernel + ": " + output);
            }
        }
    }

    /**
     * The depthwise 3 x 3 stride-2 convolution's forward and gradients allocate nothing once compiled
     * (beyond a call's few small objects), in both dtypes, and C1 compiles each of their methods. A
     * kernel C1 gives up on ("out of virtual registers") may stay in C1's lower tier, C2 never
     * compiling it, every vector boxed: the forward with its image rows and kernel rows written out
     * in one method, and the weight gradient with its nine sums' loads written out, did, 1 GB per
     * call of [32, 128, 56, 56], in some JVMs and not others; C1's refusal showed in every one.
     */
    @Test
    void depthwiseStrideTwoStopsAllocatingOnceCompiled() throws IOException, InterruptedException {
        assertCompiledKernelsStopAllocating(DepthwiseChild.class, dtype -> java.util.Arrays.stream(
                DepthwiseChild.KERNELS).map(kernel -> DepthwiseChild.name(dtype, kernel)).toList());
    }

    /**
     * Runs {@code child} with {@code -XX:+PrintCompilation}: each of {@code names}' kernels, in both
     * dtypes, must report that it stops allocating, and no line may show a tier giving up on an
     * engine-simd method for good.
     */
    private static void assertCompiledKernelsStopAllocating(Class<?> child,
                                                            java.util.function.Function<DType, List<String>> names)
            throws IOException, InterruptedException {
        String output = ChildJvm.run(child, List.of("-XX:+PrintCompilation"));
        for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            for (String name : names.apply(dtype)) {
                assertTrue(output.contains(name + " stops allocating"), name + ": " + output);
            }
        }
        for (String line : output.split("\\R")) {
            // A tier that gives up on a method for good; C2's retries with fewer optimizations, and
            // compiles put off while a class loads, are tried again and are no failure.
            assertFalse(line.contains("dev.adjoint.engine.simd.") && line.contains("COMPILE SKIPPED")
                    && (line.contains("retry at different tier") || line.contains("not retryable")),
                    "the JIT gave up on a kernel: " + line);
        }
    }

    /**
     * {@code x @ w.T} with few rows of x, w read in place ({@code FloatGemm#streamsNarrowRowsOfB},
     * {@code #streamsRowsOfB}): the one-vector and two-vector 12-row kernels and the 6-row four-vector
     * one allocate nothing once compiled, in both dtypes, and no tier gives up on them. Each writes
     * 24 or 48 accumulators out by hand; a vector passed to a call C2 does not inline is boxed.
     */
    @Test
    void streamedProductsStopAllocatingOnceCompiled() throws IOException, InterruptedException {
        assertCompiledKernelsStopAllocating(StreamedProductChild.class, dtype -> java.util.Arrays.stream(
                StreamedProductChild.ROWS).mapToObj(rows -> StreamedProductChild.name(dtype, rows)).toList());
    }

    private static void assertEveryKernelStopsAllocating(String output, UnaryOp[] kernels) {
        // Both dtypes (FLOAT64's exact GELU derivative in two loops, since erf's and exp's polynomials
        // together do not fit one).
        for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            for (UnaryOp op : kernels) {
                String kernel = op + " " + dtype;
                assertTrue(output.contains(kernel + " stops allocating"), kernel + ": " + output);
            }
        }
    }

    private static void assertEveryBinaryKernelStopsAllocating(String output) {
        for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            for (BinaryOp op : Child.BINARY) {
                for (String operands : Child.OPERANDS) {
                    String kernel = op + " " + dtype + " " + operands;
                    assertTrue(output.contains(kernel + " stops allocating"), kernel + ": " + output);
                }
            }
            for (ReduceOp op : Child.REDUCTIONS) {
                for (String rows : new String[] {"rows", "wide rows"}) {
                    String kernel = op + " " + dtype + " " + rows;
                    assertTrue(output.contains(kernel + " stops allocating"), kernel + ": " + output);
                }
            }
        }
    }

    /** Run by {@link #kernelsStopAllocatingOnceCompiled}: one line per kernel and dtype. */
    static final class Child {
        /**
         * Their transcendentals (exp, erf, tanh, log, log1p, and sinh's and cosh's exp) are written
         * out in the loop bodies, each piece a call from the loop body itself, so they stay inlined
         * however C2 counts the call sites; the kernels too large for one compilation (the inverse
         * hyperbolics, sin, cos and tan) run several loops called from one call site with a receiver
         * per loop. The inputs span [-4, 4): log and log1p meet lanes
         * outside their domain too, whose special values are blended in the loop body (in a helper
         * of their own C2 left them a call and boxed).
         */
        static final UnaryOp[] KERNELS = {UnaryOp.GELU, UnaryOp.GELU_DERIVATIVE, UnaryOp.GELU_TANH,
            UnaryOp.GELU_TANH_DERIVATIVE, UnaryOp.SILU, UnaryOp.SILU_DERIVATIVE, UnaryOp.TANH_DERIVATIVE,
            UnaryOp.SIGMOID_DERIVATIVE, UnaryOp.EXPM1, UnaryOp.SOFTPLUS, UnaryOp.LOG_SIGMOID, UnaryOp.LOG,
            UnaryOp.LOG1P, UnaryOp.SINH, UnaryOp.COSH, UnaryOp.TANH, UnaryOp.ERF, UnaryOp.FLOOR, UnaryOp.CEIL,
            UnaryOp.ROUND, UnaryOp.TRUNC, UnaryOp.ASINH, UnaryOp.ACOSH, UnaryOp.ATANH, UnaryOp.ASIN, UnaryOp.ACOS,
            UnaryOp.ATAN, UnaryOp.SIN, UnaryOp.COS, UnaryOp.TAN};
        /**
         * In this order, each run to the end before the next: a kernel compiled for the ops run so
         * far must not box the next one's vectors (after add and sub, mul boxed every vector).
         */
        static final BinaryOp[] BINARY = {BinaryOp.ADD, BinaryOp.SUB, BinaryOp.MUL, BinaryOp.DIV, BinaryOp.MAX,
            BinaryOp.MIN, BinaryOp.GT, BinaryOp.LT, BinaryOp.GE, BinaryOp.LE, BinaryOp.EQ, BinaryOp.NE};
        /** Over the leading axis of {@code [ROWS, N / ROWS]}, the reductions' loop over rows; likewise in order. */
        static final ReduceOp[] REDUCTIONS = {ReduceOp.SUM, ReduceOp.MAX, ReduceOp.MIN};
        /** Rows of the reductions' block: columns few enough that its accumulator row is a few hundred bytes. */
        static final int ROWS = N / 16;
        /**
         * Rows of the reductions' wide block: 1024 columns, whose accumulator row (8 KB of doubles, a
         * Linear layer's bias gradient) must be the thread's, not allocated per call.
         */
        static final int WIDE_ROWS = 16;
        /** The operands: two arrays, an array and one value repeated (a stride of 0), one value and an array. */
        static final String[] OPERANDS = {"vector-vector", "vector-repeated", "repeated-vector"};

        public static void main(String[] args) {
            List<UnaryOp> unary = List.of(KERNELS);
            SimdBackend backend = new SimdBackend();
            double[] spread = new double[N];
            double[] positive = new double[N];
            for (int i = 0; i < N; i++) {
                spread[i] = (i % 2000 - 1000) / 250.0;
                positive[i] = (i % 777 + 1) / 300.0;
            }
            Layout dense = Layout.contiguous(Shape.of(N));
            Layout repeated = new Layout(Shape.of(N), new int[] {0}, 0);
            Layout block = Layout.contiguous(Shape.of(ROWS, N / ROWS));
            Layout blockRow = Layout.contiguous(Shape.of(1, N / ROWS));
            Layout wide = Layout.contiguous(Shape.of(WIDE_ROWS, N / WIDE_ROWS));
            Layout wideRow = Layout.contiguous(Shape.of(1, N / WIDE_ROWS));
            for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                Storage x = backend.fromDoubles(spread, dtype);
                Storage y = backend.fromDoubles(positive, dtype);
                Storage out = backend.allocate(dtype, N);
                Storage bools = backend.allocate(DType.BOOL, N);
                for (UnaryOp op : unary) {
                    report(op + " " + dtype, () -> backend.unary(op, x, dense, out, dense));
                }
                for (BinaryOp op : BINARY) {
                    Storage o = op.isComparison() ? bools : out;
                    report(op + " " + dtype + " " + OPERANDS[0], () -> backend.binary(op, x, dense, y, dense, o, dense));
                    report(op + " " + dtype + " " + OPERANDS[1], () -> backend.binary(op, x, dense, y, repeated, o, dense));
                    report(op + " " + dtype + " " + OPERANDS[2], () -> backend.binary(op, x, repeated, y, dense, o, dense));
                }
                for (ReduceOp op : REDUCTIONS) {
                    report(op + " " + dtype + " rows", () -> backend.reduce(op, x, block, out, blockRow));
                    report(op + " " + dtype + " wide rows", () -> backend.reduce(op, x, wide, out, wideRow));
                }
            }
        }

        /**
         * Calls {@code kernel} until one call allocates (almost) nothing, or MAX_CALLS times and for at
         * least {@link #MIN_SECONDS} (on a busy machine C2 may take longer than the calls), and prints
         * the least.
         */
        static void report(String kernel, Runnable call) {
            var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long least = Long.MAX_VALUE;
            long until = System.nanoTime() + MIN_SECONDS * 1_000_000_000L;
            int calls = 0;
            for (; (calls < MAX_CALLS || System.nanoTime() < until) && least > 1024; calls++) {
                long before = threads.getCurrentThreadAllocatedBytes();
                call.run();
                least = Math.min(least, threads.getCurrentThreadAllocatedBytes() - before);
            }
            System.out.println(kernel + (least <= 1024 ? " stops allocating" : " still allocates " + least
                    + " bytes per call after " + calls
                    + " calls (boxed vectors, see -XX:+PrintInlining, or a buffer made per call)"));
        }
    }

    /** Run by {@link #softmaxRowsStopAllocatingOnceCompiled}: one line per dtype, row length and form. */
    static final class SoftmaxChild {
        /** Row lengths: under a vector of either dtype, of one FLOAT32 vector and a tail, of several. */
        static final int[] LENGTHS = {6, 10, 20, 100};
        /** A multiple of 16 rows for the lane-per-row path, and six left over for the one-row path. */
        static final int ROWS = 70;

        static String name(DType dtype, int n, boolean log) {
            return (log ? "log-softmax " : "softmax ") + dtype + " rows of " + n;
        }

        /** Rows of {@code args[0]} elements: one row length per JVM, as a program with one softmax layer. */
        public static void main(String[] args) {
            int n = Integer.parseInt(args[0]);
            int size = ROWS * n;
            float[] xf = new float[size];
            float[] of = new float[size];
            double[] xd = new double[size];
            double[] od = new double[size];
            for (int i = 0; i < size; i++) {
                xd[i] = (i % 2000 - 1000) / 250.0;
                xf[i] = (float) xd[i];
            }
            for (boolean log : new boolean[] {false, true}) {
                Child.report(name(DType.FLOAT32, n, log), () -> FloatRows.softmaxRows(xf, 0, of, 0, ROWS, n, log));
                Child.report(name(DType.FLOAT64, n, log), () -> DoubleRows.softmaxRows(xd, 0, od, 0, ROWS, n, log));
            }
        }
    }

    /** Run by {@link #maxPoolingStopsAllocatingOnceCompiled}: one line per dtype and pool. */
    static final class PoolChild {
        /** {kernel, stride, padding} of each pool, on images {@code [2, 8, 28, 28]}. */
        static final int[][] POOLS = {{2, 2, 0}, {3, 2, 1}, {3, 1, 1}, {3, 3, 0}};
        private static final int BATCH = 2, CHANNELS = 8, SIDE = 28;

        static String name(DType dtype, int[] pool) {
            return "maxPool2d " + dtype + " " + pool[0] + "x" + pool[0] + " stride " + pool[1] + " padding " + pool[2];
        }

        public static void main(String[] args) {
            SimdBackend backend = new SimdBackend();
            int n = BATCH * CHANNELS * SIDE * SIDE;
            double[] values = new double[n];
            for (int i = 0; i < n; i++) {
                values[i] = (i * 7919 % 1000 - 500) / 250.0;
            }
            Layout image = Layout.contiguous(Shape.of(BATCH, CHANNELS, SIDE, SIDE));
            for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                Storage x = backend.fromDoubles(values, dtype);
                for (int[] pool : POOLS) {
                    int k = pool[0], stride = pool[1], pad = pool[2];
                    int side = (SIDE + 2 * pad - k) / stride + 1;
                    var window = new dev.adjoint.spi.Window2d(SIDE, SIDE, k, k, stride, stride, pad, pad, 1, 1, side, side);
                    Layout pooled = Layout.contiguous(Shape.of(BATCH, CHANNELS, side, side));
                    Storage out = backend.allocate(dtype, BATCH * CHANNELS * side * side);
                    Storage indices = backend.allocate(DType.INT64, BATCH * CHANNELS * side * side);
                    Child.report(name(dtype, pool), () -> backend.maxPool2d(x, image, window, out, pooled, indices, pooled));
                }
            }
        }
    }

    /** Run by {@link #depthwiseStrideTwoStopsAllocatingOnceCompiled}: one line per dtype and kernel. */
    static final class DepthwiseChild {
        static final String[] KERNELS = {"conv2d", "conv2dInputGrad", "conv2dWeightGrad"};
        private static final int BATCH = 2, CHANNELS = 8, SIDE = 56;

        static String name(DType dtype, String kernel) {
            return "depthwise 3x3 stride 2 " + kernel + " " + dtype;
        }

        public static void main(String[] args) {
            SimdBackend backend = new SimdBackend();
            int side = dev.adjoint.spi.Window2d.outputSize(SIDE, 3, 2, 1, 1, false);
            var window = new dev.adjoint.spi.Window2d(SIDE, SIDE, 3, 3, 2, 2, 1, 1, 1, 1, side, side);
            Layout image = Layout.contiguous(Shape.of(BATCH, CHANNELS, SIDE, SIDE));
            Layout weights = Layout.contiguous(Shape.of(CHANNELS, 1, 3, 3));
            Layout output = Layout.contiguous(Shape.of(BATCH, CHANNELS, side, side));
            double[] values = new double[image.numel()];
            for (int i = 0; i < values.length; i++) {
                values[i] = (i * 7919 % 1000 - 500) / 250.0;
            }
            for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                Storage x = backend.fromDoubles(values, dtype);
                Storage w = backend.fromDoubles(java.util.Arrays.copyOf(values, weights.numel()), dtype);
                Storage g = backend.fromDoubles(java.util.Arrays.copyOf(values, output.numel()), dtype);
                Storage out = backend.allocate(dtype, output.numel());
                Storage gx = backend.allocate(dtype, image.numel());
                Storage gw = backend.allocate(dtype, weights.numel());
                Child.report(name(dtype, KERNELS[0]), () -> backend.conv2d(x, image, w, weights, window, CHANNELS, out, output));
                Child.report(name(dtype, KERNELS[1]),
                        () -> backend.conv2dInputGrad(g, output, w, weights, window, CHANNELS, gx, image));
                Child.report(name(dtype, KERNELS[2]),
                        () -> backend.conv2dWeightGrad(x, image, g, output, window, CHANNELS, gw, weights));
            }
        }
    }

    /** Run by {@link #streamedProductsStopAllocatingOnceCompiled}: one line per dtype and count of x's rows. */
    static final class StreamedProductChild {
        /**
         * Rows of x: one vector's kernel, two vectors' and a last of one (three in FLOAT64 with
         * AVX-512), and with 32 registers the four-vector kernel in FLOAT32.
         */
        static final int[] ROWS = {4, 24, 56};
        private static final int K = 300, N = 200;

        static String name(DType dtype, int rows) {
            return "x @ w.T, x of " + rows + " rows, " + dtype;
        }

        public static void main(String[] args) {
            float[] wf = new float[N * K], bias = new float[N];
            double[] wd = new double[N * K], biasD = new double[N];
            for (int i = 0; i < wf.length; i++) {
                wd[i] = (i * 7919 % 1000 - 500) / 250.0;
                wf[i] = (float) wd[i];
            }
            Layout w = new Layout(Shape.of(1, K, N), new int[] {N * K, 1, K}, 0);
            for (int rows : ROWS) {
                Layout x = Layout.contiguous(Shape.of(1, rows, K));
                Layout o = Layout.contiguous(Shape.of(1, rows, N));
                float[] xf = java.util.Arrays.copyOf(wf, rows * K), of = new float[rows * N];
                double[] xd = java.util.Arrays.copyOf(wd, rows * K), od = new double[rows * N];
                Child.report(name(DType.FLOAT32, rows), () -> FloatGemm.multiply(xf, x, K, 1, wf, w, 1, K, bias, 0, of, o,
                        N, rows, N, K, 1, 1, 1));
                Child.report(name(DType.FLOAT64, rows), () -> DoubleGemm.multiply(xd, x, K, 1, wd, w, 1, K, biasD, 0, od,
                        o, N, rows, N, K, 1, 1, 1));
            }
        }
    }
}
