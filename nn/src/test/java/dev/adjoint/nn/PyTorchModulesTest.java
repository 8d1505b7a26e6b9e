package dev.adjoint.nn;

import com.fasterxml.jackson.databind.JsonNode;
import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.nn.loss.BCELoss;
import dev.adjoint.nn.loss.CrossEntropyLoss;
import dev.adjoint.nn.loss.HuberLoss;
import dev.adjoint.nn.loss.KLDivLoss;
import dev.adjoint.nn.loss.L1Loss;
import dev.adjoint.nn.loss.NLLLoss;
import dev.adjoint.nn.loss.Reduction;
import dev.adjoint.nn.loss.SmoothL1Loss;
import dev.adjoint.spi.Backend;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.junit.jupiter.api.DynamicContainer.dynamicContainer;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * Activations, attention, the transformer encoder layer, recurrent layers and the newer losses against
 * PyTorch 1.13: every output and the gradient of every input (parameters included), from
 * {@code pytorch-layers.json} (written by {@code tools/pytorch-reference/generate_nn_layers.py}). Each
 * Python case has an entry of the same name here; a case without one fails, so the files cannot drift
 * apart silently.
 *
 * <p>Tolerances as {@link PyTorchLayerLossTest}: FLOAT64 1e-10 relative + 1e-12 absolute (the arithmetic
 * is PyTorch's up to the order of summation); FLOAT32 (inputs rounded to float, compared with the float64
 * reference) 2e-5 relative + 2e-6 absolute, except where a case says otherwise.
 */
final class PyTorchModulesTest {
    static final String RESOURCE = "/dev/adjoint/nn/pytorch-layers.json";

    private static final double RTOL_64 = 1e-10;
    private static final double ATOL_64 = 1e-12;
    private static final double RTOL_32 = 2e-5;
    private static final double ATOL_32 = 2e-6;

    /** One case's tensors on the backend and dtype under test. */
    record Inputs(Map<String, Tensor> inputs, Map<String, Tensor> constants, Backend backend, DType dtype) {
        Tensor in(String name) {
            Tensor t = inputs.get(name);
            if (t == null) {
                throw new IllegalArgumentException("no input '" + name + "'; the case has " + inputs.keySet());
            }
            return t;
        }

        Tensor c(String name) {
            Tensor t = constants.get(name);
            if (t == null) {
                throw new IllegalArgumentException("no constant '" + name + "'; the case has " + constants.keySet());
            }
            return t;
        }

        NnContext ctx() {
            return NnContext.of(backend, dtype, new Generator(7));
        }

        /**
         * Loads the inputs named as {@code module}'s parameters (prefixed by {@code prefix}) into it and
         * makes its parameter tensors stand for those inputs, so their gradients are read back from the
         * module's parameters.
         */
        <M extends Module> M load(M module, String prefix) {
            Map<String, Tensor> state = new LinkedHashMap<>(module.stateDict());
            for (String name : module.namedParameters().keySet()) {
                state.put(name, in(prefix + name));
            }
            module.loadStateDict(state);
            module.namedParameters().forEach((name, p) -> inputs.put(prefix + name, p));
            return module;
        }

        <M extends Module> M load(M module) {
            return load(module, "");
        }
    }

    private static final Map<String, Function<Inputs, Map<String, Tensor>>> CASES = new LinkedHashMap<>();

    private static void single(String name, Function<Inputs, Tensor> fn) {
        CASES.put(name, i -> Map.of("output", fn.apply(i)));
    }

