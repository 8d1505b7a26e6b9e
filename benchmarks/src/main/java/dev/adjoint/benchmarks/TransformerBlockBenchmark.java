package dev.adjoint.benchmarks;

import dev.adjoint.Tensor;
import dev.adjoint.benchmarks.block.ReferenceBlock;
import dev.adjoint.benchmarks.block.TransformerBlock;
import dev.adjoint.spi.Backend;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

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
 * <p>Threads, memory and pitfalls: {@link StepBenchmark}. A step is tens of milliseconds on simd, so
 * the default one-second iterations hold only a few dozen; the kernels are compiled within the first
 * steps (their loops run long), and five warm-up iterations leave C2 time to finish the rest. Scalar
 * takes seconds per step, so the short report leaves it out; it is here for the full suite.
 */
@State(Scope.Thread)
public class TransformerBlockBenchmark extends StepBenchmark {
    @Param({"scalar", "simd", "nd4j"})
    public String backend;

    private TransformerBlock block;
    private Tensor x;

    @Override
    protected String backendName() {
        return backend;
    }

    @Override
    protected void build(Backend engine) {
        block = ReferenceBlock.build(engine);
        x = ReferenceBlock.input(engine).requiresGrad(true);
    }

    @Override
    protected Tensor loss() {
        x.zeroGrad();
        block.zeroGrad();
        Tensor loss = ReferenceBlock.loss(block, x);
        loss.backward();
        return loss;
    }
}
