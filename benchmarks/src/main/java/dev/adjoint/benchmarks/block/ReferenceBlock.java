package dev.adjoint.benchmarks.block;

import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
import dev.adjoint.benchmarks.PortableUniform;
import dev.adjoint.nn.NnContext;
import dev.adjoint.spi.Backend;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The transformer-block workload every implementation runs: its sizes, and weights and input drawn
 * from {@link PortableUniform} so that Adjoint, PyTorch ({@code benchmarks/peers/transformer_block.py})
 * and DJL ({@code DjlTransformerBlockBenchmark}) compute on the very same numbers. Stream 0 is the
 * input, streams 1, 2, ... the parameters in the order of {@link #PARAMETERS}.
 *
 * <p>Ranges: a Linear's weight and bias in {@code +-1/sqrt(in)}, PyTorch's default; a LayerNorm's
 * weight in {@code [0.9, 1.1)} and bias in {@code [-0.1, 0.1)}, so the affine step is not the
 * identity; the input in {@code [-sqrt 3, sqrt 3)}, unit variance like a normalised embedding.
 */
public final class ReferenceBlock {
    public static final int BATCH = 8;
    public static final int TOKENS = 128;
    public static final int WIDTH = 256;
    public static final int HEADS = 4;
    public static final int HIDDEN = 1024;

    /** One parameter: its state-dict key, shape, and the range its values are drawn from. */
    public record Parameter(String name, int[] shape, double low, double high) {
        public int numel() {
            int n = 1;
            for (int d : shape) {
                n *= d;
            }
            return n;
        }
    }

    public static final List<Parameter> PARAMETERS = List.of(
            layerNormWeight("ln1.weight"), layerNormBias("ln1.bias"),
            linear("qkv.weight", WIDTH, 3 * WIDTH, WIDTH), linear("qkv.bias", WIDTH, 3 * WIDTH),
            linear("proj.weight", WIDTH, WIDTH, WIDTH), linear("proj.bias", WIDTH, WIDTH),
            layerNormWeight("ln2.weight"), layerNormBias("ln2.bias"),
            linear("fc1.weight", WIDTH, HIDDEN, WIDTH), linear("fc1.bias", WIDTH, HIDDEN),
            linear("fc2.weight", HIDDEN, WIDTH, HIDDEN), linear("fc2.bias", HIDDEN, WIDTH));

    private ReferenceBlock() {
    }

    /** The block with the reference weights, FLOAT32 on {@code backend}. */
    public static TransformerBlock build(Backend backend) {
        // The context's generator only seeds the constructors' initialisation, which the reference weights replace.
        TransformerBlock block = new TransformerBlock(WIDTH, HEADS, HIDDEN,
                NnContext.of(backend, new Generator(0)));
        TensorFactory on = Tensor.on(backend);
        Map<String, Tensor> state = new LinkedHashMap<>();
        for (Parameter p : PARAMETERS) {
            state.put(p.name(), on.fromArray(parameterValues(p), p.shape()));
        }
        block.loadStateDict(state);
        return block;
    }

    /** The input {@code [BATCH, TOKENS, WIDTH]}, FLOAT32, not yet requiring grad. */
    public static Tensor input(Backend backend) {
        return Tensor.on(backend).fromArray(inputValues(), BATCH, TOKENS, WIDTH);
    }

    public static float[] inputValues() {
        double bound = Math.sqrt(3);
        return PortableUniform.values(0, BATCH * TOKENS * WIDTH, -bound, bound);
    }

    public static float[] parameterValues(Parameter p) {
        return PortableUniform.values(PARAMETERS.indexOf(p) + 1, p.numel(), p.low(), p.high());
    }

    /** The loss the benchmark differentiates: the mean of the block's output squared. */
    public static Tensor loss(TransformerBlock block, Tensor x) {
        return block.forward(x).square().mean();
    }

    private static Parameter linear(String name, int in, int... shape) {
        double bound = 1 / Math.sqrt(in);
        return new Parameter(name, shape, -bound, bound);
    }

    private static Parameter layerNormWeight(String name) {
        return new Parameter(name, new int[] {WIDTH}, 0.9, 1.1);
    }

    private static Parameter layerNormBias(String name) {
        return new Parameter(name, new int[] {WIDTH}, -0.1, 0.1);
    }
}
