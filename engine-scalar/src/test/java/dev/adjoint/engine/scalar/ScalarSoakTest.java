package dev.adjoint.engine.scalar;

import dev.adjoint.conformance.TrainingSoak;
import dev.adjoint.spi.Backend;

/** A long training run on the scalar backend: resident memory stays flat (-Psoak for 100,000 steps). */
class ScalarSoakTest extends TrainingSoak {
    @Override
    protected Backend backend() {
        return new ScalarBackend();
    }
}
