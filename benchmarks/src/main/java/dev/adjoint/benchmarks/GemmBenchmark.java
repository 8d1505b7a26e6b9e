package dev.adjoint.benchmarks;

import dev.adjoint.DType;
import dev.adjoint.Shape;
import dev.adjoint.backend.Backends;
import dev.adjoint.spi.Backend;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.Storage;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The story: how close the backend's matmul comes to the machine, as GFLOP/s of an {@code n x n}
 * times {@code n x n} product (2 n^3 floating operations), on one thread and on two; with
 * {@code -p m=1000 -p k=333 -p n=777} of an {@code m x k} times {@code k x n} product (2 m k n), where
 * no dimension is a multiple of a register or cache block. Read the
 * {@code gflops} line of each result (JMH's secondary metric, "ops/s" there means GFLOP/s), next to
 * {@link FmaPeakBenchmark} from the same run for the percentage of peak, and next to
 * {@code benchmarks/run-peers} for OpenBLAS. {@code benchmarks/gemm-sweep} runs all of it (and DJL's
 * {@code DjlGemmBenchmark}) in one JMH run and prints one table.
 *
 * <p>Pitfalls avoided:
 * <ul>
 *   <li>Measuring allocation instead of arithmetic: the kernel is called through the backend SPI
 *       with an output storage allocated once, so a call allocates nothing but the engine's own
 *       bookkeeping ({@code -prof gc} shows it: {@code gc.alloc.rate.norm} stays near 0 B/op).</li>
 *   <li>Thread count: {@code adjoint.simd.threads} is read once per JVM, so each method sets it in
 *       its own forks' command line rather than through a parameter. The nd4j backend's OpenBLAS is
 *       pinned to the same count in the set-up ({@link Nd4jBlasThreads}), which prints the thread
 *       count it checked. ND4J's OpenBLAS (0.3.19) picks its kernels by CPU model; on a CPU newer than
 *       it knows it may fall back to older ones, which {@code OPENBLAS_CORETYPE} in the environment
 *       overrides (e.g. {@code SkylakeX} for AVX-512; gemm-sweep sets it).</li>
 *   <li>Dead-code elimination: the output storage is returned; constant folding: operands are
 *       state fields filled from a seeded {@link SplittableRandom}.</li>
 *   <li>Warm-up: large n run few calls per second; 3 warm-up iterations of 2 s let C2 compile the
 *       micro-kernel before measuring (n = 2048 is ~80 ms per f32 call on one thread, so an
 *       iteration still holds a dozen calls).</li>
 *   <li>Only "simd" by default: the scalar backend needs seconds per call at n = 1024; add it with
 *       {@code -p backend=scalar -p n=64,128,256} when you want the comparison.</li>
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class GemmBenchmark {
    /** The thread count of a method's forks, for the backends that do not read adjoint.simd.threads. */
    static final String THREADS_PROPERTY = "adjoint.bench.threads";

    @Param({"simd", "nd4j"})
    public String backend;

    @Param({"FLOAT32", "FLOAT64"})
    public DType dtype;

    @Param({"64", "128", "256", "512", "1024", "2048"})
    public int n;

    /** Rows of A; 0 means n (a square product). */
    @Param({"0"})
    public int m;

    /** Columns of A and rows of B; 0 means n. */
    @Param({"0"})
    public int k;

    private Backend engine;
    private Storage a;
    private Storage b;
    private Storage out;
    private Layout aLayout;
    private Layout bLayout;
    private Layout outLayout;
    private double gflopPerCall;

    /** Floating operations done in this iteration, in units of 10^9: per second, GFLOP/s. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Flops {
        public double gflops;

        @Setup(Level.Iteration)
        public void reset() {
            gflops = 0;
        }
    }

    @Setup
    public void setUp() {
        engine = Backends.get(backend);
        Nd4jBlasThreads.pinIfNd4j(engine);
        int rows = m == 0 ? n : m;
        int depth = k == 0 ? n : k;
        aLayout = Layout.contiguous(Shape.of(rows, depth));
        bLayout = Layout.contiguous(Shape.of(depth, n));
        outLayout = Layout.contiguous(Shape.of(rows, n));
        a = engine.fromDoubles(uniform(rows * depth, 1), dtype);
        b = engine.fromDoubles(uniform(depth * n, 2), dtype);
        out = engine.allocate(dtype, rows * n);
        gflopPerCall = 2.0 * rows * depth * n / 1e9;
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-Dadjoint.simd.threads=1", "-D" + THREADS_PROPERTY + "=1"})
    public Storage oneThread(Flops flops) {
        return multiply(flops);
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-Dadjoint.simd.threads=2", "-D" + THREADS_PROPERTY + "=2"})
    public Storage twoThreads(Flops flops) {
        return multiply(flops);
    }

    private Storage multiply(Flops flops) {
        engine.matmul(a, aLayout, b, bLayout, out, outLayout);
        flops.gflops += gflopPerCall;
        return out;
    }

    static double[] uniform(int size, long seed) {
        // SplittableRandom: no atomic update per value, so 10^7 values take a fraction of a second.
        SplittableRandom random = new SplittableRandom(seed);
        double[] v = new double[size];
        for (int i = 0; i < size; i++) {
            v[i] = 2 * random.nextDouble() - 1;
        }
        return v;
    }
}
