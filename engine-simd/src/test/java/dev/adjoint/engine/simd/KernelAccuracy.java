package dev.adjoint.engine.simd;

import dev.adjoint.spi.UnaryOp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The checks the elementwise kernel tests share: a FLOAT64 kernel's distance from the op's reference
 * ({@link UnaryOp#apply}) in ulps, a FLOAT32 kernel's bits against the reference rounded once, and
 * special values exactly where the reference's value is NaN, infinite or zero.
 */
final class KernelAccuracy {
    private KernelAccuracy() {
    }

    /** Asserts that {@code op}'s FLOAT64 kernel is within {@code maxUlps} of the reference on every x, naming the worst. */
    static void assertFloat64WithinUlps(UnaryOp op, double[] x, double maxUlps) {
        double[] y = new double[x.length];
        DoubleKernels.unary(op, x, 0, y, 0, x.length);
        double worst = 0;
        double worstAt = 0;
        for (int i = 0; i < x.length; i++) {
            double expected = op.apply(x[i]);
            double ulps = Double.compare(expected, y[i]) == 0 ? 0 : Math.abs(y[i] - expected) / Math.ulp(expected);
            if (!(ulps <= worst)) {
                worst = ulps;
                worstAt = x[i];
            }
        }
        assertTrue(worst <= maxUlps, op + " FLOAT64: " + worst + " ulp at " + worstAt);
    }

    /** Asserts that {@code op}'s FLOAT32 kernel gives the reference's bits, the double result rounded once, on every x. */
    static void assertFloat32HasReferenceBits(UnaryOp op, float[] x) {
        float[] y = new float[x.length];
        FloatKernels.unary(op, x, 0, y, 0, x.length);
        for (int i = 0; i < x.length; i++) {
            float expected = (float) op.apply(x[i]);
            assertEquals(Float.floatToIntBits(expected), Float.floatToIntBits(y[i]),
                    op + " FLOAT32 at " + x[i] + ": " + y[i] + ", the reference " + expected);
        }
    }

    /**
     * Asserts, on each x, that the FLOAT64 kernel gives the reference's own NaN, infinity or zero (its
     * sign included) and is otherwise within {@code maxUlps}, and that the FLOAT32 kernel on x rounded
     * to float gives the reference's bits.
     */
    static void assertSpecialValues(UnaryOp op, double[] x, double maxUlps) {
        double[] y = new double[x.length];
        DoubleKernels.unary(op, x, 0, y, 0, x.length);
        float[] xf = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            xf[i] = (float) x[i];
        }
        float[] yf = new float[x.length];
        FloatKernels.unary(op, xf, 0, yf, 0, x.length);
        for (int i = 0; i < x.length; i++) {
            double expected = op.apply(x[i]);
            if (Double.isNaN(expected) || Double.isInfinite(expected) || expected == 0) {
                assertEquals(Double.doubleToLongBits(expected), Double.doubleToLongBits(y[i]), op + "(" + x[i] + ")");
            } else {
                assertTrue(Math.abs(y[i] - expected) <= maxUlps * Math.ulp(expected), op + "(" + x[i] + "): " + y[i]);
            }
            assertEquals(Float.floatToIntBits((float) op.apply(xf[i])), Float.floatToIntBits(yf[i]),
                    op + "(" + xf[i] + ") FLOAT32");
        }
    }
}
