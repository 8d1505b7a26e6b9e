package dev.adjoint.engine.nd4j;

import dev.adjoint.DType;
import dev.adjoint.Functional;
import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
import dev.adjoint.autograd.Autograd;
import dev.adjoint.engine.scalar.ScalarBackend;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;

import static dev.adjoint.engine.nd4j.Closeness.assertClose;

/**
 * Average pooling on nd4j (libnd4j's avgpool2d / avgpool2d_bp where they compute torch's semantics, the
 * SPI's composite elsewhere) against the reference backend: the output, the input gradient and the
 * gradient of that gradient, over count_include_pad, ceil mode (windows over the far edge or not),
 * padding, odd and non-square sizes and a strided input.
 */
class Nd4jAvgPoolTest {
    /** kernel, stride, padding (each height x width). */
    private static final int[][][] WINDOWS = {
            {{2, 2}, {2, 2}, {0, 0}},
            {{3, 3}, {2, 2}, {1, 1}},
            {{3, 2}, {2, 1}, {1, 0}},
            {{2, 3}, {1, 2}, {1, 1}},
            {{1, 1}, {2, 2}, {0, 0}},
            {{3, 3}, {3, 3}, {1, 1}},
    };

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void valuesAndGradientsMatchTheReference(DType dtype) {
        int[][] sizes = {{7, 6}, {6, 7}, {5, 5}, {8, 8}};
        double tolerance = dtype == DType.FLOAT32 ? 1e-5 : 1e-12;
        for (int[] size : sizes) {
            for (int[][] w : WINDOWS) {
                for (boolean ceil : new boolean[] {false, true}) {
                    for (boolean countIncludePad : new boolean[] {true, false}) {
                        for (boolean transposed : new boolean[] {false, true}) {
                            String what = dtype + " " + size[0] + "x" + size[1] + " kernel " + w[0][0] + "x" + w[0][1]
                                    + " stride " + w[1][0] + "x" + w[1][1] + " padding " + w[2][0] + "x" + w[2][1]
                                    + (ceil ? " ceil" : "") + (countIncludePad ? "" : " excluding padding")
                                    + (transposed ? " transposed" : "");
                            double[][] expected = pool(Tensor.on(new ScalarBackend()), dtype, size, w, ceil,
                                    countIncludePad, transposed);
                            double[][] actual = pool(Tensor.on(new Nd4jBackend()), dtype, size, w, ceil,
                                    countIncludePad, transposed);
                            for (int i = 0; i < expected.length; i++) {
                                assertClose(expected[i], actual[i], tolerance, what + (i == 0 ? " output"
                                        : i == 1 ? " input gradient" : " gradient of the input gradient"));
                            }
                        }
                    }
                }
            }
        }
    }

    /** The output, the input gradient for a fixed output gradient, and that gradient's gradient for a fixed {@code u}. */
    private static double[][] pool(TensorFactory f, DType dtype, int[] size, int[][] w, boolean ceil,
                                   boolean countIncludePad, boolean transposed) {
        int n = 2;
        int channels = 3;
        double[] values = ramp(n * channels * size[0] * size[1], 0.37);
        Tensor x = (transposed ? f.fromArray(values, dtype, n, channels, size[1], size[0]).transpose(2, 3)
                : f.fromArray(values, dtype, n, channels, size[0], size[1])).requiresGrad(true);
        Tensor out = Functional.avgPool2d(x, w[0], w[1], w[2], ceil, countIncludePad);
        Tensor g = f.fromArray(ramp(out.numel(), 0.53), dtype, out.shape().toArray()).requiresGrad(true);
        Tensor gradX = Autograd.grad(List.of(out), List.of(x), List.of(g), true, true, false).get(0);
        Tensor u = f.fromArray(ramp(gradX.numel(), 0.71), dtype, gradX.shape().toArray());
        Tensor gradG = Autograd.grad(List.of(gradX.mul(u).sum()), List.of(g), null, false, false, false).get(0);
        return new double[][] {out.toDoubleArray(), gradX.toDoubleArray(), gradG.toDoubleArray()};
    }

    /** Distinct values of both signs, no two alike in a window. */
    private static double[] ramp(int count, double step) {
        double[] values = new double[count];
        for (int i = 0; i < count; i++) {
            values[i] = Math.sin(i * step) * (1 + i % 5);
        }
        return values;
    }
}
