package dev.adjoint.engine.simd;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
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
 *
 * <p>Three loops over a piece at a time ({@link #PIECE}, {@link PieceLoops}): the reduction, both
 * polynomials, and the function's choice between them, each calling its pieces from its body. In one
 * loop they are more than C2 inlines in one compilation (NodeCountInliningCutoff); with the
 * polynomials in a helper called once per vector, a profile that undercounts call sites
 * (-XX:InlineFrequencyRatio=4) left the helper a call and boxed its vectors.
 */
final class VectorTrig {
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;

    private VectorTrig() {
    }

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

    /** Elements per piece: its four buffers of doubles take 16 KiB, in L1 across the three loops. */
    private static final int PIECE = 512;

    /** A piece's values between the loops: r, the rounded {@code x 2/pi} whose low bits hold j, sin(r), cos(r). */
    private static final class Buffers {
        final double[] r = new double[PIECE];
        final double[] shifted = new double[PIECE];
        final double[] sin = new double[PIECE];
        final double[] cos = new double[PIECE];
        /** StrictMath's values of one vector's lanes, for a vector with lanes beyond the reduction. */
        final double[] strict = new double[D.length()];
    }

    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);
    private static final PieceLoops.Loop<Buffers> REDUCE = (x, xo, b, o, oo, n) -> reduce(x, xo, b.r, b.shifted, n);
    private static final PieceLoops.Loop<Buffers> POLYNOMIALS = (x, xo, b, o, oo, n) -> polynomials(b.r, b.sin, b.cos, n);
    private static final PieceLoops<Buffers> SIN = new PieceLoops<>(PIECE, BUFFERS, REDUCE, POLYNOMIALS,
            (x, xo, b, o, oo, n) -> sinOrCos(x, xo, b, o, oo, n, false));
    private static final PieceLoops<Buffers> COS = new PieceLoops<>(PIECE, BUFFERS, REDUCE, POLYNOMIALS,
            (x, xo, b, o, oo, n) -> sinOrCos(x, xo, b, o, oo, n, true));
    private static final PieceLoops<Buffers> TAN = new PieceLoops<>(PIECE, BUFFERS, REDUCE, POLYNOMIALS,
            VectorTrig::tan);

    /** {@code o[oo + i] = sin(x[xo + i])} for {@code i < bound}, a multiple of the vector length; x and o may be one array. */
    static void sin(double[] x, int xo, double[] o, int oo, int bound) {
        SIN.run(x, xo, o, oo, bound);
    }

    /** As {@link #sin(double[], int, double[], int, int)}, cos. */
    static void cos(double[] x, int xo, double[] o, int oo, int bound) {
        COS.run(x, xo, o, oo, bound);
    }

    /** As {@link #sin(double[], int, double[], int, int)}, tan. */
    static void tan(double[] x, int xo, double[] o, int oo, int bound) {
        TAN.run(x, xo, o, oo, bound);
    }

    /** FLOAT32 sin through double lanes ({@link DoubleLanes}); {@code bound} a multiple of the preferred float species' length. */
    static void sin(float[] x, int xo, float[] o, int oo, int bound) {
        DoubleLanes.run(x, xo, o, oo, bound, VectorTrig::sin, StrictMath::sin);
    }

    static void cos(float[] x, int xo, float[] o, int oo, int bound) {
        DoubleLanes.run(x, xo, o, oo, bound, VectorTrig::cos, StrictMath::cos);
    }

    static void tan(float[] x, int xo, float[] o, int oo, int bound) {
        DoubleLanes.run(x, xo, o, oo, bound, VectorTrig::tan, StrictMath::tan);
    }

    /**
     * The first loop: {@code x = j pi/2 + r}, j the nearest integer to {@code x 2/pi}, so
     * {@code |r| <= pi/4}, and {@code shifted}, x 2/pi rounded by adding {@link #ROUND}: j sits in its low
     * mantissa bits, two's complement above 2^51, so its low two bits are j mod 4 for negative j too.
     */
    private static void reduce(double[] x, int xo, double[] r, double[] shifted, int n) {
        for (int i = 0; i < n; i += D.length()) {
            DoubleVector v = DoubleVector.fromArray(D, x, xo + i);
            DoubleVector s = v.fma(TWO_OVER_PI, ROUND);
            DoubleVector j = s.sub(ROUND);
            DoubleVector q = j.fma(v.broadcast(-PIO2_1), v);
            q = j.fma(v.broadcast(-PIO2_2), q);
            q = j.fma(v.broadcast(-PIO2_3), q);
            // Up to here each step is exact (a difference of nearby values, or one that fits in 53 bits);
            // without this last part, x within 1e-17 of a multiple of pi (sin(364.42474781641603) ~ 5e-18)
            // lost up to 2.5e4 ulp of its tiny result.
            j.fma(v.broadcast(-PIO2_3T), q).intoArray(r, i);
            s.intoArray(shifted, i);
        }
    }

    /** The second loop: sin(r) and cos(r). */
    private static void polynomials(double[] r, double[] sin, double[] cos, int n) {
        for (int i = 0; i < n; i += D.length()) {
            DoubleVector v = DoubleVector.fromArray(D, r, i);
            DoubleVector z = v.mul(v);
            kernelSin(v, z).intoArray(sin, i);
            kernelCos(z).intoArray(cos, i);
        }
    }

    /**
     * The last loop of sin, or of cos (sin a quarter turn on): the polynomial and sign by
     * {@code (j + quarter turns) mod 4}, quadrants 1 and 3 taking cos, 2 and 3 negated.
     */
    private static void sinOrCos(double[] x, int xo, Buffers b, double[] o, int oo, int n, boolean cos) {
        for (int i = 0; i < n; i += D.length()) {
            DoubleVector v = DoubleVector.fromArray(D, x, xo + i);
            LongVector quadrant = DoubleVector.fromArray(D, b.shifted, i).reinterpretAsLongs().add(cos ? 1 : 0).and(3L);
            DoubleVector sin = DoubleVector.fromArray(D, b.sin, i);
            DoubleVector y = sin.blend(DoubleVector.fromArray(D, b.cos, i),
                    quadrant.and(1L).compare(VectorOperators.NE, 0L).cast(D));
            y = y.blend(y.neg(), quadrant.and(2L).compare(VectorOperators.NE, 0L).cast(D));
            VectorMask<Double> beyond = v.abs().compare(VectorOperators.LE, REDUCTION_LIMIT).not();
            if (beyond.anyTrue()) {
                strictLanes(x, xo + i, b.strict, cos ? COS_FUNCTION : SIN_FUNCTION);
                y = y.blend(DoubleVector.fromArray(D, b.strict, 0), beyond);
            }
            y.intoArray(o, oo + i);
        }
    }

    /** The last loop of tan, whose period is two quarter turns: sin(r) / cos(r) for even j, -cos(r) / sin(r) for odd. */
    private static void tan(double[] x, int xo, Buffers b, double[] o, int oo, int n) {
        for (int i = 0; i < n; i += D.length()) {
            DoubleVector v = DoubleVector.fromArray(D, x, xo + i);
            VectorMask<Double> odd = DoubleVector.fromArray(D, b.shifted, i).reinterpretAsLongs().and(1L)
                    .compare(VectorOperators.NE, 0L).cast(D);
            DoubleVector sin = DoubleVector.fromArray(D, b.sin, i);
            DoubleVector cos = DoubleVector.fromArray(D, b.cos, i);
            DoubleVector y = sin.div(cos).blend(cos.div(sin).neg(), odd);
            VectorMask<Double> beyond = v.abs().compare(VectorOperators.LE, REDUCTION_LIMIT).not();
            if (beyond.anyTrue()) {
                strictLanes(x, xo + i, b.strict, TAN_FUNCTION);
                y = y.blend(DoubleVector.fromArray(D, b.strict, 0), beyond);
            }
            y.intoArray(o, oo + i);
        }
    }

    private static final int SIN_FUNCTION = 0, COS_FUNCTION = 1, TAN_FUNCTION = 2;

    /**
     * StrictMath's value of each lane of the vector at {@code x[xi]} into {@code strict}, read before the
     * vector's result is stored (x and o may be one array). Arrays in, arrays out: a vector passed to a
     * cold call C2 leaves out of line is boxed.
     */
    private static void strictLanes(double[] x, int xi, double[] strict, int function) {
        for (int lane = 0; lane < strict.length; lane++) {
            double a = x[xi + lane];
            strict[lane] = function == SIN_FUNCTION ? StrictMath.sin(a)
                    : function == COS_FUNCTION ? StrictMath.cos(a) : StrictMath.tan(a);
        }
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
