package dev.adjoint.engine.simd;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;

/**
 * When and how a matmul runs on more than one thread. A product of at least
 * {@link #PARALLEL_FLOPS} is run as a {@link Job} by the calling thread together with
 * {@link #THREADS} - 1 dedicated helper threads; smaller products stay on the calling thread, where
 * they finish sooner than waking a helper would take.
 *
 * <p>A job is a numbered list of tickets (e.g. "pack this pass of B", then "multiply these rows
 * against it"). Every participant claims the next ticket from one counter and runs it once the
 * earlier tickets it reads from are done ({@link Job#awaitInputs}, {@link Job#awaitTicket}). That
 * wait is only ever for tickets that were claimed before, by threads that are running them, so it
 * cannot deadlock: a helper that starts late (or never, because another matmul holds the helpers)
 * simply finds fewer tickets left, and the caller runs whatever nobody else claimed. This lets the
 * threads of one product share a packed panel of B without a barrier: a thread which finishes its
 * rows of one pass goes on with the next instead of idling until the slowest ticket of the pass is
 * done.
 *
 * <p>A job whose tickets are {@linkplain Job#independent independent} is cut into one block of
 * consecutive tickets per participant instead, and each participant runs its own block first (the
 * calling thread the first, helper {@code i} the {@code i}-th), then whatever is left of the
 * others'. Every call of a given size then puts the same part of the data on the same core: the
 * rows of a weight gradient that one thread writes are the rows whose optimizer step that thread
 * runs next, and whose product it computes in the next forward pass. Where the two cores share no
 * cache (the two vCPUs of a virtual machine placed on different CCDs or sockets), a line written by
 * one core and read by the other crosses the interconnect: measured on an AMD EPYC Zen 5 guest whose
 * vCPUs were so placed (a core-to-core round trip of ~430 ns), the MLP's SGD step took 180 us instead
 * of 34 when it ran on the calling thread after a two-thread weight gradient, and the two-thread MLP
 * step was slower than one thread's while any thread took any ticket.
 */
final class MatmulThreads {
    /** System property capping the threads of one matmul, read once; default: available processors. */
    static final String PROPERTY = "adjoint.simd.threads";
    static final int THREADS = configuredThreads();
    /**
     * 2 * 128^3 floating operations, about 19 us on one core here. Measured with the polling helpers
     * (benchmarks/ab/GemmAB.java, f32, back-to-back square products, quiet machine, best of 100 rounds):
     * two threads against one gave 1.09x at n = 48, 1.2x at 64, 1.4x at 96, 1.74x at 128 (390 vs 224
     * GFLOP/s) and 1.88x at 192; f64 1.4x at 64 and 1.8x at 128. Those are products that find the
     * helper still polling; one that finds it parked pays an unpark (a few microseconds) on the calling
     * thread while the helper wakes and joins late, which is why the line is not drawn lower. (With
     * the ForkJoinPool these helpers replaced, 128^3 was slower on two threads: 92 vs 176.)
     */
    static final long PARALLEL_FLOPS = 2L * 128 * 128 * 128;
    /** Elements of {@code long} between two counters of a job: a cache line. */
    private static final int SPACING = 8;
    /** How long an idle helper keeps polling for the next job before it parks (wake-up costs ~10-50 us). */
    private static final long IDLE_SPIN_NANOS = 50_000;

    private MatmulThreads() {
    }

    /** How many threads a product of {@code flops} floating operations should use. */
    static int partsFor(long flops) {
        return flops >= PARALLEL_FLOPS ? THREADS : 1;
    }

    /** The first of {@code total} items that part {@code index} of {@code parts} takes, in multiples of {@code multiple}. */
    static int from(int total, int index, int parts, int multiple) {
        int blocks = (total + multiple - 1) / multiple;
        return Math.min(total, (int) ((long) blocks * index / parts) * multiple);
    }

