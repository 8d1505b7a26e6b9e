package dev.adjoint.benchmarks;

import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.nn.LSTM;
import dev.adjoint.nn.NnContext;
import dev.adjoint.spi.Backend;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * The story: a recurrent model as a user builds it, {@code nn.LSTM(256, 256, numLayers 2, batchFirst)}
 * forward and backward on x {@code [32, 64, 256]} (batch 32, 64 steps; requires grad), loss
 * {@code mean(out^2)}; FLOAT32. Each layer's input projection is one product over every step; the
 * recurrence is 64 small products per layer ({@code [32, 256] @ [256, 1024]}) with the gate
 * arithmetic between them, and backward sums 64 gradients into each transposed hidden weight: where
 * a step's fixed costs and the gradient sums show. {@code benchmarks/peers/torch_workloads.py} runs
 * {@code torch.nn.LSTM} with the same arguments ("lstm"); each library initialises its own weights.
 *
 * <p>Threads, memory and pitfalls: {@link StepBenchmark}.
 */
@State(Scope.Thread)
public class LstmBenchmark extends StepBenchmark {
    static final int FEATURES = 256;
    static final int HIDDEN = 256;
    static final int LAYERS = 2;

    @Param({"simd", "nd4j"})
    public String backend;

    private LSTM lstm;
    private Tensor x;

    @Override
    protected String backendName() {
        return backend;
    }

    @Override
    protected void build(Backend engine) {
        lstm = new LSTM(FEATURES, HIDDEN, LAYERS, true, true, 0.0, false,
                NnContext.of(engine, DType.FLOAT32, new Generator(0)));
        x = Tensor.randn(new Generator(1), DType.FLOAT32, 32, 64, FEATURES).to(engine).requiresGrad(true);
    }

    @Override
    protected Tensor loss() {
        x.zeroGrad();
        lstm.zeroGrad();
        Tensor loss = lstm.forward(x).square().mean();
        loss.backward();
        return loss;
    }
}
