package dev.adjoint.engine.simd;

import dev.adjoint.spi.UnaryOp;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;
import java.util.function.DoubleUnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link FloatLog} and {@link DoubleLog}, as the log and log1p kernels run them, against
 * {@link StrictMath#log} and {@link StrictMath#log1p} (fdlibm, under 1 ulp):
 * every 256th positive FLOAT32 bit pattern, subnormals included; random FLOAT64 bit patterns over the
 * whole positive range, a dense grid around 1 (where ln x is small and the reduction's k is 0), and
 * subnormals; for log1p also the tiny arguments, both signs, and the neighbourhood of -1. Errors are
 * in ulps as in {@link VectorExpTest}.
 */
class VectorLogTest {
    private static final double MAX_ULP_F32 = 1.0;
    private static final double MAX_ULP_F64 = 1.0;

    @Test
    void float32LogOverAllPositiveFloats() {
        int count = Float.floatToRawIntBits(Float.MAX_VALUE) / 256 + 1;
        float[] x = new float[count];
        for (int i = 0; i < count; i++) {
            x[i] = Float.intBitsToFloat(256 * i + 1);
        }
        assertFloat32Within("log", x, logF32(x), StrictMath::log);
    }

    @Test
    void float32Log1pOverItsDomain() {
        // Every 256th positive float, and every 64th from -0 down to -1.
        int positives = Float.floatToRawIntBits(Float.MAX_VALUE) / 256 + 1;
        int negatives = (Float.floatToRawIntBits(-1f) - Float.floatToRawIntBits(-0f)) / 64;
        float[] x = new float[positives + negatives];
        for (int i = 0; i < positives; i++) {
            x[i] = Float.intBitsToFloat(256 * i + 3);
        }
        for (int i = 0; i < negatives; i++) {
            x[positives + i] = Float.intBitsToFloat(Float.floatToRawIntBits(-0f) + 64 * i + 1);
        }
        assertFloat32Within("log1p", x, log1pF32(x), StrictMath::log1p);
    }

    @Test
    void float64LogOverAllPositiveDoubles() {
        Random random = new Random(9);
        double[] x = new double[3_000_000];
        for (int i = 0; i < x.length; i++) {
            x[i] = switch (i % 3) {
                case 0 -> Double.longBitsToDouble(random.nextLong(Double.doubleToRawLongBits(Double.MAX_VALUE)) + 1);
                case 1 -> 0.5 + 1.5 * random.nextDouble();
                default -> Double.longBitsToDouble(random.nextLong(1L << 52) + 1);
            };
        }
        assertFloat64Within("log", x, logF64(x), StrictMath::log);
    }

    @Test
    void float64Log1pOverItsDomain() {
        Random random = new Random(13);
        double[] x = new double[3_000_000];
        for (int i = 0; i < x.length; i++) {
            x[i] = switch (i % 4) {
                case 0 -> Math.pow(10, -320 + 628 * random.nextDouble());
                case 1 -> -Math.pow(10, -320 + 320 * random.nextDouble());
                case 2 -> -1 + random.nextDouble() * 1e-3;
                default -> -1 + 4 * random.nextDouble();
            };
        }
        assertFloat64Within("log1p", x, log1pF64(x), StrictMath::log1p);
    }

    @Test
    void specialValuesFollowStrictMath() {
        float[] xf = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, -1f, -2f, 1f, -1e-30f,
            Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL};
        float[] logf = logF32(xf);
        float[] log1pf = log1pF32(xf);
        for (int i = 0; i < xf.length; i++) {
            assertEquals((float) StrictMath.log(xf[i]), logf[i], "log(" + xf[i] + ")");
            assertEquals((float) StrictMath.log1p(xf[i]), log1pf[i], "log1p(" + xf[i] + ")");
        }
        double[] xd = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 0.0, -0.0, -1.0, -2.0, 1.0,
            -1e-300, Double.MAX_VALUE, -Double.MAX_VALUE, Double.MIN_VALUE, -Double.MIN_VALUE, Double.MIN_NORMAL};
        double[] logd = logF64(xd);
        double[] log1pd = log1pF64(xd);
        for (int i = 0; i < xd.length; i++) {
            assertEquals(StrictMath.log(xd[i]), logd[i], "log(" + xd[i] + ")");
            assertEquals(StrictMath.log1p(xd[i]), log1pd[i], "log1p(" + xd[i] + ")");
        }
    }

    private static void assertFloat32Within(String op, float[] x, float[] actual, DoubleUnaryOperator reference) {
        double worst = 0;
        float worstAt = 0;
        for (int i = 0; i < x.length; i++) {
            double error = VectorExpTest.ulpsF32(actual[i], reference.applyAsDouble(x[i]));
            if (!(error <= worst)) {
                worst = error;
                worstAt = x[i];
            }
        }
        assertTrue(worst <= MAX_ULP_F32, "FLOAT32 " + op + ": worst error " + worst + " ulp at x = " + worstAt
                + " (" + x.length + " arguments)");
    }

    private static void assertFloat64Within(String op, double[] x, double[] actual, DoubleUnaryOperator reference) {
        double worst = 0;
        double worstAt = 0;
        for (int i = 0; i < x.length; i++) {
            double error = VectorExpTest.ulpsF64(actual[i], reference.applyAsDouble(x[i]));
            if (!(error <= worst)) {
                worst = error;
                worstAt = x[i];
            }
        }
        assertTrue(worst <= MAX_ULP_F64, "FLOAT64 " + op + ": worst error " + worst + " ulp at x = " + worstAt
                + " (" + x.length + " arguments)");
    }

    private static float[] logF32(float[] x) {
        return applyF32(x, false);
    }

    private static float[] log1pF32(float[] x) {
        return applyF32(x, true);
    }

    private static double[] logF64(double[] x) {
        return applyF64(x, false);
    }

    private static double[] log1pF64(double[] x) {
        return applyF64(x, true);
    }

    /** Through the kernel the backend runs, FloatKernels' log or log1p loop (its tail padded with zeros). */
    private static float[] applyF32(float[] x, boolean onePlus) {
        float[] out = new float[x.length];
        FloatKernels.unary(onePlus ? UnaryOp.LOG1P : UnaryOp.LOG, x, 0, out, 0, x.length);
        return out;
    }

    private static double[] applyF64(double[] x, boolean onePlus) {
        double[] out = new double[x.length];
        DoubleKernels.unary(onePlus ? UnaryOp.LOG1P : UnaryOp.LOG, x, 0, out, 0, x.length);
        return out;
    }
}
