package dev.adjoint.engine.scalar;

import dev.adjoint.conformance.RandomPrograms;
import dev.adjoint.spi.Backend;

/** Random programs on this backend against the scalar FLOAT64 reference (see RandomPrograms). */
class ScalarRandomProgramsTest extends RandomPrograms {
    private static final Backend BACKEND = new ScalarBackend();

    @Override
    protected Backend backend() {
        return BACKEND;
    }
}
