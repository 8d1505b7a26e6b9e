package dev.adjoint.benchmarks.report;

import java.util.List;
import java.util.Objects;

/**
 * One row group of the report: what is measured, in which unit, on which Adjoint backends and at
 * which thread counts, and how to set it up. The set-up reuses the JMH benchmark's own state class
 * ({@link #jmhBenchmark}), so the report and the full JMH suite time the same code.
 *
 * @param id          the key in report.json and the name {@code benchmarks/peers/torch_workloads.py}
 *                    and the {@link PeerLibrary peer libraries} know it by
 * @param title       the row's label in the table
 * @param description what it measures and why it is in the report, for report.md
 * @param metric      the figure's unit and direction
 * @param threads     the thread counts it runs at
 * @param backends    the Adjoint backends it runs on in the report (the JMH suite may have more)
 * @param oneThreadOnly the backends among them timed at one thread only on this workload: those
 *                    whose second thread was measured to gain nothing here (the report stays short)
 * @param yardstick   the id of the {@link Workloads#YARDSTICKS yardstick} shown beside it (the FMA
 *                    peak, a memory copy), or {@code null}
 * @param jmhBenchmark the JMH benchmark (class and method) with the same workload, for
 *                    {@code benchmarks/run --jmh}
 * @param perCore     for a yardstick: its figure is one core's, so at t threads the machine's limit
 *                    is t times it (the FMA peak; a memory copy is not per core)
 * @param adjoint     sets the workload up on a backend, in the JVM that will time it
 */
public record Workload(String id, String title, String description, Metric metric, List<Integer> threads,
                       List<String> backends, List<String> oneThreadOnly, String yardstick, String jmhBenchmark, boolean perCore,
                       Factory adjoint) {

    /** Sets a workload up on one backend (or, for a yardstick, on the JVM alone). */
    @FunctionalInterface
    public interface Factory {
        Operation create(String backend) throws Exception;
    }

    public Workload {
        Objects.requireNonNull(id, "id");
        threads = List.copyOf(threads);
        backends = List.copyOf(backends);
        oneThreadOnly = List.copyOf(oneThreadOnly);
    }
}