    /**
     * Work cut into tickets {@code 0..tickets()-1}. A subclass is reused product after product by
     * one calling thread (no allocation per product); {@link #run} publishes new parameters before
     * any helper can claim a ticket of the new product.
     */
    abstract static class Job {
        private static final VarHandle FINISHED = MethodHandles.arrayElementVarHandle(int[].class);
        /**
         * Per block of tickets, at {@code block * SPACING}, the generation (high 32 bits) and the block's
         * next unclaimed ticket (low 32): a helper still holding an old generation claims nothing. A
         * cache line apart, so that one thread claiming from its block does not take the line of the
         * other blocks' counters from their owners.
         */
        private final AtomicLongArray next = new AtomicLongArray(THREADS * SPACING);
        private final AtomicInteger done = new AtomicInteger();
        private volatile Throwable failure;
        private int generation;
        private int tickets;
        /** Blocks of consecutive tickets: one per participant for {@link #independent} tickets, else one. */
        private int blocks = 1;
        /** Per ticket, the generation in which it was last finished: a ticket is done in this run when it holds the current one. */
        private int[] finished = new int[0];

        /** The number of tickets of the product just set up. */
        abstract int tickets();

        /**
         * Whether no ticket of this run reads what another writes, so that each participant may be
         * given a block of its own (see the class comment). By default tickets may depend on earlier
         * ones ({@link #awaitInputs}) and are claimed in order from one counter.
         */
        boolean independent() {
            return false;
        }

        /** Runs one ticket on the current thread. */
        abstract void run(int ticket);

        /**
         * Waits until every ticket that {@code ticket} reads from is done, with {@link #awaitTicket}. By
         * default tickets are independent and nothing is awaited.
         */
        void awaitInputs(int ticket) {
        }

        /** Waits until {@code ticket} (claimed before the caller's, as every input is) has finished in this run. */
        final void awaitTicket(int ticket) {
            int spins = 0;
            while ((int) FINISHED.getAcquire(finished, ticket) != generation) {
                if (++spins % 1024 == 0) {
                    Thread.yield();
                } else {
                    Thread.onSpinWait();
                }
            }
        }

        /**
         * Claims and runs tickets of run {@code gen} until none is left; returns without waiting for
         * other participants. What the calling thread and every helper run; {@code gen} may be a finished
         * run's, for a helper that has not yet seen the next.
         */
        void participate(long gen, int participant) {
            // Block 0's counter is published last: once it holds this generation, so does every field.
            if ((next.get(0) >>> 32) != gen) {
                return;
            }
            int blocks = this.blocks;
            // A helper beyond the count of blocks (a run on fewer threads than there are) starts on a
            // helper's block, never on the calling thread's.
            int own = participant < blocks ? participant : blocks == 1 ? 0 : 1 + (participant - 1) % (blocks - 1);
            for (int i = 0; i < blocks; i++) {
                claimAndRun(gen, (own + i) % blocks);
            }
        }

        /** Claims and runs the unclaimed tickets of one block of run {@code gen}, in order. */
        private void claimAndRun(long gen, int block) {
            int at = block * SPACING;
            while (true) {
                long v = next.get(at);
                int ticket = (int) v;
                if ((v >>> 32) != gen || ticket >= from(tickets, block + 1, blocks, 1)) {
                    return;
                }
                if (!next.compareAndSet(at, v, v + 1)) {
                    continue;
                }
                try {
                    awaitInputs(ticket);
                    run(ticket);
                } catch (Throwable e) {
                    failure = e;
                } finally {
                    FINISHED.setRelease(finished, ticket, (int) gen);
                    done.incrementAndGet();
                }
            }
        }

        private void awaitDone(int count) {
            int spins = 0;
            while (done.get() < count) {
                // Spin: phases last microseconds. Yield now and then, so that on a busy machine a
                // descheduled participant gets its core back.
                if (++spins % 1024 == 0) {
                    Thread.yield();
                } else {
                    Thread.onSpinWait();
                }
            }
        }
    }

