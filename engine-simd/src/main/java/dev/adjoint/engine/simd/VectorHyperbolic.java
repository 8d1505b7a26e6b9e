package dev.adjoint.engine.simd;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * sinh and cosh lane by lane, in plain vector arithmetic on {@link DoubleExp}: with
 * {@code e = exp(|x| / 2)}, {@code e^|x| / 2 = (e / 2) e} and {@code e^-|x| / 2 = (1 / 2) / (e e)},
 * so that neither overflows before the result does (cosh(710) is finite where exp(710) is not);
 * cosh is their sum, sinh their difference, or below |x| = {@link #SERIES_LIMIT}, where the difference
 * cancels, its Taylor series; sinh takes x's sign (sinh(-0) = -0). FLOAT32 is computed in double lanes
 * and rounded once, as the reference does. Not {@code lanewise(VectorOperators.SINH)}: that is
 * StrictMath per lane until C2 compiles it and an SVML call after, which differ in the last bit, so a
 * program's results would change as it warmed up.
 *
 * <p>Each loop calls exp and {@link #fromHalfExp} from its body, so both are inlined however C2
 * counts the call sites and no vector crosses a call it may leave standing. Accuracy against
 * StrictMath over dense sweeps of [-12, 12] and of magnitudes 2e-9 to 700: FLOAT64 within
 * 3 ulps (cosh) and 6 (sinh, just past the series' limit, where the difference amplifies the error
 * of squaring exp(|x| / 2)); FLOAT32 the reference's bits.
 */
final class VectorHyperbolic {
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    /**
     * Below it sinh is its Taylor series: e^|x| / 2 - e^-|x| / 2 cancels more the closer x is to 0,
     * and the series' first omitted term, x^19 / 19!, is below 2^-60 of the sum at 0.7.
     */
    private static final double SERIES_LIMIT = 0.7;
    private static final long SIGN_BIT = Long.MIN_VALUE;

    private VectorHyperbolic() {
    }

    /** sinh (or, {@code cosh}, cosh) of {@code x[xo, xo + bound)} into o; bound a multiple of the vector length. */
    static void sinhOrCosh(double[] x, int xo, double[] o, int oo, int bound, boolean cosh) {
        for (int i = 0; i < bound; i += D.length()) {
            DoubleVector a = DoubleVector.fromArray(D, x, xo + i);
            fromHalfExp(a, DoubleExp.exp(a.abs().mul(0.5)), cosh).intoArray(o, oo + i);
        }
    }

    /** FLOAT32 through double lanes ({@link DoubleLanes}); {@code bound} a multiple of the preferred float species' length. */
    static void sinhOrCosh(float[] x, int xo, float[] o, int oo, int bound, boolean cosh) {
        if (cosh) {
            DoubleLanes.run(x, xo, o, oo, bound, (a, ao, b, bo, n) -> sinhOrCosh(a, ao, b, bo, n, true), StrictMath::cosh);
        } else {
            DoubleLanes.run(x, xo, o, oo, bound, (a, ao, b, bo, n) -> sinhOrCosh(a, ao, b, bo, n, false), StrictMath::sinh);
        }
    }

    /** sinh or cosh of a from {@code e = exp(|a| / 2)}. */
    private static DoubleVector fromHalfExp(DoubleVector a, DoubleVector e, boolean cosh) {
        DoubleVector up = e.mul(0.5).mul(e);
        DoubleVector down = e.broadcast(0.5).div(e.mul(e));
        if (cosh) {
            return up.add(down);
        }
        DoubleVector magnitude = up.sub(down);
        DoubleVector abs = a.abs();
        VectorMask<Double> series = abs.compare(VectorOperators.LT, SERIES_LIMIT);
        if (series.anyTrue()) {
            // sinh(x) = x + x z (1/3! + z/5! + ... + z^7/17!), z = x^2.
            DoubleVector z = abs.mul(abs);
            DoubleVector p = z.broadcast(1.0 / 355687428096000.0).fma(z, z.broadcast(1.0 / 1307674368000.0))
                    .fma(z, z.broadcast(1.0 / 6227020800.0))
                    .fma(z, z.broadcast(1.0 / 39916800.0)).fma(z, z.broadcast(1.0 / 362880.0))
                    .fma(z, z.broadcast(1.0 / 5040.0)).fma(z, z.broadcast(1.0 / 120.0)).fma(z, z.broadcast(1.0 / 6.0));
            magnitude = magnitude.blend(abs.mul(z).fma(p, abs), series);
        }
        return magnitude.reinterpretAsLongs().or(a.reinterpretAsLongs().and(SIGN_BIT)).reinterpretAsDoubles();
    }
}
