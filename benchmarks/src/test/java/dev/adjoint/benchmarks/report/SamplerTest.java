package dev.adjoint.benchmarks.report;

import org.junit.jupiter.api.Test;

import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SamplerTest {
    /** A JIT that reports itself settled at once and has compiled what the operation says. */
    private static final class FakeJit implements Sampler.JitWatch {
        long compiledMillis;
        boolean asked;

        @Override
        public boolean settled() {
            asked = true;
            return true;
        }

        @Override
        public long compiledMillis() {
            return compiledMillis;
        }
    }

    private static void sleepMillis(long millis) {
        LockSupport.parkNanos(millis * 1_000_000L);
    }

    @Test
    void aSampleDuringWhichTheJitCompiledIsSetAsideAndAnotherTaken() {
        FakeJit jit = new FakeJit();
        boolean[] compiled = {false};
        Operation op = () -> {
            sleepMillis(2);
            // The first call after the warm-up has seen the JIT settled: a compile of 1 s.
            if (jit.asked && !compiled[0]) {
                compiled[0] = true;
                jit.compiledMillis += 1000;
            }
            return Boolean.TRUE;
        };
        Sampler.Measurement m = Sampler.measure(op, Metric.MILLISECONDS, 0.4, 5, jit);
        assertEquals(1, m.samplesSetAside());
        assertEquals(8, m.samples().length, "the set-aside sample is replaced");
        assertTrue(m.jitSettled());
    }

    @Test
    void aJitThatNeverStopsCompilingStillGivesSamplesWithinThreeTimesTheBudget() {
        FakeJit jit = new FakeJit();
        Operation op = () -> {
            sleepMillis(2);
            jit.compiledMillis += 1000;
            return Boolean.TRUE;
        };
        double budget = 0.4;
        Sampler.Measurement m = Sampler.measure(op, Metric.MILLISECONDS, budget, 5, jit);
        assertTrue(m.samplesSetAside() > 0, "samples were set aside while the JIT compiled");
        assertTrue(m.samples().length >= 3, "at least the minimum of samples, got " + m.samples().length);
        assertTrue(m.measureSeconds() < Sampler.SET_ASIDE_STRETCH * budget + 2 * budget / 8 + 0.5,
                "measuring stops setting samples aside after three times its budget: " + m.measureSeconds() + " s");
    }

    @Test
    void aQuietJitSetsNothingAside() {
        FakeJit jit = new FakeJit();
        Sampler.Measurement m = Sampler.measure(() -> {
            sleepMillis(2);
            return Boolean.TRUE;
        }, Metric.MILLISECONDS, 0.4, 5, jit);
        assertEquals(0, m.samplesSetAside());
        assertEquals(8, m.samples().length);
        for (double sample : m.samples()) {
            assertTrue(sample >= 2, "each call sleeps 2 ms, got " + sample + " ms");
        }
    }
}
