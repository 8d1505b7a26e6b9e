package dev.adjoint.benchmarks;

import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.Shape;
import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
import dev.adjoint.backend.Backends;
import dev.adjoint.spi.Backend;
import dev.adjoint.spi.BinaryOp;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.Storage;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
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
 * The story: what Adjoint's "nd4j" backend adds on top of ND4J itself. Each pair runs the same work
 * through Adjoint and through raw ND4J calls in the same JVM, so the difference is Adjoint's cost:
 * <ul>
 *   <li>{@link #spiAddInPlace16} against {@link #rawAddInPlace16}: one 16-element add into an
 *       existing buffer, through the SPI kernel (views over the storages, the ND4J op) and as
 *       {@code INDArray.addi}; the backend's own overhead, no allocation on either side.</li>
 *   <li>{@link #adjointSequence16} against {@link #rawSequence16}: {@code sum(tanh(a * b + c))} on
 *       16 elements with fresh outputs, as user code writes it (Adjoint untracked: no tape), the
 *       api's validation and tensor objects included.</li>
 *   <li>{@link #adjointMatmul} against {@link #rawMatmul}: n x n FLOAT32 matmul; GFLOP/s is
 *       {@code 2 n^3 / time}.</li>
 * </ul>
 * Pitfalls avoided: every benchmark returns its result (no dead-code elimination); inputs live in
 * non-final state fields (no constant folding); the raw and Adjoint inputs hold the same values.
 * ND4J runs its kernels on an OpenMP pool: on a shared machine, numbers move with the neighbours.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class Nd4jOverheadBenchmark {
    private static final int SMALL = 16;

    /** Small operands, the same values for both sides. */
    @State(Scope.Thread)
    public static class Small {
        Backend backend;
        Tensor a;
        Tensor b;
        Tensor c;
        Storage sa;
        Storage sb;
        Storage out;
        Layout layout;
        INDArray ra;
        INDArray rb;
        INDArray rc;
        INDArray rOut;

        @Setup
        public void setUp() {
            backend = Backends.get("nd4j");
            TensorFactory on = Tensor.on(backend);
            Generator generator = new Generator(42);
            a = on.randn(generator, DType.FLOAT32, SMALL);
            b = on.randn(generator, DType.FLOAT32, SMALL);
            c = on.randn(generator, DType.FLOAT32, SMALL);
            layout = Layout.contiguous(Shape.of(SMALL));
            sa = a.storage();
            sb = b.storage();
            out = backend.allocate(DType.FLOAT32, SMALL);
            ra = Nd4j.create(a.toFloatArray(), new long[] {SMALL}, DataType.FLOAT);
            rb = Nd4j.create(b.toFloatArray(), new long[] {SMALL}, DataType.FLOAT);
            rc = Nd4j.create(c.toFloatArray(), new long[] {SMALL}, DataType.FLOAT);
            rOut = Nd4j.create(DataType.FLOAT, SMALL);
        }
    }

    /** n x n FLOAT32 matrices for both sides. */
    @State(Scope.Thread)
    public static class Matrices {
        @Param({"512", "1024"})
        public int n;

        Tensor a;
        Tensor b;
        INDArray ra;
        INDArray rb;

        @Setup
        public void setUp() {
            TensorFactory on = Tensor.on(Backends.get("nd4j"));
            Generator generator = new Generator(7);
            a = on.randn(generator, DType.FLOAT32, n, n);
            b = on.randn(generator, DType.FLOAT32, n, n);
            ra = Nd4j.create(a.toFloatArray(), new long[] {n, n}, DataType.FLOAT);
            rb = Nd4j.create(b.toFloatArray(), new long[] {n, n}, DataType.FLOAT);
        }
    }

    @Benchmark
    public Storage spiAddInPlace16(Small s) {
        s.backend.binary(BinaryOp.ADD, s.sa, s.layout, s.sb, s.layout, s.out, s.layout);
        return s.out;
    }

    @Benchmark
    public INDArray rawAddInPlace16(Small s) {
        return s.ra.addi(s.rb, s.rOut);
    }

    @Benchmark
    public Tensor adjointSequence16(Small s) {
        return s.a.mul(s.b).add(s.c).tanh().sum();
    }

    @Benchmark
    public INDArray rawSequence16(Small s) {
        return Transforms.tanh(s.ra.mul(s.rb).add(s.rc), true).sum();
    }

    @Benchmark
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public Tensor adjointMatmul(Matrices m) {
        return m.a.matmul(m.b);
    }

    @Benchmark
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public INDArray rawMatmul(Matrices m) {
        return m.ra.mmul(m.rb);
    }
}
