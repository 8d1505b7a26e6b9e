package dev.adjoint.benchmarks;

import dev.adjoint.DType;
import dev.adjoint.Shape;
import dev.adjoint.backend.Backends;
import dev.adjoint.spi.Backend;
import dev.adjoint.spi.BinaryOp;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.ReduceOp;
import dev.adjoint.spi.Storage;
import dev.adjoint.spi.UnaryOp;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
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
 * The story: large elementwise ops are limited by memory, not arithmetic, so the yardstick is a
 * plain copy of the same number of bytes in the same run. Read the {@code gbytes} line of each
 * result (GB/s of bytes the op must read plus write): a binary op moves three elements per element
 * (two inputs, one output), a unary op and {@code copy} two, {@code sum} one. At 10^3 elements
 * everything is in L1 and the numbers show per-call overhead; at 10^7 (40 MB per FLOAT32 array) they
 * show DRAM.
 *
 * <p>{@code expJdk} and {@code tanhJdk} are the JDK's own vector {@code EXP} / {@code TANH}
 * ({@code lanewise}, SVML stubs on x86) over the same arrays in the plainest loop: the baseline the
 * backend's own polynomial {@code exp} and {@code tanh} have to beat; {@code logJdk} and
 * {@code log1pJdk} likewise for {@code log} and {@code log1p}.
 *
 * <p>Pitfalls avoided: kernels are called through the backend SPI into an output allocated once, so
 * the allocation of a fresh output (which the api does per op) is not what is timed ({@code -prof gc}
 * shows 0 B/op); inputs are state fields of seeded random values in [-1, 1), where exp neither
 * overflows nor underflows (erf: one value in sixteen lies past its split at 0.875, so many vectors
 * need both of its formulas), except for log and log1p, whose inputs are 1 - x, in (0, 2] (log's
 * argument must be positive); outputs are returned; the vector species are {@code static final}
 * constants.
 *
 * <p>In [-1, 1) every tanh vector takes the simd engine's rational fast path (all lanes within
 * |x| <= 3, or 3.5 in FLOAT64). {@code tanhWide} runs tanh on Gaussian values with standard deviation
 * 2 instead: most FLOAT32 vectors and about half of the FLOAT64 ones hold a larger lane and take the
 * exp-based formula, and the choice between the two is as unpredictable as it gets for FLOAT64, so
 * it shows what the fast path costs when it does not apply.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--add-modules=jdk.incubator.vector")
public class ElementwiseBenchmark {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;

    /** "simd" by default; {@code -p backend=scalar} (or nd4j) for the other engines. */
    @Param({"simd"})
    public String backend;

    @Param({"FLOAT32", "FLOAT64"})
    public DType dtype;

    @Param({"1000", "10000", "100000", "1000000", "10000000"})
    public int size;

    private Backend engine;
    private Storage x;
    private Storage positive;
    private Storage y;
    private Storage wide;
    private Storage out;
    private Storage total;
    private Layout layout;
    private Layout scalarLayout;
    private float[] fromF;
    private float[] toF;
    private double[] fromD;
    private float[] positiveF;
    private double[] positiveD;
    private double[] toD;
    private int elementBytes;

    /** Bytes read plus written in this iteration, in units of 10^9: per second, GB/s. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Bytes {
        public double gbytes;

        @Setup(Level.Iteration)
        public void reset() {
            gbytes = 0;
        }
    }

    @Setup
    public void setUp() {
        engine = Backends.get(backend);
        Nd4jBlasThreads.pinIfNd4j(engine);
        layout = Layout.contiguous(Shape.of(size));
        scalarLayout = Layout.contiguous(Shape.of(1));
        double[] values = GemmBenchmark.uniform(size, 3);
        x = engine.fromDoubles(values, dtype);
        y = engine.fromDoubles(GemmBenchmark.uniform(size, 4), dtype);
        // SplittableRandom's nextGaussian is the ziggurat method, many times faster than Random's polar one.
        SplittableRandom random = new SplittableRandom(5);
        double[] gaussian = new double[size];
        for (int i = 0; i < size; i++) {
            gaussian[i] = 2 * random.nextGaussian();
        }
        wide = engine.fromDoubles(gaussian, dtype);
        out = engine.allocate(dtype, size);
        total = engine.allocate(dtype, 1);
        elementBytes = dtype == DType.FLOAT32 ? 4 : 8;
        fromD = values;
        toD = new double[size];
        fromF = new float[size];
        for (int i = 0; i < size; i++) {
            fromF[i] = (float) values[i];
        }
        toF = new float[size];
        positiveD = new double[size];
        positiveF = new float[size];
        for (int i = 0; i < size; i++) {
            positiveD[i] = 1 - values[i];
            positiveF[i] = (float) positiveD[i];
        }
        positive = engine.fromDoubles(positiveD, dtype);
    }

    /** The memory-bandwidth yardstick: no backend, just the JDK's intrinsic copy. */
    @Benchmark
    public Object copy(Bytes bytes) {
        count(bytes, 2);
        if (dtype == DType.FLOAT32) {
            System.arraycopy(fromF, 0, toF, 0, size);
            return toF;
        }
        System.arraycopy(fromD, 0, toD, 0, size);
        return toD;
    }

