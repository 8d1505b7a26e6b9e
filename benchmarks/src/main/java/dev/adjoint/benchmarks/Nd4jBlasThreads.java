package dev.adjoint.benchmarks;

import dev.adjoint.DType;
import dev.adjoint.Shape;
import dev.adjoint.spi.Backend;
import dev.adjoint.spi.Layout;
import dev.adjoint.spi.Storage;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.nd4j.linalg.factory.Nd4j;

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

    /**
     * For a benchmark whose backend is {@code engine}: when that is nd4j and the fork names a thread
     * count ({@value GemmBenchmark#THREADS_PROPERTY}), pins its OpenBLAS and libnd4j's own pool
     * (elementwise ops, reductions) to it and returns the line {@link #pin} prints. Otherwise does
     * nothing (ND4J keeps its defaults, a thread per core) and returns {@code null}, touching no ND4J
     * class. The probe is a 512^3 product whatever the benchmark runs, so that OpenBLAS always has
     * work to split.
     */
    static String pinIfNd4j(Backend engine) {
        Integer threads = Integer.getInteger(GemmBenchmark.THREADS_PROPERTY);
        if (!engine.name().equals("nd4j") || threads == null) {
            return null;
        }
        Nd4j.getEnvironment().setMaxThreads(threads);
        Layout layout = Layout.contiguous(Shape.of(512, 512));
        Storage a = engine.fromDoubles(GemmBenchmark.uniform(512 * 512, 5), DType.FLOAT32);
        Storage out = engine.allocate(DType.FLOAT32, 512 * 512);
        String line = pin(threads, () -> engine.matmul(a, layout, a, layout, out, layout));
        System.out.println(line);
        return line;
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
