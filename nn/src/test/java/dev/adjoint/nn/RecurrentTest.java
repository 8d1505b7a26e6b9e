package dev.adjoint.nn;

import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.TensorShapeException;
import dev.adjoint.backend.Backends;
import dev.adjoint.check.GradCheck;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * LSTM, GRU and their cells beyond the PyTorch values (PyTorchModulesTest): names, the layer as its cell
 * unrolled, carrying the state across calls, dropout between layers, derivatives and errors.
 */
final class RecurrentTest {
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
    void parameterNamesShapesAndInitialisationArePyTorchs(String backend) {
        LSTM lstm = new LSTM(3, 4, 2, true, false, 0.0, true, ctx(backend, 1));
        List<String> expected = new ArrayList<>();
        for (String layer : List.of("_l0", "_l1")) {
            for (String dir : List.of("", "_reverse")) {
                for (String name : List.of("weight_ih", "weight_hh", "bias_ih", "bias_hh")) {
                    expected.add(name + layer + dir);
                }
            }
        }
        assertEquals(expected, List.copyOf(lstm.stateDict().keySet()));
        Map<String, Tensor> params = lstm.namedParameters();
        assertArrayEquals(new int[] {16, 3}, params.get("weight_ih_l0").shape().toArray());
        assertArrayEquals(new int[] {16, 8}, params.get("weight_ih_l1_reverse").shape().toArray(),
                "layer 1 reads both directions of layer 0");
        for (Tensor p : lstm.parameters()) {
            assertTrue(p.abs().amax().item() <= 0.5, "U(-1/sqrt(H), 1/sqrt(H)) with H = 4");
        }
        GRU gru = new GRU(3, 5, 1, false, false, 0.0, false, ctx(backend, 1));
        assertEquals(List.of("weight_ih_l0", "weight_hh_l0"), List.copyOf(gru.stateDict().keySet()));
        assertArrayEquals(new int[] {15, 5}, gru.namedParameters().get("weight_hh_l0").shape().toArray());
        assertEquals(List.of("weight_ih", "weight_hh", "bias_ih", "bias_hh"),
                List.copyOf(new LSTMCell(2, 3, ctx(backend, 1)).stateDict().keySet()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void aLayerIsItsCellUnrolledAndTheStateCarriesAcrossCalls(String backend) {
        LSTM lstm = new LSTM(3, 4, ctx(backend, 2));
        LSTMCell cell = new LSTMCell(3, 4, ctx(backend, 3));
        Map<String, Tensor> state = new LinkedHashMap<>();
        lstm.stateDict().forEach((k, v) -> state.put(k.replace("_l0", ""), v));
        cell.loadStateDict(state);
        Tensor x = randn(backend, 4, 6, 2, 3);
        LSTM.Output whole = lstm.forward(x, null);
        LSTMCell.State s = null;
        for (int t = 0; t < 6; t++) {
            s = cell.forward(x.narrow(0, t, 1).squeeze(0), s);
            assertArrayEquals(whole.output().narrow(0, t, 1).squeeze(0).toDoubleArray(), s.h().toDoubleArray(), 1e-14);
        }
        assertArrayEquals(whole.state().c().squeeze(0).toDoubleArray(), s.c().toDoubleArray(), 1e-14);

        LSTM.Output first = lstm.forward(x.narrow(0, 0, 2), null);
        LSTM.Output rest = lstm.forward(x.narrow(0, 2, 4), first.state());
        assertArrayEquals(whole.output().narrow(0, 2, 4).toDoubleArray(), rest.output().toDoubleArray(), 1e-14);
        assertArrayEquals(whole.state().h().toDoubleArray(), rest.state().h().toDoubleArray(), 1e-14);

        GRU gru = new GRU(3, 4, 2, true, true, 0.0, true, ctx(backend, 5));
        Tensor xb = x.transpose(0, 1).contiguous();
        GRU.Output g = gru.forward(xb, null);
        assertArrayEquals(new int[] {2, 6, 8}, g.output().shape().toArray());
        assertArrayEquals(new int[] {4, 2, 4}, g.h().shape().toArray());
        // The last forward-direction output of the top layer is its final state; the backward one's is at t = 0.
        assertArrayEquals(g.output().narrow(1, 5, 1).narrow(2, 0, 4).reshape(2, 4).toDoubleArray(),
                g.h().narrow(0, 2, 1).reshape(2, 4).toDoubleArray(), 0);
        assertArrayEquals(g.output().narrow(1, 0, 1).narrow(2, 4, 4).reshape(2, 4).toDoubleArray(),
                g.h().narrow(0, 3, 1).reshape(2, 4).toDoubleArray(), 0);
        assertArrayEquals(lstm.forward(x).toDoubleArray(), lstm.call(x).toDoubleArray(), 0);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void eachLayerAsOneNodeGivesTheGradientsOfItsStepsRecordedOneByOne(String backend) {
        for (boolean bias : new boolean[] {true, false}) {
            LSTM lstm = new LSTM(3, 4, 2, bias, true, 0.0, true, ctx(backend, 20));
            Tensor x = randn(backend, 21, 2, 5, 3).requiresGrad(true);
            Tensor h0 = randn(backend, 22, 4, 2, 4).requiresGrad(true);
            Tensor c0 = randn(backend, 23, 4, 2, 4).requiresGrad(true);
            // Weights on every output, so that the final h and c carry gradients of their own.
            Tensor wOut = randn(backend, 24, 2, 5, 8);
            Tensor wH = randn(backend, 25, 4, 2, 4);
            Tensor wC = randn(backend, 26, 4, 2, 4);
            List<Tensor> leaves = new ArrayList<>(List.of(x, h0, c0));
            leaves.addAll(lstm.parameters());
            assertNodeGradientsEqualSteps("LSTM, bias " + bias, leaves, () -> {
                LSTM.Output out = lstm.forward(x, new LSTMCell.State(h0, c0));
                return out.output().mul(wOut).sum().add(out.state().h().mul(wH).sum())
                        .add(out.state().c().mul(wC).sum());
            });

            GRU gru = new GRU(3, 4, 2, bias, false, 0.0, true, ctx(backend, 27));
            Tensor xs = randn(backend, 28, 5, 2, 3).requiresGrad(true);
            Tensor g0 = randn(backend, 29, 4, 2, 4).requiresGrad(true);
            Tensor gOut = randn(backend, 30, 5, 2, 8);
            Tensor gH = randn(backend, 31, 4, 2, 4);
            List<Tensor> gruLeaves = new ArrayList<>(List.of(xs, g0));
            gruLeaves.addAll(gru.parameters());
            assertNodeGradientsEqualSteps("GRU, bias " + bias, gruLeaves, () -> {
                GRU.Output out = gru.forward(xs, g0);
                return out.output().mul(gOut).sum().add(out.h().mul(gH).sum());
            });
        }
    }

    /** The gradients of {@code loss} through the layer nodes equal those through the steps recorded op by op. */
    private static void assertNodeGradientsEqualSteps(String what, List<Tensor> leaves,
                                                      java.util.function.Supplier<Tensor> loss) {
        List<Tensor> byNode = dev.adjoint.autograd.Autograd.grad(List.of(loss.get()), leaves, null, false, false,
                false);
        List<Tensor> byStep;
        // Inside a dual level each layer records its steps one by one (their ops carry JVPs).
        try (var level = dev.adjoint.autograd.ForwardAD.dualLevel()) {
            byStep = dev.adjoint.autograd.Autograd.grad(List.of(loss.get()), leaves, null, false, false, false);
        }
        for (int i = 0; i < leaves.size(); i++) {
            assertArrayEquals(byStep.get(i).toDoubleArray(), byNode.get(i).toDoubleArray(), 1e-12,
                    what + ", leaf " + i);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void dropoutBetweenLayersActsInTrainingOnly(String backend) {
        LSTM dropping = new LSTM(3, 4, 3, true, false, 0.5, false, ctx(backend, 6));
        LSTM plain = new LSTM(3, 4, 3, true, false, 0.0, false, ctx(backend, 7));
        plain.loadStateDict(dropping.stateDict());
        Tensor x = randn(backend, 8, 5, 2, 3);
        assertFalse(Arrays.equals(plain.forward(x).toDoubleArray(), dropping.forward(x).toDoubleArray()));
        dropping.eval();
        assertArrayEquals(plain.forward(x).toDoubleArray(), dropping.forward(x).toDoubleArray(), 0);
        // A single layer has no layer after it to drop into: dropout changes nothing, as in PyTorch.
        LSTM single = new LSTM(3, 4, 1, true, false, 0.5, false, ctx(backend, 9));
        LSTM singlePlain = new LSTM(3, 4, ctx(backend, 9));
        assertArrayEquals(singlePlain.forward(x).toDoubleArray(), single.forward(x).toDoubleArray(), 0);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void recurrentLayersHaveCorrectFirstAndSecondDerivatives(String backend) {
        LSTM lstm = new LSTM(2, 3, 1, true, false, 0.0, true, ctx(backend, 10));
        GRU gru = new GRU(2, 3, 2, true, true, 0.0, false, ctx(backend, 11));
        List<Tensor> lstmInputs = List.of(randn(backend, 12, 3, 1, 2).requiresGrad(true),
                randn(backend, 13, 2, 1, 3).requiresGrad(true), randn(backend, 14, 2, 1, 3).requiresGrad(true));
        java.util.function.Function<List<Tensor>, Tensor> lstmF = in -> lstm.forward(in.get(0),
                new LSTMCell.State(in.get(1), in.get(2))).output();
        GradCheck.gradcheck("LSTM", lstmF, lstmInputs, GradCheck.Options.defaults());
        GradCheck.gradgradcheck("LSTM", lstmF, lstmInputs, GradCheck.Options.defaults());
        List<Tensor> gruInputs = List.of(randn(backend, 15, 1, 3, 2).requiresGrad(true),
                randn(backend, 16, 2, 1, 3).requiresGrad(true));
        java.util.function.Function<List<Tensor>, Tensor> gruF = in -> gru.forward(in.get(0), in.get(1)).h();
        GradCheck.gradcheck("GRU", gruF, gruInputs, GradCheck.Options.defaults());
        GradCheck.gradgradcheck("GRU", gruF, gruInputs, GradCheck.Options.defaults());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void badShapesAreNamed(String backend) {
        LSTM lstm = new LSTM(3, 4, 2, true, false, 0.0, true, ctx(backend, 1));
        var input = assertThrows(TensorShapeException.class, () -> lstm.forward(randn(backend, 2, 5, 2, 4)));
        assertTrue(input.getMessage().contains("LSTM") && input.getMessage().contains("[5, 2, 4]"), input.getMessage());
        var h0 = assertThrows(TensorShapeException.class, () -> lstm.forward(randn(backend, 2, 5, 2, 3),
                new LSTMCell.State(randn(backend, 3, 2, 2, 4), null)));
        assertTrue(h0.getMessage().contains("h0 must have shape [4, 2, 4]"), h0.getMessage());
        var empty = assertThrows(TensorShapeException.class,
                () -> lstm.forward(Tensor.on(backend).zeros(DType.FLOAT64, 0, 2, 3)));
        assertTrue(empty.getMessage().contains("empty"), empty.getMessage());
        var cell = assertThrows(TensorShapeException.class,
                () -> new GRUCell(3, 4, ctx(backend, 1)).forward(randn(backend, 2, 2, 3), randn(backend, 3, 3, 4)));
        assertTrue(cell.getMessage().contains("h must have shape [2, 4]"), cell.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new GRU(3, 0, ctx(backend, 1)));
    }
}
