package dev.adjoint.nn;

import com.fasterxml.jackson.databind.JsonNode;
import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.nn.loss.CrossEntropyLoss;
import dev.adjoint.nn.optim.Adagrad;
import dev.adjoint.nn.optim.Adam;
import dev.adjoint.nn.optim.AdamW;
import dev.adjoint.nn.optim.CosineAnnealingLR;
import dev.adjoint.nn.optim.ExponentialLR;
import dev.adjoint.nn.optim.LRScheduler;
import dev.adjoint.nn.optim.LambdaLR;
import dev.adjoint.nn.optim.LinearWarmup;
import dev.adjoint.nn.optim.MultiStepLR;
import dev.adjoint.nn.optim.OneCycleLR;
import dev.adjoint.nn.optim.Optimizer;
import dev.adjoint.nn.optim.RMSprop;
import dev.adjoint.nn.optim.ReduceLROnPlateau;
import dev.adjoint.nn.optim.SGD;
import dev.adjoint.nn.optim.SequentialLR;
import dev.adjoint.nn.optim.StepLR;
import dev.adjoint.spi.Backend;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntToDoubleFunction;
import java.util.stream.Stream;

import static org.junit.jupiter.api.DynamicContainer.dynamicContainer;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * 20-step trajectories of RMSprop, Adagrad, parameter groups in every optimizer, the schedulers
 * MultiStepLR, ExponentialLR, LambdaLR, OneCycleLR, SequentialLR and ReduceLROnPlateau, and
 * clipGradValue against PyTorch 1.13 ({@code tools/pytorch-reference/generate_nn_optim.py}): the loss
 * before each step, every group's learning rate (and OneCycleLR's momentum) of each step, and every
 * parameter after steps 1, 5, 10 and 20. Tolerances and their reasons are those of
 * {@link PyTorchTrajectoryTest}.
 */
final class PyTorchOptimTest {
    static final String RESOURCE = "/dev/adjoint/nn/pytorch-optim.json";

    private static final double RTOL_64 = 1e-10;
    private static final double ATOL_64 = 1e-12;
    private static final double RTOL_32 = 2e-5;
    private static final double ATOL_32 = 2e-6;

    /** generate_nn_optim.py's LAMBDAS. */
    private static final Map<String, IntToDoubleFunction> LAMBDAS = Map.of(
            "inverse", epoch -> 1.0 / (1.0 + 0.3 * epoch),
            "decay", epoch -> Math.pow(0.9, epoch));

    @TestFactory
    Stream<DynamicNode> trajectoriesOnEveryBackend() {
        JsonNode root = Reference.load(RESOURCE);
        List<DynamicNode> backends = new ArrayList<>();
        for (Backend backend : Reference.backends()) {
            List<DynamicNode> dtypes = new ArrayList<>();
            for (DType dtype : List.of(DType.FLOAT64, DType.FLOAT32)) {
                List<DynamicNode> tests = new ArrayList<>();
                root.get("trajectories").fields().forEachRemaining(e -> tests.add(
                        dynamicTest(e.getKey(), () -> check(root, e.getValue(), backend, dtype))));
                dtypes.add(dynamicContainer(dtype.name(), tests));
            }
            backends.add(dynamicContainer(backend.name(), dtypes));
        }
        return backends.stream();
    }

    private static Sequential model(JsonNode root, Backend backend, DType dtype) {
        NnContext ctx = NnContext.of(backend, dtype, new Generator(0));
        Sequential model = new Sequential(new Linear(4, 8, ctx), new Tanh(), new Linear(8, 3, ctx));
        Map<String, Tensor> initial = new LinkedHashMap<>();
        root.get("model").get("initial").fields()
                .forEachRemaining(e -> initial.put(e.getKey(), Reference.tensor(e.getValue(), backend, dtype)));
        model.loadStateDict(initial);
        return model;
    }

