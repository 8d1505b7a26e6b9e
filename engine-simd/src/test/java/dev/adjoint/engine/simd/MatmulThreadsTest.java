package dev.adjoint.engine.simd;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The ticket protocol of {@link MatmulThreads}: every ticket of a run is run exactly once, even with
 * a participant still in a finished run. A job object is reused product after product, so a helper
 * of the previous run may still be looking for tickets while the caller sets up the next; were the
 * new run's ticket count visible to it before the old run's counter is retired, it would take its
 * exhausted old ticket number for a ticket of the new run and run it a second time (in a GEMM, a
 * wrong sum). With the counter moved to the new run only after the count had changed, about one run
 * in sixteen of this test went wrong. The same holds for a job of independent tickets, cut into a
 * block per participant; and there each participant starts on its own block.
 */
class MatmulThreadsTest {
    /** Counts how often each of its tickets ran; the test sets its ticket count before each run. */
    private static final class CountingJob extends MatmulThreads.Job {
        final AtomicIntegerArray runs = new AtomicIntegerArray(16);
        volatile int count;
        final boolean independent;

        CountingJob(boolean independent) {
            this.independent = independent;
        }

        @Override
        boolean independent() {
            return independent;
        }

        @Override
        int tickets() {
            return count;
        }

        @Override
        void run(int ticket) {
            runs.incrementAndGet(ticket);
        }
    }

    /** The generation of the last run that returned (runs are numbered from 1, as the job's generations). */
    private static volatile long lastFinished;

    @ParameterizedTest(name = "independent tickets: {0}")
    @ValueSource(booleans = {false, true})
    void aParticipantLeftInAFinishedRunRunsNoTicketOfTheNext(boolean independent) throws InterruptedException {
        CountingJob job = new CountingJob(independent);
        // A helper as the caller's set-up of the next run may find it: still in the previous run's
        // generation, asking for tickets again and again, as fast as it can.
        Thread straggler = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                long gen = lastFinished;
                if (gen > 0) {
                    job.participate(gen, 1);
                }
            }
        }, "straggler");
        straggler.setDaemon(true);
        straggler.start();
        try {
            int runs = 200_000;
            for (int r = 1; r <= runs; r++) {
                // The count grows every other run, so the old run's exhausted ticket number is in range
                // of the new count.
                int count = r % 2 == 0 ? 9 : 5;
                job.count = count;
                for (int t = 0; t < job.runs.length(); t++) {
                    job.runs.set(t, 0);
                }
                MatmulThreads.run(job, 2);
                for (int t = 0; t < job.runs.length(); t++) {
                    assertEquals(t < count ? 1 : 0, job.runs.get(t), "run " + r + ": ticket " + t + " of " + count);
                }
                lastFinished = r;
            }
        } finally {
            straggler.interrupt();
            straggler.join(10_000);
        }
        assertFalse(straggler.isAlive());
    }

    @Test
    void theCallingThreadRunsTheFirstBlockOfIndependentTicketsFirstAndInOrder() {
        List<Integer> byCaller = Collections.synchronizedList(new ArrayList<>());
        Thread caller = Thread.currentThread();
        MatmulThreads.Job job = new MatmulThreads.Job() {
            @Override
            int tickets() {
                return 8;
            }

            @Override
            boolean independent() {
                return true;
            }

            @Override
            void run(int ticket) {
                if (Thread.currentThread() == caller) {
                    byCaller.add(ticket);
                } else {
                    // A slow helper, so that the caller also reaches tickets of the helper's block.
                    try {
                        Thread.sleep(2);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        };
        for (int r = 0; r < 20; r++) {
            byCaller.clear();
            MatmulThreads.run(job, 2);
            int own = MatmulThreads.THREADS > 1 ? 4 : 8;
            for (int t = 0; t < own; t++) {
                assertEquals(t, byCaller.get(t), "run " + r + ": the caller's tickets " + byCaller);
            }
        }
    }
}
