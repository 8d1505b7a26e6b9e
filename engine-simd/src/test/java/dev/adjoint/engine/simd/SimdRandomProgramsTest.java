package dev.adjoint.engine.simd;

import dev.adjoint.conformance.RandomPrograms;
import dev.adjoint.spi.Backend;

/** Random programs on this backend against the scalar FLOAT64 reference (see RandomPrograms). */
class SimdRandomProgramsTest extends RandomPrograms {
    private static final Backend BACKEND = new SimdBackend();

    @Override
    protected Backend backend() {
        return BACKEND;
    }
}