    static {
        single("softmax_dim1", i -> new Softmax(1).forward(i.in("x")));
        single("softmax_dim_last", i -> new Softmax(-1).forward(i.in("x")));
        single("log_softmax_dim0", i -> new LogSoftmax(0).forward(i.in("x")));
        single("silu", i -> new SiLU().forward(i.in("x")));
        single("leaky_relu_default", i -> new LeakyReLU().forward(i.in("x")));
        single("leaky_relu_0_2", i -> new LeakyReLU(0.2).forward(i.in("x")));
        single("elu_default", i -> new ELU().forward(i.in("x")));
        single("elu_alpha_0_5", i -> new ELU(0.5).forward(i.in("x")));
        single("softplus_default", i -> new Softplus().forward(i.in("x")));
        single("softplus_beta_2_threshold_5", i -> new Softplus(2.0, 5.0).forward(i.in("x")));
        single("hardtanh_default", i -> new Hardtanh().forward(i.in("x")));
        single("hardtanh_0_6", i -> new Hardtanh(0.0, 6.0).forward(i.in("x")));

        CASES.put("mha_self", i -> attention(i, new MultiheadAttention(6, 2, i.ctx()), true, true));
        CASES.put("mha_self_no_weights_no_bias",
                i -> attention(i, new MultiheadAttention(6, 3, 0.0, false, false, i.ctx()), false, true));
        CASES.put("mha_cross_batch_first_masks",
                i -> attention(i, new MultiheadAttention(8, 2, 0.0, true, true, i.ctx()), true, false));
        CASES.put("mha_unbatched_causal", i -> attention(i, new MultiheadAttention(4, 2, i.ctx()), true, true));
        CASES.put("mha_3d_float_mask_and_bool_padding",
                i -> attention(i, new MultiheadAttention(4, 2, i.ctx()), true, true));
        CASES.put("mha_float_padding_mask", i -> attention(i, new MultiheadAttention(4, 1, i.ctx()), true, true));
        single("transformer_encoder_layer_post_norm_relu", i -> i.load(new TransformerEncoderLayer(8, 2, 16, 0.0,
                TransformerEncoderLayer.Activation.RELU, 1e-5, false, false, i.ctx()))
                .forward(i.in("src"), null, i.c("src_key_padding_mask")));
        single("transformer_encoder_layer_pre_norm_gelu_batch_first", i -> i.load(new TransformerEncoderLayer(8, 4, 12,
                0.0, TransformerEncoderLayer.Activation.GELU, 1e-6, true, true, i.ctx()))
                .forward(i.in("src"), i.c("src_mask"), null));
        single("transformer_encoder_two_layers_norm", i -> i.load(new TransformerEncoder(
                () -> new TransformerEncoderLayer(8, 2, 16, 0.0, TransformerEncoderLayer.Activation.RELU, 1e-5, true, false,
                        i.ctx()), 2, new LayerNorm(8, i.ctx()))).forward(i.in("src"), null, i.c("src_key_padding_mask")));
        CASES.put("lstm", i -> lstm(i, new LSTM(3, 4, i.ctx())));
        CASES.put("lstm_two_layers_bidirectional_batch_first_state",
                i -> lstm(i, new LSTM(3, 4, 2, true, true, 0.0, true, i.ctx())));
        CASES.put("lstm_unbatched_no_bias", i -> lstm(i, new LSTM(2, 3, 2, false, false, 0.0, false, i.ctx())));
        CASES.put("gru", i -> gru(i, new GRU(3, 4, i.ctx())));
        CASES.put("gru_two_layers_bidirectional_batch_first_state",
                i -> gru(i, new GRU(3, 4, 2, true, true, 0.0, true, i.ctx())));
        CASES.put("gru_unbatched_no_bias", i -> gru(i, new GRU(2, 3, 1, false, false, 0.0, false, i.ctx())));
        CASES.put("lstm_cell", i -> {
            LSTMCell.State s = i.load(new LSTMCell(3, 5, i.ctx())).forward(i.in("input"),
                    new LSTMCell.State(i.in("h0"), i.in("c0")));
            return outputs("h", s.h(), "c", s.c());
        });
        CASES.put("lstm_cell_zero_state_unbatched", i -> {
            LSTMCell.State s = i.load(new LSTMCell(3, 5, i.ctx())).forward(i.in("input"), null);
            return outputs("h", s.h(), "c", s.c());
        });
        single("gru_cell", i -> i.load(new GRUCell(3, 5, i.ctx())).forward(i.in("input"), i.in("h0")));
        single("gru_cell_zero_state_no_bias", i -> i.load(new GRUCell(3, 5, false, i.ctx())).forward(i.in("input")));

        for (Reduction r : List.of(Reduction.MEAN, Reduction.SUM, Reduction.NONE)) {
            String suffix = "_" + r.name().toLowerCase(Locale.ROOT);
            single("l1" + suffix, i -> new L1Loss(r).forward(i.in("input"), i.in("target")));
            single("smooth_l1" + suffix, i -> new SmoothL1Loss(r).forward(i.in("input"), i.in("target")));
            single("huber" + suffix, i -> new HuberLoss(r).forward(i.in("input"), i.in("target")));
            single("bce" + suffix, i -> new BCELoss(r).forward(i.in("input"), i.c("target")));
            single("kl_div" + suffix, i -> new KLDivLoss(r).forward(i.in("input"), i.c("target")));
            single("cross_entropy_weight" + suffix, i -> new CrossEntropyLoss(i.c("weight"), -100, r, 0.0)
                    .forward(i.in("logits"), i.c("target")));
            single("cross_entropy_smoothing" + suffix, i -> new CrossEntropyLoss(null, -100, r, 0.15)
                    .forward(i.in("logits"), i.c("target")));
            single("cross_entropy_weight_ignore_smoothing" + suffix, i -> new CrossEntropyLoss(i.c("weight"), 1, r, 0.2)
                    .forward(i.in("logits"), i.c("target")));
            single("cross_entropy_probabilities" + suffix, i -> new CrossEntropyLoss(r)
                    .forward(i.in("logits"), i.in("target")));
            single("nll_nd_weight_ignore" + suffix, i -> new NLLLoss(i.c("weight"), 2, r)
                    .forward(i.in("input"), i.c("target")));
        }
        single("smooth_l1_beta_0_5", i -> new SmoothL1Loss(Reduction.MEAN, 0.5).forward(i.in("input"), i.in("target")));
        single("smooth_l1_beta_0", i -> new SmoothL1Loss(Reduction.SUM, 0.0).forward(i.in("input"), i.c("target")));
        single("huber_delta_2_5", i -> new HuberLoss(Reduction.SUM, 2.5).forward(i.in("input"), i.in("target")));
        single("bce_weight", i -> new BCELoss(i.c("weight"), Reduction.MEAN).forward(i.in("input"), i.c("target")));
        single("bce_target_gradient", i -> new BCELoss(Reduction.SUM).forward(i.in("input"), i.in("target")));
        single("kl_div_batchmean", i -> new KLDivLoss(Reduction.BATCHMEAN).forward(i.in("input"), i.c("target")));
        single("kl_div_target_gradient", i -> new KLDivLoss(Reduction.BATCHMEAN).forward(i.in("input"), i.in("target")));
        single("kl_div_log_target", i -> new KLDivLoss(Reduction.BATCHMEAN, true).forward(i.in("input"), i.in("target")));
        single("cross_entropy_nd", i -> new CrossEntropyLoss().forward(i.in("logits"), i.c("target")));
        single("cross_entropy_nd_none", i -> new CrossEntropyLoss(Reduction.NONE).forward(i.in("logits"), i.c("target")));
        single("cross_entropy_nd_weight_smoothing", i -> new CrossEntropyLoss(i.c("weight"), -100, Reduction.MEAN, 0.1)
                .forward(i.in("logits"), i.c("target")));
        single("cross_entropy_unbatched", i -> new CrossEntropyLoss().forward(i.in("logits"), i.c("target")));
        single("cross_entropy_probabilities_weight_smoothing", i -> new CrossEntropyLoss(i.c("weight"), -100,
                Reduction.MEAN, 0.3).forward(i.in("logits"), i.in("target")));
        single("cross_entropy_probabilities_nd", i -> new CrossEntropyLoss().forward(i.in("logits"), i.in("target")));
    }

