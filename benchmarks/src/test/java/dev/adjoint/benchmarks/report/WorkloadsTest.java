package dev.adjoint.benchmarks.report;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The registry of the report's workloads: every workload has its PyTorch twin under the same id, and
 * the CNN training step is a real step of benchmarks/train's network (its loss falls on a repeated
 * batch). Nothing is timed.
 */
class WorkloadsTest {
    private static final Path TORCH_WORKLOADS = Path.of("peers", "torch_workloads.py");

    @Test
    void everyWorkloadHasAPyTorchTwinWithTheSameId() throws Exception {
        Matcher m = Pattern.compile("@workload\\(\"([^\"]+)\"").matcher(Files.readString(TORCH_WORKLOADS));
        Set<String> torchIds = m.results().map(r -> r.group(1)).collect(Collectors.toSet());
        for (Workload w : Workloads.ALL) {
            assertTrue(torchIds.contains(w.id()), "no @workload(\"" + w.id() + "\") in " + TORCH_WORKLOADS + ": " + torchIds);
        }
    }

    @Test
    void theCnnStepRunsOnEveryBackendAtOneAndTwoThreads() {
        Workload cnn = Workloads.byId("cnn-step").orElseThrow();
        assertEquals(List.of("simd", "nd4j", "scalar"), cnn.backends());
        assertEquals(List.of(1, 2), cnn.threads());
        assertEquals(Metric.MILLISECONDS, cnn.metric());
    }

    @Test
    void theCnnStepTrainsTheNetworkOnItsBatch() throws Exception {
        Operation step = Workloads.byId("cnn-step").orElseThrow().adjoint().create("simd");
        double first = (Double) step.call();
        double last = first;
        for (int i = 0; i < 4; i++) {
            last = (Double) step.call();
        }
        assertTrue(Double.isFinite(first) && first > 0, "cross-entropy of the first step: " + first);
        assertTrue(last < first, "Adam on one repeated batch lowers the loss: " + first + " -> " + last);
    }
}
