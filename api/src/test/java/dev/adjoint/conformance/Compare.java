package dev.adjoint.conformance;

import java.util.Arrays;

/** Element-wise closeness with messages that name what was compared and where it differs. */
final class Compare {
    private Compare() {
    }

    /** |actual - expected| <= atol + rtol * |expected|, with NaN equal to NaN and infinities exact. */
    static void assertClose(String what, double[] expected, double[] actual, double atol, double rtol) {
        if (expected.length != actual.length) {
            throw new AssertionError(what + ": expected " + expected.length + " elements, got " + actual.length);
        }
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i];
            double a = actual[i];
            boolean ok = Double.isNaN(e) ? Double.isNaN(a)
                    : Double.isInfinite(e) ? e == a
                    : Math.abs(a - e) <= atol + rtol * Math.abs(e);
            if (!ok) {
                throw new AssertionError(what + ": element " + i + " is " + a + " but the reference is " + e
                        + " (|diff| " + Math.abs(a - e) + " > atol " + atol + " + rtol " + rtol + " * |ref|)"
                        + (expected.length <= 16 ? "\n  reference " + Arrays.toString(expected)
                        + "\n  actual    " + Arrays.toString(actual) : ""));
            }
        }
    }
}
