package dev.adjoint.conformance;

import dev.adjoint.DType;

import java.util.Arrays;

/** Element-wise closeness with messages that name what was compared and where it differs. */
final class Compare {
    private Compare() {
    }

    /** One of the comparisons below with its tolerances bound. */
    @FunctionalInterface
    interface Check {
        void check(String what, double[] expected, double[] actual);
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

    /**
     * |actual - expected| <= maxUlps ulps of expected rounded to {@code dtype}: a relative bound that
     * stays meaningful near 0, where an absolute tolerance accepts anything small. NaN equals NaN;
     * infinities and zeros must match exactly.
     */
    static void assertUlps(String what, double[] expected, double[] actual, DType dtype, double maxUlps) {
        if (expected.length != actual.length) {
            throw new AssertionError(what + ": expected " + expected.length + " elements, got " + actual.length);
        }
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i];
            double a = actual[i];
            if (Double.isNaN(e) ? Double.isNaN(a) : e == a) {
                continue;
            }
            double ulp = dtype == DType.FLOAT32 ? Math.ulp((float) e) : Math.ulp(e);
            double ulps = Math.abs(a - e) / ulp;
            if (!(ulps <= maxUlps)) {
                throw new AssertionError(what + ": element " + i + " is " + a + " but the reference is " + e
                        + " (" + (float) ulps + " ulps of " + dtype + " apart, at most " + maxUlps + " allowed)");
            }
        }
    }
}
