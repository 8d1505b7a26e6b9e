package dev.adjoint.engine.simd;

import dev.adjoint.conformance.ConformanceSuite;
import dev.adjoint.spi.Backend;

/** The whole conformance suite against the simd backend, diffed against the scalar reference. */
class SimdConformanceTest extends ConformanceSuite {
    private static final Backend BACKEND = new SimdBackend();

    @Override
    protected Backend backend() {
        return BACKEND;
    }
}
