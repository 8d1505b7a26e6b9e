package dev.adjoint.benchmarks;

import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
import dev.adjoint.nn.Embedding;
import dev.adjoint.nn.LayerNorm;
import dev.adjoint.nn.Linear;
import dev.adjoint.nn.NnContext;
import dev.adjoint.nn.TransformerEncoder;
import dev.adjoint.nn.TransformerEncoderLayer;
import dev.adjoint.nn.loss.CrossEntropyLoss;
import dev.adjoint.nn.optim.AdamW;
import dev.adjoint.spi.Backend;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

import java.util.ArrayList;
import java.util.List;

/**
 * The story: a small GPT-style language model's training step, every part taken off the shelf:
 * token and position {@link Embedding}s (vocabulary 4096, width 256), a {@link TransformerEncoder} of
 * two pre-norm {@link TransformerEncoderLayer}s (4 heads, feed-forward 1024, GELU, dropout 0.1) under
 * a causal mask, a final LayerNorm, a Linear head to the vocabulary, cross-entropy of next tokens
 * over 8 sequences of 128, backward, and an AdamW step; FLOAT32. Beside the transformer layers'
 * products it has what they lack: embedding gathers and their scatter-add gradients, the
 * [1024, 4096] logits' softmax and the head's products, dropout masks, and an optimizer over 3.7 M
 * parameters. {@code benchmarks/peers/torch_workloads.py} runs the same model ("language-model");
 * each library initialises its own weights, and the tokens are random (the time does not depend on
 * either).
 *
 * <p>Threads, memory and pitfalls: {@link StepBenchmark}.
 */
@State(Scope.Thread)
public class LanguageModelBenchmark extends StepBenchmark {
    static final int VOCABULARY = 4096;
    static final int WIDTH = 256;
    static final int HEADS = 4;
    static final int HIDDEN = 1024;
    static final int LAYERS = 2;
    static final int LENGTH = 128;
    static final int BATCH = 8;

    @Param({"simd", "nd4j"})
    public String backend;

    private Embedding tokens;
    private Embedding positions;
    private TransformerEncoder encoder;
    private LayerNorm norm;
    private Linear head;
    private AdamW optimizer;
    private final CrossEntropyLoss crossEntropy = new CrossEntropyLoss();
    private Tensor input;
    private Tensor target;
    private Tensor positionIds;
    private Tensor causalMask;

    @Override
    protected String backendName() {
        return backend;
    }

    @Override
    protected void build(Backend engine) {
        NnContext ctx = NnContext.of(engine, DType.FLOAT32, new Generator(0));
        tokens = new Embedding(VOCABULARY, WIDTH, ctx);
        positions = new Embedding(LENGTH, WIDTH, ctx);
        encoder = new TransformerEncoder(() -> new TransformerEncoderLayer(WIDTH, HEADS, HIDDEN, 0.1,
                TransformerEncoderLayer.Activation.GELU, 1e-5, true, true, ctx), LAYERS);
        norm = new LayerNorm(new int[] {WIDTH}, 1e-5, true, ctx);
        head = new Linear(WIDTH, VOCABULARY, true, ctx);
        List<Tensor> parameters = new ArrayList<>();
        for (dev.adjoint.nn.Module m : List.of(tokens, positions, encoder, norm, head)) {
            parameters.addAll(m.parameters());
        }
        optimizer = new AdamW(parameters, 3e-4);
        TensorFactory on = Tensor.on(engine);
        input = on.randint(0, VOCABULARY, new Generator(1), BATCH, LENGTH);
        target = on.randint(0, VOCABULARY, new Generator(2), BATCH * LENGTH);
        positionIds = on.arange(LENGTH);
        // -inf above the diagonal: position i attends to positions up to i.
        float[] mask = new float[LENGTH * LENGTH];
        for (int i = 0; i < LENGTH; i++) {
            for (int j = i + 1; j < LENGTH; j++) {
                mask[i * LENGTH + j] = Float.NEGATIVE_INFINITY;
            }
        }
        causalMask = on.fromArray(mask, LENGTH, LENGTH);
    }

    @Override
    protected Tensor loss() {
        optimizer.zeroGrad();
        Tensor h = tokens.forward(input).add(positions.forward(positionIds));
        Tensor logits = head.forward(norm.forward(encoder.forward(h, causalMask, null)));
        Tensor loss = crossEntropy.forward(logits.reshape(BATCH * LENGTH, VOCABULARY), target);
        loss.backward();
        optimizer.step();
        return loss;
    }
}
