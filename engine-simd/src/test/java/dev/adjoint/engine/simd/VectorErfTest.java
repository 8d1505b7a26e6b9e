package dev.adjoint.engine.simd;

import dev.adjoint.spi.Erf;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link FloatErf} and {@link DoubleErf} against references: FLOAT64 against erf-reference.txt (8000 arguments over
 * [0, 6.5], dense around the split at 0.875 and log-uniform down to subnormals, erf to 25 digits from
 * mpmath; erf-reference.py beside it writes the file), FLOAT32 against the double {@link Erf#erf}
 * over every 16th float of [0, 4.5], whose own error (checked here against the same file) is far
 * below a float ulp but too large to judge a double result. Each argument is tried with both signs,
 * and in a shuffled order too, so that vectors mix lanes of the head and the tail formula.
 */
class VectorErfTest {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    private static final double MAX_ULP_F32 = 1.5;
    private static final double MAX_ULP_F64 = 1.5;
    /**
     * Erf.erf's measured worst error is 47 double ulps, near x = 2.48 where its series gives way to the
     * continued fraction (scalarErfIsGoodEnoughForFloat32): under 2^-23 of a float ulp, so it judges
     * FLOAT32 results, but not FLOAT64 ones.
     */
    private static final double MAX_SCALAR_ULP = 64;

    @Test
    void float64IsCloseToMpmath() throws IOException {
        Reference ref = Reference.load();
        double[] x = new double[2 * ref.x.length];
        BigDecimal[] exact = new BigDecimal[x.length];
        for (int i = 0; i < ref.x.length; i++) {
            x[2 * i] = ref.x[i];
            exact[2 * i] = ref.erf[i];
            x[2 * i + 1] = -ref.x[i];
            exact[2 * i + 1] = ref.erf[i].negate();
        }
        shuffleTogether(x, exact, new Random(3));
        double[] actual = erfF64(x);
        double worst = 0;
        double worstAt = 0;
        for (int i = 0; i < x.length; i++) {
            double error = ulpsF64(actual[i], exact[i]);
            if (!(error <= worst)) {
                worst = error;
                worstAt = x[i];
            }
        }
        assertTrue(worst <= MAX_ULP_F64, "FLOAT64 erf: worst error " + worst + " ulp at x = " + worstAt
                + " (" + x.length + " arguments)");
    }

    @Test
    void scalarErfIsGoodEnoughForFloat32() throws IOException {
        Reference ref = Reference.load();
        double worst = 0;
        double worstAt = 0;
        for (int i = 0; i < ref.x.length; i++) {
            if (ref.x[i] == 0) {
                continue;
            }
            double error = ulpsF64(Erf.erf(ref.x[i]), ref.erf[i]);
            if (!(error <= worst)) {
                worst = error;
                worstAt = ref.x[i];
            }
        }
        assertTrue(worst <= MAX_SCALAR_ULP, "Erf.erf: worst error " + worst + " ulp at x = " + worstAt);
    }

    @Test
    void float32IsCloseToScalarErf() {
        // Every 16th bit pattern from +0 to 4.5 (erf rounds to 1 from 3.92), both signs.
        int count = Float.floatToRawIntBits(4.5f) / 16 + 1;
        float[] x = new float[2 * count];
        for (int i = 0; i < count; i++) {
            x[2 * i] = Float.intBitsToFloat(16 * i);
            x[2 * i + 1] = -x[2 * i];
        }
        assertFloat32Within(x);
        float[] shuffled = x.clone();
        Random random = new Random(5);
        for (int i = shuffled.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            float t = shuffled[i];
            shuffled[i] = shuffled[j];
            shuffled[j] = t;
        }
        assertFloat32Within(shuffled);
    }

    @Test
    void specialValues() {
        float[] xf = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, Float.MIN_VALUE,
            -Float.MIN_VALUE, Float.MAX_VALUE, -Float.MAX_VALUE, 4f, 10f, -10f};
        float[] expectedF = {Float.NaN, 1f, -1f, 0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, 1f, -1f, 1f, 1f, -1f};
        float[] of = erfF32(xf);
        for (int i = 0; i < xf.length; i++) {
            assertEquals(expectedF[i], of[i], "erf(" + xf[i] + ")");
        }
        double[] xd = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 0.0, -0.0, Double.MIN_VALUE,
            -Double.MIN_VALUE, Double.MAX_VALUE, -Double.MAX_VALUE, 6.0, 30.0, -30.0};
        double[] expectedD = {Double.NaN, 1, -1, 0.0, -0.0, Double.MIN_VALUE, -Double.MIN_VALUE, 1, -1, 1, 1, -1};
        double[] od = erfF64(xd);
        for (int i = 0; i < xd.length; i++) {
            assertEquals(expectedD[i], od[i], "erf(" + xd[i] + ")");
        }
    }

    private static void assertFloat32Within(float[] x) {
        float[] actual = erfF32(x);
        double worst = 0;
        float worstAt = 0;
        for (int i = 0; i < x.length; i++) {
            double error = VectorExpTest.ulpsF32(actual[i], Erf.erf(x[i]));
            if (!(error <= worst)) {
                worst = error;
                worstAt = x[i];
            }
        }
        assertTrue(worst <= MAX_ULP_F32, "FLOAT32 erf: worst error " + worst + " ulp at x = " + worstAt
                + " (" + x.length + " arguments)");
    }

    /** Distance from the exact value in ulps of the double nearest to it. */
    private static double ulpsF64(double actual, BigDecimal exact) {
        double rounded = exact.doubleValue();
        double ulp = rounded == 0 ? Double.MIN_VALUE : Math.ulp(rounded);
        return new BigDecimal(actual).subtract(exact).abs().doubleValue() / ulp;
    }

    private static void shuffleTogether(double[] x, BigDecimal[] y, Random random) {
        for (int i = x.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            double t = x[i];
            x[i] = x[j];
            x[j] = t;
            BigDecimal u = y[i];
            y[i] = y[j];
            y[j] = u;
        }
    }

    /** The arguments and exact values of erf-reference.txt. */
    private record Reference(double[] x, BigDecimal[] erf) {
        static Reference load() throws IOException {
            List<double[]> xs = new ArrayList<>();
            List<BigDecimal> values = new ArrayList<>();
            try (var in = VectorErfTest.class.getResourceAsStream("erf-reference.txt")) {
                assertTrue(in != null, "erf-reference.txt is missing from the test resources");
                var reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
                for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                    if (line.startsWith("#") || line.isBlank()) {
                        continue;
                    }
                    String[] parts = line.trim().split(" ");
                    xs.add(new double[] {Double.parseDouble(parts[0])});
                    values.add(new BigDecimal(parts[1]));
                }
            }
            double[] x = new double[xs.size()];
            for (int i = 0; i < x.length; i++) {
                x[i] = xs.get(i)[0];
            }
            return new Reference(x, values.toArray(BigDecimal[]::new));
        }
    }

    /**
     * erf given e^(-x^2) (GELU's derivative shares one exp between erf's tail and the density) has the
     * bits of erf alone: across the split, up to and past the clamp, at 0, -0, the infinities and NaN.
     */
    @Test
    void erfGivenTheGaussianHasTheBitsOfErf() {
        List<Double> values = new ArrayList<>(List.of(0.0, -0.0, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY,
                Double.NaN, 1e-30, 3.9, 4.0, 4.1, 5.9, 6.0, 6.1, 30.0));
        for (double v = -8; v <= 8; v += 1.0 / 256) {
            values.add(v);
        }
        double[] xd = values.stream().mapToDouble(Double::doubleValue).toArray();
        int paddedD = (xd.length + D.length() - 1) / D.length() * D.length();
        double[] ind = Arrays.copyOf(xd, paddedD);
        for (int i = 0; i < paddedD; i += D.length()) {
            DoubleVector x = DoubleVector.fromArray(D, ind, i);
            DoubleVector gaussian = DoubleExp.exp(x.mul(x).neg());
            double[] plain = DoubleErf.erf(x).toArray();
            double[] given = DoubleErf.erf(x, gaussian).toArray();
            for (int j = 0; j < plain.length; j++) {
                assertEquals(Double.doubleToRawLongBits(plain[j]), Double.doubleToRawLongBits(given[j]),
                        "FLOAT64 erf(" + ind[i + j] + ")");
            }
        }
        int paddedF = (xd.length + F.length() - 1) / F.length() * F.length();
        float[] inf = new float[paddedF];
        for (int i = 0; i < xd.length; i++) {
            inf[i] = (float) xd[i];
        }
        for (int i = 0; i < paddedF; i += F.length()) {
            FloatVector x = FloatVector.fromArray(F, inf, i);
            FloatVector gaussian = FloatExp.exp(x.mul(x).neg());
            float[] plain = FloatErf.erf(x).toArray();
            float[] given = FloatErf.erf(x, gaussian).toArray();
            for (int j = 0; j < plain.length; j++) {
                assertEquals(Float.floatToRawIntBits(plain[j]), Float.floatToRawIntBits(given[j]),
                        "FLOAT32 erf(" + inf[i + j] + ")");
            }
        }
    }

    static float[] erfF32(float[] x) {
        int padded = (x.length + F.length() - 1) / F.length() * F.length();
        float[] in = Arrays.copyOf(x, padded);
        float[] out = new float[padded];
        for (int i = 0; i < padded; i += F.length()) {
            FloatErf.erf(FloatVector.fromArray(F, in, i)).intoArray(out, i);
        }
        return Arrays.copyOf(out, x.length);
    }

    static double[] erfF64(double[] x) {
        int padded = (x.length + D.length() - 1) / D.length() * D.length();
        double[] in = Arrays.copyOf(x, padded);
        double[] out = new double[padded];
        for (int i = 0; i < padded; i += D.length()) {
            DoubleErf.erf(DoubleVector.fromArray(D, in, i)).intoArray(out, i);
        }
        return Arrays.copyOf(out, x.length);
    }
}
