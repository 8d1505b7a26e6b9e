package dev.adjoint.engine.simd;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernel warm-up a user gets by default must never keep a JVM alive nor outlive its rounds, and
 * {@code -Dadjoint.simd.warmup=false} (which this suite's JVM is given) must start nothing.
 */
class KernelWarmupTest {
    @Test
    void warmUpIsADaemonThreadThatEnds() throws InterruptedException {
        Thread thread = KernelWarmup.start(20);
        assertTrue(thread.isDaemon(), "the warm-up thread must not keep the JVM alive");
        thread.join(120_000);
        assertFalse(thread.isAlive(), "the warm-up thread must end after its rounds");
    }

    @Test
    void propertyFalseStartsNoThread() {
        assertFalse(Boolean.parseBoolean(System.getProperty(KernelWarmup.PROPERTY, "true")),
                "the suite runs with -D" + KernelWarmup.PROPERTY + "=false");
        KernelWarmup.startOnce();
        boolean running = Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.getName().equals("adjoint-simd-warmup") && t.isAlive());
        // A thread of warmUpIsADaemonThreadThatEnds has ended (joined) before: any live one was started here.
        assertFalse(running, "no warm-up thread with the property false");
    }
}
