package dev.adjoint.spi;

/**
 * asinh, acosh and atanh, which {@link Math} lacks, to about 1 ulp (fdlibm's formulas). The textbook
 * forms cancel: {@code log(x + sqrt(x^2 + 1))} at |x| = 1e-10 is {@code log(1 + 1e-10)}, off in the 7th
 * digit, and {@code log((1 + x) / (1 - x)) / 2} likewise. Each range here goes through {@code log1p} of a
 * term computed without cancellation instead, and the largest arguments through {@code log(x) + log 2},
 * where {@code x^2} would overflow.
 */
public final class InverseHyperbolic {
    /** Below this, asinh(x) and atanh(x) are x to within half an ulp (the cubic term is below 2^-56 x). */
    private static final double TINY = 0x1p-28;
    /** Above this, sqrt(x^2 + 1) and sqrt(x^2 - 1) are x to double precision. */
    private static final double HUGE = 0x1p28;
    private static final double LN2 = Math.log(2.0);

    private InverseHyperbolic() {
    }

    public static double asinh(double x) {
        double a = Math.abs(x);
        if (Double.isNaN(x) || Double.isInfinite(x) || a < TINY) {
            return x;
        }
        double value;
        if (a > HUGE) {
            value = Math.log(a) + LN2;
        } else if (a > 2.0) {
            value = Math.log(2.0 * a + 1.0 / (Math.sqrt(a * a + 1.0) + a));
        } else {
            double a2 = a * a;
            // x + x^2 / (1 + sqrt(1 + x^2)) is sqrt(1 + x^2) + x - 1 without the subtraction.
            value = Math.log1p(a + a2 / (1.0 + Math.sqrt(1.0 + a2)));
        }
        return x < 0 ? -value : value;
    }

    /** NaN below 1, as torch.acosh. */
    public static double acosh(double x) {
        if (!(x >= 1.0)) {
            return Double.NaN;
        }
        if (x > HUGE) {
            return Double.isInfinite(x) ? x : Math.log(x) + LN2;
        }
        if (x > 2.0) {
            return Math.log(2.0 * x - 1.0 / (x + Math.sqrt(x * x - 1.0)));
        }
        double t = x - 1.0; // exact for x in [1, 2]
        return Math.log1p(t + Math.sqrt(2.0 * t + t * t));
    }

    /** NaN beyond [-1, 1] and infinite at +-1, as torch.atanh. */
    public static double atanh(double x) {
        double a = Math.abs(x);
        if (Double.isNaN(x) || a > 1.0) {
            return Double.NaN;
        }
        if (a < TINY) {
            return x;
        }
        double value;
        if (a == 1.0) {
            value = Double.POSITIVE_INFINITY;
        } else if (a < 0.5) {
            double twice = a + a;
            // log((1 + a) / (1 - a)) = log1p(2a + 2a^2 / (1 - a))
            value = 0.5 * Math.log1p(twice + twice * a / (1.0 - a));
        } else {
            value = 0.5 * Math.log1p((a + a) / (1.0 - a));
        }
        return x < 0 ? -value : value;
    }
}
