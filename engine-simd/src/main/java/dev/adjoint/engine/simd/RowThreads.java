package dev.adjoint.engine.simd;

/**
 * Rows of a large row-wise or elementwise call split over the matmul's threads ({@link MatmulThreads}):
 * the rows are cut into a number of parts that depends on the work alone, never on how many threads
 * there are, and each part is a ticket that whichever thread is free runs. So a part's result (a row,
 * or a part's partial column sums) is computed the same way on one thread or two. The parts are
 * independent: each thread starts on its own consecutive share of them (the calling thread on the
 * first rows), the same share call after call, so that the rows an optimizer step or an elementwise
 * op of one size finds in a core's caches are the rows that core handled last time.
 */
final class RowThreads {
    /** One part of the rows: {@code [from, to)}, the {@code part}-th of them. */
    interface Part {
        void run(int from, int to, int part);
    }

    /**
     * Calls of fewer elements than this stay on the calling thread: about the work at which a
     * second thread starts to pay, as for the matmul (MatmulThreads.PARALLEL_FLOPS, ~20 us of work on
     * one core, since a helper found parked costs tens of microseconds to wake). Measured with
     * benchmarks/ab/RowThreadsAB.java (FLOAT32 rows of 256, best of 300 rounds, one thread against two,
     * Intel Xeon Sapphire/Emerald Rapids class, load average 18-20 on 2 cores, so the second core was
     * mostly taken): two threads gained from 2^14 elements for softmax (9.6 against 5.6 us) and 2^15
     * for GELU and layer norm, never below 2^14; at 2^16 one thread takes 8 us (add) to 39 us
     * (softmax). The system property {@code adjoint.simd.parallelElements} overrides it, for that
     * measurement.
     */
    static final long PARALLEL_ELEMENTS = Long.getLong("adjoint.simd.parallelElements", 1L << 16);
    /**
     * Parts per large call: a few per core, so that a thread that starts late (a helper woken from
     * parking, or a core shared with another process) still finds work, and the faster thread takes more.
     */
    static final int PARTS = 8;

    private RowThreads() {
    }

    /** How many parts {@code rows} rows of {@code rowLength} elements are cut into. */
    static int parts(int rows, int rowLength) {
        return (long) rows * rowLength >= PARALLEL_ELEMENTS ? Math.max(1, Math.min(PARTS, rows)) : 1;
    }

    /** A run of {@code length} elements from {@code at}. */
    interface Run {
        void run(int at, int length);
    }

    /**
     * Runs {@code body} over {@code n} elements in runs of whole pieces of {@link SimdBackend#RUN_PIECE}
     * (the last one shorter), on this thread and up to the matmul's helpers as {@link #forRows}.
     */
    static void inPieces(int n, Run body) {
        if (n == 0) {
            return;
        }
        int piece = SimdBackend.RUN_PIECE;
        forRows(SimdBackend.pieces(n), piece, (from, to, part) -> {
            int at = from * piece;
            body.run(at, Math.min(to * piece, n) - at);
        });
    }

    /** Runs {@code body} over every part of the rows, on this thread and up to the matmul's helpers. */
    static void forRows(int rows, int rowLength, Part body) {
        int parts = parts(rows, rowLength);
        if (parts == 1 || MatmulThreads.THREADS == 1) {
            for (int p = 0; p < parts; p++) {
                body.run(MatmulThreads.from(rows, p, parts, 1), MatmulThreads.from(rows, p + 1, parts, 1), p);
            }
            return;
        }
        MatmulThreads.run(new MatmulThreads.Job() {
            @Override
            int tickets() {
                return parts;
            }

            @Override
            boolean independent() {
                return true;
            }

            @Override
            void run(int ticket) {
                body.run(MatmulThreads.from(rows, ticket, parts, 1), MatmulThreads.from(rows, ticket + 1, parts, 1),
                        ticket);
            }
        }, MatmulThreads.THREADS);
    }
}
