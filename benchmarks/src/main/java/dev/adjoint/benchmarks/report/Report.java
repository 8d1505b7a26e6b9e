package dev.adjoint.benchmarks.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * {@code benchmarks/run} without arguments: every {@link Workloads workload} on every backend at one
 * and two threads, PyTorch (and DJL, in the benchmarks-djl jar) beside them, in a few minutes. Each
 * cell runs in a fresh JVM ({@link CellRunner}) and is timed by the {@link Sampler} within a budget
 * of seconds. It prints each cell as it finishes and the table at the end, and writes
 * {@code report.md}, {@code report.json} and a PNG chart per workload into the output directory,
 * rewriting report.md and report.json after every cell: an interrupted run keeps what it measured.
 */
public final class Report {
    /** Backends whose kernels use one thread whatever the setting: timed at one thread only. */
    private static final Set<String> SINGLE_THREADED = Set.of("scalar");
    private static final String PYTORCH = "pytorch";
    /** Implementations whose native libraries run OpenMP thread pools: see {@link OpenMpWaitPolicy}. */
    private static final Set<String> OPENMP = Set.of(PYTORCH, "nd4j", "djl");

    /** One cell to run: who runs which workload at how many threads. */
    record Cell(Workload workload, String implementation, int threads) {
    }

    private final Options options;
    private final ReportFiles files;
    private final List<Cell> plan = new ArrayList<>();
    private final Map<String, String> titles = new LinkedHashMap<>();
    private final List<PeerLibrary> peers = new ArrayList<>();
    private TorchPeer torch;
    /** The PyTorch peer with passive OpenMP threads, started at its first cell. */
    private TorchPeer torchPassive;
    private OpenBlasCoreType coreType;
    private volatile Process running;
    /** Set by the shutdown hook: no cell starts or is recorded after it. */
    private volatile boolean stopping;
    private final long start = System.nanoTime();

    private Report(Options options) {
        this.options = options;
        this.files = new ReportFiles(options.out(), Machine.current());
    }