    private static Map<String, Tensor> outputs(Object... namesAndTensors) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int k = 0; k < namesAndTensors.length; k += 2) {
            out.put((String) namesAndTensors[k], (Tensor) namesAndTensors[k + 1]);
        }
        return out;
    }

    private static Map<String, Tensor> lstm(Inputs i, LSTM lstm) {
        i.load(lstm);
        LSTMCell.State initial = i.inputs().containsKey("h0") ? new LSTMCell.State(i.in("h0"), i.in("c0")) : null;
        LSTM.Output out = lstm.forward(i.in("input"), initial);
        return outputs("output", out.output(), "h", out.state().h(), "c", out.state().c());
    }

    private static Map<String, Tensor> gru(Inputs i, GRU gru) {
        i.load(gru);
        GRU.Output out = gru.forward(i.in("input"), i.inputs().containsKey("h0") ? i.in("h0") : null);
        return outputs("output", out.output(), "h", out.h());
    }

    /** generate_nn_layers.py's mha_case: self-attention when the case has no key and value. */
    private static Map<String, Tensor> attention(Inputs i, MultiheadAttention mha, boolean needWeights, boolean average) {
        i.load(mha);
        Tensor q = i.in("query");
        boolean self = !i.inputs().containsKey("key");
        Tensor k = self ? q : i.in("key");
        Tensor v = self ? q : i.in("value");
        MultiheadAttention.Output out = mha.forward(q, k, v, i.constants().get("key_padding_mask"), needWeights,
                i.constants().get("attn_mask"), average);
        Map<String, Tensor> outputs = new LinkedHashMap<>();
        outputs.put("output", out.output());
        if (needWeights) {
            outputs.put("weights", out.weights());
        }
        return outputs;
    }

    @TestFactory
    Stream<DynamicNode> casesOnEveryBackend() {
        JsonNode cases = Reference.load(RESOURCE).get("cases");
        List<DynamicNode> backends = new ArrayList<>();
        for (Backend backend : Reference.backends()) {
            List<DynamicNode> dtypes = new ArrayList<>();
            for (DType dtype : List.of(DType.FLOAT64, DType.FLOAT32)) {
                List<DynamicNode> tests = new ArrayList<>();
                cases.fields().forEachRemaining(e -> tests.add(
                        dynamicTest(e.getKey(), () -> check(e.getKey(), e.getValue(), backend, dtype))));
                dtypes.add(dynamicContainer(dtype.name(), tests));
            }
            backends.add(dynamicContainer(backend.name(), dtypes));
        }
        return backends.stream();
    }

    private static void check(String name, JsonNode c, Backend backend, DType dtype) {
        var fn = CASES.get(name);
        if (fn == null) {
            throw new AssertionError("case '" + name + "' has no Java counterpart in " + PyTorchModulesTest.class);
        }
        double rtol = dtype == DType.FLOAT64 ? RTOL_64 : RTOL_32;
        double atol = dtype == DType.FLOAT64 ? ATOL_64 : ATOL_32;
        Map<String, Tensor> inputs = new LinkedHashMap<>();
        c.get("inputs").fields().forEachRemaining(e -> inputs.put(e.getKey(),
                Reference.tensor(e.getValue(), backend, dtype).requiresGrad(true)));
        Map<String, Tensor> constants = new LinkedHashMap<>();
        c.get("constants").fields().forEachRemaining(e -> constants.put(e.getKey(),
                Reference.tensor(e.getValue(), backend, dtype)));
        Inputs in = new Inputs(inputs, constants, backend, dtype);
        Map<String, Tensor> outputs = fn.apply(in);
        Tensor total = null;
        JsonNode expectedOutputs = c.get("outputs");
        if (!outputs.keySet().equals(new HashSet<>(fieldNames(expectedOutputs)))) {
            throw new AssertionError(name + ": outputs " + outputs.keySet() + ", reference has "
                    + fieldNames(expectedOutputs));
        }
        for (Map.Entry<String, Tensor> e : outputs.entrySet()) {
            Reference.assertClose(name + " output " + e.getKey(), expectedOutputs.get(e.getKey()), e.getValue(), rtol,
                    atol);
            Tensor cotangent = Reference.tensor(c.get("cotangents").get(e.getKey()), backend, dtype);
            Tensor term = e.getValue().mul(cotangent).sum();
            total = total == null ? term : total.add(term);
        }
        total.backward();
        c.get("grads").fields().forEachRemaining(e -> {
            Tensor g = inputs.get(e.getKey()).grad();
            if (g == null) {
                throw new AssertionError(name + ": no gradient reached input '" + e.getKey() + "'");
            }
            Reference.assertClose(name + " gradient of " + e.getKey(), e.getValue(), g, rtol, atol);
        });
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