    /**
     * The optimizer of a spec. PyTorch fills each group from the constructor's defaults; here group 0 is
     * the constructor's and later groups are added with every default they do not set themselves, which
     * is the same thing.
     */
    private static Optimizer optimizer(JsonNode spec, Sequential model) {
        Map<String, Tensor> named = model.namedParameters();
        JsonNode groups = spec.get("groups");
        List<Tensor> first = groups == null ? model.parameters() : params(groups.get(0), named);
        JsonNode firstSpec = groups == null ? spec : merged(spec, groups.get(0));
        Optimizer optimizer = switch (spec.get("type").asText()) {
            case "SGD" -> new SGD(first, d(firstSpec, "lr"), d(firstSpec, "momentum"), d(firstSpec, "dampening"),
                    d(firstSpec, "weight_decay"), firstSpec.get("nesterov").asBoolean());
            case "Adam" -> new Adam(first, d(firstSpec, "lr"), d(firstSpec, "beta1"), d(firstSpec, "beta2"),
                    d(firstSpec, "eps"), d(firstSpec, "weight_decay"), firstSpec.get("amsgrad").asBoolean());
            case "AdamW" -> new AdamW(first, d(firstSpec, "lr"), d(firstSpec, "beta1"), d(firstSpec, "beta2"),
                    d(firstSpec, "eps"), d(firstSpec, "weight_decay"), firstSpec.get("amsgrad").asBoolean());
            case "RMSprop" -> new RMSprop(first, d(firstSpec, "lr"), d(firstSpec, "alpha"), d(firstSpec, "eps"),
                    d(firstSpec, "weight_decay"), d(firstSpec, "momentum"), firstSpec.get("centered").asBoolean());
            case "Adagrad" -> new Adagrad(first, d(firstSpec, "lr"), d(firstSpec, "lr_decay"), d(firstSpec, "weight_decay"),
                    d(firstSpec, "initial_accumulator_value"), d(firstSpec, "eps"));
            default -> throw new IllegalArgumentException("unknown optimizer " + spec.get("type"));
        };
        if (groups != null) {
            for (int g = 1; g < groups.size(); g++) {
                JsonNode group = merged(spec, groups.get(g));
                Map<String, Double> hyper = new LinkedHashMap<>();
                for (String name : optimizer.hyperparameters().keySet()) {
                    JsonNode v = group.get(name);
                    hyper.put(name, v.isBoolean() ? (v.asBoolean() ? 1.0 : 0.0) : v.asDouble());
                }
                optimizer.addParamGroup(params(groups.get(g), named), hyper);
            }
        }
        return optimizer;
    }

    private static List<Tensor> params(JsonNode group, Map<String, Tensor> named) {
        List<Tensor> out = new ArrayList<>();
        group.get("params").forEach(n -> out.add(named.get(n.asText())));
        return out;
    }

    private static JsonNode merged(JsonNode defaults, JsonNode group) {
        var out = defaults.deepCopy();
        ((com.fasterxml.jackson.databind.node.ObjectNode) out).setAll(
                (com.fasterxml.jackson.databind.node.ObjectNode) group.deepCopy());
        return out;
    }

