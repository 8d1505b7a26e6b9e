package dev.adjoint.engine.nd4j;

import dev.adjoint.DType;
import dev.adjoint.Functional;
import dev.adjoint.Shape;
import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
import dev.adjoint.autograd.Autograd;
import dev.adjoint.autograd.Node;
import dev.adjoint.engine.scalar.ScalarBackend;
import dev.adjoint.spi.Backend;
import dev.adjoint.spi.FusedKernels;
import dev.adjoint.spi.FusedKernels.Kernel;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.Storage;
import dev.adjoint.spi.heap.HeapFusedKernels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Objects;

import static dev.adjoint.engine.nd4j.Closeness.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Batch norm on nd4j runs its own fused kernels (loops over the native buffers), the only ones nd4j
 * offers: the kernels against the plain loops of {@link HeapFusedKernels} on the same values, over training
 * and evaluation, with and without the affine, each gradient asked for alone, offsets, one value per row
 * and one batch entry, and a mean far from 0; and the op ({@code Functional.batchNorm}) against the
 * reference backend, its graph showing the fused node.
 */
class Nd4jBatchNormTest {
    private static final Backend ND4J = new Nd4jBackend();
    private static final Backend SCALAR = new ScalarBackend();
    private static final FusedKernels HEAP = new HeapFusedKernels();

    /** batch, channels, inner. */
    private static final int[][] SHAPES = {{2, 3, 5}, {4, 3, 1}, {1, 2, 7}, {3, 4, 12}, {16, 8, 196}};