    /** Runs every ticket of {@code job} on this thread and up to {@code threads - 1} helpers; returns when all are done. */
    static void run(Job job, int threads) {
        // Never 0, the value of a ticket not yet finished in any run.
        if (++job.generation == 0) {
            job.generation = 1;
        }
        long gen = job.generation & 0xFFFF_FFFFL;
        // A job object is reused by its thread's next product, and a helper of the previous run may still
        // be in participate(): retire that run's counters before its ticket count and done count change,
        // or the helper, comparing its exhausted ticket with the new (larger) count, claims a ticket of
        // the old generation, runs it beside the new run's owner of that ticket and counts it in `done`.
        for (int b = 0; b < THREADS; b++) {
            job.next.set(b * SPACING, (gen << 32) | Integer.MAX_VALUE);
        }
        job.tickets = job.tickets();
        job.blocks = job.independent() ? Math.max(1, Math.min(threads, THREADS)) : 1;
        job.failure = null;
        job.done.set(0);
        if (job.finished.length < job.tickets) {
            job.finished = new int[job.tickets];
        }
        // The volatile writes publish the parameters set by the caller (plain fields) to the helpers;
        // block 0's last, which participate() reads before the count of blocks.
        for (int b = job.blocks - 1; b >= 0; b--) {
            job.next.set(b * SPACING, (gen << 32) | from(job.tickets, b, job.blocks, 1));
        }
        boolean helped = threads > 1 && job.tickets > 1 && Team.TEAM.offer(job, gen);
        try {
            job.participate(gen, 0);
            job.awaitDone(job.tickets);
        } finally {
            if (helped) {
                Team.TEAM.release();
            }
        }
        Throwable failure = job.failure;
        if (failure instanceof RuntimeException e) {
            throw e;
        } else if (failure instanceof Error e) {
            throw e;
        } else if (failure != null) {
            throw new IllegalStateException("engine-simd: matmul failed on a helper thread", failure);
        }
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

    /**
     * The helper threads, THREADS - 1 daemons created on the first parallel product. One job at a
     * time: a product that finds them busy runs on its own thread instead of queueing.
     */
    private static final class Team {
        static final Team TEAM = new Team();

        private final AtomicBoolean busy = new AtomicBoolean();
        private final Thread[] helpers = new Thread[Math.max(0, THREADS - 1)];
        private volatile Job job;
        private volatile long gen;
        /** Bumped on every offer; a helper runs the posted job when it sees a new value. */
        private volatile long posted;

        private Team() {
            for (int i = 0; i < helpers.length; i++) {
                int participant = i + 1;
                Thread helper = new Thread(() -> serve(participant), "adjoint-simd-matmul-" + participant);
                helper.setDaemon(true);
                helpers[i] = helper;
                helper.start();
            }
        }

        boolean offer(Job job, long gen) {
            if (helpers.length == 0 || !busy.compareAndSet(false, true)) {
                return false;
            }
            this.job = job;
            this.gen = gen;
            posted++;
            for (Thread helper : helpers) {
                LockSupport.unpark(helper);
            }
            return true;
        }

        void release() {
            busy.set(false);
        }

        private void serve(int participant) {
            long seen = 0;
            while (true) {
                long now = posted;
                if (now != seen) {
                    seen = now;
                    Job current = job;
                    long currentGen = gen;
                    if (current != null) {
                        current.participate(currentGen, participant);
                    }
                    continue;
                }
                long idleSince = System.nanoTime();
                while (posted == seen && System.nanoTime() - idleSince < IDLE_SPIN_NANOS) {
                    Thread.onSpinWait();
                }
                if (posted == seen) {
                    // unpark before park leaves a permit, so an offer between the check and here is not lost.
                    LockSupport.park(this);
                }
            }
        }
    }
}
