package dev.adjoint.engine.scalar;

import dev.adjoint.conformance.ConformanceSuite;
import dev.adjoint.spi.Backend;

/** The whole conformance suite against the reference backend itself. */
class ScalarConformanceTest extends ConformanceSuite {
    private static final Backend BACKEND = new ScalarBackend();

    @Override
    protected Backend backend() {
        return BACKEND;
    }
}
