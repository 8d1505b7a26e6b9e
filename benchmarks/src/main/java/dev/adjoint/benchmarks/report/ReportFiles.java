package dev.adjoint.benchmarks.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The report's files: {@code report.json} (every sample of every cell), {@code report.md} (the
 * table, what each row measures, how it was measured, the machine) and a PNG chart per workload.
 * The JSON and Markdown are rewritten after every cell, each through a temporary file and a rename,
 * so a stopped run leaves complete files of what it measured; the charts are drawn at the end.
 */
final class ReportFiles {
    private final Path dir;
    private final Machine machine;
    /** One per cell; a cell measured in several rounds holds the samples of all of them. */
    private final List<CellResult> results = new ArrayList<>();
    /** Cells measured so far, each round counted. */
    private int cellsDone;
    private final List<String> notes = new ArrayList<>();
    private final String started = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    private final String loadAtStart = Machine.loadAverage();
    private Map<String, String> titles = Map.of();
    private Set<String> peerKeys = Set.of();
    private List<String> peerNotes = List.of();
    private int planned;
    private double cellSeconds;
    private double warmupLimit;
    private String status = "running";
    private String finishedAt;
    private String loadAtEnd;
    private List<String> charts = List.of();

    ReportFiles(Path dir, Machine machine) {
        this.dir = dir;
        this.machine = machine;
    }

    Machine machine() {
        return machine;
    }

    synchronized void note(String note) {
        notes.add(note);
    }

