package dev.adjoint.engine.nd4j;

import dev.adjoint.DType;
import dev.adjoint.Functional;
import dev.adjoint.Generator;
import dev.adjoint.Tensor;
import dev.adjoint.TensorFactory;
import dev.adjoint.autograd.GradMode;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Native memory does not grow over a training loop. Every step allocates fresh ND4J buffers for
 * activations, gradients and optimizer temporaries; they are freed once unreachable (ND4J's
 * deallocator runs them down after a GC). The loop updates the parameters in place with copyFrom,
 * so nothing should accumulate. Measured with JavaCPP's counters: physicalBytes (the process's
 * resident memory, which counts libnd4j's own allocations) and totalBytes (memory JavaCPP allocated).
 * {@code mvn verify -pl engine-nd4j -am -Pnd4j-soak} runs the 10,000-step version (about a minute).
 */
class Nd4jMemoryTest {
    private static final int STEPS = Integer.getInteger("adjoint.nd4j.memorySteps", 2_000);
    /** The first half warms up the JIT, the allocator and the GC; the second half is measured. */
    private static final int WARM_UP = STEPS / 2;
    /**
     * Allowed growth after warm-up with a scope per step. The scope frees every storage; what is left
     * is ND4J's own per-op bookkeeping (a few hundred bytes of native memory per op, freed when a GC
     * collects its Java owners), which rises until the first old collection and then stays flat:
     * about +14 MiB over the second half of 2,000 steps here, +0 MiB over the second half of 10,000.
     */
    private static final long SCOPED_SLACK = 32L << 20;
    /** Without scopes the buffers of the steps between two GCs are alive at once. */
    private static final long UNSCOPED_SLACK = 512L << 20;

    @Test
    void stepsInNd4jScopesKeepNativeMemoryFlat() {
        Result r = train(true);
        assertTrue(r.lastLoss < r.firstLoss, "the loop should train: loss " + r.firstLoss + " -> " + r.lastLoss);
        assertTrue(r.physicalMax - r.physicalAfterWarmUp < SCOPED_SLACK, "resident memory grew from "
                + r.physicalAfterWarmUp + " to " + r.physicalMax + " bytes after warm-up");
        assertTrue(r.totalMax - r.totalAfterWarmUp < SCOPED_SLACK, "JavaCPP totalBytes grew from "
                + r.totalAfterWarmUp + " to " + r.totalMax + " bytes after warm-up");
    }

    /** Without a scope, buffers wait for a GC: memory rises between collections but stays bounded. */
    @Test
    void stepsWithoutAScopeStayBoundedThroughGc() {
        Result r = train(false);
        assertTrue(r.physicalMax - r.physicalAfterWarmUp < UNSCOPED_SLACK, "resident memory grew from "
                + r.physicalAfterWarmUp + " to " + r.physicalMax + " bytes after warm-up");
    }

    private record Result(long physicalAfterWarmUp, long physicalMax, long totalAfterWarmUp, long totalMax,
                          double firstLoss, double lastLoss) {
    }

    private static Result train(boolean scoped) {
        TensorFactory f = Tensor.on(new Nd4jBackend());
        Generator g = new Generator(7);
        Tensor w1 = f.randn(g, DType.FLOAT32, 8, 16).mul(0.3).requiresGrad(true);
        Tensor b1 = f.zeros(DType.FLOAT32, 16).requiresGrad(true);
        Tensor w2 = f.randn(g, DType.FLOAT32, 16, 4).mul(0.3).requiresGrad(true);
        Tensor b2 = f.zeros(DType.FLOAT32, 4).requiresGrad(true);
        List<Tensor> params = List.of(w1, b1, w2, b2);
        Tensor x = f.randn(g, DType.FLOAT32, 32, 8);
        Tensor y = f.randn(g, DType.FLOAT32, 32, 4);

        long physicalAfterWarmUp = 0;
        long totalAfterWarmUp = 0;
        long physicalMax = 0;
        long totalMax = 0;
        double firstLoss = Double.NaN;
        double lastLoss = Double.NaN;
        StringBuilder trace = new StringBuilder();
        long start = System.nanoTime();
        for (int step = 0; step < STEPS; step++) {
            try (Nd4jScope scope = scoped ? Nd4jScope.open() : null) {
                Tensor loss = Functional.mseLoss(x.matmul(w1).add(b1).relu().matmul(w2).add(b2), y);
                loss.backward();
                try (GradMode.Scope ignored = Tensor.noGrad()) {
                    for (Tensor p : params) {
                        p.copyFrom(p.sub(p.grad().mul(0.05)));
                        p.zeroGrad();
                    }
                }
                lastLoss = loss.item();
            }
            if (step == 0) {
                firstLoss = lastLoss;
            }
            if (step % (STEPS / 10) == 0) {
                trace.append(' ').append(Pointer.physicalBytes() >> 20);
            }
            if (step == WARM_UP) {
                physicalAfterWarmUp = Pointer.physicalBytes();
                totalAfterWarmUp = Pointer.totalBytes();
            } else if (step > WARM_UP) {
                physicalMax = Math.max(physicalMax, Pointer.physicalBytes());
                totalMax = Math.max(totalMax, Pointer.totalBytes());
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("nd4j memory (%s): %d steps in %.1f s; physicalBytes %d MiB after warm-up, max %d MiB"
                        + " after (+%d KiB); totalBytes %d KiB after warm-up, max %d KiB after; loss %.4f -> %.4f%n",
                scoped ? "Nd4jScope per step" : "no scope, GC frees", STEPS, seconds, physicalAfterWarmUp >> 20,
                physicalMax >> 20, (physicalMax - physicalAfterWarmUp) >> 10, totalAfterWarmUp >> 10, totalMax >> 10,
                firstLoss, lastLoss);
        System.out.println("  physicalBytes every " + STEPS / 10 + " steps (MiB):" + trace);
        return new Result(physicalAfterWarmUp, physicalMax, totalAfterWarmUp, totalMax, firstLoss, lastLoss);
    }
}
