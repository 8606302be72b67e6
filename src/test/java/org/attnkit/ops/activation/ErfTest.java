package org.attnkit.ops.activation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ErfTest {
    /** 2/sqrt(pi) * integral of exp(-t^2) over [lo, hi] by composite Simpson: independent of Erf. */
    static double simpson(double lo, double hi) {
        int n = 200_000;
        double h = (hi - lo) / n;
        double s = Math.exp(-lo * lo) + Math.exp(-hi * hi);
        double lost = 0; // Kahan compensation: 2e5 plain additions would lose ~1e-14
        for (int i = 1; i < n; i++) {
            double t = lo + i * h;
            double term = (i % 2 == 1 ? 4 : 2) * Math.exp(-t * t) - lost;
            double next = s + term;
            lost = (next - s) - term;
            s = next;
        }
        return s * h / 3 * 2 / Math.sqrt(Math.PI);
    }

    @Test
    void erfMatchesPublishedValues() {
        // Within 2 ulps of 1: the series sums rounded terms and scales them by a rounded exp.
        assertEquals(0.5204998778130465, Erf.erf(0.5), 4.5e-16);
        assertEquals(0.8427007929497149, Erf.erf(1), 4.5e-16);
        assertEquals(0.9953222650189527, Erf.erf(2), 4.5e-16);
        assertEquals(-0.9661051464753108, Erf.erf(-1.5), 4.5e-16);
        assertEquals(0.9999779095030014, Erf.erf(3), 4.5e-16);
        assertEquals(0, Erf.erf(0), 0);
    }

    @Test
    void erfcKeepsRelativeAccuracyInTheTail() {
        assertEquals(2.209049699858544e-05, Erf.erfc(3), 1e-14 * 2.2e-5);
        assertEquals(1.5374597944280349e-12, Erf.erfc(5), 1e-14 * 1.5e-12);
        assertEquals(2.088487583762545e-45, Erf.erfc(10), 1e-13 * 2.1e-45);
        assertEquals(2 - 1.5374597944280349e-12, Erf.erfc(-5), 1e-15);
    }

    @Test
    void erfMatchesSimpsonQuadratureOnAGrid() {
        for (double x = -5; x <= 5; x += 0.37) {
            assertEquals(simpson(0, x), Erf.erf(x), 1e-14, "erf(" + x + ")");
        }
    }

    @Test
    void erfcMatchesQuadratureInTheTailRelatively() {
        for (double x = 2.5; x <= 7; x += 0.5) {
            double want = simpson(x, x + 12);
            assertEquals(want, Erf.erfc(x), 1e-11 * want, "erfc(" + x + ")");
        }
    }

    @Test
    void seriesAndContinuedFractionAgreeWhereBothConverge() {
        for (double x : new double[] {2.0, 2.5, 3.0}) {
            double viaSeries = 1 - Erf.series(x);
            double viaFraction = Erf.fraction(x);
            // 1 - series carries an absolute error of ~1e-16, hence the absolute bound. (Past 3 the
            // series alone loses digits to exp(-x^2) * sum, which is why erf switches there.)
            assertEquals(viaFraction, viaSeries, 1e-15, "x = " + x);
        }
    }

    @Test
    void limitsAndSymmetry() {
        assertEquals(1, Erf.erf(Double.POSITIVE_INFINITY), 0);
        assertEquals(-1, Erf.erf(Double.NEGATIVE_INFINITY), 0);
        assertEquals(0, Erf.erfc(Double.POSITIVE_INFINITY), 0);
        assertEquals(2, Erf.erfc(Double.NEGATIVE_INFINITY), 0);
        assertTrue(Double.isNaN(Erf.erf(Double.NaN)));
        assertTrue(Double.isNaN(Erf.erfc(Double.NaN)));
        for (double x = 0.1; x < 6; x += 0.7) {
            assertEquals(-Erf.erf(x), Erf.erf(-x), 0);
            assertEquals(1, Erf.erf(x) + Erf.erfc(x), 4.5e-16);
        }
    }
}