    /**
     * @param titles    column titles by implementation key, in column order
     * @param peerKeys  the keys of the peers (the others are Adjoint backends, and {@code jvm})
     */
    synchronized void begin(int planned, Map<String, String> titles, Set<String> peerKeys, List<String> peerNotes,
                            double cellSeconds, double warmupLimit) {
        this.warmupLimit = warmupLimit;
        this.planned = planned;
        this.titles = new LinkedHashMap<>(titles);
        this.peerKeys = Set.copyOf(peerKeys);
        this.peerNotes = List.copyOf(peerNotes);
        this.cellSeconds = cellSeconds;
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("report: cannot create " + dir, e);
        }
        write();
    }

    /** Records a cell and rewrites the files; after {@link #finish} nothing more is recorded. */
    synchronized void add(CellResult result) {
        if (finishedAt != null) {
            return;
        }
        cellsDone++;
        int i = indexOf(result.workload(), result.implementation(), result.threads());
        if (i < 0) {
            results.add(result);
        } else {
            results.set(i, results.get(i).pooledWith(result));
        }
        write();
    }

    synchronized boolean finished() {
        return finishedAt != null;
    }

    /** Marks the run {@code complete} or {@code interrupted}, draws the charts, writes everything. */
    synchronized void finish(String finalStatus) {
        if (finishedAt != null) {
            return;
        }
        status = finalStatus;
        finishedAt = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        loadAtEnd = Machine.loadAverage();
        try {
            charts = ReportCharts.write(dir, workloads(), results, titles);
        } catch (RuntimeException | IOException e) {
            notes.add("charts not drawn: " + e);
        }
        write();
    }

    private void write() {
        try {
            replace(dir.resolve("report.json"), new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                    .writeValueAsString(json()));
            replace(dir.resolve("report.md"), markdown());
        } catch (IOException e) {
            throw new UncheckedIOException("report: cannot write into " + dir, e);
        }
    }

    private static void replace(Path target, String content) throws IOException {
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        Files.writeString(tmp, content);
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    // ---- JSON ------------------------------------------------------------------------------------------

    private ObjectNode json() {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        root.put("status", status);
        root.put("started", started);
        root.put("finished", finishedAt);
        root.put("cellsPlanned", planned);
        root.put("cellsDone", cellsDone);
        root.put("cellSeconds", cellSeconds);
        root.put("warmupLimitSeconds", warmupLimit);
        root.set("machine", mapper.valueToTree(machine));
        root.put("loadAverageAtStart", loadAtStart);
        root.put("loadAverageAtEnd", loadAtEnd);
        root.set("implementations", mapper.valueToTree(titles));
        root.set("peers", mapper.valueToTree(peerNotes));
        root.set("notes", mapper.valueToTree(notes));
        ArrayNode ws = root.putArray("workloads");
        for (Workload w : workloads()) {
            ws.addObject().put("id", w.id()).put("title", w.title()).put("description", w.description())
                    .put("unit", w.metric().unit()).put("higherIsBetter", w.metric().higherIsBetter())
                    .put("yardstick", w.yardstick()).put("jmh", w.jmhBenchmark());
        }
        ArrayNode cells = root.putArray("cells");
        for (CellResult r : results) {
            ObjectNode c = cells.addObject();
            c.put("workload", r.workload()).put("implementation", r.implementation()).put("threads", r.threads())
                    .put("status", r.status());
            if (r.ok()) {
                c.put("median", r.median()).put("min", r.min()).put("max", r.max());
            }
            c.set("samples", mapper.valueToTree(r.samples()));
            c.put("calls", r.calls()).put("warmupSeconds", r.warmupSeconds()).put("warmupCalls", r.warmupCalls())
                    .put("jitSettled", r.jitSettled())
                    .put("samplesSetAside", r.samplesSetAside()).put("seconds", r.seconds()).put("loadBefore", r.loadBefore())
                    .put("loadAfter", r.loadAfter()).put("message", r.message());
        }
        return root;
    }

    // ---- Markdown ------------------------------------------------------------------------------------------

    /** The results table alone, in Markdown (what the run prints at the end). */
    synchronized String table() {
        List<Workload> rows = workloads().stream().filter(w -> !Workloads.YARDSTICKS.contains(w)).toList();
        // Adjoint's backends first, then the peers.
        List<String> present = titles.keySet().stream().filter(k -> !k.equals("jvm")
                && results.stream().anyMatch(r -> r.implementation().equals(k))).toList();
        List<String> peers = present.stream().filter(peerKeys::contains).toList();
        List<String> columns = new ArrayList<>(present.stream().filter(k -> !peerKeys.contains(k)).toList());
        columns.addAll(peers);
        boolean machineColumn = rows.stream().anyMatch(w -> w.yardstick() != null && result(w.yardstick(), "jvm", 1).isPresent());

        List<String> head = new ArrayList<>(List.of("workload", "threads"));
        columns.forEach(k -> head.add(titles.get(k)));
        if (machineColumn) {
            head.add("machine");
        }
        peers.forEach(p -> head.add("Adjoint vs " + shortTitle(titles.get(p))));
        StringBuilder sb = new StringBuilder();
        sb.append("| ").append(String.join(" | ", head)).append(" |\n");
        sb.append("| --- | ---:").append(" | ---:".repeat(head.size() - 2)).append(" |\n");
        for (Workload w : rows) {
            for (int threads : w.threads()) {
                int t = threads;
                if (results.stream().noneMatch(r -> r.workload().equals(w.id()) && r.threads() == t)) {
                    continue;
                }
                List<String> row = new ArrayList<>();
                row.add(w.title() + " (" + w.metric().unit() + (w.metric().higherIsBetter() ? " ↑" : " ↓") + ")");
                row.add(Integer.toString(threads));
                for (String k : columns) {
                    row.add(result(w.id(), k, threads).map(ReportFiles::cellText).orElse(""));
                }
                if (machineColumn) {
                    row.add(machineText(w, threads));
                }
                for (String p : peers) {
                    row.add(ratioText(w, threads, columns, p));
                }
                sb.append("| ").append(String.join(" | ", row)).append(" |\n");
            }
        }
        return sb.toString();
    }

    private String markdown() {
        StringBuilder sb = new StringBuilder("# Adjoint benchmark report\n\n");
        sb.append("- Status: **").append(status).append("**, ").append(cellsDone).append(" of ").append(planned)
                .append(" cells; started ").append(started).append(finishedAt == null ? "" : ", finished " + finishedAt)
                .append(".\n");
        sb.append("- CPU: ").append(machine.cpu()).append(" (").append(machine.cpuDetails()).append("); ")
                .append(machine.cores()).append(" cores; caches ").append(machine.caches()).append("; memory ")
                .append(machine.memory()).append(".\n");
        sb.append("- JDK: ").append(machine.jdk()).append("; OS: ").append(machine.os()).append(".\n");
        sb.append("- Load average (1, 5, 15 min): ").append(loadAtStart).append(" at the start")
                .append(loadAtEnd == null ? "" : ", " + loadAtEnd + " at the end")
                .append(". A one-thread cell adds about 1 to it and a two-thread cell about 2; more means other "
                        + "processes shared the cores.\n");
        for (String p : peerNotes) {
            sb.append("- Peer: ").append(p).append(".\n");
        }
        for (String n : notes) {
            sb.append("- ").append(n).append(".\n");
        }
        sb.append("\n## Results\n\n").append(table()).append('\n');
        sb.append("Each cell is the median of its samples with their minimum and maximum in brackets. ↑: higher is "
                + "better, ↓: lower is better. The machine column is the yardstick measured in the same run: the "
                + "FMA peak of one core times the thread count for the GEMM rows, a memory copy of the same "
                + "bytes for the elementwise row. \"Adjoint vs X\" is how many times faster the fastest Adjoint "
                + "backend of the row is than X (below 1: slower).\n\n");
        for (String chart : charts) {
            sb.append("![").append(chart).append("](").append(chart).append(")\n");
        }
        sb.append("\n## What each row measures\n\n");
        for (Workload w : workloads()) {
            sb.append("- **").append(w.title()).append("** (`").append(w.id()).append("`): ").append(w.description())
                    .append(" The JMH suite has it as `").append(w.jmhBenchmark()).append("`.\n");
        }
        sb.append("\n## How it was measured\n\n");
        sb.append(String.format(Locale.ROOT, "Every Adjoint and DJL cell ran in a JVM of its own, started with the "
                + "flags of the JMH forks and the thread count in every library's setting (simd's matmul threads, "
                + "nd4j's OpenBLAS and libnd4j pool, libtorch's intra-op threads); PyTorch ran in one Python process, "
                + "its thread count set for PyTorch and for its OpenBLAS before each cell. Each cell warmed up until "
                + "the JIT had finished compiling (nothing compiled for a quarter of a second and HotSpot's compile "
                + "queues empty), for at most %.1f s (PyTorch, which has no JIT: at least three calls and half a "
                + "second), then took up to eight samples over %.1f s, each of as many calls as fill an eighth of it "
                + "(at least one call: a slow step overruns the time rather than give fewer than two or three "
                + "samples). A sample during which the JIT compiled for a tenth of its time or more was set aside "
                + "and another taken, for up to three times that long: such a compile takes a core from a "
                + "two-thread cell on two cores.%n%n", warmupLimit, cellSeconds));
        List<String> unsettled = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        for (CellResult r : results) {
            String name = cellName(r);
            if (!r.ok()) {
                failed.add(name + ": " + r.status() + ": " + r.message());
            } else if (!r.jitSettled() && !r.implementation().equals("pytorch")) {
                unsettled.add(String.format(Locale.ROOT, "%s (%d warm-up calls in %.1f s)", name, r.warmupCalls(),
                        r.warmupSeconds()));
            }
        }
        List<String> waitPolicies = results.stream().filter(r -> r.ok() && r.message() != null)
                .map(r -> cellName(r) + ": " + r.message())
                .toList();
        if (!waitPolicies.isEmpty()) {
            sb.append("The native peers' OpenMP threads spin for a while when idle; where a library runs a second "
                    + "pool beside them (Debian's PyTorch calls the pthread OpenBLAS), the two compete for the "
                    + "cores. Their multi-threaded cells ran both with the environment's setting and with "
                    + "OMP_WAIT_POLICY=PASSIVE, and the table keeps the faster:\n\n");
            waitPolicies.forEach(w -> sb.append("- ").append(w).append('\n'));
            sb.append('\n');
        }
        if (!unsettled.isEmpty()) {
            sb.append("Cells whose warm-up reached its limit while the JIT was still compiling (their figures may "
                    + "be pessimistic; a longer --warmup-limit, or a quieter machine, helps): ").append(String.join("; ", unsettled)).append(".\n\n");
        }
        if (!failed.isEmpty()) {
            sb.append("Cells without a figure:\n\n");
            failed.forEach(f -> sb.append("- ").append(f).append('\n'));
            sb.append('\n');
        }
        sb.append("All samples, calls and loads are in report.json.\n");
        return sb.toString();
    }

    /** A cell as the notes under the table name it: workload, implementation, threads. */
    private String cellName(CellResult r) {
        return r.workload() + " | " + titles.getOrDefault(r.implementation(), r.implementation()) + " | " + r.threads()
                + " thread(s)";
    }

    private Optional<CellResult> result(String workload, String implementation, int threads) {
        int i = indexOf(workload, implementation, threads);
        return i < 0 ? Optional.empty() : Optional.of(results.get(i));
    }

    /** Where the cell of this workload, implementation and thread count is in {@link #results}, or -1. */
    private int indexOf(String workload, String implementation, int threads) {
        for (int i = 0; i < results.size(); i++) {
            CellResult r = results.get(i);
            if (r.workload().equals(workload) && r.implementation().equals(implementation) && r.threads() == threads) {
                return i;
            }
        }
        return -1;
    }

    private static String cellText(CellResult r) {
        if (r.status().equals("skipped")) {
            return "–";
        }
        if (!r.ok()) {
            return r.status();
        }
        return Metric.format(r.median()) + " (" + Metric.format(r.min()) + "–" + Metric.format(r.max()) + ")";
    }

    private String machineText(Workload w, int threads) {
        if (w.yardstick() == null) {
            return "";
        }
        Workload yardstick = Workloads.byId(w.yardstick()).orElseThrow();
        return result(yardstick.id(), "jvm", 1).filter(CellResult::ok)
                .map(r -> Metric.format(r.median() * (yardstick.perCore() ? threads : 1)) + " ("
                        + (yardstick.perCore() ? "FMA peak" : "copy") + ")")
                .orElse("");
    }

    private String ratioText(Workload w, int threads, List<String> columns, String peer) {
        Optional<CellResult> theirs = result(w.id(), peer, threads).filter(CellResult::ok);
        CellResult best = null;
        for (String k : columns) {
            if (peerKeys.contains(k)) {
                continue;
            }
            Optional<CellResult> r = result(w.id(), k, threads).filter(CellResult::ok);
            if (r.isPresent() && (best == null || w.metric().speedup(r.get().median(), best.median()) > 1)) {
                best = r.get();
            }
        }
        if (best == null || theirs.isEmpty()) {
            return "";
        }
        return String.format(Locale.ROOT, "%.2fx (%s)", w.metric().speedup(best.median(), theirs.get().median()),
                best.implementation());
    }

    private static String shortTitle(String title) {
        return title.split(" ")[0];
    }

    /** Every workload and yardstick that has a result, in the registry's order. */
    private List<Workload> workloads() {
        List<Workload> out = new ArrayList<>();
        for (Workload w : Workloads.YARDSTICKS) {
            if (results.stream().anyMatch(r -> r.workload().equals(w.id()))) {
                out.add(w);
            }
        }
        for (Workload w : Workloads.ALL) {
            if (results.stream().anyMatch(r -> r.workload().equals(w.id()))) {
                out.add(w);
            }
        }
        return out;
    }
}
