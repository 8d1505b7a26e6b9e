package dev.adjoint.benchmarks;

import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
import dev.adjoint.func.Transforms;
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
import java.util.function.UnaryOperator;

/**
 * The story: the cost argument between forward and reverse mode. The full Jacobian of
 * f: R^n -> R^m takes n forward passes ({@code jacfwd}, one Jacobian-vector product per input
 * direction) or m backward passes ({@code jacrev}, one vector-Jacobian product per output), so
 * {@code jacfwd} should win when n is small and {@code jacrev} when m is; the {@code shape} grid
 * walks from n = 1000, m = 10 to n = 10, m = 1000 with n m fixed, to show where the two cross.
 *
 * <p>f is a two-layer map {@code W2 tanh(W1 x)} with a hidden width of 64, so one pass of either mode
 * costs about the same (two matrix-vector products and an elementwise op), and the passes' count is
 * what differs. Both return the same [m, n] matrix (the conformance suite checks jacfwd = jacrev).
 *
 * <p>Pitfalls avoided: results are returned (no dead code); inputs are fields of the state; each
 * call does at least 10 passes, long enough that the per-call setup of the transforms is not what
 * is measured.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class JacobianBenchmark {
    private static final int HIDDEN = 64;

    /** n x m: input and output sizes. */
    @Param({"1000x10", "300x33", "100x100", "33x300", "10x1000"})
    public String shape;

    @Param({"simd"})
    public String backend;

    private Tensor x;
    private UnaryOperator<Tensor> f;

    @Setup
    public void setUp() {
        String[] nm = shape.split("x");
        int n = Integer.parseInt(nm[0]);
        int m = Integer.parseInt(nm[1]);
        TensorFactory t = Tensor.on(backend);
        Generator g = new Generator(7);
        Tensor w1 = t.randn(g, DType.FLOAT32, HIDDEN, n).div(Math.sqrt(n));
        Tensor w2 = t.randn(g, DType.FLOAT32, m, HIDDEN).div(Math.sqrt(HIDDEN));
        x = t.randn(g, DType.FLOAT32, n);
        f = v -> w2.matmul(w1.matmul(v).tanh());
    }

    @Benchmark
    public Tensor jacfwd() {
        return Transforms.jacfwd(f, x);
    }

    @Benchmark
    public Tensor jacrev() {
        return Transforms.jacrev(f, x);
    }
}
