package dev.adjoint.engine.simd;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The kernels that add the lanes of a vector add them in the order {@link FloatLaneReductions} and
 * {@link DoubleLaneReductions} document, a tree of halves: checked against that tree written out in plain
 * Java, on values of mixed magnitude, where another order rounds differently. Whether the order also
 * holds once C2 has compiled the kernels is {@code JitDeterminism}'s part, in the conformance suite.
 */
class LaneReductionOrderTest {
    private static final int F = FloatVector.SPECIES_PREFERRED.length();
    private static final int D = DoubleVector.SPECIES_PREFERRED.length();
    private static final int TRIALS = 100;

    @Test
    void floatDotProductsAddTheirLanesAsATreeOfHalves() {
        SplittableRandom random = new SplittableRandom(1);
        // Six columns: four through the four-column kernel, two through the single one; k = one vector.
        int n = 6;
        for (int trial = 0; trial < TRIALS; trial++) {
            float[] a = new float[F];
            float[] w = new float[n * F];
            fill(random, a);
            fill(random, w);
            float[] o = new float[n];
            FloatMatmul.dots(a, 0, F, w, 0, F, o, 0, n, 1, n, F);
            for (int j = 0; j < n; j++) {
                double[] products = new double[F];
                for (int p = 0; p < F; p++) {
                    products[p] = a[p] * w[j * F + p];
                }
                assertEquals((float) tree(products, true), o[j], "column " + j);
            }
        }
    }

    @Test
    void doubleDotProductsAddTheirLanesAsATreeOfHalves() {
        SplittableRandom random = new SplittableRandom(2);
        int n = 6;
        for (int trial = 0; trial < TRIALS; trial++) {
            double[] a = new double[D];
            double[] w = new double[n * D];
            fill(random, a);
            fill(random, w);
            double[] o = new double[n];
            DoubleMatmul.dots(a, 0, D, w, 0, D, o, 0, n, 1, n, D);
            for (int j = 0; j < n; j++) {
                double[] products = new double[D];
                for (int p = 0; p < D; p++) {
                    products[p] = a[p] * w[j * D + p];
                }
                assertEquals(tree(products, false), o[j], "column " + j);
            }
        }
    }

    /** Two vectors' worth: the kernel's two accumulators, added lane by lane, then the tree. */
    @Test
    void sumsAddTheirLanesAsATreeOfHalves() {
        SplittableRandom random = new SplittableRandom(3);
        for (int trial = 0; trial < TRIALS; trial++) {
            // A FLOAT32 sum widens to double lanes, D floats at a time.
            float[] f = new float[2 * D];
            fill(random, f);
            double[] accumulated = new double[D];
            for (int i = 0; i < D; i++) {
                accumulated[i] = (double) f[i] + (double) f[i + D];
            }
            assertEquals(tree(accumulated, false), FloatKernels.sum(f, 0, f.length), "FLOAT32 sum");
            double[] x = new double[2 * D];
            fill(random, x);
            for (int i = 0; i < D; i++) {
                accumulated[i] = x[i] + x[i + D];
            }
            assertEquals(tree(accumulated, false), DoubleKernels.sum(x, 0, x.length), "FLOAT64 sum");
        }
    }

    /**
     * max and min agree with Math.max / Math.min folded over the elements: a NaN anywhere gives NaN,
     * and -0.0 is below 0.0, on vectors of zeros of both signs, ties and NaN in every lane.
     */
    @Test
    void maxAndMinFollowMathMaxAndMin() {
        SplittableRandom random = new SplittableRandom(4);
        double[] values = {0.0, -0.0, 0.5, -0.5, Double.NaN};
        for (int trial = 0; trial < 20 * TRIALS; trial++) {
            int len = 1 + random.nextInt(3 * F);
            float[] f = new float[len];
            double[] x = new double[len];
            for (int i = 0; i < len; i++) {
                // NaN in one trial in five.
                x[i] = values[random.nextInt(trial % 5 == 0 ? 5 : 4)];
                f[i] = (float) x[i];
            }
            double max = Double.NEGATIVE_INFINITY;
            double min = Double.POSITIVE_INFINITY;
            for (double v : x) {
                max = Math.max(max, v);
                min = Math.min(min, v);
            }
            assertEquals(max, FloatKernels.max(f, 0, len), "FLOAT32 max of " + java.util.Arrays.toString(f));
            assertEquals(min, FloatKernels.min(f, 0, len), "FLOAT32 min of " + java.util.Arrays.toString(f));
            assertEquals(max, DoubleKernels.max(x, 0, len), "FLOAT64 max of " + java.util.Arrays.toString(x));
            assertEquals(min, DoubleKernels.min(x, 0, len), "FLOAT64 min of " + java.util.Arrays.toString(x));
        }
    }

    /** Lane i + n/2 added to lane i, then the same on the first half, until one lane is left. */
    private static double tree(double[] lanes, boolean inFloat) {
        double[] v = lanes.clone();
        for (int half = v.length / 2; half >= 1; half /= 2) {
            for (int i = 0; i < half; i++) {
                v[i] = inFloat ? (float) v[i] + (float) v[i + half] : v[i] + v[i + half];
            }
        }
        return v[0];
    }

    private static void fill(SplittableRandom random, float[] x) {
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) ((random.nextDouble() - 0.5) * Math.pow(10, random.nextInt(-3, 4)));
        }
    }

    private static void fill(SplittableRandom random, double[] x) {
        for (int i = 0; i < x.length; i++) {
            x[i] = (random.nextDouble() - 0.5) * Math.pow(10, random.nextInt(-8, 9));
        }
    }
}
