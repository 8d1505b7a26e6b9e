package dev.adjoint.benchmarks;

import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
import dev.adjoint.autograd.GradMode;
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
 * The story: what recording one op on the tape costs. On 16 elements the arithmetic is a few
 * nanoseconds, so the time of an op is almost all bookkeeping: validation, allocating the output
 * and its layout, and (when recorded) the graph node. Comparing
 * <ul>
 *   <li>{@link #addRecorded} - inputs require grad, the output gets a {@code gradFn};</li>
 *   <li>{@link #addUntracked} - the same add on inputs that do not require grad (no scope, no node);</li>
 *   <li>{@link #addInNoGrad} - the recorded inputs again, inside a {@code Tensor.noGrad()} scope opened
 *       per call (what a user writes; it adds the cost of the scope itself);</li>
 * </ul>
 * gives the tape's own price: {@code addRecorded - addUntracked}. {@link #forwardBackward} then
 * prices a whole small step, backward sweep included, and {@link #forwardOnly} its forward half. The goal we report against is
 * {@code addRecorded <= 300 ns}.
 *
 * <p>Pitfalls avoided:
 * <ul>
 *   <li>Dead-code elimination: every benchmark returns its result, so JMH consumes it (through a
 *       Blackhole) and the JIT cannot drop the op, nor scalar-replace the output tensor.</li>
 *   <li>Constant folding: the inputs are non-final fields of a {@link State} object, never values
 *       the JIT could see as constants.</li>
 *   <li>Measuring the wrong thing: {@link #setUp} checks that the recorded add really has a
 *       {@code gradFn} and the others really do not, so a change in grad-mode logic cannot make
 *       the comparison silently meaningless.</li>
 *   <li>Warm-up: a per-op cost of a few hundred ns is only meaningful once the call chain is
 *       compiled by C2 and inlined; warm-up iterations (and the runner's forks) take care of it.</li>
 *   <li>No growing tape: the graph lives only in the nodes reachable from returned tensors, so
 *       each call's node is garbage as soon as JMH has consumed the result - the cost per call does
 *       not drift over an iteration.</li>
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
// Every fork may load engine-simd (needs the incubator module) and nd4j (needs native access).
@Fork(value = 2, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class TapeOverheadBenchmark {
    private static final int SIZE = 16;

    /** The engine under test; add names here as engines land. */
    @Param({"scalar", "simd", "nd4j"})
    public String backend;

    // Inputs that require grad (leaves of the recorded graph).
    private Tensor a;
    private Tensor b;
    private Tensor c;
    // The same values without requiresGrad: ops on these record nothing.
    private Tensor plainA;
    private Tensor plainB;

    @Setup
    public void setUp() {
        TensorFactory on = Tensor.on(backend);
        Nd4jBlasThreads.pinIfNd4j(on.backend());
        Generator generator = new Generator(42);
        a = on.randn(generator, DType.FLOAT32, SIZE).requiresGrad(true);
        b = on.randn(generator, DType.FLOAT32, SIZE).requiresGrad(true);
        c = on.randn(generator, DType.FLOAT32, SIZE).requiresGrad(true);
        plainA = a.detach();
        plainB = b.detach();

        require(addRecorded().gradFn() != null, "addRecorded must record a gradFn");
        require(addUntracked().gradFn() == null, "addUntracked must not record");
        require(addInNoGrad().gradFn() == null, "addInNoGrad must not record");
    }

    /** (a) One recorded op: forward plus the node that backward would use. */
    @Benchmark
    public Tensor addRecorded() {
        return a.add(b);
    }

    /** Baseline: the same add with nothing to record (inputs do not require grad). */
    @Benchmark
    public Tensor addUntracked() {
        return plainA.add(plainB);
    }

    /** (b) The recorded inputs inside {@code noGrad()}: the graph is skipped, the scope is paid for. */
    @Benchmark
    @SuppressWarnings("try") // the scope is used only for its effect on this thread's grad mode
    public Tensor addInNoGrad() {
        try (GradMode.Scope scope = Tensor.noGrad()) {
            return a.add(b);
        }
    }

    /**
     * The forward half of {@link #forwardBackward} alone, so the reverse sweep's cost can be read
     * off as the difference. Nothing accumulates: the graph is dropped with the returned loss.
     */
    @Benchmark
    public Tensor forwardOnly() {
        return a.mul(b).add(c).tanh().sum();
    }

    /**
     * (c) Four recorded ops, then the reverse sweep into the three leaves. Grads are cleared first,
     * as a training loop would, so every call does the same work (no growing accumulation chain).
     */
    @Benchmark
    public Tensor forwardBackward() {
        a.zeroGrad();
        b.zeroGrad();
        c.zeroGrad();
        Tensor loss = a.mul(b).add(c).tanh().sum();
        loss.backward();
        // The gradient is what the caller wanted; returning it keeps the whole backward alive.
        return a.grad();
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalStateException("TapeOverheadBenchmark setup: " + message);
        }
    }
}
