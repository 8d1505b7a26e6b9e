package dev.adjoint.benchmarks.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The report's machinery on trivial work: the sampler, the table's ratios, the options, and one
 * real run of a single cheap cell in its own JVM that leaves report.json, report.md and a chart.
 * No figure is checked against a speed: tests do not time things.
 */
class ReportTest {
    @TempDir
    Path dir;

    @Test
    void samplerWarmsUpThenTakesSeveralSamples() {
        Sampler.Measurement m = Sampler.measure(Operation.timed(() -> new int[16]), Metric.NANOSECONDS, 0.3, 2.0);
        assertTrue(m.samples().length >= 3, "samples: " + m.samples().length);
        assertTrue(m.warmupCalls() >= 1 && m.calls() >= m.samples().length);
        for (double s : m.samples()) {
            assertTrue(s > 0 && Double.isFinite(s), "a sample's time per call: " + s);
        }
    }

    @Test
    void aWarmUpWhoseCallsStillGetFasterGoesOnAndOneAtASteadySpeedStops() {
        // A cold CNN step: a 15 s first call, then calls getting faster as kernels are compiled.
        Sampler.Progress cold = new Sampler.Progress();
        assertTrue(cold.improving(), "nothing measured yet");
        cold.add(15.0, 15.0);
        assertTrue(cold.improving(), "one call: nothing before it to compare with");
        cold.add(17.7, 2.7);
        cold.add(19.8, 2.1);
        cold.add(20.4, 0.6);
        assertTrue(cold.improving(), "0.6 s a call against 15 s before the window");
        // Then steady at 34 ms for more than the window: no longer improving.
        double t = 20.4;
        for (int i = 0; i < 100; i++) {
            t += 0.05;
            cold.add(t, 0.034 * (1 + 0.01 * (i % 3)));
        }
        assertTrue(!cold.improving(), "steady for 5 s");

        // Compiling rarely taken paths at a steady speed: stops at once.
        Sampler.Progress steady = new Sampler.Progress();
        for (int i = 1; i <= 200; i++) {
            steady.add(i * 0.05, 0.001 * (1 + 0.02 * (i % 2)));
        }
        assertTrue(!steady.improving());
        // A late compile that cuts the time by a third within the window counts as improving.
        steady.add(10.05, 0.0006);
        assertTrue(steady.improving());
    }

