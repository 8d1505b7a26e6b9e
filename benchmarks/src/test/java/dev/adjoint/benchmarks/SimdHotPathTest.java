package dev.adjoint.benchmarks;

import dev.adjoint.Tensor;
import dev.adjoint.backend.Backends;
import dev.adjoint.spi.heap.StridedKernels;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The report's model steps on simd, forward, backward and optimizer, run no element-at-a-time
 * strided loop: every call the engine makes into {@link StridedKernels} is one its vector kernels
 * did not take (a broadcast, permuted or converted operand they have no path for), and on these
 * models there must be none. A new layer whose gradient arrives as a view the kernels do not read
 * shows up here with the kernel and the layouts, rather than as a slower step in the report.
 */
class SimdHotPathTest {

    @Test
    void mlpStep() {
        assertNoStridedCalls("MLP step", () -> {
            TrainingStepBenchmark bench = new TrainingStepBenchmark();
            bench.backend = "simd";
            bench.batchSize = 64;
            return bench;
        });
    }

    @Test
    void transformerBlockStep() {
        assertNoStridedCalls("transformer block", () -> {
            TransformerBlockBenchmark bench = new TransformerBlockBenchmark();
            bench.backend = "simd";
            return bench;
        });
    }

    @Test
    void encoderLayerStep() {
        assertNoStridedCalls("nn.TransformerEncoderLayer", () -> {
            EncoderLayerBenchmark bench = new EncoderLayerBenchmark();
            bench.backend = "simd";
            return bench;
        });
    }

    @Test
    void languageModelStep() {
        assertNoStridedCalls("language model", () -> {
            LanguageModelBenchmark bench = new LanguageModelBenchmark();
            bench.backend = "simd";
            return bench;
        });
    }

    @Test
    void resNetStep() {
        assertNoStridedCalls("ResNet step", () -> {
            ResNetBenchmark bench = new ResNetBenchmark();
            bench.backend = "simd";
            return bench;
        });
    }

    @Test
    void theWatchSeesAFallback() {
        // Integer elements have no vector kernel on simd: the sum runs the strided loops, and is seen.
        Tensor counts = Tensor.on(Backends.get("simd")).fromArray(new long[] {1, 2, 3}, 3);
        List<String> calls = StridedKernels.callsDuring(() -> counts.add(counts).sum());
        assertFalse(calls.isEmpty(), "an INT64 add on simd should have run the strided loops");
        assertTrue(calls.get(0).startsWith("ADD "), calls.toString());
    }

    /** Sets the benchmark up (one step), then watches a second step. */
    private static void assertNoStridedCalls(String model, Supplier<StepBenchmark> configured) {
        StepBenchmark bench = configured.get();
        bench.setUp();
        double[] loss = new double[1];
        List<String> calls = StridedKernels.callsDuring(() -> loss[0] = bench.step());
        assertTrue(Double.isFinite(loss[0]), model + ": loss " + loss[0]);
        assertEquals(List.of(), calls, model + ": calls that fell back to the strided loops");
    }
}
