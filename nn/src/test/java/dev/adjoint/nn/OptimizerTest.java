package dev.adjoint.nn;

import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.backend.Backends;
import dev.adjoint.nn.loss.CrossEntropyLoss;
import dev.adjoint.nn.optim.Adam;
import dev.adjoint.nn.optim.AdamW;
import dev.adjoint.nn.optim.CosineAnnealingLR;
import dev.adjoint.nn.optim.LRScheduler;
import dev.adjoint.nn.optim.LinearWarmup;
import dev.adjoint.nn.optim.Optimizer;
import dev.adjoint.nn.optim.SGD;
import dev.adjoint.nn.optim.StepLR;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Optimizer, scheduler and clipping behaviour beyond the PyTorch trajectories, on every available backend. */
final class OptimizerTest {
    static List<String> backends() {
        return Reference.backendNames();
    }

    private static final List<Function<List<Tensor>, Optimizer>> OPTIMIZERS = List.of(
            p -> new SGD(p, 0.1, 0.9),
            p -> new Adam(p, 0.01),
            p -> new AdamW(p, 0.01),
            p -> new Adam(p, 0.01, 0.9, 0.999, 1e-8, 1e-3, true));

    private static Sequential mlp(String backend, DType dtype, long seed) {
        NnContext ctx = NnContext.of(Backends.get(backend), dtype, new Generator(seed));
        return new Sequential(new Linear(2, 16, ctx), new Tanh(), new Linear(16, 2, ctx));
    }

    /** Two interleaved classes: the label is whether x0 * x1 > 0. */
    private static Tensor[] data(String backend, DType dtype) {
        Generator g = new Generator(11);
        int n = 64;
        double[] x = new double[2 * n];
        long[] y = new long[n];
        for (int i = 0; i < n; i++) {
            x[2 * i] = 2 * g.nextUniform() - 1;
            x[2 * i + 1] = 2 * g.nextUniform() - 1;
            y[i] = x[2 * i] * x[2 * i + 1] > 0 ? 1 : 0;
        }
        return new Tensor[] {Tensor.on(backend).fromArray(x, dtype, n, 2), Tensor.on(backend).fromArray(y, n)};
    }