    @Benchmark
    public Storage add(Bytes bytes) {
        return binary(BinaryOp.ADD, bytes);
    }

    @Benchmark
    public Storage mul(Bytes bytes) {
        return binary(BinaryOp.MUL, bytes);
    }

    @Benchmark
    public Storage exp(Bytes bytes) {
        return unary(UnaryOp.EXP, bytes);
    }

    @Benchmark
    public Storage tanh(Bytes bytes) {
        return unary(UnaryOp.TANH, bytes);
    }

    @Benchmark
    public Storage erf(Bytes bytes) {
        return unary(UnaryOp.ERF, bytes);
    }

    @Benchmark
    public Storage log(Bytes bytes) {
        return unary(UnaryOp.LOG, positive, bytes);
    }

    @Benchmark
    public Storage log1p(Bytes bytes) {
        return unary(UnaryOp.LOG1P, positive, bytes);
    }

    @Benchmark
    public Storage tanhWide(Bytes bytes) {
        return unary(UnaryOp.TANH, wide, bytes);
    }

    @Benchmark
    public Storage sigmoid(Bytes bytes) {
        return unary(UnaryOp.SIGMOID, bytes);
    }

    @Benchmark
    public Storage relu(Bytes bytes) {
        return unary(UnaryOp.RELU, bytes);
    }

    @Benchmark
    public Storage sum(Bytes bytes) {
        engine.reduce(ReduceOp.SUM, x, layout, total, scalarLayout);
        count(bytes, 1);
        return total;
    }

    @Benchmark
    public Object expJdk(Bytes bytes) {
        count(bytes, 2);
        if (dtype == DType.FLOAT32) {
            int bound = F.loopBound(size);
            for (int i = 0; i < bound; i += F.length()) {
                FloatVector.fromArray(F, fromF, i).lanewise(VectorOperators.EXP).intoArray(toF, i);
            }
            return toF;
        }
        int bound = D.loopBound(size);
        for (int i = 0; i < bound; i += D.length()) {
            DoubleVector.fromArray(D, fromD, i).lanewise(VectorOperators.EXP).intoArray(toD, i);
        }
        return toD;
    }

    @Benchmark
    public Object tanhJdk(Bytes bytes) {
        count(bytes, 2);
        if (dtype == DType.FLOAT32) {
            int bound = F.loopBound(size);
            for (int i = 0; i < bound; i += F.length()) {
                FloatVector.fromArray(F, fromF, i).lanewise(VectorOperators.TANH).intoArray(toF, i);
            }
            return toF;
        }
        int bound = D.loopBound(size);
        for (int i = 0; i < bound; i += D.length()) {
            DoubleVector.fromArray(D, fromD, i).lanewise(VectorOperators.TANH).intoArray(toD, i);
        }
        return toD;
    }

    @Benchmark
    public Object logJdk(Bytes bytes) {
        count(bytes, 2);
        if (dtype == DType.FLOAT32) {
            int bound = F.loopBound(size);
            for (int i = 0; i < bound; i += F.length()) {
                FloatVector.fromArray(F, positiveF, i).lanewise(VectorOperators.LOG).intoArray(toF, i);
            }
            return toF;
        }
        int bound = D.loopBound(size);
        for (int i = 0; i < bound; i += D.length()) {
            DoubleVector.fromArray(D, positiveD, i).lanewise(VectorOperators.LOG).intoArray(toD, i);
        }
        return toD;
    }

    @Benchmark
    public Object log1pJdk(Bytes bytes) {
        count(bytes, 2);
        if (dtype == DType.FLOAT32) {
            int bound = F.loopBound(size);
            for (int i = 0; i < bound; i += F.length()) {
                FloatVector.fromArray(F, positiveF, i).lanewise(VectorOperators.LOG1P).intoArray(toF, i);
            }
            return toF;
        }
        int bound = D.loopBound(size);
        for (int i = 0; i < bound; i += D.length()) {
            DoubleVector.fromArray(D, positiveD, i).lanewise(VectorOperators.LOG1P).intoArray(toD, i);
        }
        return toD;
    }

    private Storage unary(UnaryOp op, Bytes bytes) {
        return unary(op, x, bytes);
    }

    private Storage unary(UnaryOp op, Storage input, Bytes bytes) {
        engine.unary(op, input, layout, out, layout);
        count(bytes, 2);
        return out;
    }

    private Storage binary(BinaryOp op, Bytes bytes) {
        engine.binary(op, x, layout, y, layout, out, layout);
        count(bytes, 3);
        return out;
    }

    /** {@code arrays} whole arrays of {@code size} elements read or written by one call. */
    private void count(Bytes bytes, int arrays) {
        bytes.gbytes += (double) arrays * elementBytes * size / 1e9;
    }
}
