package dev.adjoint.engine.simd;

import dev.adjoint.spi.UnaryOp;
import org.junit.jupiter.api.Test;

import java.util.Random;

/**
 * {@link VectorInverseHyperbolic} through the asinh, acosh and atanh kernels, against the reference
 * ({@code UnaryOp.apply}, fdlibm's formulas on Math.log and Math.log1p): FLOAT64 within a few ulps on
 * grids across every range of each formula (tiny, below 2, to 2^28, beyond), random magnitudes over
 * the whole double range, and the edges of the domains; FLOAT32, computed in double lanes and rounded
 * once, the reference's bits on every 64th float of each domain (but for a double rounding either side
 * of a tie, which none of these meets); and the special values, exactly.
 */
class VectorInverseHyperbolicTest {
    /** Each formula is one ln(1 + u) of an argument within an ulp or two; the reference's Math.log is within one. */
    private static final double MAX_ULP_F64 = 3.0;
    private static final UnaryOp[] OPS = {UnaryOp.ASINH, UnaryOp.ACOSH, UnaryOp.ATANH};

    @Test
    void float64IsWithinThreeUlpsOfTheReference() {
        Random random = new Random(5);
        for (UnaryOp op : OPS) {
            double[] x = new double[1_000_000];
            for (int i = 0; i < x.length; i++) {
                double t = (double) i / x.length;
                double v = switch (i % 5) {
                    case 0 -> 1e-10 + 4 * t;                                   // tiny to past 2 (atanh: to 1)
                    case 1 -> 2 + 100 * t;                                      // the middle range
                    case 2 -> Math.pow(10, -320 + 628 * random.nextDouble());   // any magnitude
                    case 3 -> 0x1p28 * (0.5 + t);                               // either side of HUGE
                    default -> 1 + Math.pow(10, -16 + 16 * random.nextDouble()); // just above 1
                };
                if (op == UnaryOp.ATANH) {
                    v = i % 5 == 4 ? 2 - v : v > 1 ? 1 / v : v;                // just below 1, or within it
                }
                if (op == UnaryOp.ACOSH) {
                    v = v < 1 ? 1 + v : v;
                }
                x[i] = op == UnaryOp.ACOSH || random.nextBoolean() ? v : -v;
            }
            KernelAccuracy.assertFloat64WithinUlps(op, x, MAX_ULP_F64);
        }
    }

    @Test
    void float32HasTheReferenceBits() {
        for (UnaryOp op : OPS) {
            float limit = op == UnaryOp.ATANH ? 1f : Float.MAX_VALUE;
            int patterns = Float.floatToRawIntBits(limit) / 64 + 1;
            float[] x = new float[2 * patterns];
            for (int i = 0; i < patterns; i++) {
                float v = Float.intBitsToFloat(64 * i);
                x[2 * i] = op == UnaryOp.ACOSH ? 1 + v : v;
                x[2 * i + 1] = op == UnaryOp.ACOSH ? Float.intBitsToFloat(Float.floatToRawIntBits(1f) + 64 * i) : -v;
            }
            KernelAccuracy.assertFloat32HasReferenceBits(op, x);
        }
    }

    /** Zeros keep their sign, the domains' edges and beyond, infinities and NaN: the reference's own values. */
    @Test
    void specialValuesAreTheReferences() {
        double[] x = {0.0, -0.0, 1.0, -1.0, 1e-300, -1e-300, 0x1p-28, 0x1p28, Double.MIN_VALUE, Double.MAX_VALUE,
            -Double.MAX_VALUE, 0.999999999, 1.000000001, 1.5, -1.5, 2.0, Double.POSITIVE_INFINITY,
            Double.NEGATIVE_INFINITY, Double.NaN, 0.5, -0.5};
        for (UnaryOp op : OPS) {
            KernelAccuracy.assertSpecialValues(op, x, MAX_ULP_F64);
        }
    }
}
