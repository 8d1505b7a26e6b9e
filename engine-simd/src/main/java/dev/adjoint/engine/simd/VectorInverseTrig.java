package dev.adjoint.engine.simd;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * asin, acos and atan lane by lane, in plain vector arithmetic: fdlibm's algorithms (those of the
 * reference, StrictMath), each range's formula computed for every lane and the lane's own chosen by
 * blends, so that a vector whose lanes fall in different ranges takes one division per quotient of
 * the formulas rather than one per range. The polynomials are fdlibm's with fused multiply-adds,
 * which moves their low bits; each is a small correction to a leading term, so the results stay
 * within an ulp of the reference's. FLOAT32 is the FLOAT64 kernel on widened values, rounded once
 * ({@link DoubleLanes}), as the reference computes.
 *
 * <p>One loop per function, every piece written in its body: a vector passed to a call C2 leaves
 * standing is boxed. asin and acos each write out the rational function they share: so each loop's
 * bytecode stays above what C2 inlines into a hot caller (FreqInlineSize, 325 bytes), and no
 * dispatcher that has met two of them compiles both into one body. Accuracy is {@code VectorInverseTrigTest}'s.
 */
final class VectorInverseTrig {
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    private static final long SIGN_BIT = Long.MIN_VALUE;
    /** The bits of a double's low word, which fdlibm clears to split sqrt(t) into a head whose square is exact. */
    private static final long LOW_WORD = 0xFFFF_FFFFL;

    private static final double PIO2_HI = 0x1.921fb54442d18p0;
    private static final double PIO2_LO = 0x1.1a62633145c07p-54;
    private static final double PIO4_HI = 0x1.921fb54442d18p-1;
    /** asin's and acos's rational approximation R(t) = t P(t) / Q(t), of asin(x) = x + x R(x^2) on [0, 0.5]. */
    private static final double PS0 = 0x1.5555555555555p-3;
    private static final double PS1 = -0x1.4d61203eb6f7dp-2;
    private static final double PS2 = 0x1.9c1550e884455p-3;
    private static final double PS3 = -0x1.48228b5688f3bp-5;
    private static final double PS4 = 0x1.9efe07501b288p-11;
    private static final double PS5 = 0x1.23de10dfdf709p-15;
    private static final double QS1 = -0x1.33a271c8a2d4bp1;
    private static final double QS2 = 0x1.02ae59c598ac8p1;
    private static final double QS3 = -0x1.6066c1b8d0159p-1;
    private static final double QS4 = 0x1.3b8c5b12e9282p-4;
    /** Where asin stops correcting sqrt's head (fdlibm's high word 0x3FEF3333, about 0.975). */
    private static final double ASIN_PLAIN = Double.longBitsToDouble(0x3FEF_3333_0000_0000L);

    /** atan's reduction: past each bound |x| is taken relative to the next of 1/2, 1, 3/2 and infinity. */
    private static final double ATAN_BOUND_0 = 0.4375;
    private static final double ATAN_BOUND_1 = 0.6875;
    private static final double ATAN_BOUND_2 = 1.1875;
    private static final double ATAN_BOUND_3 = 2.4375;
    /** atan(1/2), atan(1), atan(3/2), atan(infinity) as a head and a tail. */
    private static final double[] ATAN_HI = {0x1.dac670561bb4fp-2, 0x1.921fb54442d18p-1, 0x1.f730bd281f69bp-1,
        0x1.921fb54442d18p0};
    private static final double[] ATAN_LO = {0x1.a2b7f222f65e2p-56, 0x1.1a62633145c07p-55, 0x1.007887af0cbbdp-56,
        0x1.1a62633145c07p-54};
    private static final double AT0 = 0x1.555555555550dp-2;
    private static final double AT1 = -0x1.999999998ebc4p-3;
    private static final double AT2 = 0x1.24924920083ffp-3;
    private static final double AT3 = -0x1.c71c6fe231671p-4;
    private static final double AT4 = 0x1.745cdc54c206ep-4;
    private static final double AT5 = -0x1.3b0f2af749a6dp-4;
    private static final double AT6 = 0x1.10d66a0d03d51p-4;
    private static final double AT7 = -0x1.dde2d52defd9ap-5;
    private static final double AT8 = 0x1.97b4b24760debp-5;
    private static final double AT9 = -0x1.2b4442c6a6c2fp-5;
    private static final double AT10 = 0x1.0ad3ae322da11p-6;

    private VectorInverseTrig() {
    }

