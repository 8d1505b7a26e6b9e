package dev.adjoint.benchmarks;

import org.bytedeco.openblas.global.openblas_nolapack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Pins the OpenBLAS that engine-nd4j's matmul calls (the library bundled with ND4J, through its
 * JavaCPP binding) to a number of threads, and checks that it took. The usual knobs do not reach a
 * forked JMH JVM: {@code OMP_NUM_THREADS} / {@code OPENBLAS_NUM_THREADS} are environment variables,
 * which {@code @Fork(jvmArgsAppend)} cannot set, and ND4J's own thread settings
 * ({@code Nd4j.getEnvironment().setMaxMasterThreads}) size libnd4j's pool, not BLAS's. So the set-up
 * calls {@code blas_set_num_threads} of the binding (what ND4J's {@code CpuBlas.setMaxThreads}
 * calls: {@code openblas_set_num_threads} in the library), then counts the threads that really burn
 * CPU during a probe: OpenBLAS's workers are native threads the JVM never named, so in
 * {@code /proc/self/task} they carry the name of the thread that loaded the library (this benchmark
 * thread), apart from the JVM's own compiler and GC threads.
 *
 * <p>A separate class so that a run without nd4j never loads the native library.
 */
final class Nd4jBlasThreads {
    private Nd4jBlasThreads() {
    }

    /** Sets the thread count; returns a line for the log with the count of OpenBLAS workers seen busy in {@code probe}. */
    static String pin(int threads, Runnable probe) {
        openblas_nolapack.blas_set_num_threads(threads);
        Map<String, Long> before = nativeThreadTicks();
        long end = System.nanoTime() + 300_000_000L;
        do {
            probe.run();
        } while (System.nanoTime() < end);
        Map<String, Long> after = nativeThreadTicks();
        // A worker that took part ran for a good share of the 0.3 s (a tick is 10 ms).
        long busyWorkers = after.entrySet().stream()
                .filter(e -> e.getValue() - before.getOrDefault(e.getKey(), 0L) >= 5)
                .count();
        String line = "nd4j OpenBLAS: blas_set_num_threads(" + threads + "), vendor " + openblas_nolapack.blas_get_vendor()
                + ", OpenBLAS worker threads busy in a 0.3 s probe: " + busyWorkers + " (expected " + (threads - 1)
                + "; the caller is the other one), OPENBLAS_CORETYPE="
                + System.getenv().getOrDefault("OPENBLAS_CORETYPE", "unset");
        if (busyWorkers > threads - 1) {
            throw new IllegalStateException(line);
        }
        return line;
    }

    /** CPU ticks (user + system) of the other threads of this process named as this one, by thread id. */
    private static Map<String, Long> nativeThreadTicks() {
        Map<String, Long> ticks = new HashMap<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            Path self = Path.of("/proc/thread-self").toRealPath();
            String name = Files.readString(self.resolve("comm")).strip();
            for (Path task : (Iterable<Path>) tasks::iterator) {
                try {
                    if (task.toRealPath().equals(self) || !Files.readString(task.resolve("comm")).strip().equals(name)) {
                        continue;
                    }
                    String stat = Files.readString(task.resolve("stat"));
                    // Fields after the parenthesised name: state is field 3, utime 14, stime 15.
                    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    ticks.put(task.getFileName().toString(), Long.parseLong(fields[11]) + Long.parseLong(fields[12]));
                } catch (IOException gone) {
                    // The thread ended between the listing and the read.
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return ticks;
    }
}
