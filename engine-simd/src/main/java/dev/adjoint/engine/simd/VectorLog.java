package dev.adjoint.engine.simd;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * ln x and ln(1 + x) lane by lane, in plain vector arithmetic, for the same reason as
 * {@link VectorExp}: {@code lanewise(VectorOperators.LOG)} calls an out-of-line SVML stub per vector.
 *
 * <p>The reduction: {@code x = 2^k m} with {@code m} in [sqrt(2)/2, sqrt(2)), read from the bits
 * (subtracting the bits of sqrt(2)/2 first makes the exponent field round to the nearest k instead of
 * flooring), so {@code f = m - 1} is exact and in [-0.29, 0.41]. Then
 * {@code ln(1 + f) = 2 atanh(s)} with {@code s = f / (2 + f)}, |s| <= 0.172, written as
 * {@code f - s (f - R(s^2))} where {@code R(z) = 2 atanh(s)/s - 2} is a polynomial, z Q(z), with Q of
 * degree 6 (FLOAT64) or 2 (FLOAT32), our own minimax fit (Lawson's iteration, mpmath;
 * minimax-fits.py in the test resources) for the least absolute error of R (2^-58.5 and 2^-29.2).
 * f is the bulk of the result and enters unrounded; the
 * correction {@code s (f - R)} is at most a fifth of it, so its rounding errors are scaled down. The
 * result is {@code k ln2 + ln(1 + f)} with ln2 in two parts, the high part's product exact inside an fma.
 *
 * <p>log1p(x) uses the same core on {@code u = 1 + x}, whose rounding error {@code c = x - (u - 1)}
 * (exact while u < 2^53) is put back as {@code d = c 2^-k}: ln(u + c) = k ln2 + ln(1 + f + d). For
 * tiny x, u = 1, f = 0 and d = x, so log1p(x) = x - x^2/2... stays accurate.
 *
 * <p>Accuracy, measured in {@code VectorLogTest} over dense sweeps against {@link StrictMath#log} and
 * {@link StrictMath#log1p}: within 1 ulp of them in both dtypes (FLOAT32 log 0.94 ulp from the exact
 * value, log1p 0.87 ulp), subnormal arguments included.
 *
 * <p>Vectors whose lanes are all positive, normal and finite (for log1p: above -1 and finite) take the
 * short path; any other vector takes the long one, which scales subnormals by 2^52 (2^23) into normal
 * range, then puts in the special values: ln(±0) = -Inf, ln(negative) = NaN, ln(+Inf) = +Inf, NaN
 * stays NaN; log1p(-1) = -Inf, log1p(x < -1) = NaN. The long path computes the short path's lanes
 * with the same operations, so a value's result does not depend on the other lanes of its vector.
 */
final class VectorLog {
    private VectorLog() {
    }

    // ---- FLOAT32 -----------------------------------------------------------------------------------

    private static final int SQRT_HALF_BITS_F = Float.floatToRawIntBits(0.70710677f);
    private static final int MANTISSA_F = (1 << 23) - 1;
    /** 1.5 * 2^23: the bits of it plus a small integer k are the float 1.5 * 2^23 + k. */
    private static final float ROUND_F = 12582912f;
    private static final int ROUND_BITS_F = Float.floatToRawIntBits(ROUND_F);
    private static final float LN2_HI_F = 0.6931472f;
    private static final float LN2_LO_F = -1.9046542e-9f;
    /** 2^23: multiplies a subnormal into the normal range. */
    private static final float SUBNORMAL_SCALE_F = 8388608f;

    static FloatVector log(FloatVector x) {
        // NaN fails both comparisons and takes the long path.
        if (x.compare(VectorOperators.GE, Float.MIN_NORMAL).and(x.compare(VectorOperators.LE, Float.MAX_VALUE))
                .allTrue()) {
            return logOfNormal(x, null, x.broadcast(0f));
        }
        VectorMask<Float> subnormal = x.compare(VectorOperators.LT, Float.MIN_NORMAL);
        // Zero, negative and NaN lanes get some value here, replaced below.
        FloatVector scaled = x.blend(x.mul(SUBNORMAL_SCALE_F), subnormal);
        FloatVector y = logOfNormal(scaled, null, x.broadcast(0f).blend(-23f, subnormal));
        y = y.blend(Float.NEGATIVE_INFINITY, x.compare(VectorOperators.EQ, 0f));
        y = y.blend(Float.POSITIVE_INFINITY, x.compare(VectorOperators.EQ, Float.POSITIVE_INFINITY));
        return y.blend(Float.NaN, x.compare(VectorOperators.LT, 0f).or(x.test(VectorOperators.IS_NAN)));
    }

    static FloatVector log1p(FloatVector x) {
        if (x.compare(VectorOperators.GT, -1f).and(x.compare(VectorOperators.LE, Float.MAX_VALUE)).allTrue()) {
            return log1pInRange(x);
        }
        VectorMask<Float> inRange = x.compare(VectorOperators.GT, -1f).and(x.compare(VectorOperators.LE, Float.MAX_VALUE));
        FloatVector y = log1pInRange(x.blend(0f, inRange.not()));
        y = y.blend(Float.NEGATIVE_INFINITY, x.compare(VectorOperators.EQ, -1f));
        y = y.blend(Float.POSITIVE_INFINITY, x.compare(VectorOperators.EQ, Float.POSITIVE_INFINITY));
        return y.blend(Float.NaN, x.compare(VectorOperators.LT, -1f).or(x.test(VectorOperators.IS_NAN)));
    }

    /**
     * ln(1 + x) for -1 < x <= Float.MAX_VALUE; u = 1 + x is then a normal float. ln(1 + x) has x's sign,
     * which is put back so that log1p(-0) = -0 (the sum gives +0).
     */
    private static FloatVector log1pInRange(FloatVector x) {
        FloatVector u = x.add(1f);
        FloatVector c = x.sub(u.sub(1f));
        return logOfNormal(u, c, x.broadcast(0f)).reinterpretAsInts()
                .or(x.reinterpretAsInts().and(Integer.MIN_VALUE))
                .reinterpretAsFloats();
    }

    /**
     * ln(x 2^extraK) for positive, normal, finite x; with {@code c} non-null, ln(x + c) for |c| at most
     * an ulp of x.
     */
    private static FloatVector logOfNormal(FloatVector x, FloatVector c, FloatVector extraK) {
        IntVector shifted = x.reinterpretAsInts().sub(SQRT_HALF_BITS_F);
        IntVector k = shifted.lanewise(VectorOperators.ASHR, 23);
        FloatVector f = shifted.and(MANTISSA_F).add(SQRT_HALF_BITS_F).reinterpretAsFloats().sub(1f);
        FloatVector d = null;
        if (c != null) {
            // 2^-k from the exponent bits. From k = 127 on (x past 2^126) 2^-k is not a normal float;
            // there c, at most an ulp of x, is far below the last bit of ln x, so k stops at 127, where
            // the bits make +0 and c is dropped.
            FloatVector twoToMinusK = k.min(127).neg().add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            d = c.mul(twoToMinusK);
        }
        FloatVector kf = k.add(ROUND_BITS_F).reinterpretAsFloats().sub(ROUND_F).add(extraK);
        return kf.fma(x.broadcast(LN2_HI_F), kf.fma(x.broadcast(LN2_LO_F), lnOnePlus(f, d)));
    }

    /**
     * ln(1 + f + d) for sqrt(2)/2 - 1 <= f < sqrt(2) - 1 and d at most an ulp of 1 + f, or null for 0; a
     * method of its own to keep each one small for C2. d enters as d / (1 + f) ~ d (1 - 2s) (off by at
     * most 2 s^2 < 6% of a term below an ulp) inside the correction, so that f itself is not rounded
     * again: adding d to f first costs up to half an ulp of f, a whole ulp of the result near
     * x = sqrt(2), where k ln2 and ln(1 + f) nearly cancel.
     */
    private static FloatVector lnOnePlus(FloatVector f, FloatVector d) {
        FloatVector s = f.div(f.add(2f));
        FloatVector z = s.mul(s);
        FloatVector r = f.broadcast(2.9871756e-1f).fma(z, f.broadcast(3.9977542e-1f))
                .fma(z, f.broadcast(6.6666776e-1f))
                .mul(z);
        if (d == null) {
            return s.neg().fma(f.sub(r), f);
        }
        return f.sub(s.fma(f.sub(r), d.mul(s.add(s).sub(1f))));
    }

    // ---- FLOAT64 -----------------------------------------------------------------------------------

    private static final long SQRT_HALF_BITS_D = Double.doubleToRawLongBits(0.7071067811865476);
    private static final long MANTISSA_D = (1L << 52) - 1;
    private static final double ROUND_D = 6755399441055744.0;
    private static final long ROUND_BITS_D = Double.doubleToRawLongBits(ROUND_D);
    private static final double LN2_HI_D = 0.6931471805599453;
    private static final double LN2_LO_D = 2.3190468138462996e-17;
    private static final double SUBNORMAL_SCALE_D = 4503599627370496.0;

    /** ln x as {@link #log(FloatVector)}. */
    static DoubleVector log(DoubleVector x) {
        if (x.compare(VectorOperators.GE, Double.MIN_NORMAL).and(x.compare(VectorOperators.LE, Double.MAX_VALUE))
                .allTrue()) {
            return logOfNormal(x, null, x.broadcast(0.0));
        }
        VectorMask<Double> subnormal = x.compare(VectorOperators.LT, Double.MIN_NORMAL);
        DoubleVector scaled = x.blend(x.mul(SUBNORMAL_SCALE_D), subnormal);
        DoubleVector y = logOfNormal(scaled, null, x.broadcast(0.0).blend(-52.0, subnormal));
        y = y.blend(Double.NEGATIVE_INFINITY, x.compare(VectorOperators.EQ, 0.0));
        y = y.blend(Double.POSITIVE_INFINITY, x.compare(VectorOperators.EQ, Double.POSITIVE_INFINITY));
        return y.blend(Double.NaN, x.compare(VectorOperators.LT, 0.0).or(x.test(VectorOperators.IS_NAN)));
    }

    /** ln(1 + x) as {@link #log1p(FloatVector)}. */
    static DoubleVector log1p(DoubleVector x) {
        if (x.compare(VectorOperators.GT, -1.0).and(x.compare(VectorOperators.LE, Double.MAX_VALUE)).allTrue()) {
            return log1pInRange(x);
        }
        VectorMask<Double> inRange = x.compare(VectorOperators.GT, -1.0).and(x.compare(VectorOperators.LE, Double.MAX_VALUE));
        DoubleVector y = log1pInRange(x.blend(0.0, inRange.not()));
        y = y.blend(Double.NEGATIVE_INFINITY, x.compare(VectorOperators.EQ, -1.0));
        y = y.blend(Double.POSITIVE_INFINITY, x.compare(VectorOperators.EQ, Double.POSITIVE_INFINITY));
        return y.blend(Double.NaN, x.compare(VectorOperators.LT, -1.0).or(x.test(VectorOperators.IS_NAN)));
    }

    private static DoubleVector log1pInRange(DoubleVector x) {
        DoubleVector u = x.add(1.0);
        DoubleVector c = x.sub(u.sub(1.0));
        return logOfNormal(u, c, x.broadcast(0.0)).reinterpretAsLongs()
                .or(x.reinterpretAsLongs().and(Long.MIN_VALUE))
                .reinterpretAsDoubles();
    }

    private static DoubleVector logOfNormal(DoubleVector x, DoubleVector c, DoubleVector extraK) {
        LongVector shifted = x.reinterpretAsLongs().sub(SQRT_HALF_BITS_D);
        LongVector k = shifted.lanewise(VectorOperators.ASHR, 52);
        DoubleVector f = shifted.and(MANTISSA_D).add(SQRT_HALF_BITS_D).reinterpretAsDoubles().sub(1.0);
        DoubleVector d = null;
        if (c != null) {
            DoubleVector twoToMinusK = k.min(1023).neg().add(1023).lanewise(VectorOperators.LSHL, 52)
                    .reinterpretAsDoubles();
            d = c.mul(twoToMinusK);
        }
        DoubleVector kd = k.add(ROUND_BITS_D).reinterpretAsDoubles().sub(ROUND_D).add(extraK);
        return kd.fma(x.broadcast(LN2_HI_D), kd.fma(x.broadcast(LN2_LO_D), lnOnePlus(f, d)));
    }

    private static DoubleVector lnOnePlus(DoubleVector f, DoubleVector d) {
        DoubleVector s = f.div(f.add(2.0));
        DoubleVector z = s.mul(s);
        DoubleVector r = f.broadcast(1.4796064527412384e-01).fma(z, f.broadcast(1.5314038112649925e-01))
                .fma(z, f.broadcast(1.818356486030777e-01))
                .fma(z, f.broadcast(2.2222198561682582e-01))
                .fma(z, f.broadcast(2.8571428742516386e-01))
                .fma(z, f.broadcast(3.999999999941399e-01))
                .fma(z, f.broadcast(6.666666666666734e-01))
                .mul(z);
        if (d == null) {
            return s.neg().fma(f.sub(r), f);
        }
        return f.sub(s.fma(f.sub(r), d.mul(s.add(s).sub(1.0))));
    }
}