    private static double d(JsonNode spec, String name) {
        return spec.get(name).asDouble();
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    private static LRScheduler scheduler(JsonNode spec, Optimizer optimizer) {
        return switch (spec.get("type").asText()) {
            case "MultiStepLR" -> new MultiStepLR(optimizer, ints(spec.get("milestones")), d(spec, "gamma"));
            case "ExponentialLR" -> new ExponentialLR(optimizer, d(spec, "gamma"));
            case "StepLR" -> new StepLR(optimizer, spec.get("step_size").asInt(), d(spec, "gamma"));
            case "LinearLR" -> new LinearWarmup(optimizer, d(spec, "start_factor"), d(spec, "end_factor"),
                    spec.get("total_iters").asInt());
            case "CosineAnnealingLR" -> new CosineAnnealingLR(optimizer, spec.get("t_max").asInt(), d(spec, "eta_min"));
            case "LambdaLR" -> {
                List<IntToDoubleFunction> lambdas = new ArrayList<>();
                spec.get("lambdas").forEach(n -> lambdas.add(LAMBDAS.get(n.asText())));
                yield new LambdaLR(optimizer, lambdas);
            }
            case "OneCycleLR" -> {
                int groups = optimizer.paramGroups().size();
                double[] maxLr = new double[groups];
                for (int g = 0; g < groups; g++) {
                    JsonNode m = spec.get("max_lr");
                    maxLr[g] = m.isArray() ? m.get(g).asDouble() : m.asDouble();
                }
                yield new OneCycleLR(optimizer, maxLr, spec.get("total_steps").asInt(), d(spec, "pct_start"),
                        OneCycleLR.AnnealStrategy.valueOf(spec.get("anneal_strategy").asText().toUpperCase(Locale.ROOT)),
                        spec.get("cycle_momentum").asBoolean(), d(spec, "base_momentum"), d(spec, "max_momentum"),
                        d(spec, "div_factor"), d(spec, "final_div_factor"), spec.get("three_phase").asBoolean());
            }
            case "SequentialLR" -> {
                List<LRScheduler> children = new ArrayList<>();
                spec.get("schedulers").forEach(child -> children.add(scheduler(child, optimizer)));
                yield new SequentialLR(optimizer, children, ints(spec.get("milestones")));
            }
            default -> throw new IllegalArgumentException("unknown scheduler " + spec.get("type"));
        };
    }

    private static ReduceLROnPlateau plateau(JsonNode spec, Optimizer optimizer) {
        return new ReduceLROnPlateau(optimizer,
                ReduceLROnPlateau.Mode.valueOf(spec.get("mode").asText().toUpperCase(Locale.ROOT)), d(spec, "factor"),
                spec.get("patience").asInt(), d(spec, "threshold"),
                ReduceLROnPlateau.ThresholdMode.valueOf(spec.get("threshold_mode").asText().toUpperCase(Locale.ROOT)),
                spec.get("cooldown").asInt(), d(spec, "min_lr"), d(spec, "eps"));
    }

    private static void check(JsonNode root, JsonNode traj, Backend backend, DType dtype) {
        double rtol = dtype == DType.FLOAT64 ? RTOL_64 : RTOL_32;
        double atol = dtype == DType.FLOAT64 ? ATOL_64 : ATOL_32;
        Sequential model = model(root, backend, dtype);
        Tensor x = Reference.tensor(root.get("model").get("x"), backend, dtype);
        Tensor y = Reference.tensor(root.get("model").get("y"), backend, dtype);
        Optimizer optimizer = optimizer(traj.get("optimizer"), model);
        JsonNode schedulerSpec = traj.get("scheduler");
        boolean onPlateau = !schedulerSpec.isNull() && schedulerSpec.get("type").asText().equals("ReduceLROnPlateau");
        LRScheduler scheduler = schedulerSpec.isNull() || onPlateau ? null : scheduler(schedulerSpec, optimizer);
        ReduceLROnPlateau plateau = onPlateau ? plateau(schedulerSpec, optimizer) : null;
        JsonNode clipValue = traj.get("clip_value");
        CrossEntropyLoss lossFn = new CrossEntropyLoss();
        int steps = root.get("steps").asInt();
        for (int step = 1; step <= steps; step++) {
            optimizer.zeroGrad();
            Tensor loss = lossFn.forward(model.forward(x), y);
            loss.backward();
            Reference.assertClose("loss before step " + step, traj.get("loss").get(step - 1).asDouble(), loss.item(),
                    rtol, atol);
            if (!clipValue.isNull()) {
                ClipGrad.clipGradValue(model.parameters(), clipValue.asDouble());
            }
            // Learning rates and momenta are host doubles in both libraries: they agree to round-off.
            JsonNode lrs = traj.get("lr").get(step - 1);
            for (int g = 0; g < lrs.size(); g++) {
                Reference.assertClose("group " + g + " lr of step " + step, lrs.get(g).asDouble(),
                        optimizer.paramGroups().get(g).get("lr"), 1e-14, 1e-17);
            }
            JsonNode momentum = traj.get("momentum");
            if (momentum != null) {
                Optimizer.ParamGroup g0 = optimizer.paramGroups().get(0);
                double actual = g0.hyperparameters().containsKey("beta1") ? g0.get("beta1") : g0.get("momentum");
                Reference.assertClose("momentum of step " + step, momentum.get(step - 1).asDouble(), actual, 1e-14, 0);
            }
            optimizer.step();
            if (scheduler != null) {
                scheduler.step();
            }
            if (plateau != null) {
                plateau.step(traj.get("metrics").get(step - 1).asDouble());
            }
            JsonNode expected = traj.get("params").get(Integer.toString(step));
            if (expected != null) {
                Map<String, Tensor> actual = model.namedParameters();
                int s = step;
                expected.fields().forEachRemaining(e -> Reference.assertClose(
                        e.getKey() + " after step " + s, e.getValue(), actual.get(e.getKey()), rtol, atol));
            }
        }
    }
}
