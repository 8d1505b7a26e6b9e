package dev.adjoint.nn;

import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.backend.Backends;
import dev.adjoint.nn.loss.CrossEntropyLoss;
import dev.adjoint.nn.optim.Adagrad;
import dev.adjoint.nn.optim.Adam;
import dev.adjoint.nn.optim.ExponentialLR;
import dev.adjoint.nn.optim.LRScheduler;
import dev.adjoint.nn.optim.LinearWarmup;
import dev.adjoint.nn.optim.OneCycleLR;
import dev.adjoint.nn.optim.Optimizer;
import dev.adjoint.nn.optim.RMSprop;
import dev.adjoint.nn.optim.ReduceLROnPlateau;
import dev.adjoint.nn.optim.SGD;
import dev.adjoint.nn.optim.SequentialLR;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Parameter groups, the newer schedulers and clipGradValue beyond the PyTorch trajectories
 * (PyTorchOptimTest): what a user relies on when grouping, resuming and misconfiguring.
 */
final class ParamGroupsTest {
    static List<String> backends() {
        return Reference.backendNames();
    }

    private static Sequential mlp(String backend, long seed) {
        NnContext ctx = NnContext.of(Backends.get(backend), DType.FLOAT64, new Generator(seed));
        return new Sequential(new Linear(2, 6, ctx), new Tanh(), new Linear(6, 2, ctx));
    }

    private static List<Tensor> layer(Sequential model, int index) {
        return model.get(index).parameters();
    }

