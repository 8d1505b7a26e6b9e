package dev.adjoint.benchmarks;

import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.nn.NnContext;
import dev.adjoint.nn.TransformerEncoderLayer;
import dev.adjoint.spi.Backend;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

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
 * <p>Threads, memory and pitfalls: {@link StepBenchmark}.
 */
@State(Scope.Thread)
public class EncoderLayerBenchmark extends StepBenchmark {
    static final int WIDTH = 256;
    static final int HEADS = 4;
    static final int HIDDEN = 1024;
    static final double DROPOUT = 0.1;

    @Param({"simd", "nd4j"})
    public String backend;

    private TransformerEncoderLayer layer;
    private Tensor x;

    @Override
    protected String backendName() {
        return backend;
    }

    @Override
    protected void build(Backend engine) {
        layer = new TransformerEncoderLayer(WIDTH, HEADS, HIDDEN, DROPOUT, TransformerEncoderLayer.Activation.GELU,
                1e-5, true, true, NnContext.of(engine, DType.FLOAT32, new Generator(0)));
        x = Tensor.randn(new Generator(1), DType.FLOAT32, 8, 128, WIDTH).to(engine).requiresGrad(true);
    }

    @Override
    protected Tensor loss() {
        x.zeroGrad();
        layer.zeroGrad();
        Tensor loss = layer.forward(x).square().mean();
        loss.backward();
        return loss;
    }
}
