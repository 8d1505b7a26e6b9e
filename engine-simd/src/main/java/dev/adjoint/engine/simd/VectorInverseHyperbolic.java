package dev.adjoint.engine.simd;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * asinh, acosh and atanh lane by lane, in plain vector arithmetic on {@link DoubleLog}'s ln(1 + u):
 * the formulas of {@code dev.adjoint.spi.InverseHyperbolic} (fdlibm's), each range's argument of
 * ln computed without cancellation, and the ln of every range taken as ln(1 + u), so that a vector
 * whose lanes fall in different ranges takes one logarithm. Where the reference takes ln w of a
 * w >= 1 (asinh and acosh past 2), u = w - 1 is exact (1 is a multiple of w's last place), so only
 * ln's own rounding differs. FLOAT32 is the FLOAT64 kernel on widened values, rounded once
 * ({@link DoubleLanes}), as the reference computes, and so gives its bits but where the two doubles
 * round to floats either side of a tie.
 *
 * <p>The argument, the logarithm and the finish are three loops over a piece at a time ({@link #PIECE}),
 * each calling its pieces from its body (see {@link DoubleLog}), so all are inlined however C2 counts
 * the call sites and no vector crosses a call it may leave standing. Accuracy is
 * {@code VectorInverseHyperbolicTest}'s.
 */
final class VectorInverseHyperbolic {
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    /** Below it asinh(x) and atanh(x) are x to within half an ulp (the cubic term is below 2^-56 x). */
    private static final double TINY = 0x1p-28;
    /** Past it sqrt(x^2 + 1) and sqrt(x^2 - 1) are x to double precision: asinh and acosh are ln x + ln 2. */
    private static final double HUGE = 0x1p28;
    private static final double LN2 = Math.log(2.0);
    private static final long SIGN_BIT = Long.MIN_VALUE;

    private VectorInverseHyperbolic() {
    }

    /**
     * Elements per piece: each piece takes three loops, the arguments u into a buffer of this thread,
     * ln(1 + u) in place there, and the finish from x and the logarithms into o. In one loop body the
     * argument, the logarithm and the finish are more than C2 inlines in one compilation
     * (NodeCountInliningCutoff), and the vectors of the call it left were boxed (36 bytes per element).
     * A piece is 8 KiB of doubles, in L1 across its three loops.
     */
    private static final int PIECE = 1024;

    /** asinh of {@code x[xo, xo + bound)} into o; bound a multiple of the vector length. */
    static void asinh(double[] x, int xo, double[] o, int oo, int bound) {
        ASINH.run(x, xo, o, oo, bound);
    }

    /** acosh, as {@link #asinh(double[], int, double[], int, int)}; NaN below 1. */
    static void acosh(double[] x, int xo, double[] o, int oo, int bound) {
        ACOSH.run(x, xo, o, oo, bound);
    }

    /** atanh, as {@link #asinh(double[], int, double[], int, int)}; NaN beyond [-1, 1], infinite at +-1. */
    static void atanh(double[] x, int xo, double[] o, int oo, int bound) {
        ATANH.run(x, xo, o, oo, bound);
    }

    /** FLOAT32 asinh through double lanes ({@link DoubleLanes}); {@code bound} a multiple of the preferred float species' length. */
    static void asinh(float[] x, int xo, float[] o, int oo, int bound) {
        DoubleLanes.run(x, xo, o, oo, bound, VectorInverseHyperbolic::asinh, dev.adjoint.spi.InverseHyperbolic::asinh);
    }

    static void acosh(float[] x, int xo, float[] o, int oo, int bound) {
        DoubleLanes.run(x, xo, o, oo, bound, VectorInverseHyperbolic::acosh, dev.adjoint.spi.InverseHyperbolic::acosh);
    }

    static void atanh(float[] x, int xo, float[] o, int oo, int bound) {
        DoubleLanes.run(x, xo, o, oo, bound, VectorInverseHyperbolic::atanh, dev.adjoint.spi.InverseHyperbolic::atanh);
    }

    /** Each function's three loops ({@link PieceLoops}), the logarithms passed in a buffer of a piece. */
    private static final ThreadLocal<double[]> LOGS = ThreadLocal.withInitial(() -> new double[PIECE]);
    private static final PieceLoops.Loop<double[]> LOG1P = (x, xo, logs, o, oo, n) -> log1p(logs, n);
    private static final PieceLoops<double[]> ASINH = new PieceLoops<>(PIECE, LOGS,
            (x, xo, logs, o, oo, n) -> asinhArguments(x, xo, logs, n), LOG1P, VectorInverseHyperbolic::asinhResults);
    private static final PieceLoops<double[]> ACOSH = new PieceLoops<>(PIECE, LOGS,
            (x, xo, logs, o, oo, n) -> acoshArguments(x, xo, logs, n), LOG1P, VectorInverseHyperbolic::acoshResults);
    private static final PieceLoops<double[]> ATANH = new PieceLoops<>(PIECE, LOGS,
            (x, xo, logs, o, oo, n) -> atanhArguments(x, xo, logs, n), LOG1P, VectorInverseHyperbolic::atanhResults);

    /**
     * The second loop: ln(1 + u) in place, for u >= 0 or NaN (every argument here), the lanes outside
     * {@link DoubleLog#log1pInRange}'s domain (infinite or NaN) given 0 and left for the third loop,
     * which knows what they are. DoubleLog's pieces are called from the loop body itself.
     */
    private static void log1p(double[] u, int n) {
        for (int i = 0; i < n; i += D.length()) {
            DoubleVector v = DoubleVector.fromArray(D, u, i);
            VectorMask<Double> inRange = DoubleLog.isInRange(v);
            DoubleLog.log1pInRange(inRange.allTrue() ? v : v.blend(0.0, inRange.not())).intoArray(u, i);
        }
    }

    private static void asinhArguments(double[] x, int xo, double[] u, int n) {
        for (int i = 0; i < n; i += D.length()) {
            asinhArgument(DoubleVector.fromArray(D, x, xo + i).abs()).intoArray(u, i);
        }
    }

    private static void asinhResults(double[] x, int xo, double[] logs, double[] o, int oo, int n) {
        for (int i = 0; i < n; i += D.length()) {
            asinhFinish(DoubleVector.fromArray(D, x, xo + i), DoubleVector.fromArray(D, logs, i)).intoArray(o, oo + i);
        }
    }

    private static void acoshArguments(double[] x, int xo, double[] u, int n) {
        for (int i = 0; i < n; i += D.length()) {
            acoshArgument(DoubleVector.fromArray(D, x, xo + i)).intoArray(u, i);
        }
    }

    private static void acoshResults(double[] x, int xo, double[] logs, double[] o, int oo, int n) {
        for (int i = 0; i < n; i += D.length()) {
            acoshFinish(DoubleVector.fromArray(D, x, xo + i), DoubleVector.fromArray(D, logs, i)).intoArray(o, oo + i);
        }
    }

    private static void atanhArguments(double[] x, int xo, double[] u, int n) {
        for (int i = 0; i < n; i += D.length()) {
            atanhArgument(DoubleVector.fromArray(D, x, xo + i).abs()).intoArray(u, i);
        }
    }

    private static void atanhResults(double[] x, int xo, double[] logs, double[] o, int oo, int n) {
        for (int i = 0; i < n; i += D.length()) {
            atanhFinish(DoubleVector.fromArray(D, x, xo + i), DoubleVector.fromArray(D, logs, i)).intoArray(o, oo + i);
        }
    }

    /**
     * u with asinh(a) = ln(1 + u), a = |x|: up to 2, {@code a + a^2 / (1 + sqrt(1 + a^2))}; up to
     * {@link #HUGE}, {@code 2a + 1 / (sqrt(a^2 + 1) + a) - 1}; beyond, {@code a - 1} (ln 2 is added
     * by the finish).
     */
    private static DoubleVector asinhArgument(DoubleVector a) {
        DoubleVector a2 = a.mul(a);
        DoubleVector root = a2.add(1.0).lanewise(VectorOperators.SQRT);
        DoubleVector u = a.add(a2.div(root.add(1.0)));
        u = u.blend(a.add(a).add(a.broadcast(1.0).div(root.add(a))).sub(1.0),
                a.compare(VectorOperators.GT, 2.0));
        return u.blend(a.sub(1.0), a.compare(VectorOperators.GT, HUGE));
    }

    /** asinh(x) from ln(1 + u): ln 2 past HUGE, x itself below TINY and for infinities and NaN, x's sign. */
    private static DoubleVector asinhFinish(DoubleVector x, DoubleVector ln) {
        DoubleVector a = x.abs();
        DoubleVector y = ln.add(a.broadcast(0.0).blend(LN2, a.compare(VectorOperators.GT, HUGE)));
        y = y.blend(a, a.compare(VectorOperators.LT, TINY).or(a.test(VectorOperators.IS_FINITE).not()));
        return y.reinterpretAsLongs().or(x.reinterpretAsLongs().and(SIGN_BIT)).reinterpretAsDoubles();
    }

    /**
     * u with acosh(x) = ln(1 + u), t = x - 1 (exact up to 2): up to 2, {@code t + sqrt(t (t + 2))};
     * up to HUGE, {@code 2x - 1 / (x + sqrt(t (t + 2))) - 1}; beyond, {@code t}.
     */
    private static DoubleVector acoshArgument(DoubleVector x) {
        DoubleVector t = x.sub(1.0);
        DoubleVector root = t.mul(t.add(2.0)).lanewise(VectorOperators.SQRT);
        DoubleVector u = t.add(root);
        u = u.blend(x.add(x).sub(x.broadcast(1.0).div(x.add(root))).sub(1.0), x.compare(VectorOperators.GT, 2.0));
        return u.blend(t, x.compare(VectorOperators.GT, HUGE));
    }

    /** acosh(x) from ln(1 + u): ln 2 past HUGE, infinity at infinity, NaN below 1 and at NaN. */
    private static DoubleVector acoshFinish(DoubleVector x, DoubleVector ln) {
        DoubleVector y = ln.add(x.broadcast(0.0).blend(LN2, x.compare(VectorOperators.GT, HUGE)));
        y = y.blend(Double.POSITIVE_INFINITY, x.compare(VectorOperators.EQ, Double.POSITIVE_INFINITY));
        return y.blend(Double.NaN, x.compare(VectorOperators.GE, 1.0).not());
    }

    /** u with atanh(a) = ln(1 + u) / 2, a = |x|: below 1/2, {@code 2a + 2a a / (1 - a)}; from there, {@code 2a / (1 - a)}. */
    private static DoubleVector atanhArgument(DoubleVector a) {
        DoubleVector twice = a.add(a);
        DoubleVector rest = a.broadcast(1.0).sub(a);
        DoubleVector u = twice.add(twice.mul(a).div(rest));
        return u.blend(twice.div(rest), a.compare(VectorOperators.GE, 0.5));
    }

    /** atanh(x) from ln(1 + u): half of it, x itself below TINY, infinity at 1, NaN beyond 1 and at NaN, x's sign. */
    private static DoubleVector atanhFinish(DoubleVector x, DoubleVector ln) {
        DoubleVector a = x.abs();
        DoubleVector y = ln.mul(0.5).blend(a, a.compare(VectorOperators.LT, TINY));
        y = y.blend(Double.POSITIVE_INFINITY, a.compare(VectorOperators.EQ, 1.0));
        y = y.blend(Double.NaN, a.compare(VectorOperators.LE, 1.0).not());
        return y.reinterpretAsLongs().or(x.reinterpretAsLongs().and(SIGN_BIT)).reinterpretAsDoubles();
    }
}
