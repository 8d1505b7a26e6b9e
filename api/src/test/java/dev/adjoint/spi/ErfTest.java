package dev.adjoint.spi;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ErfTest {
    /** Values from a correctly rounded libm (CPython's math.erf), on both sides of the series/fraction switch. */
    private static final double[][] KNOWN = {
            {0.1, 0.1124629160182849}, {0.5, 0.5204998778130465}, {1, 0.8427007929497149},
            {2, 0.9953222650189527}, {2.49, 0.9995707121322661}, {2.5, 0.999593047982555},
            {3, 0.9999779095030014}, {4, 0.9999999845827421}, {6, 1.0}};

    @Test
    void matchesReferenceValuesToAFewUlps() {
        for (double[] pair : KNOWN) {
            assertEquals(pair[1], Erf.erf(pair[0]), 4 * Math.ulp(pair[1]), "erf(" + pair[0] + ")");
            assertEquals(-pair[1], Erf.erf(-pair[0]), 4 * Math.ulp(pair[1]), "erf(" + -pair[0] + ") is odd");
        }
    }

    @Test
    void edgeValues() {
        assertEquals(0.0, Erf.erf(0.0));
        assertEquals(1.0, Erf.erf(Double.POSITIVE_INFINITY));
        assertEquals(-1.0, Erf.erf(Double.NEGATIVE_INFINITY));
        assertTrue(Double.isNaN(Erf.erf(Double.NaN)));
    }

    @Test
    void isMonotoneAcrossTheSwitchPoint() {
        double previous = Erf.erf(2.4);
        for (double x = 2.4; x < 2.6; x += 1e-4) {
            double v = Erf.erf(x);
            assertTrue(v >= previous, "erf must not decrease at " + x);
            previous = v;
        }
    }
}