    public static void main(String[] args) throws Exception {
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("report: " + e.getMessage() + " (benchmarks/run --help lists the options)");
            System.exit(2);
            return;
        }
        if (options.list()) {
            for (Workload w : Workloads.ALL) {
                System.out.printf(Locale.ROOT, "%-18s %s (%s); backends %s; threads %s; JMH: %s%n", w.id(), w.title(),
                        w.metric().unit(), w.backends(), w.threads(), w.jmhBenchmark());
            }
            return;
        }
        new Report(options).run();
    }

    private void run() throws IOException {
        startPeers();
        makePlan();
        Set<String> peerKeys = new HashSet<>();
        if (torch != null) {
            peerKeys.add(PYTORCH);
        }
        peers.forEach(p -> peerKeys.add(p.id()));
        files.begin(plan.size(), titles, peerKeys, peerNotes(), options.cellSeconds(), options.warmupLimit());
        Runtime.getRuntime().addShutdownHook(new Thread(this::interrupted, "report-interrupted"));
        System.out.printf(Locale.ROOT, "Report: %d cells, each %.1f s of samples after a warm-up until the JIT is "
                        + "done (at most %.1f s); results in %s%n", plan.size(), options.cellSeconds(),
                options.warmupLimit(), options.out());
        System.out.println("Machine: " + files.machine().cpu() + ", " + files.machine().cores() + " cores, "
                + files.machine().jdk() + "; load average " + Machine.loadAverage());

        for (int i = 0; i < plan.size() && !stopping; i++) {
            Cell cell = plan.get(i);
            String label = String.format(Locale.ROOT, "[%2d/%d %s] %s | %s | %d thread%s", i + 1, plan.size(),
                    elapsed(), cell.workload().title(), titles.get(cell.implementation()), cell.threads(),
                    cell.threads() == 1 ? "" : "s");
            System.out.print(label + " ... ");
            System.out.flush();
            CellResult result = measure(cell);
            if (stopping) {
                break; // the cell was cut short by the interruption; the hook writes the report
            }
            files.add(result);
            System.out.println(describe(cell.workload(), result));
        }
        if (stopping) {
            return;
        }
        closeTorch();
        files.finish("complete");
        System.out.println();
        System.out.println(files.table());
        System.out.println("Report: " + options.out().resolve("report.md") + " (also report.json and a PNG per "
                + "workload), " + elapsed() + " in all; load average now " + Machine.loadAverage());
    }

    private void startPeers() {
        titles.put("jvm", "machine");
        // The probe takes seconds; a run with neither PyTorch nor nd4j keeps the environment's setting.
        boolean openBlasRuns = options.pytorch() || options.backends().isEmpty() || options.backends().contains("nd4j");
        coreType = OpenBlasCoreType.choose(openBlasRuns ? options.openblasCoreType() : "env", options.python(),
                options.peers());
        files.note("OpenBLAS core type (the PyTorch peer's and nd4j's): " + coreType.reason());
        System.out.println("OpenBLAS core type: " + coreType.reason());
        files.note("glibc malloc of every cell's process (freed memory kept for reuse, not unmapped): "
                + NativeHeap.description());
        for (PeerLibrary peer : ServiceLoader.load(PeerLibrary.class)) {
            peers.add(peer);
        }
        if (!options.pytorch()) {
            return;
        }
        try {
            torch = startTorch(OpenMpWaitPolicy.ENVIRONMENT);
        } catch (IOException e) {
            System.out.println("PyTorch peer: not in this run: " + e.getMessage());
            files.note("PyTorch peer: not in this run: " + e.getMessage());
        }
    }

    private TorchPeer startTorch(OpenMpWaitPolicy waitPolicy) throws IOException {
        return TorchPeer.start(options.python(), options.peers().resolve("torch_workloads.py"), coreType, waitPolicy);
    }

    private TorchPeer torch(OpenMpWaitPolicy waitPolicy) throws IOException {
        if (waitPolicy == OpenMpWaitPolicy.ENVIRONMENT) {
            return torch;
        }
        if (torchPassive == null) {
            torchPassive = startTorch(waitPolicy);
        }
        return torchPassive;
    }

    private List<String> peerNotes() {
        List<String> notes = new ArrayList<>();
        if (torch != null) {
            notes.add(torch.title() + " (" + torch.details() + "), through " + options.python()
                    + " and benchmarks/peers/torch_workloads.py");
        }
        for (PeerLibrary peer : peers) {
            notes.add(peer.title() + ", in the JVM (module benchmarks-djl)");
        }
        if (peers.isEmpty()) {
            notes.add("DJL: not in this run (benchmarks/run --djl adds it)");
        }
        return notes;
    }

    /** Yardsticks first, then each workload: its Adjoint cells, then each peer's, thread count by thread count. */
    private void makePlan() {
        List<Workload> selected = Workloads.ALL.stream()
                .filter(w -> options.workloads().isEmpty() || options.workloads().contains(w.id())).toList();
        // Column order: Adjoint's backends, then PyTorch, then the in-JVM peers.
        for (Workload w : selected) {
            w.backends().stream().filter(b -> options.backends().isEmpty() || options.backends().contains(b))
                    .forEach(b -> titles.putIfAbsent(b, b));
        }
        if (torch != null) {
            titles.put(PYTORCH, torch.title());
        }
        peers.forEach(p -> titles.put(p.id(), p.title()));
        for (Workload yardstick : Workloads.YARDSTICKS) {
            if (selected.stream().anyMatch(w -> yardstick.id().equals(w.yardstick()))) {
                plan.add(new Cell(yardstick, "jvm", 1));
            }
        }
        for (Workload w : selected) {
            for (int threads : w.threads()) {
                for (int round = 0; round < options.rounds(); round++) {
                    for (String backend : w.backends()) {
                        boolean wanted = options.backends().isEmpty() || options.backends().contains(backend);
                        boolean threaded = !SINGLE_THREADED.contains(backend) && !w.oneThreadOnly().contains(backend);
                        if (wanted && (threads == 1 || threaded)) {
                            plan.add(new Cell(w, backend, threads));
                        }
                    }
                    if (torch != null) {
                        plan.add(new Cell(w, PYTORCH, threads));
                    }
                    for (PeerLibrary peer : peers) {
                        if (peer.supports(w.id())) {
                            plan.add(new Cell(w, peer.id(), threads));
                        }
                    }
                }
            }
        }
        if (options.rounds() > 1) {
            files.note(String.format(Locale.ROOT, "Rounds: each workload's cells at one thread count ran %d times in "
                    + "turn (every implementation, then again), each time in a fresh JVM or a fresh request to the "
                    + "peer, and a cell's figure is the median of the samples of all its rounds: both sides of a "
                    + "ratio were sampled across the same minutes", options.rounds()));
        }
    }

    private void closeTorch() {
        if (torch != null) {
            torch.close();
        }
        if (torchPassive != null) {
            torchPassive.close();
        }
    }

    /**
     * A cell; one of a native peer with OpenMP threads at more than one thread is run with their
     * default wait and with passive waiting, and the faster figure kept (its message says both).
     */
    private CellResult measure(Cell cell) {
        if (cell.threads() == 1 || !OPENMP.contains(cell.implementation())) {
            return measure(cell, OpenMpWaitPolicy.ENVIRONMENT);
        }
        CellResult spinning = measure(cell, OpenMpWaitPolicy.ENVIRONMENT);
        if (stopping) {
            return spinning;
        }
        return OpenMpWaitPolicy.faster(spinning, measure(cell, OpenMpWaitPolicy.PASSIVE), cell.workload().metric());
    }

    private CellResult measure(Cell cell, OpenMpWaitPolicy waitPolicy) {
        double loadBefore = Machine.load1();
        long cellStart = System.nanoTime();
        try {
            JsonNode reply = cell.implementation().equals(PYTORCH)
                    ? torch(waitPolicy).measure(cell.workload().id(), cell.threads(), options.cellSeconds(),
                            options.warmupLimit())
                    : runJvm(cell, waitPolicy);
            double seconds = (System.nanoTime() - cellStart) / 1e9;
            String status = reply.path("status").asText("failed");
            if (!status.equals("ok")) {
                String message = status.equals("unsupported") ? "the peer has no such workload"
                        : reply.path("message").asText("no reason given");
                return new CellResult(cell.workload().id(), cell.implementation(), cell.threads(),
                        status.equals("unsupported") ? "skipped" : "failed", new double[0], 0, 0, 0, false, 0, seconds,
                        loadBefore, Machine.load1(), message);
            }
            double[] samples = new double[reply.get("samples").size()];
            for (int i = 0; i < samples.length; i++) {
                samples[i] = reply.get("samples").get(i).asDouble();
            }
            return new CellResult(cell.workload().id(), cell.implementation(), cell.threads(), "ok", samples,
                    reply.path("calls").asLong(), reply.path("warmupSeconds").asDouble(),
                    reply.path("warmupCalls").asLong(), reply.path("jitSettled").asBoolean(false),
                    reply.path("samplesSetAside").asInt(0), seconds, loadBefore,
                    Machine.load1(), null);
        } catch (IOException | RuntimeException e) {
            return CellResult.failed(cell.workload().id(), cell.implementation(), cell.threads(),
                    (System.nanoTime() - cellStart) / 1e9, loadBefore, e.getMessage());
        }
    }

    /** Runs the cell in its own JVM and reads back the one line of JSON it prints. */
    private JsonNode runJvm(Cell cell, OpenMpWaitPolicy waitPolicy) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        command.addAll(CellRunner.jvmArguments(cell.threads()));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), CellRunner.class.getName(),
                cell.workload().id(), cell.implementation(), Double.toString(options.cellSeconds()),
                Double.toString(options.warmupLimit())));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        coreType.applyTo(builder.environment());
        NativeHeap.applyTo(builder.environment());
        waitPolicy.applyTo(builder.environment());
        Process process = builder.start();
        running = process;
        if (stopping) {
            process.destroyForcibly();
            throw new IOException("the run was interrupted");
        }
        Deque<String> tail = new ArrayDeque<>();
        String result = null;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line; (line = out.readLine()) != null; ) {
                if (line.startsWith(CellRunner.RESULT_PREFIX)) {
                    result = line.substring(CellRunner.RESULT_PREFIX.length());
                } else {
                    tail.addLast(line);
                    if (tail.size() > 12) {
                        tail.removeFirst();
                    }
                }
            }
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        } finally {
            running = null;
        }
        if (result == null) {
            throw new IOException("the cell's JVM printed no result (exit " + exitValue(process) + "): "
                    + String.join(" | ", tail));
        }
        return new ObjectMapper().readTree(result);
    }

    private static String exitValue(Process process) {
        try {
            return Integer.toString(process.exitValue());
        } catch (IllegalThreadStateException e) {
            return "still running";
        }
    }

    private static String describe(Workload w, CellResult r) {
        if (!r.ok()) {
            return r.status() + ": " + r.message();
        }
        return String.format(Locale.ROOT, "%s %s (%s-%s), %d samples%s%s", Metric.format(r.median()), w.metric().unit(),
                Metric.format(r.min()), Metric.format(r.max()), r.samples().length,
                r.samplesSetAside() == 0 ? "" : " (" + r.samplesSetAside() + " set aside: the JIT compiled during them)",
                r.implementation().equals(PYTORCH) || r.jitSettled() ? "" : ", JIT still compiling");
    }

    private String elapsed() {
        long s = (System.nanoTime() - start) / 1_000_000_000L;
        return String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }

    /** The shutdown hook: a run stopped with Ctrl-C still leaves a report of what it measured. */
    private void interrupted() {
        stopping = true;
        if (files.finished()) {
            return;
        }
        Process p = running;
        if (p != null) {
            p.destroyForcibly();
        }
        closeTorch();
        files.finish("interrupted");
        System.out.println();
        System.out.println("Interrupted; what was measured is in " + options.out().resolve("report.md"));
    }

    /** The command line. */
    record Options(double cellSeconds, double warmupLimit, int rounds, Path out, Path python, Path peers,
                   boolean pytorch, String openblasCoreType, List<String> workloads, List<String> backends,
                   boolean list) {
        static Options parse(String[] args) {
            double cellSeconds = 0.8;
            // The training steps keep C2 busy for several seconds, longer on a loaded machine (the MLP
            // step settled after 7 s with the other core busy, and measured 1.3-2.2x slow when cut at 3 s);
            // a warm-up ends as soon as the JIT is done, so a generous limit costs only the cells that need it.
            double warmupLimit = 10.0;
            int rounds = 1;
            Path out = null;
            Path python = Path.of("/usr/bin/python3");
            Path peers = Path.of("benchmarks", "peers");
            boolean pytorch = true;
            String openblasCoreType = "auto";
            List<String> workloads = List.of();
            List<String> backends = List.of();
            boolean list = false;
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--cell-seconds" -> cellSeconds = seconds(value(args, ++i, a), a);
                    case "--warmup-limit" -> warmupLimit = seconds(value(args, ++i, a), a);
                    case "--rounds" -> rounds = rounds(value(args, ++i, a), a);
                    case "--out" -> out = Path.of(value(args, ++i, a));
                    case "--python" -> python = Path.of(value(args, ++i, a));
                    case "--peers" -> peers = Path.of(value(args, ++i, a));
                    case "--no-pytorch" -> pytorch = false;
                    case "--openblas-coretype" -> openblasCoreType = value(args, ++i, a);
                    case "--workloads" -> {
                        workloads = List.of(value(args, ++i, a).split(","));
                        for (String id : workloads) {
                            if (Workloads.ALL.stream().noneMatch(w -> w.id().equals(id))) {
                                throw new IllegalArgumentException(a + ": no workload '" + id + "'; there are "
                                        + Workloads.ALL.stream().map(Workload::id).toList());
                            }
                        }
                    }
                    case "--backends" -> {
                        backends = List.of(value(args, ++i, a).split(","));
                        List<String> known = Workloads.ALL.stream().flatMap(w -> w.backends().stream()).distinct().toList();
                        for (String b : backends) {
                            if (!known.contains(b)) {
                                throw new IllegalArgumentException(a + ": no backend '" + b + "' in the report; there are "
                                        + known);
                            }
                        }
                    }
                    case "--list" -> list = true;
                    default -> throw new IllegalArgumentException("unknown option '" + a + "'");
                }
            }
            if (out == null) {
                out = Path.of("bench-results", Instant.now().toString().replaceAll("[:.]", "-").substring(0, 19));
            }
            return new Options(cellSeconds, warmupLimit, rounds, out, python, peers, pytorch, openblasCoreType,
                    workloads, backends, list);
        }

        private static String value(String[] args, int i, String option) {
            if (i >= args.length) {
                throw new IllegalArgumentException(option + " needs a value");
            }
            return args[i];
        }

        private static int rounds(String value, String option) {
            try {
                int n = Integer.parseInt(value);
                if (n >= 1) {
                    return n;
                }
            } catch (NumberFormatException e) {
                // Reported below.
            }
            throw new IllegalArgumentException(option + " takes a whole number of rounds, at least 1, got '" + value + "'");
        }

        private static double seconds(String value, String option) {
            double s;
            try {
                s = Double.parseDouble(value);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(option + " takes a number of seconds, got '" + value + "'");
            }
            if (!(s > 0) || Double.isInfinite(s)) {
                throw new IllegalArgumentException(option + " must be a positive number of seconds, got '" + value + "'");
            }
            return s;
        }
    }

    static {
        // Charts are drawn off-screen.
        System.setProperty("java.awt.headless", "true");
    }
}
