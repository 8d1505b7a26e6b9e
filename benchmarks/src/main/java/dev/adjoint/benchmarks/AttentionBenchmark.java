package dev.adjoint.benchmarks;

import dev.adjoint.DType;
import dev.adjoint.Functional;
import dev.adjoint.Generator;
import dev.adjoint.MemoryScope;
import dev.adjoint.Tensor;
import dev.adjoint.backend.Backends;
import dev.adjoint.nn.MultiheadAttention;
import dev.adjoint.nn.NnContext;
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
 * The story: the attention of the transformer block ({@code block.TransformerBlock}), forward and
 * backward, composed of five ops against the one fused {@link Functional#scaledDotProductAttention},
 * on one thread, FLOAT32. q, k and v are {@code [8, 4, 128, 64]} permuted views of one
 * {@code [8, 128, 768]} projection (a leaf that requires grad, so the backward reaches it through the
 * views, as in the block); scale 1/8. The composite is the block's own line,
 * {@code q.matmul(k.transpose(2, 3)).div(8).softmax(3).matmul(v)}: its 2 MiB of scores
 * ({@code [8, 4, 128, 128]}) go through memory between the ops, while the fused kernel keeps each
 * head's 64 KiB in L2. About 0.27 GFLOP forward and twice that backward.
 *
 * <p>{@link #multiheadAttention} runs {@code nn.MultiheadAttention} (width 256, 4 heads, batch first)
 * forward and backward on {@code [8, 128, 256]}: asked for its weights (per head, not averaged, so
 * returning them costs a view) it composes the attention; not asked, it takes the fused op. The rest
 * (the in and out projections) is the same work in both. {@link #multiheadAttentionDropout} is the same
 * in training with PyTorch's default dropout 0.1 on the weights: both paths draw the same mask from the
 * module's generator (8 x 4 x 128 x 128 = 524,288 uniforms a step), so the draw is in both.
 *
 * <p>Pitfalls avoided: every step clears the gradients and runs in a {@link MemoryScope}, as a
 * training loop does, so every step does the same work; the backward's gradient is fixed, drawn once,
 * so no loss op adds to either side; a value of each step is returned (dead-code elimination).
 * Compare the two {@code path}s of one run only (the host may be shared and noisy).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Dadjoint.simd.threads=1"})
public class AttentionBenchmark {
    private static final int BATCH = 8;
    private static final int TOKENS = 128;
    private static final int HEADS = 4;
    private static final int HEAD_DIM = 64;
    private static final int WIDTH = HEADS * HEAD_DIM;

    @Param({"composite", "fused"})
    public String path;

    private Tensor projection;
    private Tensor gradOut;
    private MultiheadAttention mha;
    private MultiheadAttention mhaDropout;
    private Tensor x;
    private Tensor mhaGradOut;

    @Setup
    public void setUp() {
        Backend engine = Backends.get("simd");
        var on = Tensor.on(engine);
        projection = on.randn(new Generator(1), DType.FLOAT32, BATCH, TOKENS, 3 * WIDTH).requiresGrad(true);
        gradOut = on.randn(new Generator(2), DType.FLOAT32, BATCH, HEADS, TOKENS, HEAD_DIM);
        mha = new MultiheadAttention(WIDTH, HEADS, 0.0, true, true, NnContext.of(engine, new Generator(3)));
        mhaDropout = new MultiheadAttention(WIDTH, HEADS, 0.1, true, true, NnContext.of(engine, new Generator(3)));
        x = on.randn(new Generator(4), DType.FLOAT32, BATCH, TOKENS, WIDTH).requiresGrad(true);
        mhaGradOut = on.randn(new Generator(5), DType.FLOAT32, BATCH, TOKENS, WIDTH);
        if (!Double.isFinite(attention()) || !Double.isFinite(multiheadAttention())
                || !Double.isFinite(multiheadAttentionDropout())) {
            throw new IllegalStateException("AttentionBenchmark setup: a step must give finite gradients");
        }
    }

    @Benchmark
    public double attention() {
        try (MemoryScope scope = MemoryScope.open()) {
            projection.zeroGrad();
            Tensor heads = projection.reshape(BATCH, TOKENS, 3, HEADS, HEAD_DIM).permute(2, 0, 3, 1, 4);
            Tensor q = heads.narrow(0, 0, 1).squeeze(0);
            Tensor k = heads.narrow(0, 1, 1).squeeze(0);
            Tensor v = heads.narrow(0, 2, 1).squeeze(0);
            Tensor out = path.equals("fused")
                    ? Functional.scaledDotProductAttention(q, k, v, null, false, 1.0 / Math.sqrt(HEAD_DIM))
                    : q.matmul(k.transpose(2, 3)).div(Math.sqrt(HEAD_DIM)).softmax(3).matmul(v);
            out.backward(gradOut);
            return firstElement(projection.grad());
        }
    }

    @Benchmark
    public double multiheadAttention() {
        try (MemoryScope scope = MemoryScope.open()) {
            x.zeroGrad();
            mha.zeroGrad();
            boolean weights = path.equals("composite");
            Tensor out = mha.forward(x, x, x, null, weights, null, false).output();
            out.backward(mhaGradOut);
            return firstElement(x.grad());
        }
    }

    @Benchmark
    public double multiheadAttentionDropout() {
        try (MemoryScope scope = MemoryScope.open()) {
            x.zeroGrad();
            mhaDropout.zeroGrad();
            boolean weights = path.equals("composite");
            Tensor out = mhaDropout.forward(x, x, x, null, weights, null, false).output();
            out.backward(mhaGradOut);
            return firstElement(x.grad());
        }
    }

    /** One value of the gradient, read through a view: enough to keep the step alive, nearly free. */
    private static double firstElement(Tensor t) {
        return t.reshape(t.numel()).narrow(0, 0, 1).item();
    }
}
