package dev.adjoint.engine.nd4j;

import dev.adjoint.conformance.ConformanceSuite;
import dev.adjoint.spi.Backend;

/** The whole conformance suite against the ND4J backend, FLOAT32 and FLOAT64. */
class Nd4jConformanceTest extends ConformanceSuite {
    private static final Backend BACKEND = new Nd4jBackend();

    @Override
    protected Backend backend() {
        return BACKEND;
    }
}
