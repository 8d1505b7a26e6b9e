package dev.adjoint.engine.nd4j;

import dev.adjoint.conformance.RandomPrograms;
import dev.adjoint.spi.Backend;

/** Random programs on this backend against the scalar FLOAT64 reference (see RandomPrograms). */
class Nd4jRandomProgramsTest extends RandomPrograms {
    private static final Backend BACKEND = new Nd4jBackend();

    @Override
    protected Backend backend() {
        return BACKEND;
    }
}
