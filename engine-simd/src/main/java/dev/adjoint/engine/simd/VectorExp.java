package dev.adjoint.engine.simd;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * e^x lane by lane, in plain vector arithmetic, for the elementwise kernels: exp itself, and sigmoid
 * and tanh, which are built on it. The JDK's {@code lanewise(VectorOperators.EXP)} calls an out-of-line
 * SVML stub per vector; this one is about twenty inlined instructions, so a loop over a large array
 * keeps enough loads in flight to run at memory speed (measured in {@code ElementwiseBenchmark}).
 *
 * <p>The method is the classic one (Cephes, SLEEF): {@code x = k ln2 + r} with {@code k} the
 * nearest integer to {@code x / ln2}, so {@code |r| <= ln2 / 2}; a polynomial for {@code e^r}; then
 * a multiply by {@code 2^k} built from exponent bits. Accuracy, measured over dense sweeps of the
 * whole domain against {@link StrictMath#exp} ({@code VectorExpTest}): within 1 ulp in both dtypes,
 * subnormal results included. tanh has its own fast path, a rational function for the lanes that
 * are small (see {@link #tanh(float[], int, float[], int, int)}); it is within 4 ulp of
 * {@link StrictMath#tanh} in both dtypes. The conformance tolerances (1e-4 / 1e-10 relative) are far
 * wider.
 *
 * <p>Vectors whose lanes all lie where the result is a normal number (|x| <= 86 for floats, 708 for
 * doubles) take the short path: k is added straight to the exponent bits of e^r. Any other vector
 * (a lane near overflow or underflow, an infinity, a NaN) takes the long one, where x is first clamped
 * to a range just wider than the finite results (min/max keep NaN, so NaN gives NaN) and {@code 2^k}
 * is applied as two factors {@code 2^(k/2)} and {@code 2^(k - k/2)}, each a normal number: results
 * past the largest value overflow to +Inf, and those below the smallest subnormal round to 0, in one
 * correctly rounded multiply. +Inf therefore gives +Inf and -Inf gives 0. A lane within the short
 * path's range gets the same bits from either path (both scale e^r by 2^k exactly), so a value's
 * result does not depend on the other lanes of its vector.
 *
 * <p>Inlining: a vector passed to or returned from a call C2 does not inline is boxed, an allocation
 * per vector. exp is meant to be called from the body of a loop, a call site C2 counts as hot
 * whatever the JIT's history, and is written out in one method: each further level of helpers is a
 * call site whose inlining depends on that history (its profile's counts, whether C1 left it a call
 * and C2 then compiled it on its own), and a helper left a call boxes every vector
 * ({@code GeluKernelAllocationTest}).
 */
final class VectorExp {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;

    private VectorExp() {
    }

    // ---- FLOAT32 -----------------------------------------------------------------------------------

    /** e^x overflows above 88.72 and is below half the smallest subnormal under -103.97. */
    private static final float MAX_F = 89f;
    private static final float MIN_F = -104f;
    private static final float LOG2E_F = 1.44269504088896341f;
    /**
     * 1.5 * 2^23: adding it rounds a float of magnitude under 2^22 to an integer (in the current
     * rounding mode, nearest-even) and leaves that integer in the low mantissa bits.
     */
    private static final float ROUND_F = 12582912f;
    /** ln2 in two parts (Cephes): k * LN2_HI_F is exact for the k that occur, so r keeps its low bits. */
    private static final float LN2_HI_F = 0.693359375f;
    private static final float LN2_LO_F = -2.12194440e-4f;

    /** Below this |x| every result is a normal float, and 2^k can be added to the exponent bits directly. */
    private static final float NORMAL_LIMIT_F = 86f;

    static FloatVector exp(FloatVector x) {
        // The usual case takes the short path; NaN fails the comparison and takes the long one.
        boolean normal = x.abs().compare(VectorOperators.LE, NORMAL_LIMIT_F).allTrue();
        FloatVector c = normal ? x : x.max(MIN_F).min(MAX_F);
        FloatVector shifted = c.fma(LOG2E_F, ROUND_F);
        // x = k ln2 + r, ln2 in two parts; e^r = 1 + r + r^2 P(r). Written out here and in tanh rather than
        // a helper: see the class comment on inlining.
        FloatVector k = shifted.sub(ROUND_F);
        FloatVector r = k.fma(NEG_LN2_LO_F, k.fma(NEG_LN2_HI_F, c));
        FloatVector e = EXPM1_0_F.fma(r, EXPM1_1_F).fma(r, EXPM1_2_F).fma(r, EXPM1_3_F).fma(r, EXPM1_4_F)
                .fma(r, EXPM1_5_F).fma(r.mul(r), r).add(1f);
        if (normal) {
            // k sits in the low mantissa bits of shifted, and the bits above it are shifted out.
            return e.reinterpretAsInts().add(shifted.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23))
                    .reinterpretAsFloats();
        }
        // 2^k as two factors 2^half and 2^(k - half), each a normal float straight from its exponent bits.
        IntVector kBits = shifted.reinterpretAsInts().sub(Float.floatToRawIntBits(ROUND_F));
        IntVector half = kBits.lanewise(VectorOperators.ASHR, 1);
        return e.mul(half.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats())
                .mul(kBits.sub(half).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
    }

    // Cephes expf's minimax polynomial for (e^r - 1 - r) / r^2 on |r| <= ln2 / 2 (EXPM1_k: the
    // coefficient of r^(5-k)), as vector constants: a broadcast per coefficient is more bytecode,
    // and FLOAT64's exp then passed FreqInlineSize (325 bytes), past which C2 inlines no call.
    private static final FloatVector NEG_LN2_HI_F = FloatVector.broadcast(F, -LN2_HI_F);
    private static final FloatVector NEG_LN2_LO_F = FloatVector.broadcast(F, -LN2_LO_F);
    private static final FloatVector EXPM1_0_F = FloatVector.broadcast(F, 1.9875691500e-4f);
    private static final FloatVector EXPM1_1_F = FloatVector.broadcast(F, 1.3981999507e-3f);
    private static final FloatVector EXPM1_2_F = FloatVector.broadcast(F, 8.3334519073e-3f);
    private static final FloatVector EXPM1_3_F = FloatVector.broadcast(F, 4.1665795894e-2f);
    private static final FloatVector EXPM1_4_F = FloatVector.broadcast(F, 1.6666665459e-1f);
    private static final FloatVector EXPM1_5_F = FloatVector.broadcast(F, 5.0000001201e-1f);

    /** 2|x| past which tanh(x) rounds to 1 in float (from |x| = 9.01); keeps 2^k far from overflow. */
    private static final float TANH_CLAMP_F = 20f;

    /**
     * Below this |x| a FLOAT32 tanh vector takes {@link #tanhRational(FloatVector)}. Inputs to tanh in a
     * network are mostly within a few units of 0, so nearly every vector does; the bound is as far as
     * the degree (3, 3) rational stays within 4 ulp (past 3 its Horner roundings, which grow with x^2,
     * reach 4 ulp).
     */
    private static final float TANH_RATIONAL_LIMIT_F = 3f;

    /**
     * {@code o[oo + i] = tanh(x[xo + i])} for {@code i < bound}, a multiple of the preferred species'
     * length. Each lane with |x| <= {@link #TANH_RATIONAL_LIMIT_F} takes the rational function, about
     * 10 instructions; any other (a larger lane, an infinity, a NaN, which fails the comparison) the
     * exp-based {@link #tanh(FloatVector)}, about twice as many, which also gives exactly +-1 for large
     * |x|. The choice is per lane, so that a value's result does not depend on its neighbours; a
     * vector computes only the formulas its lanes need, so the loop runs at the rational's speed
     * unless large lanes are common, and then at about the exp-based one's
     * ({@code ElementwiseBenchmark.tanhWide}).
     */
    static void tanh(float[] x, int xo, float[] o, int oo, int bound) {
        for (int i = 0; i < bound; i += F.length()) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i);
            if (v.abs().compare(VectorOperators.LE, TANH_RATIONAL_LIMIT_F).allTrue()) {
                tanhRational(v).intoArray(o, oo + i);
            } else {
                tanhLaneByLaneAt(x, xo + i, o, oo + i);
            }
        }
    }

    /**
     * A vector with a lane past the rational's range: the exp-based formula, and the rational in the
     * lanes within that range if there are any. The rare branch loads and stores its own vector: C2
     * may leave a cold call out of line, and a vector passed to a call that is not inlined is boxed,
     * an allocation per vector.
     */
    private static void tanhLaneByLaneAt(float[] x, int xi, float[] o, int oi) {
        FloatVector v = FloatVector.fromArray(F, x, xi);
        VectorMask<Float> small = v.abs().compare(VectorOperators.LE, TANH_RATIONAL_LIMIT_F);
        FloatVector y = tanh(v);
        if (small.anyTrue()) {
            y = y.blend(tanhRational(v), small);
        }
        y.intoArray(o, oi);
    }

    /**
     * tanh(x) for |x| <= {@link #TANH_RATIONAL_LIMIT_F}: {@code x P(x^2) / Q(x^2)}, a degree (3, 3)
     * near-minimax fit of tanh(x) / x in relative error (2.9e-9 with the coefficients rounded to
     * float), made for this class by {@code tools/fit-tanh-rational.py}. P(0) = Q(0) = 1, and the
     * numerator is summed as {@code x + x^3 P'} and the denominator as {@code 1 + x^2 Q'}, so that
     * neither 1 is rounded on its own: tiny x and -0 come out exact, and the error stays within 4 ulp
     * (3.6 at worst over every float in [0, 3]). The function is odd, so negative x need no sign
     * handling.
     */
    static FloatVector tanhRational(FloatVector x) {
        FloatVector t = x.mul(x);
        FloatVector p = x.broadcast(6.419148576242151e-06f).fma(t, x.broadcast(0.0026845107786357403f))
                .fma(t, x.broadcast(0.1271734982728958f));
        FloatVector q = x.broadcast(0.00019156788766849786f).fma(t, x.broadcast(0.022853467613458633f))
                .fma(t, x.broadcast(0.4605068266391754f));
        return x.mul(t).fma(p, x).div(q.fma(t, x.broadcast(1f)));
    }

    /**
     * tanh(x) = q / (q + 2) with q = e^2|x| - 1, x's sign bit put back (so -0 stays -0 and NaN
     * stays NaN); for any x, within 2.5 ulp, and exactly +-1 from |x| = 9.01. q comes from the
     * reduction of {@link #exp(FloatVector)} as {@code 2^k (e^r - 1) + (2^k - 1)}, with
     * {@code e^r - 1} summed without its leading 1: for small |x| (k = 0) it is as accurate relative to
     * x as e^r is, so one formula serves the whole range and no lane pays for a second branch.
     */
    static FloatVector tanh(FloatVector x) {
        FloatVector a = x.abs();
        FloatVector twice = a.add(a);
        // A compare and blend, cheaper than min's NaN handling; NaN compares false and stays.
        FloatVector u = twice.blend(TANH_CLAMP_F, twice.compare(VectorOperators.GT, TANH_CLAMP_F));
        FloatVector shifted = u.fma(LOG2E_F, ROUND_F);
        FloatVector twoToK = shifted.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23).add(127 << 23)
                .reinterpretAsFloats();
        // e^r - 1, as in exp, written out.
        FloatVector k = shifted.sub(ROUND_F);
        FloatVector r = k.fma(NEG_LN2_LO_F, k.fma(NEG_LN2_HI_F, u));
        FloatVector expm1 = EXPM1_0_F.fma(r, EXPM1_1_F).fma(r, EXPM1_2_F).fma(r, EXPM1_3_F).fma(r, EXPM1_4_F)
                .fma(r, EXPM1_5_F).fma(r.mul(r), r);
        FloatVector q = expm1.fma(twoToK, twoToK.sub(1f));
        return q.div(q.add(2f)).reinterpretAsInts()
                .or(x.reinterpretAsInts().and(Integer.MIN_VALUE))
                .reinterpretAsFloats();
    }

    // ---- FLOAT64 -----------------------------------------------------------------------------------

    /** e^x overflows above 709.78 and is below half the smallest subnormal under -745.13. */
    private static final double MAX_D = 710;
    private static final double MIN_D = -746;
    private static final double LOG2E_D = 1.4426950408889634;
    /** 1.5 * 2^52: see {@link #ROUND_F}. */
    private static final double ROUND_D = 6755399441055744.0;
    /** fdlibm's split of ln2: the high part has 32 significant bits, so k * LN2_HI_D is exact. */
    private static final double LN2_HI_D = 6.93147180369123816490e-01;
    private static final double LN2_LO_D = 1.90821492927058770002e-10;

    /** Below this |x| every result is a normal double. */
    private static final double NORMAL_LIMIT_D = 708;

    static DoubleVector exp(DoubleVector x) {
        boolean normal = x.abs().compare(VectorOperators.LE, NORMAL_LIMIT_D).allTrue();
        DoubleVector c = normal ? x : x.max(MIN_D).min(MAX_D);
        DoubleVector shifted = c.fma(LOG2E_D, ROUND_D);
        // e^r as in FLOAT32.
        DoubleVector k = shifted.sub(ROUND_D);
        DoubleVector r = k.fma(NEG_LN2_LO_D, k.fma(NEG_LN2_HI_D, c));
        DoubleVector e = EXPM1_0_D.fma(r, EXPM1_1_D).fma(r, EXPM1_2_D).fma(r, EXPM1_3_D).fma(r, EXPM1_4_D)
                .fma(r, EXPM1_5_D).fma(r, EXPM1_6_D).fma(r, EXPM1_7_D).fma(r, EXPM1_8_D).fma(r, EXPM1_9_D)
                .fma(r, EXPM1_10_D).fma(r.mul(r), r).add(1.0);
        if (normal) {
            return e.reinterpretAsLongs().add(shifted.reinterpretAsLongs().lanewise(VectorOperators.LSHL, 52))
                    .reinterpretAsDoubles();
        }
        LongVector kBits = shifted.reinterpretAsLongs().sub(Double.doubleToRawLongBits(ROUND_D));
        LongVector half = kBits.lanewise(VectorOperators.ASHR, 1);
        return e.mul(half.add(1023).lanewise(VectorOperators.LSHL, 52).reinterpretAsDoubles())
                .mul(kBits.sub(half).add(1023).lanewise(VectorOperators.LSHL, 52).reinterpretAsDoubles());
    }

    // SLEEF's minimax polynomial for (e^r - 1 - r) / r^2 on |r| <= ln2 / 2 (degree 12 in all;
    // EXPM1_k: the coefficient of r^(10-k)).
    private static final DoubleVector NEG_LN2_HI_D = DoubleVector.broadcast(D, -LN2_HI_D);
    private static final DoubleVector NEG_LN2_LO_D = DoubleVector.broadcast(D, -LN2_LO_D);
    private static final DoubleVector EXPM1_0_D = DoubleVector.broadcast(D, 2.08860621107283687536341e-09);
    private static final DoubleVector EXPM1_1_D = DoubleVector.broadcast(D, 2.51112930892876518610661e-08);
    private static final DoubleVector EXPM1_2_D = DoubleVector.broadcast(D, 2.75573911234900471893338e-07);
    private static final DoubleVector EXPM1_3_D = DoubleVector.broadcast(D, 2.75572362911928827629423e-06);
    private static final DoubleVector EXPM1_4_D = DoubleVector.broadcast(D, 2.4801587159235472998791e-05);
    private static final DoubleVector EXPM1_5_D = DoubleVector.broadcast(D, 0.000198412698960509205564975);
    private static final DoubleVector EXPM1_6_D = DoubleVector.broadcast(D, 0.00138888888889774492207962);
    private static final DoubleVector EXPM1_7_D = DoubleVector.broadcast(D, 0.00833333333331652721664984);
    private static final DoubleVector EXPM1_8_D = DoubleVector.broadcast(D, 0.0416666666666665047591422);
    private static final DoubleVector EXPM1_9_D = DoubleVector.broadcast(D, 0.166666666666666851703837);
    private static final DoubleVector EXPM1_10_D = DoubleVector.broadcast(D, 0.5);

    /** 2|x| past which tanh(x) rounds to 1 in double (from |x| = 19.06). */
    private static final double TANH_CLAMP_D = 44;

    /**
     * As {@link #TANH_RATIONAL_LIMIT_F}; FLOAT64 needs degree (5, 5) here, within 4 ulp of
     * {@link StrictMath#tanh} (itself within 1 ulp of the exact value) up to 3.5.
     */
    private static final double TANH_RATIONAL_LIMIT_D = 3.5;

    /** As {@link #tanh(float[], int, float[], int, int)}. */
    static void tanh(double[] x, int xo, double[] o, int oo, int bound) {
        for (int i = 0; i < bound; i += D.length()) {
            DoubleVector v = DoubleVector.fromArray(D, x, xo + i);
            if (v.abs().compare(VectorOperators.LE, TANH_RATIONAL_LIMIT_D).allTrue()) {
                tanhRational(v).intoArray(o, oo + i);
            } else {
                tanhLaneByLaneAt(x, xo + i, o, oo + i);
            }
        }
    }

    private static void tanhLaneByLaneAt(double[] x, int xi, double[] o, int oi) {
        DoubleVector v = DoubleVector.fromArray(D, x, xi);
        VectorMask<Double> small = v.abs().compare(VectorOperators.LE, TANH_RATIONAL_LIMIT_D);
        DoubleVector y = tanh(v);
        if (small.anyTrue()) {
            y = y.blend(tanhRational(v), small);
        }
        y.intoArray(o, oi);
    }

    /**
     * As {@link #tanhRational(FloatVector)}, degree (5, 5) for |x| <= {@link #TANH_RATIONAL_LIMIT_D}
     * (fit error 3.4e-17 relative with the coefficients rounded to double; the rest of the 4 ulp are
     * the roundings of numerator, denominator and quotient).
     */
    static DoubleVector tanhRational(DoubleVector x) {
        DoubleVector t = x.mul(x);
        DoubleVector p = x.broadcast(6.408465736661955e-11).fma(t, x.broadcast(1.470206563290346e-07))
                .fma(t, x.broadcast(4.7889845654450466e-05))
                .fma(t, x.broadcast(0.004634156140954675))
                .fma(t, x.broadcast(0.14253430103677311));
        DoubleVector q = x.broadcast(4.39955938249803e-09).fma(t, x.broadcast(3.1487397001601185e-06))
                .fma(t, x.broadcast(0.0005415817637778257))
                .fma(t, x.broadcast(0.029923367597657884))
                .fma(t, x.broadcast(0.47586763437010626));
        return x.mul(t).fma(p, x).div(q.fma(t, x.broadcast(1.0)));
    }

    /** tanh(x) as {@link #tanh(FloatVector)}: within 3 ulp for any x, exactly +-1 from |x| = 19.06. */
    static DoubleVector tanh(DoubleVector x) {
        DoubleVector a = x.abs();
        DoubleVector twice = a.add(a);
        DoubleVector u = twice.blend(TANH_CLAMP_D, twice.compare(VectorOperators.GT, TANH_CLAMP_D));
        DoubleVector shifted = u.fma(LOG2E_D, ROUND_D);
        DoubleVector twoToK = shifted.reinterpretAsLongs().lanewise(VectorOperators.LSHL, 52).add(1023L << 52)
                .reinterpretAsDoubles();
        DoubleVector k = shifted.sub(ROUND_D);
        DoubleVector r = k.fma(NEG_LN2_LO_D, k.fma(NEG_LN2_HI_D, u));
        DoubleVector expm1 = EXPM1_0_D.fma(r, EXPM1_1_D).fma(r, EXPM1_2_D).fma(r, EXPM1_3_D).fma(r, EXPM1_4_D)
                .fma(r, EXPM1_5_D).fma(r, EXPM1_6_D).fma(r, EXPM1_7_D).fma(r, EXPM1_8_D).fma(r, EXPM1_9_D)
                .fma(r, EXPM1_10_D).fma(r.mul(r), r);
        DoubleVector q = expm1.fma(twoToK, twoToK.sub(1.0));
        return q.div(q.add(2.0)).reinterpretAsLongs()
                .or(x.reinterpretAsLongs().and(Long.MIN_VALUE))
                .reinterpretAsDoubles();
    }
}
