package dev.adjoint.engine.simd;

import dev.adjoint.DType;
import dev.adjoint.Tensor;
import dev.adjoint.engine.scalar.ScalarBackend;
import dev.adjoint.spi.Backend;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** Strided views made contiguous on simd (the tiled path) equal the scalar reference exactly. */
class TiledCopyTest {
    private static final Backend SIMD = new SimdBackend();
    private static final Backend SCALAR = new ScalarBackend();

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void transposedSlicedAndBatchedViewsCopyExactly(DType dtype) {
        // Sizes straddle the 32-element tile: exact tiles, ragged tiles, a single row or column.
        int[][] shapes = {{70, 45}, {32, 64}, {1, 33}, {33, 1}, {3, 33, 65}, {2, 0, 5}};
        Random random = new Random(7);
        for (int[] shape : shapes) {
            int n = 1;
            for (int d : shape) {
                n *= d;
            }
            double[] values = new double[n];
            for (int i = 0; i < n; i++) {
                values[i] = random.nextGaussian();
            }
            Tensor onSimd = Tensor.on(SIMD).fromArray(values, dtype, shape);
            Tensor onScalar = Tensor.on(SCALAR).fromArray(values, dtype, shape);
            int r = shape.length;
            check(onSimd.transpose(r - 2, r - 1), onScalar.transpose(r - 2, r - 1));
            if (shape[r - 1] > 2) {
                check(onSimd.narrow(r - 1, 1, shape[r - 1] - 2), onScalar.narrow(r - 1, 1, shape[r - 1] - 2));
                check(onSimd.narrow(r - 1, 1, shape[r - 1] - 2).transpose(r - 2, r - 1),
                        onScalar.narrow(r - 1, 1, shape[r - 1] - 2).transpose(r - 2, r - 1));
            }
            if (r == 3) {
                check(onSimd.permute(2, 0, 1), onScalar.permute(2, 0, 1));
                check(onSimd.permute(1, 2, 0), onScalar.permute(1, 2, 0));
            }
        }
    }

    private static void check(Tensor simdView, Tensor scalarView) {
        Tensor copied = simdView.contiguous();
        assertArrayEquals(scalarView.toDoubleArray(), copied.toDoubleArray(), 0.0,
                "contiguous() of a view of shape " + simdView.shape());
    }
}
