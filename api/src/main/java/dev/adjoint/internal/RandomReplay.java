package dev.adjoint.internal;

import dev.adjoint.Generator;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Records, on the current thread, the state each {@link Generator} had when a region first drew from
 * it, so that the region can be run again with the same random numbers (activation checkpointing
 * recomputes a forward that may contain dropout). Costs one thread-local read per random tensor.
 */
public final class RandomReplay {
    private static final ThreadLocal<Map<Generator, Generator.State>> RECORDING = new ThreadLocal<>();

    private RandomReplay() {
    }

    /** Starts recording on this thread; returns what was being recorded before (to pass to {@link #stop}). */
    public static Map<Generator, Generator.State> start() {
        Map<Generator, Generator.State> previous = RECORDING.get();
        RECORDING.set(new IdentityHashMap<>());
        return previous;
    }

    /** Stops recording; returns each generator used since {@link #start} with its state before the first draw. */
    public static Map<Generator, Generator.State> stop(Map<Generator, Generator.State> previous) {
        Map<Generator, Generator.State> recorded = RECORDING.get();
        RECORDING.set(previous);
        if (previous != null) {
            // An enclosing recording needs the first states too.
            recorded.forEach(previous::putIfAbsent);
        }
        return recorded;
    }

    /** Called before a tensor factory draws from {@code generator}. */
    public static void aboutToDraw(Generator generator) {
        Map<Generator, Generator.State> recording = RECORDING.get();
        if (recording != null) {
            recording.putIfAbsent(generator, generator.state());
        }
    }
}
