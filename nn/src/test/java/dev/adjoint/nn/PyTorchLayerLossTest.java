package dev.adjoint.nn;

import com.fasterxml.jackson.databind.JsonNode;
import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.nn.loss.BCEWithLogitsLoss;
import dev.adjoint.nn.loss.CrossEntropyLoss;
import dev.adjoint.nn.loss.MSELoss;
import dev.adjoint.nn.loss.NLLLoss;
import dev.adjoint.nn.loss.Reduction;
import dev.adjoint.spi.Backend;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.DynamicContainer.dynamicContainer;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * Losses and layers against PyTorch 1.13 (outputs and the gradient of every input), from the "cases"
 * of {@code pytorch-trajectories.json}. Each Python case has an entry of the same name below that
 * computes the same thing with this module's classes; a case without one fails, so the two files
 * cannot drift apart silently.
 *
 * <p>Tolerances: FLOAT64 1e-10 relative + 1e-12 absolute; only round-off differs (observed: below
 * 1e-13 relative, 4e-15 absolute for erf in exact GELU). FLOAT32 (inputs rounded to float, compared
 * with the float64 reference) 2e-5 relative + 2e-6 absolute: rounding the inputs alone gives 6e-8
 * relative, and chains of a few ops and reductions over up to 32 elements grow it; observed worst is
 * 3e-6 relative (LayerNorm input gradient, where centring cancels digits) and 2e-7 absolute on
 * gradients near 1e-6 (tanh-GELU tail). Losses on logits of 500-1000 are checked relative to their size.
 */
final class PyTorchLayerLossTest {
    private static final double RTOL_64 = 1e-10;
    private static final double ATOL_64 = 1e-12;
    private static final double RTOL_32 = 2e-5;
    private static final double ATOL_32 = 2e-6;

    private record Inputs(Map<String, Tensor> inputs, Map<String, Tensor> constants, Backend backend, DType dtype) {
        Tensor in(String name) {
            return inputs.get(name);
        }

        Tensor c(String name) {
            return constants.get(name);
        }

        NnContext ctx() {
            return NnContext.of(backend, dtype, new Generator(7));
        }
    }

    private static final Map<String, Function<Inputs, Tensor>> CASES = new LinkedHashMap<>();

    static {
        for (Reduction r : Reduction.values()) {
            String suffix = r.name().toLowerCase(Locale.ROOT);
            CASES.put("cross_entropy_" + suffix, i -> new CrossEntropyLoss(r).forward(i.in("logits"), i.c("target")));
            CASES.put("cross_entropy_ignore_" + suffix,
                    i -> new CrossEntropyLoss(r, 1).forward(i.in("logits"), i.c("target")));
            CASES.put("nll_" + suffix, i -> new NLLLoss(r).forward(i.in("input"), i.c("target")));
            CASES.put("bce_with_logits_" + suffix, i -> new BCEWithLogitsLoss(r).forward(i.in("input"), i.c("target")));
            CASES.put("mse_" + suffix, i -> new MSELoss(r).forward(i.in("input"), i.c("target")));
        }
        CASES.put("cross_entropy_large_logits", i -> new CrossEntropyLoss().forward(i.in("logits"), i.c("target")));
        CASES.put("nll_ignore_mean", i -> new NLLLoss(Reduction.MEAN, 2).forward(i.in("input"), i.c("target")));
        CASES.put("bce_with_logits_pos_weight", i -> new BCEWithLogitsLoss(Reduction.MEAN, i.c("pos_weight"))
                .forward(i.in("input"), i.c("target")));
        CASES.put("layer_norm_last_dim", i -> withAffine(new LayerNorm(new int[] {5}, 1e-5, true, i.ctx()), i));
        CASES.put("layer_norm_two_dims", i -> withAffine(new LayerNorm(new int[] {3, 4}, 1e-3, true, i.ctx()), i));
        CASES.put("layer_norm_no_affine", i -> new LayerNorm(new int[] {6}, 1e-5, false, i.ctx()).forward(i.in("x")));
        CASES.put("gelu_exact", i -> new GELU().forward(i.in("x")));
        CASES.put("gelu_tanh", i -> new GELU(GELU.Approximation.TANH).forward(i.in("x")));
        CASES.put("embedding", i -> {
            Embedding e = new Embedding(6, 3, i.ctx());
            return withParameters(e, Map.of("weight", "weight"), i).forward(i.c("indices"));
        });
        CASES.put("linear", i -> {
            Linear l = new Linear(4, 3, i.ctx());
            return withParameters(l, Map.of("weight", "weight", "bias", "bias"), i).forward(i.in("x"));
        });
        CASES.put("sequential_mlp", i -> {
            Sequential m = new Sequential(new Linear(4, 8, i.ctx()), new Tanh(), new Linear(8, 3, i.ctx()));
            return withParameters(m, Map.of("0.weight", "w0", "0.bias", "b0", "2.weight", "w2", "2.bias", "b2"), i)
                    .forward(i.in("x"));
        });

        CASES.put("conv2d", i -> withParameters(new Conv2d(3, 4, 3, 2, 1, i.ctx()),
                Map.of("weight", "weight", "bias", "bias"), i).forward(i.in("x")));
        CASES.put("conv1d_same", i -> withParameters(new Conv1d(3, 2, 4, 1, "same", 2, 1, true, i.ctx()),
                Map.of("weight", "weight", "bias", "bias"), i).forward(i.in("x")));
        CASES.put("conv_transpose2d", i -> withParameters(new ConvTranspose2d(4, 2, new int[] {3}, new int[] {2},
                        new int[] {1}, new int[] {1}, 1, true, new int[] {1}, i.ctx()),
                Map.of("weight", "weight", "bias", "bias"), i).forward(i.in("x")));
        CASES.put("cnn_sequential_train", i -> cnn(i).forward(i.in("x")));
        CASES.put("cnn_sequential_eval_after_training", i -> {
            Sequential model = cnn(i);
            try (var scope = Tensor.noGrad()) {
                for (String batch : List.of("batch0", "batch1", "batch2")) {
                    model.forward(i.c(batch));
                }
            }
            model.eval();
            return model.forward(i.in("x"));
        });    }

