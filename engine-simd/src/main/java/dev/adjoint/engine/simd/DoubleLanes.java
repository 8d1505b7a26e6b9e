package dev.adjoint.engine.simd;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.function.DoubleUnaryOperator;

/**
 * FLOAT32 elementwise kernels computed in double lanes, as their references compute (sin, cos, tan,
 * asin, acos, atan, sinh, cosh, asinh, acosh, atanh): a piece of the floats is widened into a double buffer of this
 * thread, the op's FLOAT64 kernel runs on it in place, and each result is rounded to float once. So
 * each of those ops has one vector kernel, and its FLOAT32 results are its FLOAT64 results rounded.
 */
final class DoubleLanes {
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    /** Elements per piece: 8 KiB of doubles, in L1 while the kernel's loops run over it. */
    private static final int PIECE = 1024;
    private static final ThreadLocal<double[]> WIDE = ThreadLocal.withInitial(() -> new double[PIECE]);

    private DoubleLanes() {
    }

    /** A FLOAT64 kernel over whole vectors, {@code x} and {@code o} possibly the same array at the same offset. */
    @FunctionalInterface
    interface Kernel {
        void run(double[] x, int xo, double[] o, int oo, int bound);
    }

    /**
     * {@code o[oo + i] = (float) kernel(x[xo + i])} for {@code i < bound}, a multiple of the preferred
     * float species' length. With vectors of one double there is nothing to gain: the reference
     * itself, the same in every tier.
     */
    static void run(float[] x, int xo, float[] o, int oo, int bound, Kernel kernel, DoubleUnaryOperator reference) {
        if (D.length() < 2) {
            for (int i = 0; i < bound; i++) {
                o[oo + i] = (float) reference.applyAsDouble(x[xo + i]);
            }
            return;
        }
        double[] wide = WIDE.get();
        for (int at = 0; at < bound; at += PIECE) {
            int n = Math.min(PIECE, bound - at);
            // Plain loops, which C2 compiles to vector conversions itself: widening through the Vector API
            // takes either a float species of half the width, whose vectors in FloatVector's shared methods
            // pollute the type profiles every float kernel's compiled calls rest on (docs/benchmarks.md,
            // allocation), or the preferred one and a lane shuffle per half, no faster.
            for (int i = 0; i < n; i++) {
                wide[i] = x[xo + at + i];
            }
            kernel.run(wide, 0, wide, 0, n);
            for (int i = 0; i < n; i++) {
                o[oo + at + i] = (float) wide[i];
            }
        }
    }
}
