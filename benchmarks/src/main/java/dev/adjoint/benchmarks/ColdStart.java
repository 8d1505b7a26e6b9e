package dev.adjoint.benchmarks;

import dev.adjoint.backend.Backends;
import dev.adjoint.spi.Backend;

import java.lang.management.ManagementFactory;

/**
 * The story: how long a fresh JVM takes before a model runs at its steady speed. JMH's warm-up hides
 * exactly this, so this is a plain program, one fresh JVM per measurement:
 * {@code java --add-modules jdk.incubator.vector -cp benchmarks.jar dev.adjoint.benchmarks.ColdStart mlp|block}.
 * {@code mlp}: {@link TrainingStepBenchmark}'s MLP 784-256-10, batch 64, SGD with momentum, each
 * step in a {@link dev.adjoint.MemoryScope}; prints the first epoch (938 steps, one Fashion-MNIST
 * epoch of random data) and the next, with the training thread's CPU time, which depends less on
 * what else the machine runs than wall time.
 * {@code block}: the transformer block of {@link TransformerBlockBenchmark}, its first 8 steps one
 * by one. Run the two with {@code -Dadjoint.simd.warmup=false} and without, alternating: a cold start
 * depends on the load of the machine more than most measurements.
 */
public final class ColdStart {
    private ColdStart() {
    }

    public static void main(String[] args) {
        long start = System.nanoTime();
        String which = args.length > 0 ? args[0] : "mlp";
        Backend engine = Backends.get(args.length > 1 ? args[1] : "simd");
        switch (which) {
            case "mlp" -> mlp(engine, start);
            case "block" -> block(engine, start);
            default -> throw new IllegalArgumentException("ColdStart: expected mlp or block, got " + which);
        }
    }

    /** {@link TrainingStepBenchmark}'s model and step, built without the set-up's first step. */
    private static void mlp(Backend engine, long start) {
        TrainingStepBenchmark bench = new TrainingStepBenchmark();
        bench.backend = engine.name();
        bench.batchSize = 64;
        bench.build(engine);
        System.out.printf("mlp on %s: set-up %.2f s%n", engine.name(), seconds(start));
        for (int epoch = 0; epoch < 2; epoch++) {
            long t0 = System.nanoTime();
            long cpu0 = threadCpu();
            for (int step = 0; step < 938; step++) {
                bench.step();
            }
            System.out.printf("epoch %d: %.2f s wall, %.2f s training-thread CPU%n", epoch, seconds(t0),
                    (threadCpu() - cpu0) / 1e9);
        }
    }

    /** {@link TransformerBlockBenchmark}'s block and step, built without the set-up's first step. */
    private static void block(Backend engine, long start) {
        TransformerBlockBenchmark bench = new TransformerBlockBenchmark();
        bench.backend = engine.name();
        bench.build(engine);
        System.out.printf("block on %s: set-up %.2f s%nsteps (ms):", engine.name(), seconds(start));
        long cpu0 = threadCpu();
        long t0 = System.nanoTime();
        for (int step = 0; step < 8; step++) {
            long s0 = System.nanoTime();
            bench.step();
            System.out.printf(" %.0f", (System.nanoTime() - s0) / 1e6);
        }
        System.out.printf("%n8 steps: %.2f s wall, %.2f s training-thread CPU%n", seconds(t0), (threadCpu() - cpu0) / 1e9);
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }

    private static long threadCpu() {
        return ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
    }
}