    @Test
    void offersBatchNormAndNothingElse() {
        FusedKernels fused = ND4J.fused();
        for (Kernel k : Kernel.values()) {
            for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                assertEquals(k == Kernel.BATCH_NORM || k == Kernel.BATCH_NORM_BACKWARD, fused.offers(k, dtype),
                        k + " " + dtype);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void kernelsMatchThePlainLoops(DType dtype) {
        // The same loops in double: FLOAT32 differs by the rounding of the per-channel values it stores.
        double tolerance = dtype == DType.FLOAT32 ? 1e-6 : 1e-13;
        for (int[] s : SHAPES) {
            for (boolean training : new boolean[] {true, false}) {
                for (boolean affine : new boolean[] {true, false}) {
                    String what = dtype + " " + s[0] + "x" + s[1] + "x" + s[2] + (training ? " training" : " eval")
                            + (affine ? " affine" : "");
                    double[][] expected = kernels(SCALAR, HEAP, dtype, s, training, affine);
                    double[][] actual = kernels(ND4J, ND4J.fused(), dtype, s, training, affine);
                    String[] names = {"output", "mean", "rstd", "variance", "grad x", "grad weight", "grad bias",
                            "grad x alone", "grad weight alone", "grad bias alone"};
                    for (int i = 0; i < expected.length; i++) {
                        assertClose(expected[i], actual[i], tolerance, what + " " + names[i]);
                    }
                }
            }
        }
    }

    /**
     * The forward and backward kernels on {@code backend}'s storages, x and the gradient read at an offset:
     * every output, then each gradient computed alone (the others not asked for).
     */
    private static double[][] kernels(Backend backend, FusedKernels fused, DType dtype, int[] s, boolean training,
                                      boolean affine) {
        int batch = s[0];
        int channels = s[1];
        int inner = s[2];
        int n = batch * channels * inner;
        int offset = 3;
        // A mean of 3 against a spread near 1: a mean summed in float would show.
        Storage x = backend.fromDoubles(shifted(ramp(n + offset, 0.37), 3), dtype);
        Storage g = backend.fromDoubles(ramp(n + offset, 0.53), dtype);
        Storage w = affine ? backend.fromDoubles(ramp(channels, 0.9), dtype) : null;
        Storage b = affine ? backend.fromDoubles(ramp(channels, 1.3), dtype) : null;
        Storage mean;
        Storage rstd;
        Storage variance = backend.allocate(dtype, channels);
        if (training) {
            mean = backend.allocate(dtype, channels);
            rstd = backend.allocate(dtype, channels);
        } else {
            mean = backend.fromDoubles(ramp(channels, 0.7), dtype);
            double[] r = ramp(channels, 1.1);
            for (int c = 0; c < channels; c++) {
                r[c] = 0.5 + Math.abs(r[c]);
            }
            rstd = backend.fromDoubles(r, dtype);
        }
        Storage out = backend.allocate(dtype, n);
        fused.batchNorm(x, offset, batch, channels, inner, w, b, training, 1e-5, out, mean, rstd,
                training ? variance : null);
        Storage gx = backend.allocate(dtype, n);
        Storage gw = backend.allocate(dtype, channels);
        Storage gb = backend.allocate(dtype, channels);
        fused.batchNormBackward(g, offset, x, offset, mean, rstd, w, training, batch, channels, inner, gx, gw, gb);
        Storage gxAlone = backend.allocate(dtype, n);
        Storage gwAlone = backend.allocate(dtype, channels);
        Storage gbAlone = backend.allocate(dtype, channels);
        fused.batchNormBackward(g, offset, x, offset, mean, rstd, w, training, batch, channels, inner, gxAlone, null,
                null);
        fused.batchNormBackward(g, offset, x, offset, mean, rstd, w, training, batch, channels, inner, null, gwAlone,
                null);
        fused.batchNormBackward(g, offset, x, offset, mean, rstd, w, training, batch, channels, inner, null, null,
                gbAlone);
        Layout volume = Layout.contiguous(Shape.of(n));
        Layout perChannel = Layout.contiguous(Shape.of(channels));
        return new double[][] {backend.toDoubles(out, volume), backend.toDoubles(mean, perChannel),
                backend.toDoubles(rstd, perChannel),
                training ? backend.toDoubles(variance, perChannel) : new double[0],
                backend.toDoubles(gx, volume), backend.toDoubles(gw, perChannel), backend.toDoubles(gb, perChannel),
                backend.toDoubles(gxAlone, volume), backend.toDoubles(gwAlone, perChannel),
                backend.toDoubles(gbAlone, perChannel)};
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void theOpRunsTheFusedNodeAndMatchesTheReference(DType dtype) {
        double tolerance = dtype == DType.FLOAT32 ? 2e-5 : 1e-11;
        int[][] shapes = {{4, 3, 5, 2}, {6, 3}, {2, 4, 3}};
        for (int[] shape : shapes) {
            for (boolean training : new boolean[] {true, false}) {
                String what = dtype + " " + Arrays.toString(shape) + (training ? " training" : " eval");
                List<double[]> expected = op(Tensor.on(SCALAR), dtype, shape, training, null);
                List<String> nodes = new ArrayList<>();
                List<double[]> actual = op(Tensor.on(ND4J), dtype, shape, training, nodes);
                assertTrue(nodes.contains("NativeBatchNormBackward"), what + ": the graph " + nodes);
                assertFalse(nodes.stream().anyMatch(name -> name.startsWith("Sub")), what + ": the graph " + nodes);
                String[] names = {"output", "running mean", "running variance", "grad x", "grad weight", "grad bias"};
                for (int i = 0; i < expected.size(); i++) {
                    assertClose(expected.get(i), actual.get(i), tolerance, what + " " + names[i]);
                }
            }
        }
    }

    /** The output, the running statistics after the call, and the gradients of {@code sum(out * u)}. */
    private static List<double[]> op(TensorFactory f, DType dtype, int[] shape, boolean training, List<String> nodes) {
        int channels = shape[1];
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        Tensor x = f.fromArray(shifted(ramp(n, 0.37), -2), dtype, shape).requiresGrad(true);
        Tensor w = f.fromArray(ramp(channels, 0.9), dtype, channels).requiresGrad(true);
        Tensor b = f.fromArray(ramp(channels, 1.3), dtype, channels).requiresGrad(true);
        Tensor runningMean = f.fromArray(ramp(channels, 0.7), dtype, channels);
        Tensor runningVar = f.fromArray(shifted(ramp(channels, 0.2), 2), dtype, channels);
        Tensor out = Functional.batchNorm(x, runningMean, runningVar, w, b, training, 0.1, 1e-5);
        if (nodes != null) {
            Deque<Node> open = new ArrayDeque<>(List.of(out.gradFn()));
            while (!open.isEmpty()) {
                Node node = open.pop();
                nodes.add(node.name());
                node.nextFunctions().stream().filter(Objects::nonNull).forEach(open::push);
            }
        }
        Tensor u = f.fromArray(ramp(n, 0.53), dtype, shape);
        List<Tensor> grads = Autograd.grad(List.of(out.mul(u).sum()), List.of(x, w, b), null, false, false, false);
        return List.of(out.toDoubleArray(), runningMean.toDoubleArray(), runningVar.toDoubleArray(),
                grads.get(0).toDoubleArray(), grads.get(1).toDoubleArray(), grads.get(2).toDoubleArray());
    }

    /** Distinct values of both signs. */
    private static double[] ramp(int count, double step) {
        double[] values = new double[count];
        for (int i = 0; i < count; i++) {
            values[i] = Math.sin(i * step) * (1 + i % 5);
        }
        return values;
    }

    private static double[] shifted(double[] values, double by) {
        for (int i = 0; i < values.length; i++) {
            values[i] += by;
        }
        return values;
    }
}
