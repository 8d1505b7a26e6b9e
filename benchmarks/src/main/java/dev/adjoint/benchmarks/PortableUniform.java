package dev.adjoint.benchmarks;

/**
 * Uniform values that Java, NumPy and any other language compute bit for bit alike, so that two
 * implementations of a workload (Adjoint, PyTorch through {@code benchmarks/peers}, DJL) can be fed
 * the same weights and inputs and their outputs compared. Value {@code i} of stream {@code s} is
 * SplitMix64 of {@code s * 2^32 + i}: only 64-bit integer arithmetic, then its top 24 bits as a
 * fraction (exact in a float) mapped to {@code [low, high)} in double and rounded once to float.
 * {@code benchmarks/peers/portable_uniform.py} is the same function in NumPy.
 *
 * <p>Not a random generator for training (there is {@code dev.adjoint.Generator} for that): a
 * shared, documented function of two integers.
 */
public final class PortableUniform {
    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

    private PortableUniform() {
    }

    /** {@code count} values of stream {@code stream} in {@code [low, high)}. */
    public static float[] values(int stream, int count, double low, double high) {
        float[] out = new float[count];
        long base = (long) stream << 32;
        for (int i = 0; i < count; i++) {
            long z = (base + i + 1) * GOLDEN_GAMMA;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            z ^= z >>> 31;
            double unit = (z >>> 40) * 0x1.0p-24;
            out[i] = (float) (low + (high - low) * unit);
        }
        return out;
    }
}
