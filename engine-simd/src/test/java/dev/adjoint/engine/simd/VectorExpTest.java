package dev.adjoint.engine.simd;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link FloatExp} and {@link DoubleExp} against {@link StrictMath#exp} (fdlibm, under 1 ulp) over dense sweeps of the
 * whole domain: every 128th FLOAT32 bit pattern from the underflow to the overflow threshold, a dense
 * grid and random FLOAT64 arguments, the neighbourhoods of the thresholds and of 0, the subnormal
 * results, and the special values. Errors are in ulps of the exact result's type, measured from the
 * double result, so "1 ulp" means the lane is one of the two values around the true e^x.
 */
class VectorExpTest {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    private static final double MAX_ULP_F32 = 1.0;
    private static final double MAX_ULP_F64 = 1.0;
    /**
     * tanh's rational fast path rounds its numerator and denominator near 1 and then divides: up to
     * about 3.6 ulp in FLOAT32 and 4 in FLOAT64 (the FLOAT64 reference, StrictMath, is itself within
     * 1 ulp). The exp-based path for larger |x| keeps 2.5 / 3.
     */
    private static final double MAX_ULP_TANH_F32 = 4.0;
    private static final double MAX_ULP_TANH_F64 = 4.0;

    @Test
    void float32IsWithinOneUlpOverTheWholeDomain() {
        // Bit patterns walk the floats in order: from -0 down to -104 (past the underflow to 0),
        // and from +0 up to 89 (past the overflow to +Inf).
        int negatives = (Float.floatToRawIntBits(-104f) - Float.floatToRawIntBits(-0f)) / 128 + 1;
        int positives = Float.floatToRawIntBits(89f) / 128 + 1;
        float[] x = new float[negatives + positives];
        for (int i = 0; i < negatives; i++) {
            x[i] = Float.intBitsToFloat(Float.floatToRawIntBits(-0f) + 128 * i);
        }
        for (int i = 0; i < positives; i++) {
            x[negatives + i] = Float.intBitsToFloat(128 * i);
        }
        assertFloat32Within(x, MAX_ULP_F32);
    }

    @Test
    void float32AroundTheThresholdsAndZero() {
        float[] centres = {88.72283f, -87.33655f, -103.27893f, -103.97208f, 0f, 0.34657359f, -0.34657359f};
        float[] x = new float[centres.length * 2001];
        int at = 0;
        for (float c : centres) {
            for (int d = -1000; d <= 1000; d++) {
                x[at++] = Float.intBitsToFloat(Float.floatToRawIntBits(c) + d);
            }
        }
        assertFloat32Within(x, MAX_ULP_F32);
    }

    @Test
    void float64IsWithinOneUlpOverTheWholeDomain() {
        Random random = new Random(7);
        double[] x = new double[4_000_000];
        int grid = x.length / 2;
        for (int i = 0; i < grid; i++) {
            x[i] = -746 + (710.0 + 746) * i / (grid - 1);
        }
        for (int i = grid; i < x.length; i++) {
            // Half uniform over the domain, half log-uniform near 0, where r = x and the polynomial's
            // low terms carry everything.
            x[i] = (i & 1) == 0 ? -746 + 1456 * random.nextDouble()
                    : Math.copySign(Math.pow(10, -20 + 21 * random.nextDouble()), random.nextDouble() - 0.5);
        }
        assertFloat64Within(x, MAX_ULP_F64);
    }

    @Test
    void float64AroundTheThresholdsAndZero() {
        double[] centres = {709.782712893384, -708.3964185322641, -744.4400719213812, -745.1332191019411, 0.0,
            0.34657359027997264, -0.34657359027997264};
        double[] x = new double[centres.length * 2001];
        int at = 0;
        for (double c : centres) {
            for (int d = -1000; d <= 1000; d++) {
                x[at++] = Double.longBitsToDouble(Double.doubleToRawLongBits(c) + d);
            }
        }
        assertFloat64Within(x, MAX_ULP_F64);
    }

    @Test
    void specialValuesFollowMathExp() {
        float[] xf = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, 1000f, -1000f,
            Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_VALUE, -Float.MIN_VALUE};
        float[] of = expF32(xf);
        for (int i = 0; i < xf.length; i++) {
            assertEquals((float) StrictMath.exp(xf[i]), of[i], "exp(" + xf[i] + ")");
        }
        double[] xd = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 0.0, -0.0, 1e4, -1e4,
            Double.MAX_VALUE, -Double.MAX_VALUE, Double.MIN_VALUE, -Double.MIN_VALUE};
        double[] od = expF64(xd);
        for (int i = 0; i < xd.length; i++) {
            assertEquals(StrictMath.exp(xd[i]), od[i], "exp(" + xd[i] + ")");
        }
    }

    @Test
    void tanhIsCloseToStrictMathTanh() {
        // Every 16th float bit pattern of [0, 12] (tanh is 1 in float beyond 9), both signs, and a
        // dense double grid over [-20, 20] plus the neighbourhood of ln2 / 4, where 2|x| = ln2 / 2 and
        // the reduction's k goes from 0 (e^2|x| - 1 from the polynomial alone) to 1. Neighbouring
        // arguments share a vector, so [-3, 3] (FLOAT32) and [-3.5, 3.5] (FLOAT64) test the rational
        // fast path and the rest the exp-based one.
        int count = Float.floatToRawIntBits(12f) / 16 + 1;
        float[] xf = new float[2 * count];
        for (int i = 0; i < count; i++) {
            xf[2 * i] = Float.intBitsToFloat(16 * i);
            xf[2 * i + 1] = -xf[2 * i];
        }
        float[] tf = tanhF32(xf);
        double worstF = 0;
        float worstAtF = 0;
        for (int i = 0; i < xf.length; i++) {
            double error = ulpsF32(tf[i], StrictMath.tanh(xf[i]));
            if (!(error <= worstF)) {
                worstF = error;
                worstAtF = xf[i];
            }
        }
        assertTrue(worstF <= MAX_ULP_TANH_F32, "FLOAT32 tanh: worst error " + worstF + " ulp at x = " + worstAtF);

        double[] xd = new double[2_000_000 + 2001 + 2_000_000];
        for (int i = 0; i < 2_000_000; i++) {
            xd[i] = -20 + 40.0 * i / (2_000_000 - 1);
        }
        for (int d = -1000; d <= 1000; d++) {
            xd[2_000_000 + 1000 + d] = Double.longBitsToDouble(Double.doubleToRawLongBits(0.17328679513998632) + d);
        }
        // And random arguments over the rational's range, half of them log-uniform down to 1e-8.
        Random random = new Random(5);
        for (int i = 2_000_000 + 2001; i < xd.length; i++) {
            double u = 7 * random.nextDouble() - 3.5;
            xd[i] = (i & 1) == 0 ? u : u * Math.pow(10, -8 * random.nextDouble());
        }
        double[] td = tanhF64(xd);
        double worstD = 0;
        double worstAtD = 0;
        for (int i = 0; i < xd.length; i++) {
            double error = ulpsF64(td[i], StrictMath.tanh(xd[i]));
            if (!(error <= worstD)) {
                worstD = error;
                worstAtD = xd[i];
            }
        }
        assertTrue(worstD <= MAX_ULP_TANH_F64, "FLOAT64 tanh: worst error " + worstD + " ulp at x = " + worstAtD);
    }

    @Test
    void tanhSpecialValuesFollowMathTanh() {
        float[] xf = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, 1e-30f, -1e-30f,
            Float.MIN_VALUE, -Float.MIN_VALUE, 100f, -100f};
        float[] of = tanhF32(xf);
        for (int i = 0; i < xf.length; i++) {
            assertEquals((float) StrictMath.tanh(xf[i]), of[i], "tanh(" + xf[i] + ")");
        }
        double[] xd = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 0.0, -0.0, 1e-300, -1e-300,
            Double.MIN_VALUE, -Double.MIN_VALUE, 1000.0, -1000.0};
        double[] od = tanhF64(xd);
        for (int i = 0; i < xd.length; i++) {
            assertEquals(StrictMath.tanh(xd[i]), od[i], "tanh(" + xd[i] + ")");
        }
    }

    @Test
    void tanhOfZeroAndTinyValuesIsExactOnTheRationalPath() {
        // No large lane in these arrays (the helpers pad with +0), so every vector takes the rational,
        // which must keep -0's sign and return tiny x unchanged, as tanh(x) = x - x^3 / 3 + ... rounds.
        float[] xf = {0f, -0f, 1e-30f, -1e-30f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, 1e-4f, -1e-4f};
        float[] of = tanhF32(xf);
        for (int i = 0; i < xf.length; i++) {
            assertEquals((float) StrictMath.tanh(xf[i]), of[i], "tanh(" + xf[i] + ")");
        }
        double[] xd = {0.0, -0.0, 1e-300, -1e-300, Double.MIN_VALUE, -Double.MIN_VALUE, Double.MIN_NORMAL, 1e-9, -1e-9};
        double[] od = tanhF64(xd);
        for (int i = 0; i < xd.length; i++) {
            assertEquals(StrictMath.tanh(xd[i]), od[i], "tanh(" + xd[i] + ")");
        }
    }

    @Test
    void tanhVectorsWithOneLargeLaneTakeTheExpPathForEveryLane() {
        // Small lanes in a vector beside one past the rational's range, an infinity or a NaN: the
        // exp-based path must give every lane, the small ones included, its accurate value.
        float[] specialsF = {3.0001f, -3.0001f, 9.5f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN};
        Random random = new Random(11);
        for (float special : specialsF) {
            float[] x = new float[F.length() * 64];
            for (int i = 0; i < x.length; i++) {
                x[i] = i % F.length() == (i / F.length()) % F.length() ? special : (float) (6 * random.nextDouble() - 3);
            }
            float[] t = tanhF32(x);
            for (int i = 0; i < x.length; i++) {
                double exact = StrictMath.tanh(x[i]);
                assertTrue(Float.isNaN(x[i]) ? Float.isNaN(t[i]) : ulpsF32(t[i], exact) <= MAX_ULP_TANH_F32,
                        "FLOAT32 tanh(" + x[i] + ") = " + t[i] + " beside " + special);
            }
        }
        double[] specialsD = {3.5000001, -3.5000001, 20, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.NaN};
        for (double special : specialsD) {
            double[] x = new double[D.length() * 64];
            for (int i = 0; i < x.length; i++) {
                x[i] = i % D.length() == (i / D.length()) % D.length() ? special : 7 * random.nextDouble() - 3.5;
            }
            double[] t = tanhF64(x);
            for (int i = 0; i < x.length; i++) {
                double exact = StrictMath.tanh(x[i]);
                assertTrue(Double.isNaN(x[i]) ? Double.isNaN(t[i]) : ulpsF64(t[i], exact) <= MAX_ULP_TANH_F64,
                        "FLOAT64 tanh(" + x[i] + ") = " + t[i] + " beside " + special);
            }
        }
    }

    private static void assertFloat32Within(float[] x, double maxUlp) {
        float[] actual = expF32(x);
        double worst = 0;
        float worstAt = 0;
        for (int i = 0; i < x.length; i++) {
            double exact = StrictMath.exp(x[i]);
            double error = ulpsF32(actual[i], exact);
            if (!(error <= worst)) {
                worst = error;
                worstAt = x[i];
            }
        }
        assertTrue(worst <= maxUlp, "FLOAT32 exp: worst error " + worst + " ulp at x = " + worstAt
                + " (" + x.length + " arguments)");
    }

    private static void assertFloat64Within(double[] x, double maxUlp) {
        double[] actual = expF64(x);
        double worst = 0;
        double worstAt = 0;
        for (int i = 0; i < x.length; i++) {
            double error = ulpsF64(actual[i], StrictMath.exp(x[i]));
            if (!(error <= worst)) {
                worst = error;
                worstAt = x[i];
            }
        }
        assertTrue(worst <= maxUlp, "FLOAT64 exp: worst error " + worst + " ulp at x = " + worstAt
                + " (" + x.length + " arguments)");
    }

    /** Distance from the exact value in ulps of the float nearest to it; an infinity must match exactly. */
    static double ulpsF32(float actual, double exact) {
        float rounded = (float) exact;
        if (Float.isInfinite(rounded) || Float.isNaN(rounded)) {
            return Float.compare(actual, rounded) == 0 ? 0 : Double.POSITIVE_INFINITY;
        }
        return Math.abs(actual - exact) / Math.ulp(rounded);
    }

    static double ulpsF64(double actual, double exact) {
        if (Double.isInfinite(exact) || Double.isNaN(exact)) {
            return Double.compare(actual, exact) == 0 ? 0 : Double.POSITIVE_INFINITY;
        }
        // The reference is itself within 1 ulp; the difference is measured in ulps of it.
        return Math.abs(actual - exact) / Math.ulp(exact);
    }

    static float[] expF32(float[] x) {
        int padded = (x.length + F.length() - 1) / F.length() * F.length();
        float[] in = Arrays.copyOf(x, padded);
        float[] out = new float[padded];
        for (int i = 0; i < padded; i += F.length()) {
            FloatExp.exp(FloatVector.fromArray(F, in, i)).intoArray(out, i);
        }
        return Arrays.copyOf(out, x.length);
    }

    static double[] expF64(double[] x) {
        int padded = (x.length + D.length() - 1) / D.length() * D.length();
        double[] in = Arrays.copyOf(x, padded);
        double[] out = new double[padded];
        for (int i = 0; i < padded; i += D.length()) {
            DoubleExp.exp(DoubleVector.fromArray(D, in, i)).intoArray(out, i);
        }
        return Arrays.copyOf(out, x.length);
    }

    /** Through the kernels' loop, so each vector takes the path the kernels would choose for it. */
    static float[] tanhF32(float[] x) {
        int padded = (x.length + F.length() - 1) / F.length() * F.length();
        float[] in = Arrays.copyOf(x, padded);
        float[] out = new float[padded];
        FloatExp.tanh(in, 0, out, 0, padded);
        return Arrays.copyOf(out, x.length);
    }

    static double[] tanhF64(double[] x) {
        int padded = (x.length + D.length() - 1) / D.length() * D.length();
        double[] in = Arrays.copyOf(x, padded);
        double[] out = new double[padded];
        DoubleExp.tanh(in, 0, out, 0, padded);
        return Arrays.copyOf(out, x.length);
    }
}
