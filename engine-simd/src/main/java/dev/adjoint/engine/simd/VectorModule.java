package dev.adjoint.engine.simd;

import dev.adjoint.spi.Availability;

/**
 * Whether {@code jdk.incubator.vector} is in this JVM's boot layer. Incubator modules are resolved
 * only on request, so without {@code --add-modules jdk.incubator.vector} the kernels' first touch of
 * {@code FloatVector} would throw {@code NoClassDefFoundError}. This class and {@link SimdBackend}
 * never name a Vector API type; only the kernel classes do, and they are loaded after this check.
 */
final class VectorModule {
    static final String NAME = "jdk.incubator.vector";
    static final String FLAG = "--add-modules " + NAME;

    /** Decided once: the boot layer cannot change while the JVM runs. */
    static final boolean PRESENT = ModuleLayer.boot().findModule(NAME).isPresent();

    private VectorModule() {
    }

    static Availability availability(boolean present) {
        if (present) {
            return Availability.ok();
        }
        return Availability.unavailable("the Vector API module " + NAME + " is not in this JVM; start the JVM with "
                + FLAG + " (for Maven Surefire: <argLine>" + FLAG + "</argLine>) to use backend 'simd'");
    }
}
