package dev.adjoint.engine.nd4j;

import dev.adjoint.spi.Availability;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Loads ND4J's native backend once, on first use rather than when ServiceLoader instantiates the
 * backend, and remembers whether that worked: a missing or mismatched native jar becomes an
 * "unavailable" with the reason instead of an error thrown out of backend discovery.
 */
final class Nd4jRuntime {
    private Nd4jRuntime() {
    }

    private static final class Holder {
        static final Availability AVAILABILITY = load();
    }

    /** Whether anything has tried to load ND4J in this JVM yet (for the test that selection is lazy). */
    private static volatile boolean attempted;

    static boolean attempted() {
        return attempted;
    }

    static Availability availability() {
        return Holder.AVAILABILITY;
    }

    private static Availability load() {
        attempted = true;
        try {
            // Touching the factory loads libnd4j, OpenBLAS and the JavaCPP presets.
            Nd4j.createBuffer(new float[] {0f});
            return Availability.ok();
        } catch (Throwable t) {
            Throwable root = t;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            return Availability.unavailable("ND4J's native CPU backend failed to load (" + root
                    + "); add org.nd4j:nd4j-native with the classifier of this platform (e.g. linux-x86_64) "
                    + "next to org.nd4j:nd4j-native, and run with --enable-native-access=ALL-UNNAMED");
        }
    }
}
