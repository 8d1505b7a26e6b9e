package dev.adjoint.benchmarks.report;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The glibc {@code malloc} settings every process of the report runs with, so that the native peers
 * (PyTorch, DJL's libtorch, nd4j) keep the memory a step frees for the next step instead of handing
 * it back to the kernel and faulting it in again.
 *
 * <p>By default glibc serves a large block from its own {@code mmap}, unmapped again on {@code free},
 * and returns the free top of its heap to the kernel once it exceeds a threshold; both thresholds
 * move with what the process has freed so far. A training step that allocates and frees its
 * activations and gradients every call then takes a page fault for every 4 KiB of them on some calls
 * or in some processes and not others, at a cost that depends on the host (in a VM, each fault
 * exits to the hypervisor). Measured on an AMD EPYC Zen 5 guest (PyTorch 1.13, one thread,
 * benchmarks/peers/torch_workloads.py, medians): the MLP step 0.87-1.32 ms by default in one
 * process, 0.52 ms in another; the transformer block 53.9 ms (samples 42.9-90.8), the language model
 * 256 ms (161-405); with these settings 0.52 ms, 39.4 ms (39.0-40.2) and 160 ms (157-177). The
 * PyTorch performance guide's advice (a caching allocator such as jemalloc) comes to the same:
 * a peer is measured at its best.
 *
 * <p>Both are set because setting either fixes the other at its default: a fixed 32 MiB (glibc's
 * largest) {@code mmap} threshold alone leaves the 128 KiB trim threshold, and a high trim threshold
 * alone leaves a fixed 128 KiB {@code mmap} threshold (measured: the MLP step 2.4 and 3.1 ms). A
 * value already in the environment is kept. The peer scripts run by hand set the same for themselves
 * ({@code benchmarks/peers/native_heap.py}). The JVM cells of Adjoint's own backends get the same
 * environment; their tensors live on the Java heap, which these do not touch.
 */
final class NativeHeap {
    /** The variables and the values they are given where the environment leaves them unset. */
    static final Map<String, String> SETTINGS = settings();

    private NativeHeap() {
    }

    private static Map<String, String> settings() {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("MALLOC_MMAP_THRESHOLD_", Integer.toString(32 << 20));
        settings.put("MALLOC_TRIM_THRESHOLD_", Long.toString(1L << 30));
        return settings;
    }

    /** Adds the settings the environment {@code environment} does not already set. */
    static void applyTo(Map<String, String> environment) {
        SETTINGS.forEach(environment::putIfAbsent);
    }

    /** The settings in effect for a process started from this one's environment, for the report's notes. */
    static String description() {
        Map<String, String> effective = new LinkedHashMap<>(System.getenv());
        applyTo(effective);
        return SETTINGS.keySet().stream().map(name -> name + "=" + effective.get(name)
                        + (System.getenv(name) != null ? " (from the environment)" : ""))
                .collect(Collectors.joining(", "));
    }
}
