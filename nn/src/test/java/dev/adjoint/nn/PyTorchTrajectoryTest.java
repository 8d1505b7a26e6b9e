package dev.adjoint.nn;

import com.fasterxml.jackson.databind.JsonNode;
import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.nn.loss.CrossEntropyLoss;
import dev.adjoint.nn.optim.Adam;
import dev.adjoint.nn.optim.AdamW;
import dev.adjoint.nn.optim.CosineAnnealingLR;
import dev.adjoint.nn.optim.LRScheduler;
import dev.adjoint.nn.optim.LinearWarmup;
import dev.adjoint.nn.optim.Optimizer;
import dev.adjoint.nn.optim.SGD;
import dev.adjoint.nn.optim.StepLR;
import dev.adjoint.spi.Backend;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.DynamicContainer.dynamicContainer;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * 20-step training trajectories of every optimizer and scheduler against PyTorch 1.13 (see
 * {@code tools/pytorch-reference/generate_nn.py}): the same model, initial weights, data and loss;
 * the loss before each step, the learning rate of each step, the clipped gradient norm, and every
 * parameter after steps 1, 5, 10 and 20.
 *
 * <p>Tolerances. FLOAT64: 1e-10 relative (+1e-12 absolute for values near 0). The arithmetic mirrors
 * PyTorch's operation for operation, so the remaining differences are round-off in reductions
 * (matmul, sums) whose order differs, amplified a little by 20 steps of a smooth map; on the
 * scalar backend every value agrees to better than 1e-13 relative. FLOAT32 (same inputs rounded to
 * float, compared with the float64 reference): 2e-5 relative + 2e-6 absolute. Float32 round-off
 * (6e-8 per operation) accumulates over 20 steps, and Adam's division by sqrt(v) + eps turns absolute
 * errors in small gradients into relative errors of the step; observed worst differences on the scalar
 * backend are about 1.3e-7 absolute on parameters of size 1e-3 and 1e-6 relative elsewhere, so the
 * bounds leave a factor of ten for other backends' summation orders.
 */
final class PyTorchTrajectoryTest {
    private static final double RTOL_64 = 1e-10;
    private static final double ATOL_64 = 1e-12;
    private static final double RTOL_32 = 2e-5;
    private static final double ATOL_32 = 2e-6;

    @TestFactory
    Stream<DynamicNode> trajectoriesOnEveryBackend() {
        JsonNode root = Reference.root();
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

    static Sequential model(JsonNode root, Backend backend, DType dtype) {
        NnContext ctx = NnContext.of(backend, dtype, new Generator(0));
        Sequential model = new Sequential(new Linear(4, 8, ctx), new Tanh(), new Linear(8, 3, ctx));
        Map<String, Tensor> initial = new LinkedHashMap<>();
        root.get("model").get("initial").fields()
                .forEachRemaining(e -> initial.put(e.getKey(), Reference.tensor(e.getValue(), backend, dtype)));
        model.loadStateDict(initial);
        return model;
    }

    static Optimizer optimizer(JsonNode spec, List<Tensor> params) {
        String type = spec.get("type").asText();
        return switch (type) {
            case "SGD" -> new SGD(params, spec.get("lr").asDouble(), spec.path("momentum").asDouble(0),
                    spec.path("dampening").asDouble(0), spec.path("weight_decay").asDouble(0),
                    spec.path("nesterov").asBoolean(false));
            case "Adam" -> new Adam(params, spec.get("lr").asDouble(), spec.get("beta1").asDouble(),
                    spec.get("beta2").asDouble(), spec.get("eps").asDouble(), spec.get("weight_decay").asDouble(),
                    spec.get("amsgrad").asBoolean());
            case "AdamW" -> new AdamW(params, spec.get("lr").asDouble(), spec.get("beta1").asDouble(),
                    spec.get("beta2").asDouble(), spec.get("eps").asDouble(), spec.get("weight_decay").asDouble(),
                    spec.get("amsgrad").asBoolean());
            default -> throw new IllegalArgumentException("unknown optimizer " + type);
        };
    }

    static LRScheduler scheduler(JsonNode spec, Optimizer optimizer) {
        if (spec == null || spec.isNull()) {
            return null;
        }
        String type = spec.get("type").asText();
        return switch (type) {
            case "StepLR" -> new StepLR(optimizer, spec.get("step_size").asInt(), spec.get("gamma").asDouble());
            case "CosineAnnealingLR" -> new CosineAnnealingLR(optimizer, spec.get("t_max").asInt(),
                    spec.get("eta_min").asDouble());
            case "LinearLR" -> new LinearWarmup(optimizer, spec.get("start_factor").asDouble(),
                    spec.get("end_factor").asDouble(), spec.get("total_iters").asInt());
            default -> throw new IllegalArgumentException("unknown scheduler " + type);
        };
    }

    private static void check(JsonNode root, JsonNode traj, Backend backend, DType dtype) {
        double rtol = dtype == DType.FLOAT64 ? RTOL_64 : RTOL_32;
        double atol = dtype == DType.FLOAT64 ? ATOL_64 : ATOL_32;
        Sequential model = model(root, backend, dtype);
        Tensor x = Reference.tensor(root.get("model").get("x"), backend, dtype);
        Tensor y = Reference.tensor(root.get("model").get("y"), backend, dtype);
        Optimizer optimizer = optimizer(traj.get("optimizer"), model.parameters());
        LRScheduler scheduler = scheduler(traj.get("scheduler"), optimizer);
        CrossEntropyLoss lossFn = new CrossEntropyLoss();
        JsonNode clip = traj.get("clip");
        int steps = root.get("steps").asInt();
        for (int step = 1; step <= steps; step++) {
            optimizer.zeroGrad();
            Tensor loss = lossFn.forward(model.forward(x), y);
            loss.backward();
            Reference.assertClose("loss before step " + step, traj.get("loss").get(step - 1).asDouble(), loss.item(),
                    rtol, atol);
            if (clip != null && !clip.isNull()) {
                double norm = ClipGrad.clipGradNorm(model.parameters(), clip.asDouble());
                Reference.assertClose("gradient norm at step " + step, traj.get("grad_norm").get(step - 1).asDouble(),
                        norm, rtol, atol);
            }
            // Learning rates are host doubles in both libraries: they must agree to round-off.
            Reference.assertClose("lr of step " + step, traj.get("lr").get(step - 1).asDouble(), optimizer.lr(),
                    1e-14, 0);
            optimizer.step();
            if (scheduler != null) {
                scheduler.step();
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
