package dev.adjoint.benchmarks.djl;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The story: {@code dev.adjoint.benchmarks.GemmBenchmark} on DJL 0.35 with PyTorch 2.7.1 - an
 * {@code n x n} times {@code n x n} {@code NDArray.matMul}, counted as 2 n^3 floating operations (or
 * {@code m x k} times {@code k x n} with {@code -p m=... -p k=...}, 2 m k n), on one and on two
 * libtorch threads - so that one JMH run (the benchmarks-djl jar,
 * {@code benchmarks/gemm-sweep}) puts libtorch beside Adjoint's engines. Read the {@code gflops}
 * line, as there.
 *
 * <p>Pitfalls avoided:
 * <ul>
 *   <li>Threads: each method's forks set DJL's {@code ai.djl.pytorch.num_threads} (libtorch's
 *       intra-op threads, which its BLAS uses) to 1 or 2 and one inter-op thread; the set-up reads the
 *       count back from libtorch and fails if it differs, and prints the engine's capabilities (which
 *       BLAS libtorch was built with).</li>
 *   <li>Downloads: libtorch comes from the Maven Central jars on the class path and the forks run
 *       with DJL's {@code offline} property, as in {@link DjlTrainingStepBenchmark}.</li>
 *   <li>The output: DJL has no {@code matMul} into an existing array, so each call allocates its
 *       n x n result in native memory and closes it at once (libtorch's allocator reuses the block).
 *       That is part of what a DJL user pays; Adjoint's GemmBenchmark writes into a preallocated
 *       output, which at n = 64 is a few percent in its favour.</li>
 *   <li>Dead-code elimination cannot happen to a native call; constant folding: operands are filled
 *       from a seeded {@link Random}, uniform in [-1, 1) like GemmBenchmark's.</li>
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Doffline=true", "-Dai.djl.pytorch.num_interop_threads=1"})
public class DjlGemmBenchmark {
    private static final String THREADS = "ai.djl.pytorch.num_threads";

    /** The names of Adjoint's DType, so that {@code -p dtype=FLOAT32} selects the same case in both benchmarks. */
    @Param({"FLOAT32", "FLOAT64"})
    public String dtype;

    @Param({"64", "128", "256", "512", "1024", "2048"})
    public int n;

    /** Rows of A; 0 means n (a square product), as in GemmBenchmark. */
    @Param({"0"})
    public int m;

    /** Columns of A and rows of B; 0 means n. */
    @Param({"0"})
    public int k;

    private double gflopPerCall;

    private NDManager manager;
    private NDArray a;
    private NDArray b;

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
        Engine engine = Engine.getEngine("PyTorch");
        int threads = Integer.getInteger(THREADS);
        if (JniUtils.getNumThreads() != threads) {
            throw new IllegalStateException("DjlGemmBenchmark: libtorch runs " + JniUtils.getNumThreads()
                    + " intra-op threads, " + THREADS + " asked for " + threads);
        }
        System.out.println("DJL " + engine.getEngineName() + " " + engine.getVersion() + ": "
                + JniUtils.getNumThreads() + " intra-op thread(s), " + JniUtils.getNumInteropThreads()
                + " inter-op; " + engine.toString().replaceAll("\\s+", " "));
        manager = NDManager.newBaseManager(engine.defaultDevice(), engine.getEngineName());
        DataType type = dtype.equals("FLOAT32") ? DataType.FLOAT32 : DataType.FLOAT64;
        int rows = m == 0 ? n : m;
        int depth = k == 0 ? n : k;
        a = manager.create(uniform(rows * depth, 1), new Shape(rows, depth)).toType(type, false);
        b = manager.create(uniform(depth * n, 2), new Shape(depth, n)).toType(type, false);
        gflopPerCall = 2.0 * rows * depth * n / 1e9;
    }

    @TearDown
    public void tearDown() {
        manager.close();
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {"-Doffline=true", "-Dai.djl.pytorch.num_interop_threads=1", "-D" + THREADS + "=1"})
    public long oneThread(Flops flops) {
        return multiply(flops);
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {"-Doffline=true", "-Dai.djl.pytorch.num_interop_threads=1", "-D" + THREADS + "=2"})
    public long twoThreads(Flops flops) {
        return multiply(flops);
    }

    private long multiply(Flops flops) {
        long size;
        try (NDArray c = a.matMul(b)) {
            size = c.size();
        }
        flops.gflops += gflopPerCall;
        return size;
    }

    private static double[] uniform(int size, long seed) {
        Random random = new Random(seed);
        double[] v = new double[size];
        for (int i = 0; i < size; i++) {
            v[i] = 2 * random.nextDouble() - 1;
        }
        return v;
    }
}
