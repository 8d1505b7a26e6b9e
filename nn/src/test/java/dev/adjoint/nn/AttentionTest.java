package dev.adjoint.nn;

import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;
import dev.adjoint.backend.Backends;
import dev.adjoint.check.GradCheck;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * MultiheadAttention and the transformer encoder beyond the PyTorch values (PyTorchModulesTest): names,
 * dropout in training and evaluation, batch-first layout, derivatives and errors.
 */
final class AttentionTest {
    static List<String> backends() {
        return Reference.backendNames();
    }

    private static NnContext ctx(String backend, long seed) {
        return NnContext.of(Backends.get(backend), DType.FLOAT64, new Generator(seed));
    }

    private static Tensor randn(String backend, long seed, int... shape) {
        return Tensor.on(backend).randn(new Generator(seed), DType.FLOAT64, shape);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void parameterNamesAndShapesArePyTorchs(String backend) {
        MultiheadAttention mha = new MultiheadAttention(8, 2, ctx(backend, 1));
        assertEquals(List.of("in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"),
                List.copyOf(mha.stateDict().keySet()));
        assertArrayEquals(new int[] {24, 8}, mha.inProjWeight().shape().toArray());
        assertEquals(0.0, mha.inProjBias().abs().sum().item(), "PyTorch zeroes the projection biases");
        assertEquals(0.0, mha.outProj().bias().abs().sum().item());
        // Xavier-uniform bound for [24, 8]: sqrt(6 / (8 + 24)).
        assertTrue(mha.inProjWeight().abs().amax().item() <= Math.sqrt(6.0 / 32));

        TransformerEncoderLayer layer = new TransformerEncoderLayer(8, 2, 16, 0.1,
                TransformerEncoderLayer.Activation.RELU, 1e-5, false, false, ctx(backend, 1));
        assertEquals(List.of("self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight",
                "self_attn.out_proj.bias", "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias",
                "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias"), List.copyOf(layer.stateDict().keySet()));
        TransformerEncoder encoder = new TransformerEncoder(() -> new TransformerEncoderLayer(8, 2, ctx(backend, 2)), 2,
                new LayerNorm(8, ctx(backend, 3)));
        assertTrue(encoder.stateDict().containsKey("layers.1.linear2.bias"));
        assertTrue(encoder.stateDict().containsKey("norm.weight"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void dropoutActsInTrainingOnlyAndFollowsTheGenerator(String backend) {
        Tensor x = randn(backend, 5, 4, 2, 8);
        MultiheadAttention dropping = new MultiheadAttention(8, 2, 0.5, true, false, ctx(backend, 9));
        MultiheadAttention plain = new MultiheadAttention(8, 2, 0.0, true, false, ctx(backend, 9));
        plain.loadStateDict(dropping.stateDict());

        dropping.eval();
        assertArrayEquals(plain.forward(x).toDoubleArray(), dropping.forward(x).toDoubleArray(), 0,
                "evaluation mode: no dropout");

        dropping.train();
        Tensor weights = dropping.forward(x, x, x, null, true, null, false).weights();
        Tensor clean = plain.forward(x, x, x, null, true, null, false).weights();
        double[] w = weights.toDoubleArray();
        double[] c = clean.toDoubleArray();
        int dropped = 0;
        for (int i = 0; i < w.length; i++) {
            if (w[i] == 0) {
                dropped++;
            } else {
                assertEquals(2 * c[i], w[i], 1e-12, "survivors are scaled by 1 / (1 - p)");
            }
        }
        assertTrue(dropped > w.length / 5 && dropped < 4 * w.length / 5, dropped + " of " + w.length + " dropped");

        MultiheadAttention again = new MultiheadAttention(8, 2, 0.5, true, false, ctx(backend, 9));
        assertArrayEquals(weights.toDoubleArray(), again.forward(x, x, x, null, true, null, false).weights()
                .toDoubleArray(), 0, "the same seed gives the same masks");

        TransformerEncoderLayer layer = new TransformerEncoderLayer(8, 2, 16, 0.3,
                TransformerEncoderLayer.Activation.GELU, 1e-5, false, true, ctx(backend, 4));
        TransformerEncoderLayer noDropout = new TransformerEncoderLayer(8, 2, 16, 0.0,
                TransformerEncoderLayer.Activation.GELU, 1e-5, false, true, ctx(backend, 4));
        noDropout.loadStateDict(layer.stateDict());
        assertFalse(java.util.Arrays.equals(noDropout.forward(x).toDoubleArray(), layer.forward(x).toDoubleArray()));
        layer.eval();
        assertArrayEquals(noDropout.forward(x).toDoubleArray(), layer.forward(x).toDoubleArray(), 0);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void batchFirstIsTheTransposeOfSequenceFirstAndCallRunsSelfAttention(String backend) {
        MultiheadAttention seqFirst = new MultiheadAttention(6, 3, ctx(backend, 2));
        MultiheadAttention batchFirst = new MultiheadAttention(6, 3, 0.0, true, true, ctx(backend, 3));
        batchFirst.loadStateDict(seqFirst.stateDict());
        Tensor x = randn(backend, 6, 5, 2, 6);
        Tensor padding = Tensor.on(backend).fromArray(new long[] {0, 0, 0, 1, 1, 0, 0, 0, 0, 0}, 2, 5);
        var a = seqFirst.forward(x, x, x, padding, true, null);
        Tensor xb = x.transpose(0, 1).contiguous();
        var b = batchFirst.forward(xb, xb, xb, padding, true, null);
        assertArrayEquals(a.output().transpose(0, 1).contiguous().toDoubleArray(), b.output().toDoubleArray(), 1e-14);
        assertArrayEquals(a.weights().toDoubleArray(), b.weights().toDoubleArray(), 1e-14);
        // A padded key gets no weight.
        assertEquals(0.0, a.weights().narrow(0, 0, 1).narrow(2, 3, 2).abs().sum().item());
        assertArrayEquals(seqFirst.forward(x).toDoubleArray(), seqFirst.call(x).toDoubleArray(), 0);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void attentionHasCorrectFirstAndSecondDerivatives(String backend) {
        MultiheadAttention mha = new MultiheadAttention(4, 2, ctx(backend, 11));
        Tensor causal = Tensor.on(backend).fromArray(new long[] {0, 1, 1, 0, 0, 1, 0, 0, 0}, 3, 3);
        // The parameters' derivatives are PyTorch's (PyTorchModulesTest); here the input's, to second order.
        List<Tensor> inputs = List.of(randn(backend, 12, 3, 2, 4).requiresGrad(true),
                randn(backend, 13, 2, 2, 4).requiresGrad(true));
        java.util.function.Function<List<Tensor>, Tensor> f = in -> mha.forward(in.get(0), in.get(1), in.get(1), null,
                false, causal.narrow(1, 0, 2)).output().tanh();
        GradCheck.gradcheck("MultiheadAttention", f, inputs, GradCheck.Options.defaults());
        GradCheck.gradgradcheck("MultiheadAttention", f, inputs, GradCheck.Options.defaults());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void badShapesAndMasksAreNamed(String backend) {
        var e = assertThrows(IllegalArgumentException.class, () -> new MultiheadAttention(10, 3, ctx(backend, 1)));
        assertTrue(e.getMessage().contains("multiple of numHeads"), e.getMessage());
        MultiheadAttention mha = new MultiheadAttention(4, 2, ctx(backend, 1));
        Tensor x = randn(backend, 2, 3, 2, 4);
        var wrongEmbed = assertThrows(TensorShapeException.class, () -> mha.forward(randn(backend, 2, 3, 2, 5)));
        assertTrue(wrongEmbed.getMessage().contains("embedDim=4"), wrongEmbed.getMessage());
        var mask = assertThrows(TensorShapeException.class,
                () -> mha.forward(x, x, x, null, false, Tensor.on(backend).zeros(DType.FLOAT64, 3, 4)));
        assertTrue(mask.getMessage().contains("attnMask must be [3, 3] or [4, 3, 3]"), mask.getMessage());
        var padding = assertThrows(TensorShapeException.class,
                () -> mha.forward(x, x, x, Tensor.on(backend).zeros(DType.INT64, 3, 2), false, null));
        assertTrue(padding.getMessage().contains("keyPaddingMask must be [2, 3]"), padding.getMessage());
    }
}
