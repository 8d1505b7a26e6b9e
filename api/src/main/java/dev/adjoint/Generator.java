package dev.adjoint;

import dev.adjoint.internal.RandomReplay;

/**
 * A seeded source of random numbers for tensor creation, initialisation and dropout. The stream
 * depends only on the seed, never on the backend, so the same seed gives the same tensors everywhere.
 * Not thread-safe: give each thread its own generator (or {@link #split()} one).
 *
 * <p>The numbers are SplitMix64's, the algorithm of {@link java.util.SplittableRandom}, written out
 * here (bit for bit the same stream as SplittableRandom with the same seed) so that the state can be
 * read and restored ({@link #state()}, {@link #setState}) — what activation checkpointing needs to
 * replay dropout masks — and so that streams do not depend on the JDK's implementation.
 */
public final class Generator {
    private static final long GOLDEN_GAMMA = 0x9e3779b97f4a7c15L;

    private long seed;
    private long gamma;
    private double spareGaussian;
    private boolean hasSpare;

    /** Everything that determines a generator's future output. */
    public record State(long seed, long gamma, double spareGaussian, boolean hasSpare) {
    }

    public Generator(long seed) {
        this(seed, GOLDEN_GAMMA);
    }

    private Generator(long seed, long gamma) {
        this.seed = seed;
        this.gamma = gamma;
    }

    /** An independent generator whose stream is determined by this one's state. */
    public Generator split() {
        return new Generator(nextLong(), mixGamma(nextSeed()));
    }

    /** The current state; {@link #setState} with it makes the generator repeat what followed. */
    public State state() {
        return new State(seed, gamma, spareGaussian, hasSpare);
    }

    public void setState(State state) {
        this.seed = state.seed();
        this.gamma = state.gamma();
        this.spareGaussian = state.spareGaussian();
        this.hasSpare = state.hasSpare();
    }

    /**
     * Called by the tensor factories before they draw from this generator, so that a checkpointed
     * region ({@code Autograd.checkpoint}) can replay the same numbers when it recomputes.
     */
    void aboutToDraw() {
        RandomReplay.aboutToDraw(this);
    }

    /**
     * Skips the next {@code n} draws and returns the state they start from: draw {@code i} is made from
     * {@code start + (i + 1) * gamma()} (see {@link dev.adjoint.spi.FusedKernels#dropoutMask}).
     */
    long skipDraws(int n) {
        long start = seed;
        seed += n * gamma;
        return start;
    }

    /** The step between two draws' states. */
    long gamma() {
        return gamma;
    }

    /** Uniform in [0, 1). */
    public double nextUniform() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /**
     * Standard normal. Box-Muller is used (rather than the JDK's nextGaussian) because its output is
     * fully specified by this code, so streams are reproducible across JDK versions.
     */
    public double nextGaussian() {
        if (hasSpare) {
            hasSpare = false;
            return spareGaussian;
        }
        double u1;
        do {
            u1 = nextUniform();
        } while (u1 == 0.0);
        double u2 = nextUniform();
        double r = Math.sqrt(-2.0 * Math.log(u1));
        spareGaussian = r * Math.sin(2 * Math.PI * u2);
        hasSpare = true;
        return r * Math.cos(2 * Math.PI * u2);
    }

    /**
     * The next {@code out.length} draws of {@link #nextUniform}, each compared with one number, for
     * samplers such as the dropout mask: draw {@code i} is {@code k * 2^-53} for the 53-bit {@code k}
     * it is made of, and {@code out[i]} becomes {@code value} where {@code k >= threshold}, else 0.
     * The loop keeps the stream's state in a register rather than going through a call per draw.
     */
    void fillWhereAtLeast(long threshold, float value, float[] out) {
        long s = seed;
        for (int i = 0; i < out.length; i++) {
            s += gamma;
            out[i] = mix64(s) >>> 11 >= threshold ? value : 0f;
        }
        seed = s;
    }

    /** {@link #fillWhereAtLeast(long, float, float[])} into FLOAT64. */
    void fillWhereAtLeast(long threshold, double value, double[] out) {
        long s = seed;
        for (int i = 0; i < out.length; i++) {
            s += gamma;
            out[i] = mix64(s) >>> 11 >= threshold ? value : 0.0;
        }
        seed = s;
    }

    /** Uniform in [0, bound), without modulo bias. */
    public long nextLong(long bound) {
        if (bound <= 0) {
            throw new IllegalArgumentException("nextLong: bound must be positive, got " + bound);
        }
        long r = nextLong();
        long m = bound - 1;
        if ((bound & m) == 0L) {
            return r & m;
        }
        // Rejection: retry while the draw falls in the incomplete last block of bound values.
        for (long u = r >>> 1; u + m - (r = u % bound) < 0L; u = nextLong() >>> 1) {
            // retry
        }
        return r;
    }

    /** A uniformly random permutation of {@code 0..n-1}. */
    public int[] permutation(int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    // ---- SplitMix64 -------------------------------------------------------------------------------------

    private long nextSeed() {
        return seed += gamma;
    }

    private long nextLong() {
        return mix64(nextSeed());
    }

    private int nextInt() {
        return mix32(nextSeed());
    }

    private int nextInt(int bound) {
        int r = nextInt();
        int m = bound - 1;
        if ((bound & m) == 0) {
            return r & m;
        }
        for (int u = r >>> 1; u + m - (r = u % bound) < 0; u = nextInt() >>> 1) {
            // retry
        }
        return r;
    }

    private static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    private static int mix32(long z) {
        z = (z ^ (z >>> 33)) * 0x62a9d9ed799705f5L;
        return (int) (((z ^ (z >>> 28)) * 0xcb24d0a5c88c35b3L) >>> 32);
    }

    /** An odd gamma with enough bit transitions to give well-mixed streams after a split. */
    private static long mixGamma(long z) {
        z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
        z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
        z = (z ^ (z >>> 33)) | 1L;
        int n = Long.bitCount(z ^ (z >>> 1));
        return (n < 24) ? z ^ 0xaaaaaaaaaaaaaaaaL : z;
    }
}