    private static void trainStep(Sequential model, Optimizer opt) {
        var create = Tensor.on(model.parameters().get(0).backend());
        Tensor x = create.fromArray(new double[] {0.5, -1, 1, 2, -0.3, 0.8}, 3, 2);
        Tensor y = create.fromArray(new long[] {0, 1, 1}, 3);
        opt.zeroGrad();
        new CrossEntropyLoss().forward(model.call(x), y).backward();
        opt.step();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void eachGroupStepsWithItsOwnHyperparameters(String backend) {
        // Two groups with lr 0.1 and 0.01 move their parameters exactly as two separate SGDs would.
        Sequential grouped = mlp(backend, 1);
        SGD opt = new SGD(layer(grouped, 0), 0.1);
        opt.addParamGroup(layer(grouped, 2), Map.of("lr", 0.01));
        assertEquals(0.1, opt.paramGroups().get(0).get("lr"));
        assertEquals(0.01, opt.paramGroups().get(1).get("lr"));
        assertEquals(0.0, opt.paramGroups().get(1).get("momentum"), "the rest comes from the constructor");

        Sequential separate = mlp(backend, 1);
        SGD first = new SGD(layer(separate, 0), 0.1);
        SGD second = new SGD(layer(separate, 2), 0.01);
        for (int i = 0; i < 3; i++) {
            trainStep(grouped, opt);
            var create = Tensor.on(backend);
            Tensor x = create.fromArray(new double[] {0.5, -1, 1, 2, -0.3, 0.8}, 3, 2);
            Tensor y = create.fromArray(new long[] {0, 1, 1}, 3);
            first.zeroGrad();
            second.zeroGrad();
            new CrossEntropyLoss().forward(separate.call(x), y).backward();
            first.step();
            second.step();
        }
        grouped.namedParameters().forEach((k, v) ->
                assertArrayEquals(separate.namedParameters().get(k).toDoubleArray(), v.toDoubleArray(), 0, k));

        // setLr sets every group; a group's own rate can be changed alone.
        opt.setLr(0.5);
        assertEquals(0.5, opt.paramGroups().get(1).get("lr"));
        opt.paramGroups().get(1).set("lr", 0.05);
        assertEquals(0.5, opt.lr(), "lr() is group 0's outside a step");
        assertEquals(List.of(grouped.parameters().get(0), grouped.parameters().get(1), grouped.parameters().get(2),
                grouped.parameters().get(3)), opt.params());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void groupMisuseIsRejectedWithMessagesNamingIt(String backend) {
        Sequential model = mlp(backend, 2);
        Adam opt = new Adam(layer(model, 0), 0.01);
        var twice = assertThrows(IllegalArgumentException.class, () -> opt.addParamGroup(layer(model, 0)));
        assertTrue(twice.getMessage().contains("already in another parameter group"), twice.getMessage());
        var unknown = assertThrows(IllegalArgumentException.class,
                () -> opt.addParamGroup(layer(model, 2), Map.of("momentum", 0.9)));
        assertTrue(unknown.getMessage().contains("unknown hyperparameter 'momentum'")
                && unknown.getMessage().contains("beta1"), unknown.getMessage());
        var beta = assertThrows(IllegalArgumentException.class,
                () -> opt.addParamGroup(layer(model, 2), Map.of("beta1", 1.0)));
        assertTrue(beta.getMessage().contains("betas must be in [0, 1)"), beta.getMessage());
        assertEquals(1, opt.paramGroups().size(), "a rejected group is not added");
        assertThrows(IllegalArgumentException.class, () -> opt.paramGroups().get(0).set("lr", -1));
        assertThrows(IllegalArgumentException.class, () -> opt.paramGroups().get(0).set("nesterov", 1));
        assertThrows(IllegalArgumentException.class, () -> new RMSprop(layer(model, 0), 0.01, -0.5, 1e-8, 0, 0, false));
        assertThrows(IllegalArgumentException.class, () -> new Adagrad(layer(model, 0), 0.01, -1, 0, 0, 1e-10));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void aGroupedOptimizerAndItsScheduleResumeExactlyFromTheirStateDicts(String backend) {
        Sequential model = mlp(backend, 3);
        RMSprop opt = new RMSprop(layer(model, 0), 0.01, 0.9, 1e-8, 0.01, 0.5, true);
        opt.addParamGroup(layer(model, 2), Map.of("lr", 0.02, "centered", 0.0, "momentum", 0.0));
        LRScheduler sched = new SequentialLR(opt, List.of(new LinearWarmup(opt, 0.2, 1.0, 3),
                new ExponentialLR(opt, 0.8)), new int[] {3});
        for (int i = 0; i < 4; i++) {
            trainStep(model, opt);
            sched.step();
        }
        Map<String, Tensor> modelState = copy(model.stateDict());
        Map<String, Tensor> optState = copy(opt.stateDict());
        Map<String, Tensor> schedState = copy(sched.stateDict());
        assertTrue(optState.containsKey("state.0.grad_avg") && !optState.containsKey("state.2.grad_avg"),
                "each group's state follows its own hyperparameters: " + optState.keySet());
        assertEquals(2.0, optState.get("group.1.params").item());
        for (int i = 0; i < 4; i++) {
            trainStep(model, opt);
            sched.step();
        }

        Sequential resumed = mlp(backend, 3);
        RMSprop opt2 = new RMSprop(layer(resumed, 0), 0.01, 0.9, 1e-8, 0.01, 0.5, true);
        opt2.addParamGroup(layer(resumed, 2), Map.of("lr", 0.02, "centered", 0.0, "momentum", 0.0));
        LRScheduler sched2 = new SequentialLR(opt2, List.of(new LinearWarmup(opt2, 0.2, 1.0, 3),
                new ExponentialLR(opt2, 0.8)), new int[] {3});
        resumed.loadStateDict(modelState);
        opt2.loadStateDict(optState);
        sched2.loadStateDict(schedState);
        for (int i = 0; i < 4; i++) {
            trainStep(resumed, opt2);
            sched2.step();
        }
        assertArrayEquals(sched.lastLrs(), sched2.lastLrs(), 0);
        model.namedParameters().forEach((k, v) ->
                assertArrayEquals(v.toDoubleArray(), resumed.namedParameters().get(k).toDoubleArray(), 0, k));

        // The same state dict does not fit an optimizer grouped differently.
        Sequential other = mlp(backend, 3);
        RMSprop oneGroup = new RMSprop(other.parameters(), 0.01);
        var e = assertThrows(StateDictException.class, () -> oneGroup.loadStateDict(optState));
        assertTrue(e.getMessage().contains("group 0 has 2 parameters in the state dict and 4"), e.getMessage());
    }

    @Test
    void oneCycleRefusesToStepPastItsEndAndPlateauCountsBadEpochs() {
        Tensor p = Tensor.zeros(DType.FLOAT64, 1).requiresGrad(true);
        SGD sgd = new SGD(List.of(p), 0.1, 0.9);
        OneCycleLR oneCycle = new OneCycleLR(sgd, 1.0, 4);
        assertEquals(1.0 / 25, sgd.lr(), 1e-15, "starts at maxLr / divFactor");
        assertEquals(0.95, sgd.paramGroups().get(0).get("momentum"), 1e-15);
        for (int i = 0; i < 4; i++) {
            oneCycle.step();
        }
        var e = assertThrows(IllegalStateException.class, oneCycle::step);
        assertTrue(e.getMessage().contains("tried to step 6 times; the schedule has 4 steps"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new OneCycleLR(new RMSprop(List.of(p)), new double[] {1, 2},
                4, 0.3, OneCycleLR.AnnealStrategy.COS, false, 0.85, 0.95, 25, 1e4, false));

        SGD plain = new SGD(List.of(p), 1.0);
        ReduceLROnPlateau plateau = new ReduceLROnPlateau(plain, ReduceLROnPlateau.Mode.MIN, 0.5, 1, 0.0,
                ReduceLROnPlateau.ThresholdMode.ABS, 0, 0.2, 1e-8);
        double[] metrics = {1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5};
        double[] expected = {1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2};
        for (int i = 0; i < metrics.length; i++) {
            plateau.step(metrics[i]);
            assertEquals(expected[i], plain.lr(), 1e-15, "after epoch " + (i + 1));
        }
        assertEquals(0.5, plateau.best());
        assertThrows(IllegalArgumentException.class, () -> new ReduceLROnPlateau(plain, ReduceLROnPlateau.Mode.MIN, 1.5,
                1, 0, ReduceLROnPlateau.ThresholdMode.REL, 0, 0, 1e-8));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void clipGradValueClampsEachElement(String backend) {
        var create = Tensor.on(backend);
        Tensor a = create.zeros(DType.FLOAT64, 4).requiresGrad(true);
        Tensor b = create.zeros(DType.FLOAT64, 1).requiresGrad(true);
        a.setGrad(create.fromArray(new double[] {-3, 0.05, 0.2, 7}, 4));
        ClipGrad.clipGradValue(List.of(a, b), 0.1);
        assertArrayEquals(new double[] {-0.1, 0.05, 0.1, 0.1}, a.grad().toDoubleArray(), 0);
        assertEquals(null, b.grad());
        assertThrows(IllegalArgumentException.class, () -> ClipGrad.clipGradValue(List.of(a), -1));
    }

    private static Map<String, Tensor> copy(Map<String, Tensor> state) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        state.forEach((k, v) -> out.put(k, Tensor.on(v.backend()).fromArray(v.toDoubleArray(), v.dtype(),
                v.shape().toArray())));
        return out;
    }
}
