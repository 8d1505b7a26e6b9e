package dev.adjoint.engine.simd;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.ForkJoinWorkerThread;

/**
 * When and how a matmul runs on more than one thread. A product of at least
 * {@link #PARALLEL_FLOPS} is cut into {@link #THREADS} independent parts (whole matrices of the
 * batch, or rectangles of one output matrix); the calling thread computes the first part and a
 * dedicated pool the others. Parts never share output, so they need no synchronisation beyond the
 * final join. Smaller products stay on the calling thread, where they finish sooner than the
 * hand-off to a pool thread would take.
 */
final class MatmulThreads {
    /** System property capping the threads of one matmul, read once; default: available processors. */
    static final String PROPERTY = "adjoint.simd.threads";
    static final int THREADS = configuredThreads();
    /**
     * 2 * 180^3 floating operations, about 25 us on one core here. Measured with GemmBenchmark on a
     * quiet machine: a 128^3 f32 product is slower on 2 threads than on 1 (92 vs 176 GFLOP/s: the
     * hand-off to a parked pool thread costs more than half the work), a 256^3 one faster (265 vs 208).
     */
    static final long PARALLEL_FLOPS = 2L * 180 * 180 * 180;

    private MatmulThreads() {
    }

    /** The work of part {@code index} of {@code parts}. */
    @FunctionalInterface
    interface Part {
        void run(int index, int parts);
    }

    /** How many parts a product of {@code flops} floating operations should be cut into. */
    static int partsFor(long flops) {
        return flops >= PARALLEL_FLOPS ? THREADS : 1;
    }

    /** Runs parts {@code 0..parts-1}, part 0 on this thread; returns when all have finished. */
    static void run(int parts, Part part) {
        if (parts <= 1) {
            part.run(0, 1);
            return;
        }
        ForkJoinTask<?>[] others = new ForkJoinTask<?>[parts - 1];
        for (int i = 1; i < parts; i++) {
            int index = i;
            others[i - 1] = Pool.POOL.submit(() -> part.run(index, parts));
        }
        try {
            part.run(0, parts);
        } finally {
            // Join every part even if this one failed, so no part still writes the output after we return.
            RuntimeException failure = null;
            for (ForkJoinTask<?> other : others) {
                try {
                    other.join();
                } catch (RuntimeException e) {
                    failure = e;
                }
            }
            if (failure != null) {
                throw failure;
            }
        }
    }

    /** The first and one-past-last of {@code total} items that part {@code index} of {@code parts} takes. */
    static int from(int total, int index, int parts, int multiple) {
        int blocks = (total + multiple - 1) / multiple;
        return Math.min(total, (int) ((long) blocks * index / parts) * multiple);
    }

    private static int configuredThreads() {
        int processors = Runtime.getRuntime().availableProcessors();
        String value = System.getProperty(PROPERTY);
        if (value == null || value.isBlank()) {
            return processors;
        }
        try {
            int threads = Integer.parseInt(value.trim());
            if (threads >= 1) {
                return threads;
            }
        } catch (NumberFormatException ignored) {
            // Reported below like any other invalid value.
        }
        throw new IllegalArgumentException("engine-simd: system property " + PROPERTY + " must be a positive integer"
                + " (threads of one matmul), got '" + value + "'");
    }

    /** Created on first parallel product only; daemon threads, so it never keeps a JVM alive. */
    private static final class Pool {
        static final ForkJoinPool POOL = new ForkJoinPool(Math.max(1, THREADS - 1), pool -> {
            ForkJoinWorkerThread thread = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
            thread.setName("adjoint-simd-matmul-" + thread.getPoolIndex());
            thread.setDaemon(true);
            return thread;
        }, null, false);
    }
}
