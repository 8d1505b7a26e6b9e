package dev.adjoint.engine.simd;

import dev.adjoint.conformance.TrainingSoak;
import dev.adjoint.spi.Backend;

/** A long training run on the simd backend: resident memory stays flat (-Psoak for 100,000 steps). */
class SimdSoakTest extends TrainingSoak {
    @Override
    protected Backend backend() {
        return new SimdBackend();
    }
}
