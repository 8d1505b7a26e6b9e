package dev.adjoint.spi;

/**
 * The Gauss error function to about 1e-15 relative accuracy (java.lang.Math has none).
 * Below |x| = 2.5 the Maclaurin series converges with little cancellation (its largest term is
 * under 100, so at most two digits are lost); above, erf = 1 - erfc with erfc from its continued
 * fraction, which converges fast there and avoids computing 1 - (something close to 1) by series.
 */
public final class Erf {
    private static final double TWO_OVER_SQRT_PI = 2.0 / Math.sqrt(Math.PI);
    private static final double SERIES_LIMIT = 2.5;
    private static final int FRACTION_TERMS = 120;

    private Erf() {
    }

    public static double erf(double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        double a = Math.abs(x);
        double value = a < SERIES_LIMIT ? series(a) : 1.0 - erfcContinuedFraction(a);
        // erf is odd: x's sign goes back on, which keeps erf(-0) = -0 (x < 0 would lose it).
        return Math.copySign(value, x);
    }

    /** 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1)). */
    private static double series(double x) {
        double x2 = x * x;
        double term = x;
        double sum = x;
        for (int n = 1; n < 200; n++) {
            term *= -x2 / n;
            double contribution = term / (2 * n + 1);
            sum += contribution;
            if (Math.abs(contribution) < 1e-17 * Math.abs(sum)) {
                break;
            }
        }
        return TWO_OVER_SQRT_PI * sum;
    }

    /** erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...))))), for x >= 2.5. */
    private static double erfcContinuedFraction(double x) {
        if (x > 27) {
            return 0.0; // exp(-x^2) underflows
        }
        double tail = x;
        for (int n = FRACTION_TERMS; n >= 1; n--) {
            tail = x + (n / 2.0) / tail;
        }
        return Math.exp(-x * x) / Math.sqrt(Math.PI) / tail;
    }
}