    /** generate_nn.py's cnn_model() with the case's inputs as its parameters, in training mode. */
    private static Sequential cnn(Inputs i) {
        Sequential model = new Sequential(new Conv2d(1, 4, 3, 1, 1, i.ctx()), new BatchNorm2d(4, i.ctx()), new ReLU(),
                new MaxPool2d(2), new Conv2d(4, 6, 3, 1, 1, i.ctx()), new ReLU(), new AdaptiveAvgPool2d(2),
                new Flatten(), new Linear(24, 3, i.ctx()));
        Map<String, String> names = new LinkedHashMap<>();
        for (String p : List.of("0.weight", "0.bias", "1.weight", "1.bias", "4.weight", "4.bias", "8.weight", "8.bias")) {
            names.put(p, p);
        }
        return withParameters(model, names, i);
    }

    private static Tensor withAffine(LayerNorm norm, Inputs i) {
        return withParameters(norm, Map.of("weight", "weight", "bias", "bias"), i).forward(i.in("x"));
    }

    /**
     * Makes the reference's input tensors the module's parameters (by replacing the module's own through
     * its state dict would lose the gradient link), so the gradients land on the inputs: the module's
     * parameters receive the reference values, and afterwards the module's parameter gradients are
     * read back as the inputs' gradients.
     */
    private static <M extends Module> M withParameters(M module, Map<String, String> parameterToInput, Inputs i) {
        Map<String, Tensor> state = new LinkedHashMap<>(module.stateDict());
        parameterToInput.forEach((param, input) -> state.put(param, i.in(input)));
        module.loadStateDict(state);
        Map<String, Tensor> params = module.namedParameters();
        parameterToInput.forEach((param, input) -> i.inputs().put(input, params.get(param)));
        return module;
    }

    @TestFactory
    Stream<DynamicNode> casesOnEveryBackend() {
        JsonNode cases = Reference.root().get("cases");
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
            throw new AssertionError("case '" + name + "' has no Java counterpart in " + PyTorchLayerLossTest.class);
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
        Tensor out = fn.apply(in);
        Reference.assertClose(name + " output", c.get("output"), out, rtol, atol);
        if (out.rank() > 0) {
            out.mul(constants.get("cotangent")).sum().backward();
        } else {
            out.backward();
        }
        c.get("grads").fields().forEachRemaining(e -> {
            Tensor g = inputs.get(e.getKey()).grad();
            assertEquals(true, g != null, name + ": no gradient reached input '" + e.getKey() + "'");
            Reference.assertClose(name + " gradient of " + e.getKey(), e.getValue(), g, rtol, atol);
        });
    }
}
