package dev.adjoint.engine.simd;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Gauss error function lane by lane, in plain vector arithmetic (the Vector API has no erf; GELU
 * is built on it). erf is odd, so the work is done on |x| and x's sign bit is put back at the end,
 * which keeps erf(-0) = -0 and NaN as NaN.
 *
 * <p>Two formulas, split at |x| = 0.875:
 * <ul>
 *   <li>the head, |x| < 0.875: {@code erf(x) = x P(x^2)}, summed as {@code x + x (P(x^2) - 1)}, P a
 *       polynomial of degree 10 (FLOAT64) or 5 (FLOAT32) fitted to erf(x)/x for the least maximum
 *       relative error (2^-55.3 and 2^-26.8).
 *   <li>the tail: {@code erf(x) = 1 - e^(-x^2) G(x)}, G = erfc(x) e^(x^2), a smooth, slowly varying
 *       function (e^(x^2) takes out erfc's fast decay). FLOAT32: a polynomial in {@code x - 2.4375}
 *       of degree 8 on [0.875, 4]; FLOAT64: {@code u P(u)} with {@code u = 1 / (x + 2.5)}, P of
 *       degree 11, on [0.875, 6] (see {@link #erf(DoubleVector, DoubleVector)} for why not a polynomial in x).
 *       The fits minimise the error of the product, erfc(x) times G's relative error, i.e. the
 *       error in erf itself (at most 2^-27.3 and 2^-57.9): G may be loose where erfc is tiny.
 *       Beyond 4 (FLOAT32) or 6 (FLOAT64) erfc is below half an ulp of 1 and |x| is clamped
 *       there, so erf rounds to exactly 1, and erf(Inf) = 1.
 * </ul>
 * The coefficients are our own weighted minimax fits (Lawson's iteration on Chebyshev nodes, in
 * mpmath at 40 digits; minimax-fits.py in the test resources redoes them). The split at 0.875 keeps erfc below 0.22 in the tail, so the tail's
 * rounding errors, exp's included, are scaled down by that factor before they reach erf.
 *
 * <p>e^(-x^2) is computed from the rounded square: x^2's rounding error (half an ulp of x^2) becomes
 * a relative error of the same size in e^(-x^2), but is multiplied by erfc(x), and x^2 erfc(x) < 0.17
 * on the whole tail, so the error it adds to erf stays below a fifth of an ulp and no hi/lo split
 * of x^2 is needed.
 *
 * <p>Accuracy, measured in {@code VectorErfTest} over dense sweeps: within 1.38 ulp (FLOAT64, against
 * mpmath references) and 1.13 ulp (FLOAT32, against the double {@link dev.adjoint.spi.Erf#erf}), both
 * just past the split, where the tail starts.
 *
 * <p>Vectors with no lane in the tail compute the head only; any other vector computes both formulas
 * and blends. Under GELU (erf of x / sqrt(2), x of order 1) nearly every vector of 8 or 16 lanes has
 * a lane in the tail, so the branch is well predicted and costs little; on ElementwiseBenchmark's
 * inputs, uniform in [-1, 1), skipping the tail made FLOAT64 erf 30% faster at 10^4 elements.
 */
final class VectorErf {
    /** The species of every vector passed in: the coefficient constants are vectors of it. */
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;

    private VectorErf() {
    }

    // ---- FLOAT32 -----------------------------------------------------------------------------------

    /** The head and tail formulas meet here. */
    private static final float SPLIT_F = 0.875f;
    /** erfc(4) = 1.5e-8 is below half an ulp of 1f (2^-25), so erf(x) rounds to 1 from 3.92 on. */
    private static final float CLAMP_F = 4f;
    /** The tail polynomial is in x - TAIL_CENTRE_F, the middle of [SPLIT_F, CLAMP_F]. */
    private static final float TAIL_CENTRE_F = 2.4375f;

    // Coefficients as vector constants, not broadcasts in the expressions: with a broadcast per
    // coefficient, two polynomials and exp in one loop body came to more parse nodes than C2 inlines
    // in one compilation (NodeCountInliningCutoff, seen with -XX:+PrintInlining), so exp was left a
    // call and every vector was boxed (16 B per element under -prof gc, FLOAT64). HEAD_k is the
    // coefficient of x^2k in P(x^2) - 1, TAIL_k that of (x - c)^k in G.
    private static final FloatVector HEAD_0_F = FloatVector.broadcast(F, 1.2837916e-1f);
    private static final FloatVector HEAD_1_F = FloatVector.broadcast(F, -3.761255e-1f);
    private static final FloatVector HEAD_2_F = FloatVector.broadcast(F, 1.1282456e-1f);
    private static final FloatVector HEAD_3_F = FloatVector.broadcast(F, -2.679149e-2f);
    private static final FloatVector HEAD_4_F = FloatVector.broadcast(F, 5.032216e-3f);
    private static final FloatVector HEAD_5_F = FloatVector.broadcast(F, -6.203418e-4f);
    private static final FloatVector TAIL_0_F = FloatVector.broadcast(F, 2.1555468e-1f);
    private static final FloatVector TAIL_1_F = FloatVector.broadcast(F, -7.7553794e-2f);
    private static final FloatVector TAIL_2_F = FloatVector.broadcast(F, 2.6449732e-2f);
    private static final FloatVector TAIL_3_F = FloatVector.broadcast(F, -8.868432e-3f);
    private static final FloatVector TAIL_4_F = FloatVector.broadcast(F, 2.4732715e-3f);
    private static final FloatVector TAIL_5_F = FloatVector.broadcast(F, -6.5101444e-4f);
    private static final FloatVector TAIL_6_F = FloatVector.broadcast(F, 7.7447697e-4f);
    private static final FloatVector TAIL_7_F = FloatVector.broadcast(F, 3.5066696e-4f);
    private static final FloatVector TAIL_8_F = FloatVector.broadcast(F, 1.427748e-4f);

    /**
     * erf(x) on its own (tests, and callers outside loops). A loop writes this composition in its
     * body instead ({@link FloatKernels}' ERF, GELU's): exp and erf called from the loop body itself
     * are inlined whatever the JIT's history (see {@link VectorExp}'s class comment).
     */
    static FloatVector erf(FloatVector x) {
        return erf(x, needsTail(x) ? VectorExp.exp(tailExponent(x)) : x);
    }

    /** Whether a lane of x is in the tail, whose formula needs {@code exp(tailExponent(x))}. */
    static boolean needsTail(FloatVector x) {
        // NaN compares false, stays in the head, and gives NaN there.
        return x.abs().compare(VectorOperators.GE, SPLIT_F).anyTrue();
    }

    /** {@code -b^2} for b = min(|x|, CLAMP_F): the exponent of the tail's gaussian. */
    static FloatVector tailExponent(FloatVector x) {
        FloatVector b = x.abs().min(CLAMP_F);
        return b.mul(b).neg();
    }

    /**
     * erf(x) from {@code gaussian}, which in every lane in the tail is {@code exp(tailExponent(x))}
     * or {@code exp(-(x * x))}, and may be anything if no lane is ({@link #needsTail}). GELU's
     * derivative has the second already (phi needs it). Either gives the same bits: below the clamp
     * the exponent is the same square; above it erfc is below half an ulp of 1 either way. The head
     * and the tail are written out in this one method, as exp is (see {@link VectorExp}).
     */
    static FloatVector erf(FloatVector x, FloatVector gaussian) {
        FloatVector a = x.abs();
        VectorMask<Float> inTail = a.compare(VectorOperators.GE, SPLIT_F);
        // The head, erf(a) for 0 <= a < SPLIT_F, as a + a (P(a^2) - 1): P is near 1.13, and a final
        // a * P would let P's last-bit error (a relative 2^-23) reach the result whole; |P - 1| is
        // under 0.13, so its rounding error is an eighth as large relative to a, and the fma rounds
        // the sum once.
        FloatVector z = a.mul(a);
        FloatVector value = HEAD_5_F.fma(z, HEAD_4_F).fma(z, HEAD_3_F).fma(z, HEAD_2_F).fma(z, HEAD_1_F)
                .fma(z, HEAD_0_F).fma(a, a);
        if (inTail.anyTrue()) {
            // The tail, 1 - e^(-b^2) G(b) for b = min(a, CLAMP_F); lanes below SPLIT_F give some
            // finite value, which the blend discards.
            FloatVector t = a.min(CLAMP_F).sub(TAIL_CENTRE_F);
            FloatVector g = TAIL_8_F.fma(t, TAIL_7_F).fma(t, TAIL_6_F).fma(t, TAIL_5_F).fma(t, TAIL_4_F)
                    .fma(t, TAIL_3_F).fma(t, TAIL_2_F).fma(t, TAIL_1_F).fma(t, TAIL_0_F);
            value = value.blend(gaussian.mul(g).neg().add(1f), inTail);
        }
        return value.reinterpretAsInts()
                .or(x.reinterpretAsInts().and(Integer.MIN_VALUE))
                .reinterpretAsFloats();
    }

    // ---- FLOAT64 -----------------------------------------------------------------------------------

    private static final double SPLIT_D = 0.875;
    /** erfc(6) = 2.2e-17 is below half an ulp of 1.0 (2^-54), so erf(x) rounds to 1 from 5.86 on. */
    private static final double CLAMP_D = 6;
    /** The tail's G is a polynomial in 1 / (x + TAIL_SHIFT_D); see {@link #erf(DoubleVector, DoubleVector)}. */
    private static final double TAIL_SHIFT_D = 2.5;

    // Vector constants as in FLOAT32; TAIL_k is the coefficient of u^k in P(u).
    private static final DoubleVector ONE_D = DoubleVector.broadcast(D, 1.0);
    private static final DoubleVector HEAD_0_D = DoubleVector.broadcast(D, 1.2837916709551256e-01);
    private static final DoubleVector HEAD_1_D = DoubleVector.broadcast(D, -3.761263890318299e-01);
    private static final DoubleVector HEAD_2_D = DoubleVector.broadcast(D, 1.1283791670915633e-01);
    private static final DoubleVector HEAD_3_D = DoubleVector.broadcast(D, -2.6866170637149207e-02);
    private static final DoubleVector HEAD_4_D = DoubleVector.broadcast(D, 5.2239775424832435e-03);
    private static final DoubleVector HEAD_5_D = DoubleVector.broadcast(D, -8.548321979194532e-04);
    private static final DoubleVector HEAD_6_D = DoubleVector.broadcast(D, 1.205514112765989e-04);
    private static final DoubleVector HEAD_7_D = DoubleVector.broadcast(D, -1.4920942836390893e-05);
    private static final DoubleVector HEAD_8_D = DoubleVector.broadcast(D, 1.6387383100797646e-06);
    private static final DoubleVector HEAD_9_D = DoubleVector.broadcast(D, -1.5619306564119767e-07);
    private static final DoubleVector HEAD_10_D = DoubleVector.broadcast(D, 1.0456909176333059e-08);
    private static final DoubleVector TAIL_0_D = DoubleVector.broadcast(D, 5.641462022802752e-01);
    private static final DoubleVector TAIL_1_D = DoubleVector.broadcast(D, 1.412956849239161);
    private static final DoubleVector TAIL_2_D = DoubleVector.broadcast(D, 3.1794530541758386);
    private static final DoubleVector TAIL_3_D = DoubleVector.broadcast(D, 7.711232043742301);
    private static final DoubleVector TAIL_4_D = DoubleVector.broadcast(D, 1.3040274864857209);
    private static final DoubleVector TAIL_5_D = DoubleVector.broadcast(D, 9.395369295560802e+01);
    private static final DoubleVector TAIL_6_D = DoubleVector.broadcast(D, -3.962842971202613e+02);
    private static final DoubleVector TAIL_7_D = DoubleVector.broadcast(D, 1.4983831886314579e+03);
    private static final DoubleVector TAIL_8_D = DoubleVector.broadcast(D, -3.989605019391455e+03);
    private static final DoubleVector TAIL_9_D = DoubleVector.broadcast(D, 6.167642130054631e+03);
    private static final DoubleVector TAIL_10_D = DoubleVector.broadcast(D, -5.113685892190411e+03);
    private static final DoubleVector TAIL_11_D = DoubleVector.broadcast(D, 1.7935377003848716e+03);

    /** erf(x) as {@link #erf(FloatVector)}. */
    static DoubleVector erf(DoubleVector x) {
        return erf(x, needsTail(x) ? VectorExp.exp(tailExponent(x)) : x);
    }

    static boolean needsTail(DoubleVector x) {
        return x.abs().compare(VectorOperators.GE, SPLIT_D).anyTrue();
    }

    /** {@code -b^2} for b = min(|x|, CLAMP_D). */
    static DoubleVector tailExponent(DoubleVector x) {
        DoubleVector b = x.abs().min(CLAMP_D);
        return b.mul(b).neg();
    }

    /**
     * erf(x) from {@code gaussian}, as {@link #erf(FloatVector, FloatVector)}. The tail's G is
     * {@code u P(u)} with u = 1 / (b + 2.5) and P of degree 11 (weighted error 2^-57.9 in erf): G
     * behaves like 1 / (b sqrt(pi)), which a polynomial in b alone needs degree 21 to follow to double
     * precision, and that many vector operations in one loop body exceed what C2 inlines in one
     * compilation (NodeCountInliningCutoff), even with the constants: exp was left a call and every
     * vector boxed (48 B per element). One division costs less than ten fmas and a boxed vector.
     */
    static DoubleVector erf(DoubleVector x, DoubleVector gaussian) {
        DoubleVector a = x.abs();
        VectorMask<Double> inTail = a.compare(VectorOperators.GE, SPLIT_D);
        DoubleVector z = a.mul(a);
        DoubleVector value = HEAD_10_D.fma(z, HEAD_9_D).fma(z, HEAD_8_D).fma(z, HEAD_7_D).fma(z, HEAD_6_D)
                .fma(z, HEAD_5_D).fma(z, HEAD_4_D).fma(z, HEAD_3_D).fma(z, HEAD_2_D).fma(z, HEAD_1_D)
                .fma(z, HEAD_0_D).fma(a, a);
        if (inTail.anyTrue()) {
            DoubleVector u = ONE_D.div(a.min(CLAMP_D).add(TAIL_SHIFT_D));
            DoubleVector g = TAIL_11_D.fma(u, TAIL_10_D).fma(u, TAIL_9_D).fma(u, TAIL_8_D).fma(u, TAIL_7_D)
                    .fma(u, TAIL_6_D).fma(u, TAIL_5_D).fma(u, TAIL_4_D).fma(u, TAIL_3_D).fma(u, TAIL_2_D)
                    .fma(u, TAIL_1_D).fma(u, TAIL_0_D).mul(u);
            value = value.blend(gaussian.mul(g).neg().add(1.0), inTail);
        }
        return value.reinterpretAsLongs()
                .or(x.reinterpretAsLongs().and(Long.MIN_VALUE))
                .reinterpretAsDoubles();
    }
}
