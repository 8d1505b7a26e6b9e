package dev.adjoint.engine.nd4j;

import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * FLOAT32 sums of more than a few elements are accumulated in double and rounded once, as the
 * reference backend rounds them, rather than added float to float in order (libnd4j's way), whose
 * error grows with the count. Each expected value is the float nearest the double sum of the same
 * floats; the float-by-float sums are one to four ulps away in every case here.
 */
class Nd4jFloatSumsTest {
    private final TensorFactory nd4j = Tensor.on(new Nd4jBackend());

    @Test
    void aSumOverABroadcastViewIsRoundedOnce() {
        // The random programs' case: 138 elements (a [1, 3] leaf expanded to [2, 23, 3]) summing to 42.37.
        float[] leaf = {1.0748424f, -0.6852484f, 0.5314107f};
        double exact = 46.0 * leaf[0] + 46.0 * leaf[1] + 46.0 * leaf[2];
        Tensor x = nd4j.fromArray(leaf, 1, 3).expand(2, 23, 3);
        assertEquals((float) exact, (float) x.sum().item());
    }

    @Test
    void aRowSumIsRoundedOnce() {
        assertSumsOfMatrixRoundedOnce(3, 200, 1, 1);
    }

    @Test
    void aColumnSumIsRoundedOnce() {
        assertSumsOfMatrixRoundedOnce(100, 5, 0, 2);
    }

    /** The sums along {@code dim} of a {@code rows x cols} matrix of {@link #uniform} values. */
    private void assertSumsOfMatrixRoundedOnce(int rows, int cols, int dim, long seed) {
        float[] values = uniform(rows * cols, seed);
        float[] sums = nd4j.fromArray(values, rows, cols).sum(dim, false).toFloatArray();
        int outputs = dim == 0 ? cols : rows;
        int count = dim == 0 ? rows : cols;
        for (int j = 0; j < outputs; j++) {
            double exact = 0;
            for (int i = 0; i < count; i++) {
                exact += dim == 0 ? values[i * cols + j] : values[j * cols + i];
            }
            assertEquals((float) exact, sums[j], "sum " + j + " along dim " + dim);
        }
    }

    @Test
    void aRunningSumIsRoundedOnceAtEveryStep() {
        float[] values = uniform(100, 3);
        float[] running = nd4j.fromArray(values, 100).cumsum(0).toFloatArray();
        double exact = 0;
        for (int i = 0; i < 100; i++) {
            exact += values[i];
            assertEquals((float) exact, running[i], "element " + i);
        }
    }

    /** Values in [0.5, 1.5): every partial sum grows, so rounding float to float drifts one way. */
    private static float[] uniform(int count, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (float) (0.5 + random.nextDouble());
        }
        return values;
    }
}