    /**
     * asin of {@code x[xo, xo + bound)} into o; bound a multiple of the vector length. Below |x| = 0.5
     * asin(x) = x + x R(x^2); above, with t = (1 - |x|) / 2 and s = sqrt(t),
     * asin(|x|) = pi/2 - 2 (s + s R(t)), where below about 0.975 s is split into a head f and a
     * correction c so that the subtraction from pi/4 keeps its bits. NaN beyond [-1, 1].
     */
    static void asin(double[] x, int xo, double[] o, int oo, int bound) {
        for (int i = 0; i < bound; i += D.length()) {
            DoubleVector v = DoubleVector.fromArray(D, x, xo + i);
            DoubleVector a = v.abs();
            VectorMask<Double> small = a.compare(VectorOperators.LT, 0.5);
            DoubleVector t = a.mul(a).blend(a.neg().add(1.0).mul(0.5), small.not());
            DoubleVector p = t.mul(t.broadcast(PS5).fma(t, t.broadcast(PS4)).fma(t, t.broadcast(PS3))
                    .fma(t, t.broadcast(PS2)).fma(t, t.broadcast(PS1)).fma(t, t.broadcast(PS0)));
            DoubleVector q = t.broadcast(QS4).fma(t, t.broadcast(QS3)).fma(t, t.broadcast(QS2)).fma(t, t.broadcast(QS1))
                    .fma(t, t.broadcast(1.0));
            DoubleVector r = p.div(q);
            DoubleVector y = a.fma(r, a);
            if (!small.allTrue()) {
                DoubleVector s = t.sqrt();
                DoubleVector plain = t.broadcast(PIO2_HI).sub(s.fma(r, s).mul(2.0).sub(PIO2_LO));
                DoubleVector f = s.reinterpretAsLongs().and(~LOW_WORD).reinterpretAsDoubles();
                DoubleVector c = t.sub(f.mul(f)).div(s.add(f));
                DoubleVector pp = s.mul(2.0).mul(r).sub(c.mul(-2.0).add(PIO2_LO));
                DoubleVector qq = f.mul(-2.0).add(PIO4_HI);
                DoubleVector split = t.broadcast(PIO4_HI).sub(pp.sub(qq));
                y = y.blend(split.blend(plain, a.compare(VectorOperators.GE, ASIN_PLAIN)), small.not());
            }
            y.reinterpretAsLongs().or(v.reinterpretAsLongs().and(SIGN_BIT)).reinterpretAsDoubles().intoArray(o, oo + i);
        }
    }

    /**
     * acos of {@code x[xo, xo + bound)} into o; bound a multiple of the vector length. Below |x| = 0.5
     * pi/2 - asin(x); above, with t = (1 - |x|) / 2 and s = sqrt(t), pi - 2 (s + s R(t)) for negative
     * x and 2 (f + (c + s R(t))) for positive, f and c as in {@link #asin}. NaN beyond [-1, 1].
     */
    static void acos(double[] x, int xo, double[] o, int oo, int bound) {
        for (int i = 0; i < bound; i += D.length()) {
            DoubleVector v = DoubleVector.fromArray(D, x, xo + i);
            DoubleVector a = v.abs();
            VectorMask<Double> small = a.compare(VectorOperators.LT, 0.5);
            DoubleVector t = v.mul(v).blend(a.neg().add(1.0).mul(0.5), small.not());
            DoubleVector p = t.mul(t.broadcast(PS5).fma(t, t.broadcast(PS4)).fma(t, t.broadcast(PS3))
                    .fma(t, t.broadcast(PS2)).fma(t, t.broadcast(PS1)).fma(t, t.broadcast(PS0)));
            DoubleVector q = t.broadcast(QS4).fma(t, t.broadcast(QS3)).fma(t, t.broadcast(QS2)).fma(t, t.broadcast(QS1))
                    .fma(t, t.broadcast(1.0));
            DoubleVector r = p.div(q);
            // pi/2 - (x - (pio2_lo - x r))
            DoubleVector y = t.broadcast(PIO2_HI).sub(v.sub(v.mul(r).neg().add(PIO2_LO)));
            if (!small.allTrue()) {
                DoubleVector s = t.sqrt();
                DoubleVector negative = t.broadcast(Math.PI).sub(s.add(r.mul(s).sub(PIO2_LO)).mul(2.0));
                DoubleVector f = s.reinterpretAsLongs().and(~LOW_WORD).reinterpretAsDoubles();
                DoubleVector c = t.sub(f.mul(f)).div(s.add(f));
                DoubleVector positive = f.add(r.fma(s, c)).mul(2.0);
                // acos(1) = 0: there t, s and f are 0 and c is 0 / 0.
                positive = positive.blend(0.0, v.compare(VectorOperators.EQ, 1.0));
                y = y.blend(positive.blend(negative, v.compare(VectorOperators.LT, 0.0)), small.not());
            }
            y.intoArray(o, oo + i);
        }
    }