    private static double trainStep(Module model, Optimizer opt, Tensor x, Tensor y) {
        opt.zeroGrad();
        Tensor loss = new CrossEntropyLoss().forward(model.forward(x), y);
        loss.backward();
        opt.step();
        return loss.item();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void trainingATinyModelLowersTheLoss(String backend) {
        for (DType dtype : List.of(DType.FLOAT64, DType.FLOAT32)) {
            for (int k = 0; k < OPTIMIZERS.size(); k++) {
                Sequential model = mlp(backend, dtype, 5);
                Optimizer opt = OPTIMIZERS.get(k).apply(model.parameters());
                Tensor[] xy = data(backend, dtype);
                double first = trainStep(model, opt, xy[0], xy[1]);
                double last = first;
                for (int i = 0; i < 150; i++) {
                    last = trainStep(model, opt, xy[0], xy[1]);
                }
                assertTrue(last < 0.6 * first, opt.getClass().getSimpleName() + " #" + k + " " + dtype
                        + ": loss went from " + first + " to " + last);
                assertTrue(model.parameters().stream().allMatch(p -> p.dtype() == dtype && p.isLeaf()));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void zeroGradSetsGradientsToNullAndStepSkipsParametersWithout(String backend) {
        Sequential model = mlp(backend, DType.FLOAT64, 1);
        Adam opt = new Adam(model.parameters(), 0.1);
        Tensor[] xy = data(backend, DType.FLOAT64);
        new CrossEntropyLoss().forward(model.forward(xy[0]), xy[1]).backward();
        assertTrue(model.parameters().stream().allMatch(p -> p.grad() != null));
        opt.zeroGrad();
        assertTrue(model.parameters().stream().allMatch(p -> p.grad() == null));

        // Only the last layer gets a gradient: the first layer must not move nor get state.
        Tensor w0 = model.namedParameters().get("0.weight");
        double[] before = w0.toDoubleArray();
        Tensor w2 = model.namedParameters().get("2.weight");
        double[] before2 = w2.toDoubleArray();
        w2.setGrad(w2.onesLike());
        opt.step();
        assertArrayEquals(before, w0.toDoubleArray());
        assertTrue(Math.abs(before2[0] - 0.1 - w2.toDoubleArray()[0]) < 1e-6, "Adam's first step is lr * sign(grad)");
        Map<String, Tensor> state = opt.stateDict();
        assertTrue(state.containsKey("state.2.exp_avg"));
        assertTrue(!state.containsKey("state.0.exp_avg"), state.keySet().toString());

        // Gradients accumulate across backward calls until cleared, as in PyTorch.
        opt.zeroGrad();
        Tensor x = xy[0];
        new CrossEntropyLoss().forward(model.forward(x), xy[1]).backward();
        double[] once = w0.grad().toDoubleArray();
        new CrossEntropyLoss().forward(model.forward(x), xy[1]).backward();
        double[] twice = w0.grad().toDoubleArray();
        for (int i = 0; i < once.length; i++) {
            assertEquals(2 * once[i], twice[i], 1e-12);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void optimizerStateDictRestoresTrainingExactly(String backend) {
        for (Function<List<Tensor>, Optimizer> make : OPTIMIZERS) {
            Tensor[] xy = data(backend, DType.FLOAT64);
            Sequential model = mlp(backend, DType.FLOAT64, 3);
            Optimizer opt = make.apply(model.parameters());
            LRScheduler sched = new StepLR(opt, 3, 0.5);
            for (int i = 0; i < 5; i++) {
                trainStep(model, opt, xy[0], xy[1]);
                sched.step();
            }
            Map<String, Tensor> modelState = copy(model.stateDict());
            Map<String, Tensor> optState = copy(opt.stateDict());
            Map<String, Tensor> schedState = copy(sched.stateDict());
            List<Double> expected = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                expected.add(trainStep(model, opt, xy[0], xy[1]));
                sched.step();
            }

            Sequential resumed = mlp(backend, DType.FLOAT64, 4);
            Optimizer opt2 = make.apply(resumed.parameters());
            LRScheduler sched2 = new StepLR(opt2, 3, 0.5);
            resumed.loadStateDict(modelState);
            opt2.loadStateDict(optState);
            sched2.loadStateDict(schedState);
            List<Double> actual = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                actual.add(trainStep(resumed, opt2, xy[0], xy[1]));
                sched2.step();
            }
            assertEquals(expected, actual, opt.getClass().getSimpleName() + " resumed from its state dict");
            assertEquals(opt.lr(), opt2.lr());
            model.namedParameters().forEach((k, v) ->
                    assertArrayEquals(v.toDoubleArray(), resumed.namedParameters().get(k).toDoubleArray(), k));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void optimizerStateDictHasPyTorchLikeKeysAndIsStrict(String backend) {
        Sequential model = mlp(backend, DType.FLOAT32, 3);
        Adam opt = new Adam(model.parameters(), 0.01, 0.9, 0.999, 1e-8, 0, true);
        Tensor[] xy = data(backend, DType.FLOAT32);
        trainStep(model, opt, xy[0], xy[1]);
        trainStep(model, opt, xy[0], xy[1]);
        Map<String, Tensor> state = opt.stateDict();
        assertEquals(List.of("group.0.lr", "group.0.beta1", "group.0.beta2", "group.0.eps", "group.0.weight_decay",
                "group.0.amsgrad", "group.0.params", "state.0.step", "state.0.exp_avg", "state.0.exp_avg_sq",
                "state.0.max_exp_avg_sq"), List.copyOf(state.keySet()).subList(0, 11));
        assertEquals(7 + 4 * 4, state.size());
        assertEquals(4.0, state.get("group.0.params").item());
        Tensor step = state.get("state.0.step");
        assertEquals(DType.FLOAT64, step.dtype());
        assertEquals(0, step.rank());
        assertEquals(2.0, step.item());
        assertEquals(DType.FLOAT32, state.get("state.1.exp_avg").dtype());
        assertEquals(DType.FLOAT64, state.get("group.0.lr").dtype());

        Map<String, Tensor> before = copy(opt.stateDict());
        Map<String, Tensor> bad = new LinkedHashMap<>(state);
        bad.remove("state.1.exp_avg_sq");
        StateDictException e = assertThrows(StateDictException.class, () -> opt.loadStateDict(bad));
        assertTrue(e.getMessage().contains("missing keys [state.1.exp_avg_sq]"), e.getMessage());

        Map<String, Tensor> unexpected = new LinkedHashMap<>(state);
        unexpected.put("state.7.exp_avg", state.get("state.0.exp_avg"));
        unexpected.put("group.0.momentum", state.get("group.0.lr"));
        e = assertThrows(StateDictException.class, () -> opt.loadStateDict(unexpected));
        assertTrue(e.getMessage().contains("unexpected keys [group.0.momentum, state.7.exp_avg]"), e.getMessage());

        Map<String, Tensor> wrongShape = new LinkedHashMap<>(state);
        wrongShape.put("state.0.exp_avg", state.get("state.2.exp_avg"));
        e = assertThrows(StateDictException.class, () -> opt.loadStateDict(wrongShape));
        assertTrue(e.getMessage().contains("size mismatch for 'state.0.exp_avg'"), e.getMessage());

        Map<String, Tensor> noLr = new LinkedHashMap<>(state);
        noLr.remove("group.0.lr");
        noLr.put("group.0.lr", Tensor.on(backend).fromArray(new double[] {0.5, 0.5}, 2));
        e = assertThrows(StateDictException.class, () -> opt.loadStateDict(noLr));
        assertTrue(e.getMessage().contains("group.0.lr"), e.getMessage());

        Map<String, Tensor> after = opt.stateDict();
        assertEquals(before.keySet(), after.keySet());
        before.forEach((k, v) -> assertArrayEquals(v.toDoubleArray(), after.get(k).toDoubleArray(), k + " changed"));

        // A fresh optimizer's (state-free) dict is valid and clears the state.
        opt.loadStateDict(new Adam(model.parameters(), 0.02, 0.9, 0.999, 1e-8, 0, true).stateDict());
        assertEquals(7, opt.stateDict().size());
        assertEquals(0.02, opt.lr());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void clipGradNormScalesToTheLimitAndReturnsTheTotal(String backend) {
        var create = Tensor.on(backend);
        Tensor a = create.zeros(DType.FLOAT64, 2).requiresGrad(true);
        Tensor b = create.zeros(DType.FLOAT64, 1).requiresGrad(true);
        Tensor c = create.zeros(DType.FLOAT64, 3).requiresGrad(true);
        a.setGrad(create.fromArray(new double[] {3, 0}, 2));
        b.setGrad(create.fromArray(new double[] {4}, 1));
        double total = ClipGrad.clipGradNorm(List.of(a, b, c), 1.0);
        assertEquals(5.0, total, 1e-15);
        double coef = 1.0 / (5.0 + 1e-6);
        assertArrayEquals(new double[] {3 * coef, 0}, a.grad().toDoubleArray(), 1e-15);
        assertArrayEquals(new double[] {4 * coef}, b.grad().toDoubleArray(), 1e-15);
        assertNull(c.grad());
        assertEquals(1.0, ClipGrad.clipGradNorm(List.of(a, b), 10.0), 1e-6);
        assertArrayEquals(new double[] {3 * coef, 0}, a.grad().toDoubleArray(), 1e-15, "below the limit: unchanged");
        assertEquals(0.0, ClipGrad.clipGradNorm(List.of(c), 1.0));
    }

    @Test
    void schedulersFollowTheirClosedForms() {
        Tensor p = Tensor.zeros(DType.FLOAT64, 1).requiresGrad(true);
        SGD sgd = new SGD(List.of(p), 0.4);
        CosineAnnealingLR cosine = new CosineAnnealingLR(sgd, 10, 0.02);
        for (int epoch = 0; epoch <= 10; epoch++) {
            double closed = 0.02 + (0.4 - 0.02) * (1 + Math.cos(Math.PI * epoch / 10)) / 2;
            assertEquals(closed, sgd.lr(), 1e-15, "epoch " + epoch);
            assertEquals(sgd.lr(), cosine.lastLr());
            cosine.step();
        }

        SGD sgd2 = new SGD(List.of(p), 1.0);
        LinearWarmup warmup = new LinearWarmup(sgd2, 0.25, 1.0, 3);
        double[] expected = {0.25, 0.5, 0.75, 1.0, 1.0, 1.0};
        for (double lr : expected) {
            assertEquals(lr, sgd2.lr(), 1e-15);
            warmup.step();
        }

        SGD sgd3 = new SGD(List.of(p), 1.0);
        StepLR stepLr = new StepLR(sgd3, 2, 0.1);
        double[] steps = {1.0, 1.0, 0.1, 0.1, 0.01};
        for (double lr : steps) {
            assertEquals(lr, sgd3.lr(), 1e-15);
            stepLr.step();
        }
        assertEquals(5, stepLr.lastEpoch());
        assertThrows(IllegalArgumentException.class, () -> new StepLR(sgd3, 0, 0.1));
        assertThrows(IllegalArgumentException.class, () -> new SGD(List.of(p), 0.1, 0.0, 0.0, 0.0, true));
        assertThrows(IllegalArgumentException.class, () -> new SGD(List.of(p.mul(2.0)), 0.1));
    }

    private static Map<String, Tensor> copy(Map<String, Tensor> state) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        state.forEach((k, v) -> out.put(k, Tensor.on(v.backend()).fromArray(v.toDoubleArray(), v.dtype(),
                v.shape().toArray())));
        return out;
    }
}
