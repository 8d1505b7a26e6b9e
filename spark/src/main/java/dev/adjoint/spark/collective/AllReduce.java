package dev.adjoint.spark.collective;

import java.io.IOException;

/**
 * Collective operations among the {@link #size()} replicas of one training run, each identified by
 * its {@link #rank()}. Every replica calls the same operations in the same order with buffers of the
 * same dtype and length.
 *
 * <p>Implementations guarantee <em>canonical summation</em>: element {@code i} of a sum is
 * {@code ((g0[i] + g1[i]) + g2[i]) + ...}, left to right in rank order, whatever the chunking or the
 * transport, and every rank ends with the same bits. Replicas that apply the same optimizer step to
 * the same bits stay bit-identical, and the two implementations ({@link RingAllReduce},
 * {@link SparkAllGatherReduce}) give identical results.
 */
public interface AllReduce extends AutoCloseable {

    int rank();

    int size();

    /**
     * Replaces {@code buffer} on every rank by the element-wise sum over ranks, divided by
     * {@link #size()} when {@code average} (the division happens once, on the rank that completes
     * the sum, so every rank receives its bits).
     */
    void allReduce(ReduceBuffer buffer, boolean average) throws IOException;

    /** Replaces {@code buffer} on every rank by rank 0's. */
    void broadcastFromRank0(ReduceBuffer buffer) throws IOException;

    /** A short name for logs and benchmarks: "ring" or "spark-allgather". */
    String name();

    @Override
    void close();
}