    /**
     * atan of {@code x[xo, xo + bound)} into o; bound a multiple of the vector length. |x| is reduced
     * to a t in [-7/16, 7/16] by atan(|x|) = atan(b) + atan((|x| - b) / (1 + b |x|)) for the nearest
     * b of 1/2, 1 and 3/2, or pi/2 + atan(-1 / |x|) past 39/16, and atan(t) = t - t z P(z), z = t^2,
     * in odd and even halves as fdlibm.
     */
    static void atan(double[] x, int xo, double[] o, int oo, int bound) {
        for (int i = 0; i < bound; i += D.length()) {
            DoubleVector v = DoubleVector.fromArray(D, x, xo + i);
            DoubleVector a = v.abs();
            DoubleVector numerator = a;
            DoubleVector denominator = a.broadcast(1.0);
            DoubleVector hi = a.broadcast(0.0);
            DoubleVector lo = hi;
            VectorMask<Double> reduced = a.compare(VectorOperators.GE, ATAN_BOUND_0);
            if (reduced.anyTrue()) {
                // Each range's quotient as fdlibm writes it: (2|x| - 1) / (2 + |x|), (|x| - 1) / (|x| + 1),
                // (|x| - 1.5) / (1 + 1.5 |x|), -1 / |x|.
                VectorMask<Double> past1 = a.compare(VectorOperators.GE, ATAN_BOUND_1);
                VectorMask<Double> past2 = a.compare(VectorOperators.GE, ATAN_BOUND_2);
                VectorMask<Double> past3 = a.compare(VectorOperators.GE, ATAN_BOUND_3);
                numerator = numerator.blend(a.mul(2.0).sub(1.0), reduced).blend(a.sub(1.0), past1)
                        .blend(a.sub(1.5), past2).blend(-1.0, past3);
                denominator = denominator.blend(a.add(2.0), reduced).blend(a.add(1.0), past1)
                        .blend(a.mul(1.5).add(1.0), past2).blend(a, past3);
                hi = hi.blend(ATAN_HI[0], reduced).blend(ATAN_HI[1], past1).blend(ATAN_HI[2], past2)
                        .blend(ATAN_HI[3], past3);
                lo = lo.blend(ATAN_LO[0], reduced).blend(ATAN_LO[1], past1).blend(ATAN_LO[2], past2)
                        .blend(ATAN_LO[3], past3);
            }
            DoubleVector t = numerator.div(denominator);
            DoubleVector z = t.mul(t);
            DoubleVector w = z.mul(z);
            DoubleVector odd = z.mul(w.broadcast(AT10).fma(w, w.broadcast(AT8)).fma(w, w.broadcast(AT6))
                    .fma(w, w.broadcast(AT4)).fma(w, w.broadcast(AT2)).fma(w, w.broadcast(AT0)));
            DoubleVector even = w.mul(w.broadcast(AT9).fma(w, w.broadcast(AT7)).fma(w, w.broadcast(AT5))
                    .fma(w, w.broadcast(AT3)).fma(w, w.broadcast(AT1)));
            // hi - ((t (odd + even) - lo) - t); with hi = lo = 0 below 7/16 that is t - t (odd + even).
            DoubleVector y = hi.sub(t.mul(odd.add(even)).sub(lo).sub(t));
            y.reinterpretAsLongs().or(v.reinterpretAsLongs().and(SIGN_BIT)).reinterpretAsDoubles().intoArray(o, oo + i);
        }
    }

    /** FLOAT32 asin through double lanes ({@link DoubleLanes}); {@code bound} a multiple of the preferred float species' length. */
    static void asin(float[] x, int xo, float[] o, int oo, int bound) {
        DoubleLanes.run(x, xo, o, oo, bound, VectorInverseTrig::asin, StrictMath::asin);
    }

    /** FLOAT32 acos, as {@link #asin(float[], int, float[], int, int)}. */
    static void acos(float[] x, int xo, float[] o, int oo, int bound) {
        DoubleLanes.run(x, xo, o, oo, bound, VectorInverseTrig::acos, StrictMath::acos);
    }

    /** FLOAT32 atan, as {@link #asin(float[], int, float[], int, int)}. */
    static void atan(float[] x, int xo, float[] o, int oo, int bound) {
        DoubleLanes.run(x, xo, o, oo, bound, VectorInverseTrig::atan, StrictMath::atan);
    }
}
