package dev.adjoint.engine.simd;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The dropout mask of {@link dev.adjoint.spi.FusedKernels#dropoutMask} in vectors: a lane per draw,
 * SplitMix64's finaliser on a vector of generator states, then the comparison of each draw's 53 bits
 * with the threshold as the lanes of a mask, stored as {@code value} or 0 through a vector of the
 * mask's element type with as many lanes. Each element depends only on its index, so a range of
 * elements is filled the same whichever thread fills it, and a last partial vector runs under a mask,
 * with the same arithmetic. Measured on an AMD EPYC Zen 5 (FLOAT32, one thread, CPU time, a busy
 * machine): dropout of a 1M-element tensor, mask and product, 2.6-2.9 ms with the host's loop (the
 * mask a draw at a time, then copied into the backend's storage) and 0.30-0.31 ms with this; the
 * language model of benchmarks' LanguageModelBenchmark (dropout 0.1 in two encoder layers) 157-208 ms
 * a step before, 124-150 after.
 */
final class DropoutMasks {
    private static final VectorSpecies<Long> S = LongVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** As many float lanes as S has: half its width. */
    private static final VectorSpecies<Float> F = VectorSpecies.of(float.class, VectorShape.forBitSize(S.vectorBitSize() / 2));
    private static final VectorSpecies<Double> D = VectorSpecies.of(double.class, S.vectorShape());

    private DropoutMasks() {
    }

    /** Elements {@code [from, to)} of a FLOAT32 mask (see {@link dev.adjoint.spi.FusedKernels#dropoutMask}). */
    static void fill(long seed, long gamma, long threshold, float value, float[] out, int from, int to) {
        LongVector state = first(seed, gamma, from);
        LongVector stride = LongVector.broadcast(S, L * gamma);
        FloatVector kept = FloatVector.broadcast(F, value);
        FloatVector dropped = FloatVector.zero(F);
        int i = from;
        for (; i + L <= to; i += L) {
            dropped.blend(kept, keeps(state, threshold).cast(F)).intoArray(out, i);
            state = state.add(stride);
        }
        if (i < to) {
            VectorMask<Float> rest = F.indexInRange(i, to);
            dropped.blend(kept, keeps(state, threshold).cast(F)).intoArray(out, i, rest);
        }
    }

    /** Elements {@code [from, to)} of a FLOAT64 mask. */
    static void fill(long seed, long gamma, long threshold, double value, double[] out, int from, int to) {
        LongVector state = first(seed, gamma, from);
        LongVector stride = LongVector.broadcast(S, L * gamma);
        DoubleVector kept = DoubleVector.broadcast(D, value);
        DoubleVector dropped = DoubleVector.zero(D);
        int i = from;
        for (; i + L <= to; i += L) {
            dropped.blend(kept, keeps(state, threshold).cast(D)).intoArray(out, i);
            state = state.add(stride);
        }
        if (i < to) {
            VectorMask<Double> rest = D.indexInRange(i, to);
            dropped.blend(kept, keeps(state, threshold).cast(D)).intoArray(out, i, rest);
        }
    }

    /** The states of draws {@code from .. from + L - 1}: draw {@code i} from {@code seed + (i + 1) * gamma}. */
    private static LongVector first(long seed, long gamma, int from) {
        return LongVector.zero(S).addIndex(1).add(from + 1L).mul(gamma).add(seed);
    }

    /** Where each lane's draw is kept: SplitMix64's finaliser, its top 53 bits at least {@code threshold}. */
    private static VectorMask<Long> keeps(LongVector z, long threshold) {
        z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 30)).mul(0xbf58476d1ce4e5b9L);
        z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 27)).mul(0x94d049bb133111ebL);
        z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 31));
        // Non-negative after the shift, so a signed comparison orders the draws.
        return z.lanewise(VectorOperators.LSHR, 11).compare(VectorOperators.GE, threshold);
    }
}
