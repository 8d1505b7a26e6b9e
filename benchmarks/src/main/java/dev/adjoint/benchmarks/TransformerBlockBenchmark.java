package dev.adjoint.benchmarks;

import dev.adjoint.MemoryScope;
import dev.adjoint.Tensor;
import dev.adjoint.backend.Backends;
import dev.adjoint.benchmarks.block.ReferenceBlock;
import dev.adjoint.benchmarks.block.TransformerBlock;
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
 * The story: forward and backward through one pre-LN transformer block, the shape of work a real
 * model does and the MLP step does not: LayerNorm, a fused q/k/v projection, four attention heads
 * with permuted views, a softmax over the last dimension, GELU (erf form), two residual adds.
 * {@link TransformerBlock} written with the nn API as a user would; x {@code [8, 128, 256]} requires
 * grad; loss {@code mean(out^2)}; backward to x and every parameter; FLOAT32. About 1.7 GFLOP forward
 * and twice that backward, nearly all of it in matrix products, so the gap to the GEMM's own rate is
 * what the non-GEMM ops cost. {@code benchmarks/peers/transformer_block.py} runs the same block in
 * PyTorch and {@code DjlTransformerBlockBenchmark} in DJL, on the same weights and input
 * ({@link ReferenceBlock}); {@code TransformerBlockTest} checks all give the same loss and gradients.
 *
 * <p>Pitfalls avoided:
 * <ul>
 *   <li>Accumulation: gradients are cleared at the start of every step (set to none, as
 *       {@code zero_grad()}), so every step does the same work.</li>
 *   <li>Dead-code elimination: the loss is returned, and backward writes the gradients of
 *       parameters held by this state object.</li>
 *   <li>Warm-up: a step is tens of milliseconds on simd, so the default one-second iterations hold
 *       only a few dozen; the kernels are compiled within the first steps (their loops run long),
 *       and five warm-up iterations leave C2 time to finish the rest.</li>
 *   <li>Threads, as in {@link TrainingStepBenchmark}: simd's matmul threads are set per method in
 *       the forks' command line; nd4j's OpenBLAS and libnd4j pool are pinned to the same count
 *       ({@link Nd4jBlasThreads}); scalar is single-threaded. Scalar takes seconds per step, so the
 *       short report leaves it out; it is here for the full suite.</li>
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class TransformerBlockBenchmark {
    @Param({"scalar", "simd", "nd4j"})
    public String backend;

    private TransformerBlock block;
    private Tensor x;

    @Setup
    public void setUp() {
        Backend engine = Backends.get(backend);
        Nd4jBlasThreads.pinIfNd4j(engine);
        block = ReferenceBlock.build(engine);
        x = ReferenceBlock.input(engine).requiresGrad(true);
        double loss = step();
        if (!Double.isFinite(loss) || x.grad() == null) {
            throw new IllegalStateException("TransformerBlockBenchmark setup: a step must give a finite loss and a "
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

    /** The step in a MemoryScope, as a training loop runs it: its tensors' memory is reused by the next. */
    private double step() {
        try (MemoryScope scope = MemoryScope.open()) {
            x.zeroGrad();
            block.zeroGrad();
            Tensor loss = ReferenceBlock.loss(block, x);
            loss.backward();
            return loss.item();
        }
    }
}
