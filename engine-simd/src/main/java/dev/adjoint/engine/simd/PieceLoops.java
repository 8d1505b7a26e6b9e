package dev.adjoint.engine.simd;

/**
 * A FLOAT64 elementwise kernel too large for one compilation, run as several loops over a piece of
 * its input at a time, each piece's values passed between the loops in buffers of the thread
 * ({@link VectorTrig}: the reduction, both polynomials, the function's choice; {@link
 * VectorInverseHyperbolic}: the argument, ln(1 + u), the result). Every kernel's loops are called in
 * turn from the one call site in {@link #run}, which so meets several receivers from the first piece
 * on, whichever kernels a program uses: C2 inlines none of them there and compiles each loop apart,
 * with the whole of its inlining budget. Called from a call site per loop instead, a program's first
 * kernel had its loops inlined into one compilation (sin ran six times slower), and its second the
 * loops of both kernels, which ran out of budget (NodeCountInliningCutoff) and left a vector helper
 * a call, boxing its vectors (acosh after asinh, 24 bytes per element, in some JVMs and not others).
 *
 * @param <B> the buffers the loops pass a piece's values in
 */
final class PieceLoops<B> {
    /** One loop over a piece of {@code n} elements from {@code x[xo]}; the last writes {@code o[oo]} (x and o may be one array). */
    @FunctionalInterface
    interface Loop<B> {
        void run(double[] x, int xo, B buffers, double[] o, int oo, int n);
    }

    private final int piece;
    private final ThreadLocal<B> buffers;
    private final Loop<B>[] loops;

    /**
     * Loops run in this order over pieces of {@code piece} elements, a multiple of the vector length,
     * through the calling thread's {@code buffers} (which the kernels of one class may share).
     */
    @SafeVarargs
    PieceLoops(int piece, ThreadLocal<B> buffers, Loop<B>... loops) {
        this.piece = piece;
        this.buffers = buffers;
        this.loops = loops;
    }

    /** The kernel over {@code x[xo, xo + bound)} into o; bound a multiple of the vector length. */
    void run(double[] x, int xo, double[] o, int oo, int bound) {
        B b = buffers.get();
        for (int at = 0; at < bound; at += piece) {
            int n = Math.min(piece, bound - at);
            for (Loop<B> loop : loops) {
                loop.run(x, xo + at, b, o, oo + at, n);
            }
        }
    }
}
