package dev.adjoint.spark;

import dev.adjoint.Generator;

/**
 * Which examples replica {@code rank} trains on at each step. The run's examples are numbered in input
 * order ({@code zipWithIndex}); replica {@code r} of {@code n} holds the shard of examples whose number
 * is {@code r} modulo {@code n}, in number order (PyTorch's {@code DistributedSampler} split). Each epoch
 * every replica draws a fresh permutation of its shard from a generator seeded by the run's seed, the
 * epoch and the rank, and step {@code j} of the epoch takes the next {@code microBatch} positions of
 * it. Every replica runs the same number of steps per epoch, set by the smallest shard, so a few
 * examples of the larger shards sit out each epoch (a different few each time).
 *
 * <p>A step is thus a function of (seed, rank, epoch, step) alone: a resumed run draws exactly the
 * batches the interrupted run would have drawn, and one process reproduces a run of {@code n}
 * replicas by concatenating, in rank order, the rows each replica takes at each step (which is
 * what the tests do).
 */
public final class ShardSampler {
    private final long seed;
    private final int rank;
    private final int shardSize;
    private final int microBatch;
    private final int stepsPerEpoch;
    private long cachedEpoch = -1;
    private int[] permutation;

    /**
     * @param stepsPerEpoch steps per epoch for every replica: the smallest shard's size divided by
     *                      {@code microBatch}, rounded down
     */
    public ShardSampler(long seed, int rank, int shardSize, int microBatch, int stepsPerEpoch) {
        if (microBatch < 1 || stepsPerEpoch < 1 || (long) stepsPerEpoch * microBatch > shardSize) {
            throw new IllegalArgumentException("ShardSampler: " + stepsPerEpoch + " steps of " + microBatch
                    + " examples do not fit in a shard of " + shardSize);
        }
        this.seed = seed;
        this.rank = rank;
        this.shardSize = shardSize;
        this.microBatch = microBatch;
        this.stepsPerEpoch = stepsPerEpoch;
    }

    /** Steps per epoch when the smallest shard has {@code smallestShard} examples. */
    public static int stepsPerEpoch(int smallestShard, int microBatch) {
        return smallestShard / microBatch;
    }

    /** The positions within this replica's shard (0-based, in shard order) of step {@code step}'s micro-batch. */
    public int[] rows(long step) {
        long epoch = step / stepsPerEpoch;
        int within = (int) (step % stepsPerEpoch);
        if (epoch != cachedEpoch) {
            permutation = new Generator(epochSeed(seed, epoch, rank)).permutation(shardSize);
            cachedEpoch = epoch;
        }
        int[] out = new int[microBatch];
        System.arraycopy(permutation, within * microBatch, out, 0, microBatch);
        return out;
    }

    /** SplitMix64's finaliser over the three numbers, so neighbouring epochs and ranks get unrelated streams. */
    static long epochSeed(long seed, long epoch, int rank) {
        long z = seed + 0x9e3779b97f4a7c15L * (epoch + 1) + 0xc2b2ae3d27d4eb4fL * (rank + 1);
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
