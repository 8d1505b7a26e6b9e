package dev.adjoint.benchmarks;

import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.MemoryScope;
import dev.adjoint.Tensor;
import dev.adjoint.backend.Backends;
import dev.adjoint.nn.NnContext;
import dev.adjoint.nn.TransformerEncoderLayer;
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
 * The story: the transformer layer a user takes off the shelf rather than writes by hand,
 * {@code nn.TransformerEncoderLayer(256, 4, dimFeedforward 1024, dropout 0.1, GELU, eps 1e-5,
 * batchFirst, normFirst)} in training mode, forward and backward on x {@code [8, 128, 256]} (requires
 * grad), loss {@code mean(out^2)}; FLOAT32. The same sizes as {@link TransformerBlockBenchmark}, but
 * through the module layer: MultiheadAttention's separate q, k, v projections of a batch-first input
 * (a transposed view), its masks-and-dropout path and three dropouts. Where the two differ, the
 * module layer costs what the hand-written block does not. {@code benchmarks/peers/torch_workloads.py}
 * runs {@code torch.nn.TransformerEncoderLayer} with the same arguments ("encoder-layer"); the weights
 * are each library's own initialisation, which the time does not depend on.
 *
 * <p>Pitfalls avoided: as {@link TransformerBlockBenchmark} (gradients cleared every step, the loss
 * returned, the step in a MemoryScope, threads per method in the forks' arguments).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class EncoderLayerBenchmark {
    static final int WIDTH = 256;
    static final int HEADS = 4;
    static final int HIDDEN = 1024;
    static final double DROPOUT = 0.1;

    @Param({"simd", "nd4j"})
    public String backend;

    private TransformerEncoderLayer layer;
    private Tensor x;

    @Setup
    public void setUp() {
        Backend engine = Backends.get(backend);
        Nd4jBlasThreads.pinIfNd4j(engine);
        layer = new TransformerEncoderLayer(WIDTH, HEADS, HIDDEN, DROPOUT, TransformerEncoderLayer.Activation.GELU,
                1e-5, true, true, NnContext.of(engine, DType.FLOAT32, new Generator(0)));
        x = Tensor.randn(new Generator(1), DType.FLOAT32, 8, 128, WIDTH).to(engine).requiresGrad(true);
        double loss = step();
        if (!Double.isFinite(loss) || x.grad() == null) {
            throw new IllegalStateException("EncoderLayerBenchmark setup: a step must give a finite loss and a "
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
            layer.zeroGrad();
            Tensor loss = layer.forward(x).square().mean();
            loss.backward();
            return loss.item();
        }
    }
}
