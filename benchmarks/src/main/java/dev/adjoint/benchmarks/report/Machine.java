package dev.adjoint.benchmarks.report;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the report says about the machine it ran on, read from Linux's {@code /proc} and
 * {@code /sys}, the caches from {@code getconf} where {@code /sys} has none (elsewhere the fields say
 * "unknown"): the CPU model and the vector extensions the kernels care about, cache sizes, cores,
 * memory, the JDK, and the load average, which says how much else was running.
 */
public record Machine(String cpu, String cpuDetails, int cores, String caches, String memory, String os, String jdk) {

    public static Machine current() {
        Map<String, String> cpuinfo = firstCpu();
        String model = cpuinfo.getOrDefault("model name", "unknown CPU");
        String details = String.format(Locale.ROOT, "vendor %s, family %s, model %s, stepping %s; %s",
                cpuinfo.getOrDefault("vendor_id", "?"), cpuinfo.getOrDefault("cpu family", "?"),
                cpuinfo.getOrDefault("model", "?"), cpuinfo.getOrDefault("stepping", "?"),
                vectorExtensions(cpuinfo.getOrDefault("flags", "")));
        String jdk = System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version")
                + " (" + System.getProperty("java.vendor") + ")";
        return new Machine(model, details, Runtime.getRuntime().availableProcessors(), readCaches(), readMemory(),
                System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"),
                jdk);
    }

    /** The 1-, 5- and 15-minute load averages, as {@code /proc/loadavg} has them ("unknown" elsewhere). */
    public static String loadAverage() {
        try {
            String[] fields = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return fields[0] + " " + fields[1] + " " + fields[2];
        } catch (IOException | ArrayIndexOutOfBoundsException e) {
            return "unknown";
        }
    }

    /** The 1-minute load average, or NaN. */
    public static double load1() {
        try {
            return Double.parseDouble(loadAverage().split(" ")[0]);
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    private static Map<String, String> firstCpu() {
        Map<String, String> fields = new LinkedHashMap<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.isBlank()) {
                    break; // the first processor's block is enough
                }
                int colon = line.indexOf(':');
                if (colon > 0) {
                    fields.putIfAbsent(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
                }
            }
        } catch (IOException e) {
            // not Linux: the caller's defaults say "unknown"
        }
        return fields;
    }

    private static String vectorExtensions(String flags) {
        List<String> have = new ArrayList<>();
        List<String> all = List.of(flags.split("\\s+"));
        for (String f : List.of("avx2", "fma", "avx512f", "avx512_fp16", "amx_tile", "asimd", "sve")) {
            if (all.contains(f)) {
                have.add(f);
            }
        }
        return have.isEmpty() ? "no AVX2/AVX-512/NEON flags seen" : String.join(" ", have);
    }

    /** Data and unified caches of cpu0: "L1d 48K, L2 2048K, L3 ...". */
    private static String readCaches() {
        Map<String, String> levels = new TreeMap<>();
        Path dir = Path.of("/sys/devices/system/cpu/cpu0/cache");
        for (int i = 0; i < 8; i++) {
            Path index = dir.resolve("index" + i);
            try {
                String type = Files.readString(index.resolve("type")).trim();
                if (type.equals("Instruction")) {
                    continue;
                }
                String level = Files.readString(index.resolve("level")).trim();
                String size = Files.readString(index.resolve("size")).trim();
                levels.put("L" + level + (type.equals("Data") ? "d" : ""), size);
            } catch (IOException e) {
                break;
            }
        }
        if (levels.isEmpty()) {
            return cachesFromGetconf(getconf());
        }
        List<String> parts = new ArrayList<>();
        levels.forEach((k, v) -> parts.add(k + " " + v));
        return String.join(", ", parts) + " (per cpu0)";
    }

    /**
     * L1d and L2 as {@code getconf -a} reports them (the C library asks the CPU through CPUID on x86),
     * for guests such as Firecracker's that have no sysfs cache directory, where the GEMM reads its
     * blocking from the same source; "unknown" when it names neither. L3 is left out: such a guest's
     * CPUID describes the host's, hundreds of MiB.
     */
    static String cachesFromGetconf(String output) {
        long l1 = 0, l2 = 0;
        for (String line : output.split("\\R")) {
            String[] fields = line.trim().split("\\s+");
            if (fields.length != 2) {
                continue;
            }
            try {
                switch (fields[0]) {
                    case "LEVEL1_DCACHE_SIZE" -> l1 = Long.parseLong(fields[1]);
                    case "LEVEL2_CACHE_SIZE" -> l2 = Long.parseLong(fields[1]);
                    default -> { }
                }
            } catch (NumberFormatException e) {
                // a field without a number: left unknown
            }
        }
        if (l1 <= 0 && l2 <= 0) {
            return "unknown";
        }
        List<String> parts = new ArrayList<>();
        if (l1 > 0) {
            parts.add("L1d " + l1 / 1024 + "K");
        }
        if (l2 > 0) {
            parts.add("L2 " + l2 / 1024 + "K");
        }
        return String.join(", ", parts) + " (per core, from getconf)";
    }

    private static String getconf() {
        try {
            Process process = new ProcessBuilder("getconf", "-a").redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            return process.waitFor() == 0 ? output : "";
        } catch (IOException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }

    private static String readMemory() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    long kib = Long.parseLong(line.replaceAll("\\D+", ""));
                    return String.format(Locale.ROOT, "%.0f GiB", kib / 1024.0 / 1024.0);
                }
            }
        } catch (IOException | NumberFormatException e) {
            // fall through
        }
        return "unknown";
    }
}
