package dev.adjoint.spark.collective;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;

/**
 * An all-reduce through Spark's own {@code BarrierTaskContext.allGather}: every rank sends its whole
 * vector (Base64 text, since allGather carries strings) through the driver, receives every rank's,
 * and sums them itself in rank order. No sockets of its own, so nothing to wire or firewall; but all
 * traffic passes through the driver, which receives {@code n} vectors and sends {@code n^2}, so it
 * only suits small models (docs/benchmarks.md compares it with {@link RingAllReduce}).
 *
 * <p>Every rank sums the same strings in the same order with the same arithmetic, so every rank ends
 * with the same bits, and they are the bits {@link RingAllReduce} produces (see {@link AllReduce}).
 */
public final class SparkAllGatherReduce implements AllReduce {
    /**
     * Raw bytes per allGather call, divided among the ranks: each call's reply carries every rank's
     * piece (4/3 larger as Base64) and must stay well under Spark's RPC message limit
     * ({@code spark.rpc.message.maxSize}, 128 MiB by default).
     */
    private static final int BYTES_PER_CALL = 32 << 20;

    private final int rank;
    private final int size;
    private final StringAllGather gather;

    public SparkAllGatherReduce(int rank, int size, StringAllGather gather) {
        this.rank = rank;
        this.size = size;
        this.gather = gather;
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public String name() {
        return "spark-allgather";
    }

    private int elementsPerCall(ReduceBuffer buffer) {
        return Math.max(1, BYTES_PER_CALL / size / buffer.elementBytes());
    }

    @Override
    public void allReduce(ReduceBuffer buffer, boolean average) throws IOException {
        if (size == 1) {
            return;
        }
        int step = elementsPerCall(buffer);
        for (int from = 0; from < buffer.length(); from += step) {
            int count = Math.min(step, buffer.length() - from);
            String[] all = gather.allGather(encode(buffer, from, count));
            check(all, count, buffer);
            buffer.copyReceived(decode(all[0]), from, count);
            for (int r = 1; r < size; r++) {
                buffer.addReceived(decode(all[r]), from, count);
            }
            if (average) {
                buffer.divide(from, count, size);
            }
        }
    }

    @Override
    public void broadcastFromRank0(ReduceBuffer buffer) throws IOException {
        if (size == 1) {
            return;
        }
        int step = elementsPerCall(buffer);
        for (int from = 0; from < buffer.length(); from += step) {
            int count = Math.min(step, buffer.length() - from);
            String[] all = gather.allGather(rank == 0 ? encode(buffer, from, count) : "");
            if (all.length != size) {
                throw new CollectiveException("SparkAllGatherReduce: rank " + rank + " expected " + size
                        + " messages, got " + all.length);
            }
            buffer.copyReceived(decode(all[0]), from, count);
        }
    }

    private void check(String[] all, int count, ReduceBuffer buffer) throws CollectiveException {
        if (all.length != size) {
            throw new CollectiveException("SparkAllGatherReduce: rank " + rank + " expected " + size
                    + " messages, got " + all.length);
        }
        int expected = 4 * ((count * buffer.elementBytes() + 2) / 3); // Base64 with padding
        for (int r = 0; r < size; r++) {
            if (all[r].length() != expected) {
                throw new CollectiveException("SparkAllGatherReduce: rank " + rank + " got " + all[r].length()
                        + " characters from rank " + r + ", expected " + expected + " for " + count + " "
                        + buffer.dtype() + " elements: the ranks called with different buffer sizes");
            }
        }
    }

    private static String encode(ReduceBuffer buffer, int from, int count) {
        ByteBuffer bytes = ByteBuffer.allocate(count * buffer.elementBytes()).order(ByteOrder.LITTLE_ENDIAN);
        buffer.encode(from, count, bytes);
        return Base64.getEncoder().encodeToString(bytes.array());
    }

    private static ByteBuffer decode(String text) {
        return ByteBuffer.wrap(Base64.getDecoder().decode(text)).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public void close() {
    }
}
