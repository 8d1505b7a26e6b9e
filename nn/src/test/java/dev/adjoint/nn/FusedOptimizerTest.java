package dev.adjoint.nn;

import dev.adjoint.DType;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.backend.Backends;
import dev.adjoint.nn.optim.Adam;
import dev.adjoint.nn.optim.AdamW;
import dev.adjoint.nn.optim.Optimizer;
import dev.adjoint.nn.optim.SGD;
import dev.adjoint.ops.OptimizerSteps;
import dev.adjoint.spi.Backend;
import dev.adjoint.spi.FusedKernels;
import dev.adjoint.spi.Storage;
import dev.adjoint.spi.heap.HeapFusedKernels;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicContainer.dynamicContainer;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * The fused optimizer updates ({@link OptimizerSteps}, {@link FusedKernels#sgdStep},
 * {@link FusedKernels#adamStep}) give the in-place composition's results bit for bit: on every backend
 * and both dtypes, an optimizer whose gradients are contiguous (fused wherever the backend has fused
 * kernels) and one whose gradients are transposed views of the same values (never fused: the kernels
 * take contiguous runs) must hold identical parameters and state after every step. The parameters are
 * long enough for vector loops with tails, and one spans several of simd's pieces, so the pieces split
 * over threads are covered. The plain loops of {@link HeapFusedKernels} (the reference a backend
 * without vector kernels uses) are held to the same composition on the scalar engine.
 */
final class FusedOptimizerTest {
    /** [rows, cols]: a short parameter with a vector tail, and one of 21000 elements (two 2^14 pieces). */
    private static final int[][] SHAPES = {{5, 37}, {300, 70}};
    private static final int STEPS = 4;

    private record Case(String name, Function<List<Tensor>, Optimizer> make) {
    }

    private static final List<Case> CASES = List.of(
            new Case("SGD", ps -> new SGD(ps, 0.1)),
            new Case("SGD weight decay", ps -> new SGD(ps, 0.1, 0, 0, 0.01, false)),
            new Case("SGD momentum", ps -> new SGD(ps, 0.1, 0.9)),
            new Case("SGD momentum dampening", ps -> new SGD(ps, 0.1, 0.9, 0.3, 0, false)),
            new Case("SGD momentum weight decay", ps -> new SGD(ps, 0.05, 0.9, 0.1, 0.02, false)),
            new Case("SGD Nesterov", ps -> new SGD(ps, 0.1, 0.9, 0, 0, true)),
            new Case("SGD Nesterov weight decay", ps -> new SGD(ps, 0.1, 0.8, 0, 0.03, true)),
            new Case("Adam", ps -> new Adam(ps, 1e-2)),
            new Case("Adam weight decay", ps -> new Adam(ps, 1e-2, 0.8, 0.99, 1e-6, 0.1, false)),
            new Case("Adam amsgrad", ps -> new Adam(ps, 1e-2, 0.9, 0.999, 1e-8, 0, true)),
            new Case("AdamW", ps -> new AdamW(ps, 1e-2, 0.9, 0.999, 1e-8, 0.01, false)),
            new Case("AdamW amsgrad", ps -> new AdamW(ps, 3e-3, 0.85, 0.995, 1e-7, 0.05, true)));

    @TestFactory
    Stream<DynamicNode> fusedUpdateEqualsTheCompositionOnEveryBackend() {
        List<DynamicNode> backends = new ArrayList<>();
        for (Backend backend : Reference.backends()) {
            List<DynamicNode> dtypes = new ArrayList<>();
            for (DType dtype : List.of(DType.FLOAT32, DType.FLOAT64)) {
                List<DynamicNode> tests = new ArrayList<>();
                for (Case c : CASES) {
                    tests.add(dynamicTest(c.name(), () -> fusedEqualsComposed(backend, dtype, c)));
                }
                dtypes.add(dynamicContainer(dtype.name(), tests));
            }
            backends.add(dynamicContainer(backend.name(), dtypes));
        }
        return backends.stream();
    }

    private static void fusedEqualsComposed(Backend backend, DType dtype, Case c) {
        Generator generator = new Generator(17);
        List<Tensor> fusedParams = new ArrayList<>();
        List<Tensor> composedParams = new ArrayList<>();
        for (int[] shape : SHAPES) {
            Tensor init = Tensor.on(backend).randn(generator, dtype, shape);
            fusedParams.add(leaf(init));
            composedParams.add(leaf(init));
        }
        Optimizer fused = c.make().apply(fusedParams);
        FusedKernels.Kernel update = c.name().startsWith("SGD") ? FusedKernels.Kernel.SGD_STEP
                : FusedKernels.Kernel.ADAM_STEP;
        boolean offersUpdate = FusedKernels.offered(backend, update, dtype) != null;
        Optimizer composed = c.make().apply(composedParams);
        for (int step = 1; step <= STEPS; step++) {
            for (int i = 0; i < SHAPES.length; i++) {
                Tensor g = Tensor.on(backend).randn(generator, dtype, SHAPES[i]);
                fusedParams.get(i).setGrad(g);
                // The same values through a transposed view: not contiguous, so never fused.
                Tensor transposed = g.transpose(0, 1).contiguous().transpose(0, 1);
                composedParams.get(i).setGrad(transposed);
                assertFalse(OptimizerSteps.fusable(update, composedParams.get(i), transposed));
                assertEquals(offersUpdate, OptimizerSteps.fusable(update, fusedParams.get(i), g),
                        "a contiguous parameter and gradient fuse exactly when the backend offers the fused update");
            }
            fused.step();
            composed.step();
            for (int i = 0; i < SHAPES.length; i++) {
                assertArrayEquals(composedParams.get(i).toDoubleArray(), fusedParams.get(i).toDoubleArray(),
                        c.name() + ": parameter " + i + " after step " + step);
            }
            Map<String, Tensor> expected = composed.stateDict();
            Map<String, Tensor> actual = fused.stateDict();
            assertEquals(expected.keySet(), actual.keySet(), c.name() + ": state after step " + step);
            for (String key : expected.keySet()) {
                assertArrayEquals(expected.get(key).toDoubleArray(), actual.get(key).toDoubleArray(),
                        c.name() + ": " + key + " after step " + step);
            }
        }
    }

    private static Tensor leaf(Tensor values) {
        return Tensor.on(values.backend()).fromArray(values.toDoubleArray(), values.dtype(), values.shape().toArray())
                .requiresGrad(true);
    }

    /**
     * The reference loops against the composition on the scalar engine (which composes), both dtypes,
     * every SGD and Adam case, four steps: the state the loops keep is threaded through by hand.
     */
    @Test
    void heapReferenceLoopsEqualTheCompositionOnScalar() {
        Backend scalar = Backends.get("scalar");
        FusedKernels plain = new HeapFusedKernels();
        double[][] sgd = {{0.1, 0, 0, 0, 0}, {0.1, 0, 0, 0.01, 0}, {0.1, 0.9, 0, 0, 0}, {0.1, 0.9, 0.3, 0, 0},
                {0.05, 0.9, 0.1, 0.02, 0}, {0.1, 0.9, 0, 0, 1}, {0.1, 0.8, 0, 0.03, 1}};
        double[][] adam = {{1e-2, 0.9, 0.999, 1e-8, 0, 0, 0}, {1e-2, 0.8, 0.99, 1e-6, 0.1, 0, 0},
                {1e-2, 0.9, 0.999, 1e-8, 0, 1, 0}, {1e-2, 0.9, 0.999, 1e-8, 0.01, 0, 1},
                {3e-3, 0.85, 0.995, 1e-7, 0.05, 1, 1}};
        for (DType dtype : List.of(DType.FLOAT32, DType.FLOAT64)) {
            for (double[] h : sgd) {
                Generator generator = new Generator(3);
                Tensor init = Tensor.on(scalar).randn(generator, dtype, 7, 11);
                Tensor p = leaf(init);
                Tensor reference = leaf(init);
                Optimizer opt = new SGD(List.of(reference), h[0], h[1], h[2], h[3], h[4] != 0);
                Tensor buf = init.zerosLike();
                for (int step = 1; step <= STEPS; step++) {
                    Tensor g = Tensor.on(scalar).randn(generator, dtype, 7, 11);
                    reference.setGrad(g);
                    opt.step();
                    plain.sgdStep(p.storage(), 0, g.storage(), 0, h[1] != 0 ? buf.storage() : null, 0, p.numel(), h[0],
                            h[1], h[2], h[3], h[4] != 0, step == 1);
                    assertArrayEquals(reference.toDoubleArray(), p.toDoubleArray(),
                            "SGD " + Arrays.toString(h) + " " + dtype + " step " + step);
                }
            }
            for (double[] h : adam) {
                Generator generator = new Generator(4);
                Tensor init = Tensor.on(scalar).randn(generator, dtype, 7, 11);
                Tensor p = leaf(init);
                Tensor reference = leaf(init);
                boolean amsgrad = h[5] != 0;
                boolean decoupled = h[6] != 0;
                Optimizer opt = decoupled ? new AdamW(List.of(reference), h[0], h[1], h[2], h[3], h[4], amsgrad)
                        : new Adam(List.of(reference), h[0], h[1], h[2], h[3], h[4], amsgrad);
                Storage m = init.zerosLike().storage();
                Storage v = init.zerosLike().storage();
                Storage vmax = amsgrad ? init.zerosLike().storage() : null;
                for (int step = 1; step <= STEPS; step++) {
                    Tensor g = Tensor.on(scalar).randn(generator, dtype, 7, 11);
                    reference.setGrad(g);
                    opt.step();
                    double stepSize = h[0] / (1 - Math.pow(h[1], step));
                    double correction = Math.sqrt(1 - Math.pow(h[2], step));
                    plain.adamStep(p.storage(), 0, g.storage(), 0, m, 0, v, 0, vmax, 0, p.numel(), h[0], h[1], h[2], h[3],
                            h[4], decoupled, stepSize, correction);
                    assertArrayEquals(reference.toDoubleArray(), p.toDoubleArray(),
                            (decoupled ? "AdamW " : "Adam ") + Arrays.toString(h) + " " + dtype + " step " + step);
                }
            }
        }
    }

    /** A fused step refuses what its kernels cannot take, naming the optimizer and the shapes. */
    @Test
    void aFusedStepRefusesAnUnfusableParameter() {
        for (Backend backend : Reference.backends()) {
            Tensor p = Tensor.on(backend).zeros(DType.FLOAT32, 3, 4).requiresGrad(true);
            Tensor transposed = Tensor.on(backend).zeros(DType.FLOAT32, 4, 3).transpose(0, 1);
            try (var scope = Tensor.noGrad()) {
                var e = assertThrows(IllegalArgumentException.class,
                        () -> OptimizerSteps.sgd(p, transposed, null, 0.1, 0, 0, 0, false, false));
                assertTrue(e.getMessage().startsWith("SGD.step: no fused update for the FLOAT32 parameter of shape [3, 4]"),
                        e.getMessage());
            }
        }
    }
}
