package dev.adjoint.engine.simd;

import dev.adjoint.backend.Backends;

/**
 * Run in a child JVM by {@link SimdAvailabilityTest}: prints what backend discovery sees, one fact per
 * line, so the test can assert on it without parsing anything clever.
 */
public final class AvailabilityProbe {
    private AvailabilityProbe() {
    }

    public static void main(String[] args) {
        System.out.println("describe=" + Backends.describe());
        System.out.println("default=" + Backends.defaultBackend().name());
    }
}
