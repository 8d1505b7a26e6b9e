package dev.adjoint.engine.simd;

import dev.adjoint.DType;
import dev.adjoint.Functional;
import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
import dev.adjoint.autograd.Autograd;
import dev.adjoint.engine.scalar.ScalarBackend;
import dev.adjoint.spi.Backend;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code Functional.batchNorm} on simd, which runs the fused kernels, against the scalar backend, which
 * composes it of ops: outputs, the running statistics it updates, and the gradients of the input, the
 * affine and (in evaluation) the running statistics, at sizes the conformance samples do not reach —
 * three channels, one value per row, odd row lengths, a batch of one — and for an input whose mean is
 * large against its spread.
 */
class SimdBatchNormTest {
    private static final Backend SIMD = new SimdBackend();
    private static final Backend SCALAR = new ScalarBackend();

    @Test
    void fusedMatchesTheCompositeAtOddSizes() {
        int[][] shapes = {{5, 3}, {4, 3, 1}, {2, 3, 7}, {1, 3, 7}, {3, 3, 5, 7}, {64, 3, 17}};
        for (DType dtype : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
            for (int[] shape : shapes) {
                for (boolean training : new boolean[] {true, false}) {
                    for (boolean affine : new boolean[] {true, false}) {
                        String what = dtype + " " + java.util.Arrays.toString(shape)
                                + (training ? " training" : " eval") + (affine ? " affine" : "");
                        Run fused = new Run(SIMD, dtype, shape, training, affine, 0, 1);
                        Run composite = new Run(SCALAR, dtype, shape, training, affine, 0, 1);
                        double tol = dtype == DType.FLOAT64 ? 1e-11 : 2e-5;
                        for (int i = 0; i < fused.results.size(); i++) {
                            assertClose(what + " " + composite.names.get(i), composite.results.get(i),
                                    fused.results.get(i), tol);
                        }
                    }
                }
            }
        }
    }

    @Test
    void aLargeMeanKeepsItsPrecision() {
        // Values 1e4 +- 3 in FLOAT32 (an ulp of 1e-3): E[x^2] - E[x]^2 would lose the variance entirely.
        // Against the same values in FLOAT64 the output and the running statistics keep float precision; the
        // gradients read the mean saved as a FLOAT32 (as PyTorch saves it), up to half an ulp of 1e4 off.
        int[] shape = {8, 3, 50};
        Run reference = new Run(SCALAR, DType.FLOAT64, shape, true, true, 1e4, 1);
        Run fused = new Run(SIMD, DType.FLOAT32, shape, true, true, 1e4, 1);
        for (int i = 0; i < reference.results.size(); i++) {
            String name = reference.names.get(i);
            assertClose("FLOAT32 mean 1e4 " + name, reference.results.get(i), fused.results.get(i),
                    name.startsWith("grad") ? 1e-3 : 2e-5);
        }
    }

    @Test
    void oneValuePerChannelInTrainingStillRaises() {
        Tensor x = Tensor.on(SIMD).ones(DType.FLOAT32, 1, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Functional.batchNorm(x, null, null, null, null, true, 0.1, 1e-5));
        assertTrue(e.getMessage().startsWith("batchNorm: expected more than 1 value per channel when training"),
                e.getMessage());
        Tensor single = Tensor.on(SIMD).ones(DType.FLOAT32, 1, 3, 1, 1);
        assertThrows(IllegalArgumentException.class,
                () -> Functional.batchNorm(single, null, null, null, null, true, 0.1, 1e-5));
    }

