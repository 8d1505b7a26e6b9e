package dev.adjoint.engine.simd;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * sin, cos and tan lane by lane, in plain vector arithmetic. Not {@code lanewise(VectorOperators.SIN)}:
 * that runs Math.sin per lane until C2 compiles it and then an SVML call, which differs in the last
 * bit (58 of 1024 floats in [-6, 6]), so results changed as a program warmed up. Plain adds,
 * multiplies and fmas give the same bits in every tier. FLOAT32 is computed in double lanes and
 * rounded once, so it needs no polynomial of its own.
 *
 * <p>The method is fdlibm's: {@code x = j pi/2 + r} with j the nearest integer to {@code x 2/pi}, so
 * {@code |r| <= pi/4}, with pi/2 in three parts (fdlibm's {@code pio2_1}, {@code pio2_2},
 * {@code pio2_3}, {@code pio2_3t}; {@code j pio2_1} is exact for the j that occur, and each fma
 * rounds once); then
 * fdlibm's {@code __kernel_sin} and {@code __kernel_cos} polynomials on r, chosen and signed by
 * {@code j mod 4}; tan is their quotient, sin(r) / cos(r) for even j and -cos(r) / sin(r) for odd.
 * Accuracy, measured in {@code VectorTrigTest} against {@link StrictMath}: sin and cos within 1.5 ulp
 * in FLOAT64 and 1 ulp in FLOAT32.
 *
 * <p>Lanes with {@code |x| > }{@link #REDUCTION_LIMIT} (where the three-part reduction loses bits),
 * infinities and NaN go through {@link StrictMath}, lane by lane; a vector without such a lane never
 * looks at them. Either way a lane's result depends on its own value only, not on its neighbours.
 */
final class VectorTrig {
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    /** Floats with as many lanes as {@link #D}: one load widens to one double vector. */
    private static final VectorSpecies<Float> F_HALF = D.length() >= 2
            ? VectorSpecies.of(float.class, VectorShape.forBitSize(D.vectorBitSize() / 2)) : null;

    private VectorTrig() {
    }

    /** What {@link #sinCos} computes: sin, cos (sin a quarter turn on) or tan. */
    private static final int SIN = 0, COS = 1, TAN = 2;

    /** 1.5 * 2^52: adding it rounds a double of magnitude under 2^51 to an integer, left in the low bits. */
    private static final double ROUND = 6755399441055744.0;
    private static final double TWO_OVER_PI = 6.36619772367581382433e-01;
    // fdlibm's pio2_1 (the first 33 bits of pi/2), pio2_2 (the next 33), pio2_3 (the next 33) and
    // pio2_3t (the rest, to 53 bits).
    private static final double PIO2_1 = 1.57079632673412561417e+00;
    private static final double PIO2_2 = 6.07710050630396597660e-11;
    private static final double PIO2_3 = 2.02226624871116645580e-21;
    private static final double PIO2_3T = 8.47842766036889956997e-32;
    /**
     * j pio2_1 is exact while j < 2^20 (33 + 20 bits), and the three parts then give r to within an
     * ulp: fdlibm's own limit for its medium case. Past it, StrictMath's full reduction.
     */
    private static final double REDUCTION_LIMIT = 0x1p20 * (Math.PI / 2);

    // fdlibm __kernel_sin: sin(r) = r + r^3 (S1 + r^2 (S2 + ...)) on |r| <= pi/4.
    private static final double S1 = -1.66666666666666324348e-01;
    private static final double S2 = 8.33333333332248946124e-03;
    private static final double S3 = -1.98412698298579493134e-04;
    private static final double S4 = 2.75573137070700676789e-06;
    private static final double S5 = -2.50507602534068634195e-08;
    private static final double S6 = 1.58969099521155010221e-10;
    // fdlibm __kernel_cos: cos(r) = 1 - r^2/2 + r^4 (C1 + r^2 (C2 + ...)) on |r| <= pi/4.
    private static final double C1 = 4.16666666666666019037e-02;
    private static final double C2 = -1.38888888888741095749e-03;
    private static final double C3 = 2.48015872894767294178e-05;
    private static final double C4 = -2.75573143513906633035e-07;
    private static final double C5 = 2.08757232129817482790e-09;
    private static final double C6 = -1.13596475577881948265e-11;

    /** {@code o[oo + i] = sin(x[xo + i])} for {@code i < bound}, a multiple of the preferred species' length. */
    static void sin(double[] x, int xo, double[] o, int oo, int bound) {
        doubles(x, xo, o, oo, bound, SIN);
    }

    /** As {@link #sin(double[], int, double[], int, int)}, cos. */
    static void cos(double[] x, int xo, double[] o, int oo, int bound) {
        doubles(x, xo, o, oo, bound, COS);
    }

    /** As {@link #sin(double[], int, double[], int, int)}, tan. */
    static void tan(double[] x, int xo, double[] o, int oo, int bound) {
        doubles(x, xo, o, oo, bound, TAN);
    }

    private static void doubles(double[] x, int xo, double[] o, int oo, int bound, int function) {
        for (int i = 0; i < bound; i += D.length()) {
            DoubleVector v = DoubleVector.fromArray(D, x, xo + i);
            if (v.abs().compare(VectorOperators.LE, REDUCTION_LIMIT).allTrue()) {
                sinCos(v, function).intoArray(o, oo + i);
            } else {
                laneByLaneAt(x, xo + i, o, oo + i, function);
            }
        }
    }

    /** FLOAT32 sin through double lanes; {@code bound} a multiple of the preferred float species' length. */
    static void sin(float[] x, int xo, float[] o, int oo, int bound) {
        floats(x, xo, o, oo, bound, SIN);
    }

    static void cos(float[] x, int xo, float[] o, int oo, int bound) {
        floats(x, xo, o, oo, bound, COS);
    }

    static void tan(float[] x, int xo, float[] o, int oo, int bound) {
        floats(x, xo, o, oo, bound, TAN);
    }

    private static void floats(float[] x, int xo, float[] o, int oo, int bound, int function) {
        if (F_HALF == null) {
            // Vectors of one double: nothing to gain, and StrictMath is the same in every tier.
            for (int i = 0; i < bound; i++) {
                o[oo + i] = (float) strict(x[xo + i], function);
            }
            return;
        }
        for (int i = 0; i < bound; i += F_HALF.length()) {
            DoubleVector v = (DoubleVector) FloatVector.fromArray(F_HALF, x, xo + i).convertShape(VectorOperators.F2D, D, 0);
            DoubleVector y;
            if (v.abs().compare(VectorOperators.LE, REDUCTION_LIMIT).allTrue()) {
                y = sinCos(v, function);
            } else {
                y = laneByLane(v, function);
            }
            ((FloatVector) y.convertShape(VectorOperators.D2F, F_HALF, 0)).intoArray(o, oo + i);
        }
    }

    /**
     * The rare branch loads and stores its own vector: C2 may leave a cold call out of line, and a
     * vector passed to a call that is not inlined is boxed.
     */
    private static void laneByLaneAt(double[] x, int xi, double[] o, int oi, int function) {
        laneByLane(DoubleVector.fromArray(D, x, xi), function).intoArray(o, oi);
    }

    /** The polynomial in the lanes within the reduction's range, StrictMath in the others. */
    private static DoubleVector laneByLane(DoubleVector v, int function) {
        VectorMask<Double> inRange = v.abs().compare(VectorOperators.LE, REDUCTION_LIMIT);
        // Out-of-range lanes become 0 for the polynomial, then take StrictMath's value.
        double[] y = sinCos(v.blend(0.0, inRange.not()), function).toArray();
        for (int lane = 0; lane < y.length; lane++) {
            if (!inRange.laneIsSet(lane)) {
                double a = v.lane(lane);
                y[lane] = strict(a, function);
            }
        }
        return DoubleVector.fromArray(D, y, 0);
    }

    /** StrictMath's sin, cos or tan of a. */
    private static double strict(double a, int function) {
        return function == SIN ? StrictMath.sin(a) : function == COS ? StrictMath.cos(a) : StrictMath.tan(a);
    }

    /**
     * sin, cos or tan of x for |x| <= {@link #REDUCTION_LIMIT}: cos is sin a quarter turn on, so both
     * take the same reduction and pick their polynomial by (j + quarter turns) mod 4; tan, with a
     * period of two quarter turns, divides the two polynomials one way or the other by j mod 2.
     */
    private static DoubleVector sinCos(DoubleVector x, int function) {
        DoubleVector shifted = x.fma(TWO_OVER_PI, ROUND);
        DoubleVector j = shifted.sub(ROUND);
        DoubleVector r = j.fma(x.broadcast(-PIO2_1), x);
        r = j.fma(x.broadcast(-PIO2_2), r);
        r = j.fma(x.broadcast(-PIO2_3), r);
        // Up to here each step is exact (a difference of nearby values, or one that fits in 53 bits);
        // without this last part, x within 1e-17 of a multiple of pi (sin(364.42474781641603) ~ 5e-18)
        // lost up to 2.5e4 ulp of its tiny result.
        r = j.fma(x.broadcast(-PIO2_3T), r);
        // j sits in the low mantissa bits of shifted, two's complement above 2^51: the low two bits
        // are j mod 4 for negative j too.
        DoubleVector z = r.mul(r);
        DoubleVector sin = kernelSin(r, z);
        DoubleVector cos = kernelCos(z);
        if (function == TAN) {
            VectorMask<Double> odd = shifted.reinterpretAsLongs().and(1L).compare(VectorOperators.NE, 0L).cast(D);
            return sin.div(cos).blend(cos.div(sin).neg(), odd);
        }
        LongVector quadrant = shifted.reinterpretAsLongs().add(function == COS ? 1 : 0).and(3L);
        // Quadrants 1 and 3 take cos, 2 and 3 are negated.
        DoubleVector y = sin.blend(cos, quadrant.and(1L).compare(VectorOperators.NE, 0L).cast(D));
        return y.blend(y.neg(), quadrant.and(2L).compare(VectorOperators.NE, 0L).cast(D));
    }

    /**
     * sin(r) as r + r z (S1 + z P(z)): r enters unrounded, so tiny r gives r. At r = -0 the sum would
     * be +0 (-0 plus a +0 product): -0 is put back.
     */
    private static DoubleVector kernelSin(DoubleVector r, DoubleVector z) {
        DoubleVector p = z.broadcast(S6).fma(z, z.broadcast(S5))
                .fma(z, z.broadcast(S4))
                .fma(z, z.broadcast(S3))
                .fma(z, z.broadcast(S2));
        DoubleVector sin = p.fma(z, z.broadcast(S1)).mul(z.mul(r)).add(r);
        return sin.blend(r, r.compare(VectorOperators.EQ, 0.0));
    }

    /**
     * cos(r) as fdlibm sums it: w = 1 - z/2 rounded, then its rounding error ((1 - w) - z/2, exact)
     * added back with the higher terms, so the result is within an ulp for every |r| <= pi/4.
     */
    private static DoubleVector kernelCos(DoubleVector z) {
        DoubleVector p = z.broadcast(C6).fma(z, z.broadcast(C5))
                .fma(z, z.broadcast(C4))
                .fma(z, z.broadcast(C3))
                .fma(z, z.broadcast(C2))
                .fma(z, z.broadcast(C1));
        DoubleVector hz = z.mul(0.5);
        DoubleVector w = hz.neg().add(1.0);
        DoubleVector one = z.broadcast(1.0);
        return w.add(one.sub(w).sub(hz).add(z.mul(z).mul(p)));
    }
}
