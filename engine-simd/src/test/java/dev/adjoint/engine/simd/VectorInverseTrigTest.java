package dev.adjoint.engine.simd;

import dev.adjoint.spi.UnaryOp;
import org.junit.jupiter.api.Test;

import java.util.Random;

/**
 * {@link VectorInverseTrig} through the asin, acos and atan kernels, against the reference
 * ({@code UnaryOp.apply}, StrictMath's fdlibm): FLOAT64 within an ulp on grids across every range of
 * each formula (asin's and acos's below 0.5, to 0.975 and beyond; atan's five reductions and past
 * 2^66), random magnitudes over the whole double range and the edges of the domains; FLOAT32,
 * computed in double lanes and rounded once, the reference's bits on every 64th float; and the special
 * values, exactly.
 */
class VectorInverseTrigTest {
    /** fdlibm's operations but for fused polynomials, each a small correction to a leading term. */
    private static final double MAX_ULP_F64 = 1.0;
    private static final UnaryOp[] OPS = {UnaryOp.ASIN, UnaryOp.ACOS, UnaryOp.ATAN};

    @Test
    void float64IsWithinAnUlpOfTheReference() {
        Random random = new Random(7);
        for (UnaryOp op : OPS) {
            double[] x = new double[1_000_000];
            for (int i = 0; i < x.length; i++) {
                double t = (double) i / x.length;
                double v = switch (i % 5) {
                    case 0 -> t;                                                // the whole of [0, 1)
                    case 1 -> 0.45 + 0.1 * t;                                   // either side of 0.5
                    case 2 -> Math.pow(10, -320 + 320 * random.nextDouble());   // any magnitude below 1
                    case 3 -> 0.97 + 0.01 * t;                                  // either side of 0.975
                    default -> 1 - Math.pow(10, -16 + 16 * random.nextDouble()); // just below 1
                };
                if (op == UnaryOp.ATAN) {
                    // Every reduction (bounds 7/16, 11/16, 19/16, 39/16) and any magnitude up to past 2^66.
                    v = switch (i % 5) {
                        case 0, 1 -> 3 * t;
                        case 3 -> Math.pow(10, -320 + 628 * random.nextDouble());
                        default -> 1 / v;
                    };
                }
                x[i] = random.nextBoolean() ? v : -v;
            }
            KernelAccuracy.assertFloat64WithinUlps(op, x, MAX_ULP_F64);
        }
    }

    @Test
    void float32HasTheReferenceBits() {
        for (UnaryOp op : OPS) {
            float limit = op == UnaryOp.ATAN ? Float.MAX_VALUE : 1f;
            int patterns = Float.floatToRawIntBits(limit) / 64 + 1;
            float[] x = new float[2 * patterns];
            for (int i = 0; i < patterns; i++) {
                float v = Float.intBitsToFloat(64 * i);
                x[2 * i] = v;
                x[2 * i + 1] = -v;
            }
            KernelAccuracy.assertFloat32HasReferenceBits(op, x);
        }
    }

    /** Zeros keep their sign, the domains' edges and beyond, the ranges' bounds, infinities and NaN. */
    @Test
    void specialValuesAreTheReferences() {
        double[] x = {0.0, -0.0, 1.0, -1.0, 1e-300, -1e-300, Double.MIN_VALUE, -Double.MIN_VALUE, 0x1p-28, 0x1p-58,
            0.5, -0.5, Math.nextDown(0.5), Double.longBitsToDouble(0x3FEF_3333_0000_0000L), 0.975, -0.975,
            Math.nextDown(1.0), -Math.nextDown(1.0), Math.nextUp(1.0), -Math.nextUp(1.0), 1.5, -1.5, 0.4375, 0.6875,
            1.1875, 2.4375, -2.4375, Math.nextDown(2.4375), 0x1p66, -0x1p66, 0x1p70, Double.MAX_VALUE,
            -Double.MAX_VALUE, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.NaN};
        for (UnaryOp op : OPS) {
            KernelAccuracy.assertSpecialValues(op, x, MAX_ULP_F64);
        }
    }
}
