package dev.adjoint.engine.simd;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * The Gauss error function lane by lane, in plain vector arithmetic (the Vector API has no erf; GELU
 * is built on it). erf is odd, so the work is done on |x| and x's sign bit is put back at the end,
 * which keeps erf(-0) = -0 and NaN as NaN.
 *
 * <p>Two formulas, split at |x| = 0.875:
 * <ul>
 *   <li>the head, |x| < 0.875: {@code erf(x) = x P(x^2)}, summed as {@code x + x (P(x^2) - 1)}, P a polynomial of degree 10 (FLOAT64) or 5
 *       (FLOAT32) fitted to erf(x)/x for the least maximum relative error (2^-55.3 and 2^-26.8).
 *   <li>the tail: {@code erf(x) = 1 - e^(-x^2) G(x)}, G = erfc(x) e^(x^2) as a polynomial in
 *       {@code x - c} of degree 21 on [0.875, 6] (FLOAT64) or 8 on [0.875, 4] (FLOAT32). G is a smooth,
 *       slowly varying function (e^(x^2) takes out erfc's fast decay), so a polynomial fits it
 *       without a division. The fit minimises the error of the product, erfc(x) times G's relative
 *       error, i.e. the error in erf itself (at most 2^-56.8 and 2^-27.3): G may be loose where
 *       erfc is tiny. Beyond 6 (FLOAT64) or 4 (FLOAT32) erfc is below half an ulp of 1 and |x| is
 *       clamped there, so erf rounds to exactly 1, and erf(Inf) = 1.
 * </ul>
 * The coefficients are our own weighted minimax fits (Lawson's iteration on Chebyshev nodes, in
 * mpmath at 40 digits). The split at 0.875 keeps erfc below 0.22 in the tail, so the tail's
 * rounding errors, exp's included, are scaled down by that factor before they reach erf.
 *
 * <p>e^(-x^2) is computed from the rounded square: x^2's rounding error (half an ulp of x^2) becomes
 * a relative error of the same size in e^(-x^2), but is multiplied by erfc(x), and x^2 erfc(x) < 0.17
 * on the whole tail, so the error it adds to erf stays below a fifth of an ulp and no hi/lo split
 * of x^2 is needed.
 *
 * <p>Accuracy, measured in {@code VectorErfTest} over dense sweeps: within 1.07 ulp (FLOAT64, against mpmath
 * references) and 1.13 ulp (FLOAT32, against the double {@link dev.adjoint.spi.Erf#erf}), both just past
 * the split, where the tail starts.
 *
 * <p>Vectors with no lane in the tail (small |x|, the common case under GELU) compute the head only;
 * any other vector computes both formulas and blends.
 */
final class VectorErf {
    private VectorErf() {
    }

    // ---- FLOAT32 -----------------------------------------------------------------------------------

    /** The head and tail formulas meet here. */
    private static final float SPLIT_F = 0.875f;
    /** erfc(4) = 1.5e-8 is below half an ulp of 1f (2^-25), so erf(x) rounds to 1 from 3.92 on. */
    private static final float CLAMP_F = 4f;
    /** The tail polynomial is in x - TAIL_CENTRE_F, the middle of [SPLIT_F, CLAMP_F]. */
    private static final float TAIL_CENTRE_F = 2.4375f;

    static FloatVector erf(FloatVector x) {
        FloatVector a = x.abs();
        // NaN compares false, stays in the head, and gives NaN there.
        VectorMask<Float> tail = a.compare(VectorOperators.GE, SPLIT_F);
        FloatVector value = head(a);
        if (tail.anyTrue()) {
            value = value.blend(tail(a), tail);
        }
        return value.reinterpretAsInts()
                .or(x.reinterpretAsInts().and(Integer.MIN_VALUE))
                .reinterpretAsFloats();
    }

    /**
     * erf(a) for 0 <= a < SPLIT_F, as a + a (P(a^2) - 1): P is near 1.13, and a final a * P would let
     * P's last-bit error (a relative 2^-23, 2^-52) reach the result whole; P - 1 is under 0.13, so
     * its rounding error is an eighth as large relative to a, and the fma rounds the sum once.
     */
    private static FloatVector head(FloatVector a) {
        FloatVector z = a.mul(a);
        FloatVector p = a.broadcast(-6.203418e-4f).fma(z, a.broadcast(5.032216e-3f))
                .fma(z, a.broadcast(-2.679149e-2f))
                .fma(z, a.broadcast(1.1282456e-1f))
                .fma(z, a.broadcast(-3.761255e-1f))
                .fma(z, a.broadcast(1.2837916e-1f));
        return p.fma(a, a);
    }

    /** erf(a) for a >= SPLIT_F; lanes below it give some finite value, which the caller discards. */
    private static FloatVector tail(FloatVector a) {
        FloatVector b = a.min(CLAMP_F);
        FloatVector t = b.sub(TAIL_CENTRE_F);
        FloatVector g = a.broadcast(1.427748e-4f).fma(t, a.broadcast(3.5066696e-4f))
                .fma(t, a.broadcast(7.7447697e-4f))
                .fma(t, a.broadcast(-6.5101444e-4f))
                .fma(t, a.broadcast(2.4732715e-3f))
                .fma(t, a.broadcast(-8.868432e-3f))
                .fma(t, a.broadcast(2.6449732e-2f))
                .fma(t, a.broadcast(-7.7553794e-2f))
                .fma(t, a.broadcast(2.1555468e-1f));
        FloatVector erfc = VectorExp.exp(b.mul(b).neg()).mul(g);
        return erfc.neg().add(1f);
    }

    // ---- FLOAT64 -----------------------------------------------------------------------------------

    private static final double SPLIT_D = 0.875;
    /** erfc(6) = 2.2e-17 is below half an ulp of 1.0 (2^-54), so erf(x) rounds to 1 from 5.86 on. */
    private static final double CLAMP_D = 6;
    private static final double TAIL_CENTRE_D = 3.4375;

    /** erf(x) as {@link #erf(FloatVector)}. */
    static DoubleVector erf(DoubleVector x) {
        DoubleVector a = x.abs();
        VectorMask<Double> tail = a.compare(VectorOperators.GE, SPLIT_D);
        DoubleVector value = head(a);
        if (tail.anyTrue()) {
            value = value.blend(tail(a), tail);
        }
        return value.reinterpretAsLongs()
                .or(x.reinterpretAsLongs().and(Long.MIN_VALUE))
                .reinterpretAsDoubles();
    }

    private static DoubleVector head(DoubleVector a) {
        DoubleVector z = a.mul(a);
        DoubleVector p = a.broadcast(1.0456909176333059e-08).fma(z, a.broadcast(-1.5619306564119767e-07))
                .fma(z, a.broadcast(1.6387383100797646e-06))
                .fma(z, a.broadcast(-1.4920942836390893e-05))
                .fma(z, a.broadcast(1.205514112765989e-04))
                .fma(z, a.broadcast(-8.548321979194532e-04))
                .fma(z, a.broadcast(5.2239775424832435e-03))
                .fma(z, a.broadcast(-2.6866170637149207e-02))
                .fma(z, a.broadcast(1.1283791670915633e-01))
                .fma(z, a.broadcast(-3.761263890318299e-01))
                .fma(z, a.broadcast(1.2837916709551256e-01));
        return p.fma(a, a);
    }

    private static DoubleVector tail(DoubleVector a) {
        DoubleVector b = a.min(CLAMP_D);
        DoubleVector t = b.sub(TAIL_CENTRE_D);
        DoubleVector g = a.broadcast(-3.4255666649918183e-13).fma(t, a.broadcast(-5.9249732669270935e-12))
                .fma(t, a.broadcast(-4.642098729476715e-11))
                .fma(t, a.broadcast(-2.0347451427715884e-10))
                .fma(t, a.broadcast(-5.063192706214287e-10))
                .fma(t, a.broadcast(-4.5822121066767895e-10))
                .fma(t, a.broadcast(1.1108538040353195e-09))
                .fma(t, a.broadcast(4.783930602115106e-09))
                .fma(t, a.broadcast(5.254316295282942e-09))
                .fma(t, a.broadcast(4.829081959918094e-09))
                .fma(t, a.broadcast(-3.17243100205393e-08))
                .fma(t, a.broadcast(8.55075258826806e-08))
                .fma(t, a.broadcast(-4.6451131298552814e-07))
                .fma(t, a.broadcast(2.0861234160633416e-06))
                .fma(t, a.broadcast(-9.207047105736926e-06))
                .fma(t, a.broadcast(3.999804867206666e-05))
                .fma(t, a.broadcast(-1.6973992869774015e-04))
                .fma(t, a.broadcast(7.034616590385498e-04))
                .fma(t, a.broadcast(-2.842500429254178e-03))
                .fma(t, a.broadcast(1.1178020026289369e-02))
                .fma(t, a.broadcast(-4.2688194020777295e-02))
                .fma(t, a.broadcast(1.5791868699147515e-01));
        DoubleVector erfc = VectorExp.exp(b.mul(b).neg()).mul(g);
        return erfc.neg().add(1.0);
    }
}
