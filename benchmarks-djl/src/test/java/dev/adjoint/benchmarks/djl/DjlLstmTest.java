package dev.adjoint.benchmarks.djl;

import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** DJL's lstm is torch_workloads.py's: the same parameter count, output [32, 64, 256], a finite loss. */
class DjlLstmTest {
    /**
     * sum(p.numel() for p in nn.LSTM(256, 256, num_layers=2).parameters()): per layer the input and
     * hidden weights [1024, 256] and their two biases [1024].
     */
    private static final long PYTORCH_PARAMETERS = 1_052_672;

    @Test
    void sameModelAndAFiniteLoss() {
        DjlLstmBenchmark bench = new DjlLstmBenchmark();
        bench.setUp();
        try {
            assertEquals(PYTORCH_PARAMETERS, bench.parameterCount(), "parameters");
            assertEquals(new Shape(32, 64, DjlLstmBenchmark.HIDDEN), bench.outputShape(), "output");
            float first = bench.step();
            float second = bench.step();
            assertTrue(Float.isFinite(first) && first > 0, "loss " + first);
            // No optimizer: the same inputs and weights give the same loss, gradients zeroed in between.
            assertEquals(first, second, 1e-6f * first, "a step changes nothing it reads");
        } finally {
            bench.tearDown();
        }
    }
}