    @Test
    void gradientsOfGradientsMatchTheComposite() {
        // The recorded backward runs the composite formulas on simd too: second derivatives agree with scalar's.
        for (boolean training : new boolean[] {true, false}) {
            double[][] results = new double[2][];
            Backend[] backends = {SCALAR, SIMD};
            for (int k = 0; k < 2; k++) {
                TensorFactory f = Tensor.on(backends[k]);
                Tensor x = f.fromArray(values(2 * 3 * 7, 11, -2, 3), DType.FLOAT64, 2, 3, 7).requiresGrad(true);
                Tensor w = f.fromArray(values(3, 12, 0.5, 1.5), DType.FLOAT64, 3).requiresGrad(true);
                Tensor runningMean = f.fromArray(values(3, 13, -1, 1), DType.FLOAT64, 3);
                Tensor runningVar = f.fromArray(values(3, 14, 0.5, 2), DType.FLOAT64, 3);
                Tensor y = Functional.batchNorm(x, runningMean, runningVar, w, null, training, 0.1, 1e-5);
                Tensor g = f.fromArray(values(2 * 3 * 7, 15, -1, 1), DType.FLOAT64, 2, 3, 7);
                List<Tensor> first = Autograd.grad(List.of(y), List.of(x, w), List.of(g), true, true, false);
                Tensor second = first.get(0).square().sum().add(first.get(1).square().sum());
                List<Tensor> grads = Autograd.grad(List.of(second), List.of(x, w), null, false, false, false);
                double[] gx = grads.get(0).toDoubleArray();
                double[] gw = grads.get(1).toDoubleArray();
                results[k] = new double[gx.length + gw.length];
                System.arraycopy(gx, 0, results[k], 0, gx.length);
                System.arraycopy(gw, 0, results[k], gx.length, gw.length);
            }
            assertClose((training ? "training" : "eval") + " second derivatives", results[0], results[1], 1e-10);
        }
    }

    /** One forward and backward of batchNorm, with every value it produces in {@link #results}. */
    private static final class Run {
        final List<String> names = new ArrayList<>();
        final List<double[]> results = new ArrayList<>();

        Run(Backend backend, DType dtype, int[] shape, boolean training, boolean affine, double offset, double spread) {
            TensorFactory f = Tensor.on(backend);
            int channels = shape[1];
            int numel = 1;
            for (int d : shape) {
                numel *= d;
            }
            double[] xs = values(numel, numel, -spread, spread);
            for (int i = 0; i < xs.length; i++) {
                // Rounded to float first, so every dtype and backend sees the same values.
                xs[i] = (float) (offset + xs[i] * (1 + i % 3));
            }
            Tensor x = f.fromArray(xs, dtype, shape).requiresGrad(true);
            Tensor w = affine ? f.fromArray(values(channels, 2, 0.5, 1.5), dtype, channels).requiresGrad(true) : null;
            Tensor b = affine ? f.fromArray(values(channels, 3, -1, 1), dtype, channels).requiresGrad(true) : null;
            Tensor runningMean = f.fromArray(values(channels, 4, -1, 1), dtype, channels);
            Tensor runningVar = f.fromArray(values(channels, 5, 0.5, 2), dtype, channels);
            if (!training) {
                runningMean.requiresGrad(true);
                runningVar.requiresGrad(true);
            }
            Tensor y = Functional.batchNorm(x, runningMean, runningVar, w, b, training, 0.1, 1e-5);
            Tensor g = f.fromArray(values(numel, 6, -1, 1), dtype, shape);
            y.mul(g).sum().backward();
            add("out", y);
            add("running mean", runningMean.detach());
            add("running variance", runningVar.detach());
            add("gradX", x.grad());
            if (affine) {
                add("gradWeight", w.grad());
                add("gradBias", b.grad());
            }
            if (!training) {
                add("grad of the running mean", runningMean.grad());
                add("grad of the running variance", runningVar.grad());
            }
        }

        private void add(String name, Tensor t) {
            names.add(name);
            results.add(t.toDoubleArray());
        }
    }

    private static double[] values(int n, long seed, double lo, double hi) {
        Random random = new Random(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = lo + (hi - lo) * random.nextDouble();
        }
        return v;
    }

    /** Within {@code tol} of the largest magnitude in {@code expected} (or of 1): sums cancel element by element. */
    private static void assertClose(String what, double[] expected, double[] actual, double tol) {
        assertEquals(expected.length, actual.length, what + ": element count");
        double scale = 1;
        for (double e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        for (int i = 0; i < expected.length; i++) {
            if (!(Math.abs(actual[i] - expected[i]) <= tol * scale)) {
                throw new AssertionError(what + ": element " + i + " is " + actual[i] + " but the composite gives "
                        + expected[i] + " (tolerance " + tol * scale + ")");
            }
        }
    }
}
