package dev.adjoint.engine.nd4j;

import dev.adjoint.DType;
import dev.adjoint.Functional;
import dev.adjoint.Tensor;
import dev.adjoint.engine.scalar.ScalarBackend;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Max pooling's values and torch-style indices on nd4j (a loop over the native buffers) against the
 * reference backend where the conformance suite's random samples do not go: ties (the first tap in
 * window order wins), NaN (the last NaN wins), infinities, windows clipped by padding, dilation, ceil
 * mode and a strided input.
 */
class Nd4jMaxPoolTest {
    private static final double NAN = Double.NaN;
    private static final double INF = Double.POSITIVE_INFINITY;

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void specialValuesTiesPaddingDilationAndCeilModeMatchTheReference(DType dtype) {
        double[] values = new double[2 * 3 * 7 * 6];
        for (int i = 0; i < values.length; i++) {
            values[i] = switch (i % 11) {
                case 0 -> NAN;
                case 3 -> -INF;
                case 5 -> INF;
                case 7, 8 -> 2.0; // ties within a window
                default -> (i * 37 % 13) - 6.0;
            };
        }
        values[20] = NAN; // two NaNs in one window: the last wins
        for (int i = 84; i < 126; i++) {
            values[i] = -INF; // a plane of -inf: the first tap inside the image is the answer
        }
        int[][][] windows = {
                {{2, 2}, {2, 2}, {0, 0}, {1, 1}},
                {{3, 2}, {2, 1}, {1, 1}, {1, 1}},
                {{2, 3}, {1, 2}, {1, 1}, {2, 2}},
        };
        for (int[][] w : windows) {
            for (boolean ceil : new boolean[] {false, true}) {
                for (boolean transposed : new boolean[] {false, true}) {
                    Functional.MaxPoolResult expected = pool(Tensor.on(new ScalarBackend()), values, dtype, w, ceil,
                            transposed);
                    Functional.MaxPoolResult actual = pool(Tensor.on(new Nd4jBackend()), values, dtype, w, ceil,
                            transposed);
                    String what = dtype + " kernel " + w[0][0] + "x" + w[0][1] + " stride " + w[1][0] + "x" + w[1][1]
                            + " padding " + w[2][0] + " dilation " + w[3][0] + (ceil ? " ceil" : "")
                            + (transposed ? " transposed" : "");
                    assertEquals(expected.output().shape(), actual.output().shape(), what);
                    assertArrayEquals(expected.indices().toLongArray(), actual.indices().toLongArray(), what);
                    assertArrayEquals(expected.output().toDoubleArray(), actual.output().toDoubleArray(), what);
                }
            }
        }
    }

    private static Functional.MaxPoolResult pool(dev.adjoint.TensorFactory f, double[] values, DType dtype,
                                                 int[][] w, boolean ceil, boolean transposed) {
        Tensor x = transposed ? f.fromArray(values, dtype, 2, 3, 6, 7).transpose(2, 3)
                : f.fromArray(values, dtype, 2, 3, 7, 6);
        return Functional.maxPool2dWithIndices(x, w[0], w[1], w[2], w[3], ceil);
    }
}
