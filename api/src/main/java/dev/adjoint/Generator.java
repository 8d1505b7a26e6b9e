package dev.adjoint;

import java.util.SplittableRandom;

/**
 * A seeded source of random numbers for tensor creation, initialisation and dropout. The stream
 * depends only on the seed, never on the backend, so the same seed gives the same tensors everywhere.
 * Not thread-safe: give each thread its own generator (or {@link #split()} one).
 */
public final class Generator {
    private final SplittableRandom random;
    private double spareGaussian;
    private boolean hasSpare;

    public Generator(long seed) {
        this.random = new SplittableRandom(seed);
    }

    private Generator(SplittableRandom random) {
        this.random = random;
    }

    /** An independent generator whose stream is determined by this one's state. */
    public Generator split() {
        return new Generator(random.split());
    }

    /** Uniform in [0, 1). */
    public double nextUniform() {
        return random.nextDouble();
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
            u1 = random.nextDouble();
        } while (u1 == 0.0);
        double u2 = random.nextDouble();
        double r = Math.sqrt(-2.0 * Math.log(u1));
        spareGaussian = r * Math.sin(2 * Math.PI * u2);
        hasSpare = true;
        return r * Math.cos(2 * Math.PI * u2);
    }

    public long nextLong(long bound) {
        return random.nextLong(bound);
    }

    /** A uniformly random permutation of {@code 0..n-1}. */
    public int[] permutation(int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