    @Test
    void aSlowCallIsItsOwnSampleAndStillGivesTwo() {
        Sampler.Measurement m = Sampler.measure(Operation.timed(() -> {
            try {
                Thread.sleep(60);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return null;
        }), Metric.MILLISECONDS, 0.1, 0.2);
        assertTrue(m.samples().length >= 2, "samples: " + m.samples().length);
        assertEquals(m.samples().length, m.calls());
        for (double s : m.samples()) {
            assertTrue(s >= 59, "one 60 ms call per sample, in ms: " + s);
        }
    }

    @Test
    void rateMetricsDivideTheWorkCountedByTheTime() {
        double[] work = {0};
        Sampler.Measurement m = Sampler.measure(Operation.counting(() -> work[0] += 2.0, () -> work[0]),
                Metric.GFLOPS, 0.2, 0.5);
        for (double s : m.samples()) {
            assertTrue(s > 0, "work per second: " + s);
        }
    }

    @Test
    void theTableQuotesMediansRangesAndTheFastestBackendAgainstEachPeer() {
        ReportFiles files = new ReportFiles(dir, Machine.current());
        Map<String, String> titles = new LinkedHashMap<>();
        titles.put("simd", "simd");
        titles.put("nd4j", "nd4j");
        titles.put("pytorch", "PyTorch 1.13");
        files.begin(3, titles, Set.of("pytorch"), List.of(), 1.0, 5.0);
        files.add(ok("mlp-step", "simd", 0.4, 0.5, 0.7));
        files.add(ok("mlp-step", "nd4j", 9, 10, 11));
        files.add(ok("mlp-step", "pytorch", 0.9, 1.0, 1.2));
        String table = files.table();
        assertTrue(table.contains("| MLP training step (ms ↓) | 1 | 0.500 (0.400–0.700) | 10.0 (9.00–11.0) | 1.00 (0.900–1.20) "
                + "| 2.00x (simd) |"), table);
        assertTrue(!table.contains("| 2 |"), "no row for a thread count without results: " + table);
        files.finish("complete");
        assertTrue(Files.exists(dir.resolve("mlp-step.png")));
    }

    @Test
    void roundsOfOneCellPoolTheirSamplesAndARoundWithoutAFigureLeavesTheOthers() {
        ReportFiles files = new ReportFiles(dir, Machine.current());
        Map<String, String> titles = new LinkedHashMap<>();
        titles.put("simd", "simd");
        titles.put("pytorch", "PyTorch 1.13");
        files.begin(6, titles, Set.of("pytorch"), List.of(), 1.0, 5.0);
        files.add(ok("mlp-step", "simd", 0.4, 0.5));
        files.add(ok("mlp-step", "pytorch", 0.9, 1.0));
        files.add(ok("mlp-step", "simd", 0.6, 0.7, 0.8));
        files.add(ok("mlp-step", "pytorch", 1.2, 1.4, 1.6));
        files.add(CellResult.failed("mlp-step", "simd", 1, 1, 0, "the cell's JVM printed no result"));
        files.add(ok("mlp-step", "pytorch", 1.1));
        // simd: 0.4 0.5 0.6 0.7 0.8 -> 0.6; PyTorch: 0.9 1.0 1.1 1.2 1.4 1.6 -> 1.15.
        String table = files.table();
        assertTrue(table.contains("| MLP training step (ms ↓) | 1 | 0.600 (0.400–0.800) | 1.15 (0.900–1.60) | 1.92x (simd) |"),
                table);
        files.finish("complete");
        JsonNode json = readJson();
        assertEquals(6, json.get("cellsDone").asInt());
        assertEquals(2, json.get("cells").size(), json.toString());
        JsonNode simd = json.get("cells").get(0);
        assertEquals(5, simd.get("samples").size());
        assertEquals(5, simd.get("calls").asInt());
        assertTrue(simd.get("message").asText().contains("a later round failed: the cell's JVM printed no result"),
                simd.toString());
    }

    private JsonNode readJson() {
        try {
            return new ObjectMapper().readTree(dir.resolve("report.json").toFile());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void aMultiThreadedOpenMpPeerCellKeepsTheFasterWaitPolicyAndTheReportSaysBoth() {
        CellResult spinning = twoThreads(ok("mlp-step", "pytorch", 3.0, 3.1, 3.3));
        CellResult passive = twoThreads(ok("mlp-step", "pytorch", 1.0, 1.1, 1.2));
        CellResult kept = OpenMpWaitPolicy.faster(spinning, passive, Metric.MILLISECONDS);
        assertEquals(1.1, kept.median());
        assertEquals("kept passive; OMP_WAIT_POLICY=PASSIVE: 1.10 ms, as set in the environment: 3.10 ms",
                kept.message());
        // A rate: higher is faster, so the spinning run's 300 GFLOP/s is kept over 200.
        CellResult rate = OpenMpWaitPolicy.faster(twoThreads(ok("gemm-1024", "pytorch", 300)),
                twoThreads(ok("gemm-1024", "pytorch", 200)), Metric.GFLOPS);
        assertEquals(300, rate.median());
        assertTrue(rate.message().startsWith("kept the environment's;"), rate.message());
        // A run without a figure is never kept over one with.
        CellResult failed = CellResult.failed("mlp-step", "pytorch", 2, 1, 0, "peer stopped");
        assertEquals(3.1, OpenMpWaitPolicy.faster(spinning, failed, Metric.MILLISECONDS).median());

        ReportFiles files = new ReportFiles(dir, Machine.current());
        files.begin(1, new LinkedHashMap<>(Map.of("pytorch", "PyTorch 1.13")), Set.of("pytorch"), List.of(), 1.0, 5.0);
        files.add(kept);
        files.finish("complete");
        assertTrue(markdown().contains("- mlp-step | PyTorch 1.13 | 2 thread(s): kept passive;"), markdown());
    }

    private String markdown() {
        try {
            return Files.readString(dir.resolve("report.md"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static CellResult twoThreads(CellResult r) {
        return new CellResult(r.workload(), r.implementation(), 2, r.status(), r.samples(), r.calls(),
                r.warmupSeconds(), r.warmupCalls(), r.jitSettled(), r.samplesSetAside(), r.seconds(), r.loadBefore(), r.loadAfter(),
                r.message());
    }

    @Test
    void aBadOptionValueNamesTheOption() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Report.Options.parse(new String[] {"--cell-seconds", "x"}));
        assertTrue(e.getMessage().startsWith("--cell-seconds takes a number of seconds"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Report.Options.parse(new String[] {"--warmup-limit", "0"}));
        assertTrue(e.getMessage().startsWith("--warmup-limit must be a positive"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Report.Options.parse(new String[] {"--workloads", "gemm-1024,bogus"}));
        assertTrue(e.getMessage().contains("bogus"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Report.Options.parse(new String[] {"--backends", "simdd"}));
        assertTrue(e.getMessage().startsWith("--backends: no backend 'simdd'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Report.Options.parse(new String[] {"--rounds", "0"}));
        assertTrue(e.getMessage().startsWith("--rounds takes a whole number of rounds"), e.getMessage());
    }

    @Test
    void aRunWritesTheReportFilesAsItGoes() throws Exception {
        Path out = dir.resolve("run");
        Report.main(new String[] {"--workloads", "tape", "--backends", "scalar", "--no-pytorch", "--openblas-coretype", "env",
                "--cell-seconds", "0.3",
                "--warmup-limit", "2", "--out", out.toString()});
        JsonNode json = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        assertEquals("complete", json.get("status").asText());
        assertEquals(1, json.get("cells").size(), json.toString());
        JsonNode cell = json.get("cells").get(0);
        assertEquals("ok", cell.get("status").asText(), cell.toString());
        assertEquals("scalar", cell.get("implementation").asText());
        assertTrue(cell.get("samples").size() >= 3);
        String md = Files.readString(out.resolve("report.md"));
        assertTrue(md.contains("| Tape: one recorded add (ns ↓) | 1 |"), md);
        assertTrue(Files.size(out.resolve("tape.png")) > 0);
    }

    private static CellResult ok(String workload, String implementation, double... samples) {
        return new CellResult(workload, implementation, 1, "ok", samples, samples.length, 0.1, 5, true, 0, 1, 0, 0, null);
    }

    @Test
    void cellResultMedianOfAnEvenCount() {
        CellResult r = ok("tape", "simd", 4, 1, 3, 2);
        assertEquals(2.5, r.median());
        assertArrayEquals(new double[] {1, 4}, new double[] {r.min(), r.max()});
    }
}
