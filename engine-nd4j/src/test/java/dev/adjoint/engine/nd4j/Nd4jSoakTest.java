package dev.adjoint.engine.nd4j;

import dev.adjoint.conformance.TrainingSoak;
import dev.adjoint.spi.Backend;

/**
 * A long training run on the nd4j backend without scopes, at the default heap: resident memory stays
 * flat because {@link NativeMemory} collects garbage by native bytes, not by heap occupancy
 * (-Psoak for 100,000 steps).
 */
class Nd4jSoakTest extends TrainingSoak {
    @Override
    protected Backend backend() {
        return new Nd4jBackend();
    }

    @Override
    protected long nativeBytes() {
        return NativeMemory.SHARED.liveBytes();
    }

    @Override
    protected String memoryNotes() {
        return "NativeMemory: " + NativeMemory.SHARED;
    }
}
