package dev.adjoint.engine.simd;

import dev.adjoint.DType;
import dev.adjoint.Functional;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.engine.scalar.ScalarBackend;
import dev.adjoint.spi.Backend;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * simd's dropout masks in vectors ({@link FloatDropoutMasks}, {@link DoubleDropoutMasks}) against
 * the host's loop that the scalar backend runs: the same elements kept, the same value, bit for bit,
 * and the generator left where the host leaves it. Sizes around the lane count (a masked last vector) and large enough to be split over
 * threads; probabilities whose FLOAT32 rounding moves the threshold.
 */
class DropoutMaskTest {
    private static final Backend SIMD = new SimdBackend();
    private static final Backend SCALAR = new ScalarBackend();
    private static final int[] SIZES = {1, 3, 7, 8, 9, 15, 16, 17, 100, 1 << 16, (1 << 17) + 5, 300_001};
    private static final double[] PROBABILITIES = {0.1, 0.3, 0.5, 0.9, 1e-9};

    @Test
    void masksAndTheGeneratorsNextDrawMatchTheHostLoop() {
        for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            for (int n : SIZES) {
                for (double p : PROBABILITIES) {
                    String what = "dropout(p = " + p + ") of " + n + " " + dtype;
                    Generator onSimd = new Generator(n * 31L + 7);
                    Generator onScalar = new Generator(n * 31L + 7);
                    Tensor ones = Tensor.on(SIMD).ones(dtype, n);
                    Tensor simd = Functional.dropout(ones, p, true, onSimd);
                    Tensor scalar = Functional.dropout(Tensor.on(SCALAR).ones(dtype, n), p, true, onScalar);
                    assertArrayEquals(scalar.toDoubleArray(), simd.toDoubleArray(), what);
                    assertEquals(onScalar.nextUniform(), onSimd.nextUniform(), what + ": the generator's next draw");
                }
            }
        }
    }

    @Test
    void aHalfMaskKeepsAboutHalf() {
        int n = 1 << 18;
        double[] mask = Functional.dropout(Tensor.on(SIMD).ones(DType.FLOAT32, n), 0.5, true, new Generator(5))
                .toDoubleArray();
        int kept = 0;
        for (double v : mask) {
            assertTrue(v == 0.0 || v == 2.0, "an element of a p = 0.5 mask is 0 or 2, got " + v);
            kept += v == 2.0 ? 1 : 0;
        }
        // Binomial(2^18, 1/2): the standard deviation is 256.
        assertTrue(Math.abs(kept - n / 2) < 2048, kept + " of " + n + " kept");
    }
}
