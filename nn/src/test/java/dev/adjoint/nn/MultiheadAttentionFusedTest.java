package dev.adjoint.nn;

import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.autograd.Autograd;
import dev.adjoint.backend.Backends;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * MultiheadAttention's two ways to the same result: without weights to return (or drop out) the heads
 * are one scaledDotProductAttention, which a backend may fuse; asked for its weights it composes them.
 * Both give the same output and gradients, for self- and cross-attention, either layout, unbatched,
 * and with both kinds of mask, in both dtypes; in training with dropout, the same masks too, drawn from
 * the module's generator in the same order, so that it is left in the same state.
 */
final class MultiheadAttentionFusedTest {
    static List<String> backends() {
        return Reference.backendNames();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void theFusedOpGivesTheComposedResultAndGradients(String backend) {
        for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            double tol = dtype == DType.FLOAT32 ? 2e-5 : 1e-12;
            var on = Tensor.on(backend);
            for (boolean batchFirst : new boolean[] {false, true}) {
                MultiheadAttention mha = new MultiheadAttention(12, 3, 0.0, true, batchFirst,
                        NnContext.of(Backends.get(backend), dtype, new Generator(1)));
                int[] shape = batchFirst ? new int[] {2, 5, 12} : new int[] {5, 2, 12};
                int[] kvShape = batchFirst ? new int[] {2, 7, 12} : new int[] {7, 2, 12};
                Tensor x = on.randn(new Generator(2), dtype, shape).requiresGrad(true);
                Tensor kv = on.randn(new Generator(3), dtype, kvShape).requiresGrad(true);
                Tensor padding = on.fromArray(new boolean[] {false, false, true, false, false, false, true,
                        false, true, false, false, false, false, false}, 2, 7);
                Tensor floatMask = on.randn(new Generator(4), dtype, 5, 7);
                Tensor selfMask = on.randn(new Generator(5), dtype, 6, 5, 5);
                compare(mha, x, x, x, null, null, tol, dtype + " self, batchFirst " + batchFirst);
                compare(mha, x, x, x, null, selfMask, tol, dtype + " self, [N * heads, L, L] mask");
                compare(mha, x, kv, kv, padding, floatMask, tol, dtype + " cross, both masks, batchFirst " + batchFirst);
                Tensor x1 = on.randn(new Generator(6), dtype, 4, 12).requiresGrad(true);
                compare(mha, x1, x1, x1, null, null, tol, dtype + " unbatched, batchFirst " + batchFirst);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void inTrainingTheFusedOpDropsTheComposedWeightsAndLeavesTheGeneratorAlike(String backend) {
        for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            double tol = dtype == DType.FLOAT32 ? 2e-5 : 1e-12;
            var on = Tensor.on(backend);
            for (double p : new double[] {0.3, 1.0}) {
                for (boolean batchFirst : new boolean[] {false, true}) {
                    // Two modules from one seed: the same parameters, generators in the same state.
                    Generator fusedDraws = new Generator(1);
                    Generator composedDraws = new Generator(1);
                    MultiheadAttention fused = new MultiheadAttention(12, 3, p, true, batchFirst,
                            NnContext.of(Backends.get(backend), dtype, fusedDraws));
                    MultiheadAttention composed = new MultiheadAttention(12, 3, p, true, batchFirst,
                            NnContext.of(Backends.get(backend), dtype, composedDraws));
                    int[] shape = batchFirst ? new int[] {2, 5, 12} : new int[] {5, 2, 12};
                    int[] kvShape = batchFirst ? new int[] {2, 7, 12} : new int[] {7, 2, 12};
                    Tensor x = on.randn(new Generator(2), dtype, shape).requiresGrad(true);
                    Tensor kv = on.randn(new Generator(3), dtype, kvShape).requiresGrad(true);
                    Tensor padding = on.fromArray(new boolean[] {false, false, true, false, false, false, true,
                            false, true, false, false, false, false, false}, 2, 7);
                    String what = dtype + " p " + p + " batchFirst " + batchFirst;
                    // Two steps each: the second draws where the first left the generator.
                    for (int step = 0; step < 2; step++) {
                        compareInTraining(fused, composed, x, x, null, tol, what + " self, step " + step);
                        compareInTraining(fused, composed, x, kv, padding, tol, what + " cross, step " + step);
                    }
                    assertEquals(composedDraws.state(), fusedDraws.state(), what + ": the generators' state");
                }
            }
        }
    }

    /** {@code fused} without weights, {@code composed} with them, on the same inputs; their grads alike. */
    private static void compareInTraining(MultiheadAttention fused, MultiheadAttention composed, Tensor q, Tensor kv,
                                          Tensor padding, double tol, String what) {
        Tensor a = fused.forward(q, kv, kv, padding, false, null).output();
        Tensor b = composed.forward(q, kv, kv, padding, true, null).output();
        assertClose(b, a, tol, what + ": output");
        Tensor g = Tensor.on(q.backend()).randn(new Generator(7), q.dtype(), a.shape().toArray());
        List<Tensor> fusedInputs = new ArrayList<>(List.of(q));
        List<Tensor> composedInputs = new ArrayList<>(List.of(q));
        if (kv != q) {
            fusedInputs.add(kv);
            composedInputs.add(kv);
        }
        fusedInputs.addAll(List.of(fused.inProjWeight(), fused.inProjBias(), fused.outProj().weight()));
        composedInputs.addAll(List.of(composed.inProjWeight(), composed.inProjBias(), composed.outProj().weight()));
        List<Tensor> ga = Autograd.grad(List.of(a), fusedInputs, List.of(g), false, false, false);
        List<Tensor> gb = Autograd.grad(List.of(b), composedInputs, List.of(g), false, false, false);
        for (int i = 0; i < ga.size(); i++) {
            assertClose(gb.get(i), ga.get(i), tol, what + ": gradient " + i);
        }
    }

    private static void compare(MultiheadAttention mha, Tensor q, Tensor k, Tensor v, Tensor padding, Tensor mask,
                                double tol, String what) {
        Tensor fused = mha.forward(q, k, v, padding, false, mask).output();
        Tensor composed = mha.forward(q, k, v, padding, true, mask).output();
        assertClose(composed, fused, tol, what + ": output");
        List<Tensor> inputs = new ArrayList<>(List.of(q));
        if (k != q) {
            inputs.add(k);
        }
        inputs.add(mha.inProjWeight());
        inputs.add(mha.outProj().weight());
        Tensor g = Tensor.on(q.backend()).randn(new Generator(7), q.dtype(), fused.shape().toArray());
        List<Tensor> a = Autograd.grad(List.of(fused), inputs, List.of(g), false, false, false);
        List<Tensor> b = Autograd.grad(List.of(composed), inputs, List.of(g), false, false, false);
        for (int i = 0; i < inputs.size(); i++) {
            assertClose(b.get(i), a.get(i), tol, what + ": gradient " + i);
        }
    }

    private static void assertClose(Tensor expected, Tensor actual, double tol, String what) {
        assertEquals(expected.shape(), actual.shape(), what);
        double[] e = expected.toDoubleArray();
        double[] a = actual.toDoubleArray();
        for (int i = 0; i < e.length; i++) {
            assertTrue(Math.abs(e[i] - a[i]) <= tol * (1 + Math.abs(e[i])), what + " at " + i + ": " + e[i] + " vs " + a[i]);
        }
    }
}
