package dev.adjoint.spark.collective;

import dev.adjoint.DType;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class RingAllReduceTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @FunctionalInterface
    interface RankBody<T> {
        T run(int rank, StringAllGather gather) throws Exception;
    }

    /** Runs {@code body} on {@code size} threads, one per rank; returns each rank's result or failure. */
    static <T> List<Object> onRanks(int size, RankBody<T> body) throws InterruptedException {
        InProcessGather gather = new InProcessGather(size);
        ExecutorService pool = Executors.newFixedThreadPool(size);
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (int r = 0; r < size; r++) {
                int rank = r;
                futures.add(pool.submit(() -> body.run(rank, gather.forRank(rank))));
            }
            List<Object> out = new ArrayList<>();
            for (Future<T> f : futures) {
                try {
                    out.add(f.get(120, TimeUnit.SECONDS));
                } catch (ExecutionException e) {
                    out.add(e.getCause());
                } catch (java.util.concurrent.TimeoutException e) {
                    out.add(e);
                }
            }
            return out;
        } finally {
            pool.shutdownNow();
            pool.awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    static RingAllReduce.Options options(int chunkBytes) {
        return new RingAllReduce.Options("127.0.0.1", chunkBytes, TIMEOUT, 42);
    }

    /** Values spread over many binades, so the order of a sum changes its rounding. */
    static double[] values(int rank, int length) {
        SplittableRandom random = new SplittableRandom(1000 + rank);
        double[] v = new double[length];
        for (int i = 0; i < length; i++) {
            v[i] = (random.nextDouble() - 0.5) * Math.pow(2, random.nextInt(-20, 20));
        }
        return v;
    }

    static ReduceBuffer buffer(DType dtype, double[] values) {
        if (dtype == DType.FLOAT64) {
            return new ReduceBuffer.Float64(values.clone());
        }
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        return new ReduceBuffer.Float32(f);
    }

    /** ((g0 + g1) + g2) + ..., in the dtype's arithmetic; then / n when averaging. */
    static double[] canonical(DType dtype, int size, int length, boolean average) {
        double[][] g = new double[size][];
        for (int r = 0; r < size; r++) {
            g[r] = values(r, length);
        }
        double[] expected = new double[length];
        for (int i = 0; i < length; i++) {
            if (dtype == DType.FLOAT64) {
                double s = g[0][i];
                for (int r = 1; r < size; r++) {
                    s = s + g[r][i];
                }
                expected[i] = average ? s / size : s;
            } else {
                float s = (float) g[0][i];
                for (int r = 1; r < size; r++) {
                    s = s + (float) g[r][i];
                }
                expected[i] = average ? s / (float) size : s;
            }
        }
        return expected;
    }

    static double[] contents(ReduceBuffer b) {
        if (b instanceof ReduceBuffer.Float64 d) {
            return d.array().clone();
        }
        float[] f = ((ReduceBuffer.Float32) b).array();
        double[] out = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            out[i] = f[i];
        }
        return out;
    }

    static List<Object> ringSum(int size, DType dtype, int length, int chunkBytes, boolean average)
            throws InterruptedException {
        return onRanks(size, (rank, gather) -> {
            try (RingAllReduce ring = RingAllReduce.connect(rank, size, gather, options(chunkBytes))) {
                ReduceBuffer b = buffer(dtype, values(rank, length));
                ring.allReduce(b, average);
                return contents(b);
            }
        });
    }

    @Test
    void everyRankGetsTheRankOrderSumBitForBit() throws Exception {
        for (int size : new int[] {1, 2, 3, 4}) {
            for (DType dtype : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
                // 0 and 1 element, fewer elements than ranks, one chunk, and many chunks with a short last one.
                for (int length : new int[] {0, 1, 3, 1000, 20_011}) {
                    for (int chunkBytes : new int[] {64, 0}) {
                        double[] expected = canonical(dtype, size, length, false);
                        List<Object> results = ringSum(size, dtype, length, chunkBytes, false);
                        for (int r = 0; r < size; r++) {
                            Object got = results.get(r);
                            if (got instanceof Throwable t) {
                                throw new AssertionError("rank " + r + " of " + size + " failed", t);
                            }
                            assertArrayEquals(expected, (double[]) got, 0.0, "rank " + r + " of " + size + ", " + dtype
                                    + ", " + length + " elements, chunk " + chunkBytes + " bytes");
                        }
                    }
                }
            }
        }
    }

    @Test
    void vectorsLargerThanTheSocketBuffersFlowAroundTheRing() throws Exception {
        // 8 MiB per rank in 32 KiB messages: every link has far more in flight than its buffers hold, so
        // each rank must keep reading while its own writes wait.
        int length = 2 << 20;
        double[] expected = canonical(DType.FLOAT32, 3, length, true);
        List<Object> results = ringSum(3, DType.FLOAT32, length, 32 << 10, true);
        for (Object got : results) {
            assertArrayEquals(expected, (double[]) got, 0.0);
        }
    }

    @Test
    void theCanonicalOrderMattersForTheseValues() {
        // Guards the test above: were the ring to sum chunk c from rank c (the textbook ring), the bits
        // would differ from the rank-order sum for these values.
        int length = 20_011;
        double[] a = values(0, length);
        double[] b = values(1, length);
        double[] c = values(2, length);
        int differing = 0;
        for (int i = 0; i < length; i++) {
            if ((a[i] + b[i]) + c[i] != (b[i] + c[i]) + a[i]) {
                differing++;
            }
        }
        assertTrue(differing > length / 10, "only " + differing + " of " + length + " sums depend on the order");
    }

    @Test
    void averagingDividesOnceAndEveryRankHasTheSameBits() throws Exception {
        for (DType dtype : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
            double[] expected = canonical(dtype, 3, 5000, true);
            List<Object> results = ringSum(3, dtype, 5000, 4096, true);
            for (Object got : results) {
                assertArrayEquals(expected, (double[]) got, 0.0);
            }
        }
    }

    @Test
    void sparkAllGatherGivesTheRingsBits() throws Exception {
        for (int size : new int[] {2, 3}) {
            for (DType dtype : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
                List<Object> ring = ringSum(size, dtype, 3001, 1024, true);
                List<Object> gathered = onRanks(size, (rank, gather) -> {
                    ReduceBuffer b = buffer(dtype, values(rank, 3001));
                    new SparkAllGatherReduce(rank, size, gather).allReduce(b, true);
                    return contents(b);
                });
                for (int r = 0; r < size; r++) {
                    assertArrayEquals((double[]) ring.get(r), (double[]) gathered.get(r), 0.0);
                }
            }
        }
    }

    @Test
    void broadcastCopiesRankZero() throws Exception {
        for (int size : new int[] {2, 4}) {
            List<Object> ring = onRanks(size, (rank, gather) -> {
                try (RingAllReduce r = RingAllReduce.connect(rank, size, gather, options(128))) {
                    ReduceBuffer b = buffer(DType.FLOAT64, values(rank, 777));
                    r.broadcastFromRank0(b);
                    // A second collective on the same connections after the broadcast.
                    r.allReduce(b, true);
                    return contents(b);
                }
            });
            for (Object got : ring) {
                assertArrayEquals(values(0, 777), (double[]) got, 0.0);
            }
            List<Object> gathered = onRanks(size, (rank, gather) -> {
                ReduceBuffer b = buffer(DType.FLOAT32, values(rank, 777));
                new SparkAllGatherReduce(rank, size, gather).broadcastFromRank0(b);
                return contents(b);
            });
            for (Object got : gathered) {
                assertArrayEquals(contents(buffer(DType.FLOAT32, values(0, 777))), (double[]) got, 0.0);
            }
        }
    }

    @Test
    void aRankThatDiesFailsTheOthersPromptly() throws Exception {
        long start = System.nanoTime();
        List<Object> results = onRanks(3, (rank, gather) -> {
            try (RingAllReduce ring = RingAllReduce.connect(rank, 3, gather, options(256))) {
                ReduceBuffer b = buffer(DType.FLOAT32, values(rank, 100_000));
                ring.allReduce(b, true);
                if (rank == 1) {
                    throw new IllegalStateException("rank 1 dies between two steps");
                }
                ring.allReduce(b, true);
                return contents(b);
            }
        });
        double seconds = (System.nanoTime() - start) / 1e9;
        assertInstanceOf(IllegalStateException.class, results.get(1));
        for (int r : new int[] {0, 2}) {
            CollectiveException e = assertInstanceOf(CollectiveException.class, results.get(r), "rank " + r);
            assertTrue(e.getMessage().contains("lost its connection"), e.getMessage());
        }
        // Far below the 60 s timeout: the closed connections, not the timeout, ended the call.
        assertTrue(seconds < 30, "took " + seconds + " s");
    }

    @Test
    void differentLengthsOnDifferentRanksAreReported() throws Exception {
        List<Object> results = onRanks(2, (rank, gather) -> {
            try (RingAllReduce ring = RingAllReduce.connect(rank, 2, gather, options(0))) {
                ring.allReduce(buffer(DType.FLOAT64, values(rank, rank == 0 ? 10 : 12)), false);
                return null;
            }
        });
        boolean reported = false;
        for (Object got : results) {
            if (got instanceof CollectiveException e && e.getMessage().contains("different collectives or different buffer sizes")) {
                reported = true;
            } else if (!(got instanceof CollectiveException)) {
                fail("expected every rank to fail, got " + got);
            }
        }
        assertTrue(reported, String.valueOf(results));
    }

    @Test
    void aConnectionFromAnotherRunIsRefused() throws Exception {
        // Before rank 0 connects, a task of another run (or an earlier attempt of this one) reaches rank
        // 1's port, claiming to be rank 0: rank 1 must refuse it and wait for the real rank 0.
        List<java.nio.channels.SocketChannel> strays = new ArrayList<>();
        List<Object> results = onRanks(2, (rank, gather) -> {
            StringAllGather g = rank != 0 ? gather : own -> {
                String[] all = gather.allGather(own);
                String peer = all[1];
                java.nio.channels.SocketChannel stray = java.nio.channels.SocketChannel.open(new java.net.InetSocketAddress(
                        peer.substring(0, peer.lastIndexOf(':')), Integer.parseInt(peer.substring(peer.lastIndexOf(':') + 1))));
                java.nio.ByteBuffer hello = java.nio.ByteBuffer.allocate(16);
                hello.putInt(0x41444a52).putLong(8).putInt(0).flip();
                stray.write(hello);
                synchronized (strays) {
                    strays.add(stray);
                }
                return all;
            };
            try (RingAllReduce ring = RingAllReduce.connect(rank, 2, g, options(0))) {
                ReduceBuffer b = buffer(DType.FLOAT64, values(rank, 10));
                ring.allReduce(b, false);
                return contents(b);
            }
        });
        for (java.nio.channels.SocketChannel stray : strays) {
            // Refused: rank 1 closed it without a byte.
            assertEquals(-1, stray.read(java.nio.ByteBuffer.allocate(1)));
            stray.close();
        }
        assertEquals(1, strays.size());
        for (Object got : results) {
            assertArrayEquals(canonical(DType.FLOAT64, 2, 10, false), (double[]) got, 0.0);
        }
    }

    @Test
    void chunksFollowTheVectorSize() throws IOException {
        try (RingAllReduce single = RingAllReduce.connect(0, 1, own -> new String[] {own}, options(0))) {
            assertEquals((32 << 10) / 4, single.chunkElements(ReduceBuffer.allocate(DType.FLOAT32, 10)));
            assertEquals((1 << 20) / 8, single.chunkElements(ReduceBuffer.allocate(DType.FLOAT64, 100_000_000)));
        }
    }
}
