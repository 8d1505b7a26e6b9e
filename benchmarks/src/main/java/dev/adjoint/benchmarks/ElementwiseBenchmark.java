package dev.adjoint.benchmarks;

import dev.adjoint.DType;
import dev.adjoint.Shape;
import dev.adjoint.backend.Backends;
import dev.adjoint.spi.Backend;
import dev.adjoint.spi.BinaryOp;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.Storage;
import dev.adjoint.spi.UnaryOp;
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

import java.util.concurrent.TimeUnit;

/**
 * The story: large elementwise ops are limited by memory, not arithmetic, so the yardstick is a
 * plain copy of the same number of bytes in the same run. Read the {@code gbytes} line of each
 * result (GB/s of bytes the op must read plus write): {@code add} moves 12 bytes per FLOAT32
 * element (two inputs, one output), {@code exp} and {@code copy} 8. At 10^3 elements everything is
 * in L1 and the numbers show per-call overhead; at 10^7 (40 MB per array) they show DRAM.
 *
 * <p>Pitfalls avoided: kernels are called through the backend SPI into an output allocated once, so
 * the allocation of a fresh output (which the api does per op) is not what is timed; inputs are
 * state fields of random values in a range where exp neither overflows nor underflows; outputs are
 * returned.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--add-modules=jdk.incubator.vector")
public class ElementwiseBenchmark {
    @Param({"simd", "scalar"})
    public String backend;

    @Param({"1000", "10000", "100000", "1000000", "10000000"})
    public int size;

    private Backend engine;
    private Storage x;
    private Storage y;
    private Storage out;
    private Layout layout;
    private float[] from;
    private float[] to;

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
        layout = Layout.contiguous(Shape.of(size));
        double[] values = GemmBenchmark.uniform(size, 3);
        x = engine.fromDoubles(values, DType.FLOAT32);
        y = engine.fromDoubles(GemmBenchmark.uniform(size, 4), DType.FLOAT32);
        out = engine.allocate(DType.FLOAT32, size);
        from = new float[size];
        for (int i = 0; i < size; i++) {
            from[i] = (float) values[i];
        }
        to = new float[size];
    }

    @Benchmark
    public Storage add(Bytes bytes) {
        engine.binary(BinaryOp.ADD, x, layout, y, layout, out, layout);
        bytes.gbytes += 12.0 * size / 1e9;
        return out;
    }

    @Benchmark
    public Storage exp(Bytes bytes) {
        engine.unary(UnaryOp.EXP, x, layout, out, layout);
        bytes.gbytes += 8.0 * size / 1e9;
        return out;
    }

    /** The memory-bandwidth yardstick: no backend, just the JDK's intrinsic copy. */
    @Benchmark
    public float[] copy(Bytes bytes) {
        System.arraycopy(from, 0, to, 0, size);
        bytes.gbytes += 8.0 * size / 1e9;
        return to;
    }
}
