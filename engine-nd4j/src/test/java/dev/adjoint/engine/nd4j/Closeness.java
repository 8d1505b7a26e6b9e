package dev.adjoint.engine.nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The element-wise comparison the native-kernel tests make against a reference backend. */
final class Closeness {
    private Closeness() {
    }

    /** Each element within {@code tolerance}, relative to the expected value where that exceeds 1 in magnitude. */
    static void assertClose(double[] expected, double[] actual, double tolerance, String what) {
        assertEquals(expected.length, actual.length, what + ": size");
        for (int i = 0; i < expected.length; i++) {
            double scale = Math.max(1, Math.abs(expected[i]));
            if (!(Math.abs(expected[i] - actual[i]) <= tolerance * scale)) {
                throw new AssertionError(what + ": element " + i + " expected " + expected[i] + " but was " + actual[i]);
            }
        }
    }
}
