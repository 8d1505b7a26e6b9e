package dev.adjoint.engine.simd;

import dev.adjoint.spi.UnaryOp;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link VectorTrig} through the sin and cos kernels, against {@link StrictMath} (fdlibm, within 1
 * ulp of the exact value): FLOAT64 on a dense grid, random arguments up to the reduction's limit, the
 * neighbourhoods of multiples of pi/2 (where the result or its cancellation is smallest) and tiny
 * magnitudes; FLOAT32 on every 512th bit pattern up to 10^4; and the arguments past the limit and the
 * special values, which must be StrictMath's own.
 */
class VectorTrigTest {
    /** Ours, within an ulp of the exact value like StrictMath, can be 2 ulp from it. */
    private static final double MAX_ULP_F64 = 2.0;
    /** Double lanes rounded once to float: at most StrictMath's error on top of half an ulp. */
    private static final double MAX_ULP_F32 = 1.0;

    @Test
    void float64IsWithinTwoUlpOfStrictMath() {
        Random random = new Random(11);
        double[] x = new double[2_000_000];
        for (int i = 0; i < x.length; i++) {
            x[i] = switch (i % 4) {
                case 0 -> -20 + 40.0 * i / x.length;
                case 1 -> (random.nextDouble() - 0.5) * 3.2e6;
                // Near j pi/2: the reduction's remainder is a few ulps of x, the result tiny (sin near
                // j pi, cos near odd j pi/2).
                case 2 -> (random.nextInt(200_001) - 100_000) * (Math.PI / 2) * (1 + 1e-15 * random.nextGaussian());
                default -> Math.copySign(Math.pow(10, -300 + 300 * random.nextDouble()), random.nextDouble() - 0.5);
            };
        }
        for (UnaryOp op : new UnaryOp[] {UnaryOp.SIN, UnaryOp.COS}) {
            double[] y = new double[x.length];
            DoubleKernels.unary(op, x, 0, y, 0, x.length);
            double worst = 0;
            double worstAt = 0;
            for (int i = 0; i < x.length; i++) {
                double expected = reference(op, x[i]);
                double ulps = Math.abs(y[i] - expected) / Math.ulp(expected);
                if (ulps > worst) {
                    worst = ulps;
                    worstAt = x[i];
                }
            }
            assertTrue(worst <= MAX_ULP_F64, op + " FLOAT64: " + worst + " ulp at " + worstAt);
        }
    }

    @Test
    void float32IsWithinOneUlp() {
        int patterns = Float.floatToRawIntBits(1e4f) / 512 + 1;
        float[] x = new float[2 * patterns];
        for (int i = 0; i < patterns; i++) {
            x[2 * i] = Float.intBitsToFloat(512 * i);
            x[2 * i + 1] = -x[2 * i];
        }
        for (UnaryOp op : new UnaryOp[] {UnaryOp.SIN, UnaryOp.COS}) {
            float[] y = new float[x.length];
            FloatKernels.unary(op, x, 0, y, 0, x.length);
            double worst = 0;
            double worstAt = 0;
            for (int i = 0; i < x.length; i++) {
                double expected = reference(op, x[i]);
                double ulps = Math.abs(y[i] - expected) / Math.ulp((float) expected);
                if (ulps > worst) {
                    worst = ulps;
                    worstAt = x[i];
                }
            }
            assertTrue(worst <= MAX_ULP_F32, op + " FLOAT32: " + worst + " ulp at " + worstAt);
        }
    }

    /** Past the reduction's limit, infinities and NaN: StrictMath's value, bit for bit; sin keeps -0. */
    @Test
    void specialValuesAndLargeArgumentsAreStrictMaths() {
        double limit = 0x1p20 * (Math.PI / 2);
        double[] x = {0.0, -0.0, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.MIN_VALUE,
                -Double.MIN_NORMAL, 1e300, -3e6, Math.nextUp(limit), Math.nextDown(limit), -limit, 1e7, 2.5, -0.75,
                Double.MAX_VALUE, 7e5, 1.0, 1e-8};
        for (UnaryOp op : new UnaryOp[] {UnaryOp.SIN, UnaryOp.COS}) {
            double[] y = new double[x.length];
            DoubleKernels.unary(op, x, 0, y, 0, x.length);
            float[] xf = new float[x.length];
            float[] yf = new float[x.length];
            for (int i = 0; i < x.length; i++) {
                xf[i] = (float) x[i];
            }
            FloatKernels.unary(op, xf, 0, yf, 0, x.length);
            for (int i = 0; i < x.length; i++) {
                double expected = reference(op, x[i]);
                if (Math.abs(x[i]) > limit || Double.isNaN(x[i]) || x[i] == 0) {
                    assertEquals(expected, y[i], op + " FLOAT64 of " + x[i]);
                } else {
                    assertTrue(Math.abs(y[i] - expected) <= MAX_ULP_F64 * Math.ulp(expected), op + " FLOAT64 of " + x[i]);
                }
                float expectedF = (float) reference(op, xf[i]);
                if (Math.abs(xf[i]) > limit || Float.isNaN(xf[i]) || xf[i] == 0) {
                    assertEquals(expectedF, yf[i], op + " FLOAT32 of " + xf[i]);
                }
            }
        }
    }

    private static double reference(UnaryOp op, double x) {
        return op == UnaryOp.SIN ? StrictMath.sin(x) : StrictMath.cos(x);
    }
}
