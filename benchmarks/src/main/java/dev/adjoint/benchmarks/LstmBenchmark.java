package dev.adjoint.benchmarks;

import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.MemoryScope;
import dev.adjoint.Tensor;
import dev.adjoint.backend.Backends;
import dev.adjoint.nn.NnContext;
import dev.adjoint.nn.LSTM;
import dev.adjoint.spi.Backend;
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
 * The story: a recurrent model as a user builds it, {@code nn.LSTM(256, 256, numLayers 2, batchFirst)}
 * forward and backward on x {@code [32, 64, 256]} (batch 32, 64 steps; requires grad), loss
 * {@code mean(out^2)}; FLOAT32. Each layer's input projection is one product over every step; the
 * recurrence is 64 small products per layer ({@code [32, 256] @ [256, 1024]}) with the gate
 * arithmetic between them, and backward sums 64 gradients into each transposed hidden weight: where
 * a step's fixed costs and the gradient sums show. {@code benchmarks/peers/torch_workloads.py} runs
 * {@code torch.nn.LSTM} with the same arguments ("lstm"); each library initialises its own weights.
 *
 * <p>Pitfalls avoided: as {@link TransformerBlockBenchmark} (gradients cleared every step, the loss
 * returned, the step in a MemoryScope, threads per method in the forks' arguments).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class LstmBenchmark {
    static final int FEATURES = 256;
    static final int HIDDEN = 256;
    static final int LAYERS = 2;

    @Param({"simd", "nd4j"})
    public String backend;

    private LSTM lstm;
    private Tensor x;

    @Setup
    public void setUp() {
        Backend engine = Backends.get(backend);
        Nd4jBlasThreads.pinIfNd4j(engine);
        lstm = new LSTM(FEATURES, HIDDEN, LAYERS, true, true, 0.0, false,
                NnContext.of(engine, DType.FLOAT32, new Generator(0)));
        x = Tensor.randn(new Generator(1), DType.FLOAT32, 32, 64, FEATURES).to(engine).requiresGrad(true);
        double loss = step();
        if (!Double.isFinite(loss) || x.grad() == null) {
            throw new IllegalStateException("LstmBenchmark setup: a step must give a finite loss and a "
                    + "gradient for x, got loss " + loss);
        }
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
            "-Dadjoint.simd.threads=1", "-D" + GemmBenchmark.THREADS_PROPERTY + "=1"})
    public double oneThread() {
        return step();
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
            "-Dadjoint.simd.threads=2", "-D" + GemmBenchmark.THREADS_PROPERTY + "=2"})
    public double twoThreads() {
        return step();
    }

    private double step() {
        try (MemoryScope scope = MemoryScope.open()) {
            x.zeroGrad();
            lstm.zeroGrad();
            Tensor loss = lstm.forward(x).square().mean();
            loss.backward();
            return loss.item();
        }
    }
}
