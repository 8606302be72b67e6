package org.attnkit.ops.dropout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.attnkit.autograd.GradCheck;
import org.attnkit.random.Philox;
import org.attnkit.tensor.DType;
import org.attnkit.tensor.Tensor;
import org.junit.jupiter.api.Test;

class DropoutTest {
    @Test
    void keptElementsAreScaledAndDroppedAreZeroAsPhiloxSays() {
        double p = 0.3;
        Tensor x = Tensor.randn(1, 4, 5, 6);
        float[] xv = x.toArray();
        float[] y = Dropout.apply(x, p, 42, 7).toArray();
        for (int i = 0; i < y.length; i++) {
            float uniform = Philox.uniform(42, 7, i);
            float expected = uniform >= p ? (float) (xv[i] / (1 - p)) : 0f;
            assertEquals(expected, y[i], 1e-6, "element " + i);
        }
    }

    @Test
    void sameSeedAndOffsetGiveTheSameMask() {
        Tensor x = Tensor.ones(64, 32);
        assertArrayEquals(Dropout.apply(x, 0.5, 9, 3).toArray(), Dropout.apply(x, 0.5, 9, 3).toArray());
    }

    @Test
    void differentOffsetsGiveDifferentMasks() {
        Tensor x = Tensor.ones(64, 32);
        assertFalse(Arrays.equals(Dropout.apply(x, 0.5, 9, 3).toArray(), Dropout.apply(x, 0.5, 9, 4).toArray()));
    }

    @Test
    void differentSeedsGiveDifferentMasks() {
        Tensor x = Tensor.ones(64, 32);
        assertFalse(Arrays.equals(Dropout.apply(x, 0.5, 9, 3).toArray(), Dropout.apply(x, 0.5, 10, 3).toArray()));
    }

    @Test
    void dropFractionIsAboutPAndMeanIsPreserved() {
        int n = 200_000;
        Tensor x = Tensor.ones(n);
        for (double p : new double[] {0.1, 0.5, 0.9}) {
            float[] y = Dropout.apply(x, p, 123, 0).toArray();
            int dropped = 0;
            double sum = 0;
            for (float v : y) {
                dropped += v == 0 ? 1 : 0;
                sum += v;
            }
            // The binomial standard deviation of the fraction is at most 0.0012 here; 0.006 is 5 sigma.
            assertEquals(p, dropped / (double) n, 0.006, "p = " + p);
            assertEquals(1.0, sum / n, 0.006 / (1 - p), "p = " + p);
        }
    }

    @Test
    void pZeroReturnsTheInputItself() {
        Tensor x = Tensor.randn(2, 3, 4);
        assertSame(x, Dropout.apply(x, 0, 1, 2));
    }

    @Test
    void pZeroIsDifferentiableIdentity() {
        GradCheck.assertGradients(in -> Dropout.apply(in[0], 0, 5, 6), Tensor.randn(3, 3, 4).requiresGrad(true));
    }

    @Test
    void backwardRegeneratesTheForwardMask() {
        Tensor x = Tensor.randn(4, 8, 8).requiresGrad(true);
        float[] y = Dropout.apply(x, 0.4, 77, 2).toArray();
        Dropout.apply(x, 0.4, 77, 2).backward(Tensor.ones(8, 8));
        float[] g = x.grad().toArray();
        for (int i = 0; i < g.length; i++) {
            assertEquals(y[i] == 0 ? 0f : (float) (1 / 0.6), g[i], 1e-6, "element " + i);
        }
    }

    @Test
    void gradientWithFixedSeed() {
        GradCheck.assertGradients(in -> Dropout.apply(in[0], 0.35, 2024, 11),
                Tensor.randn(5, 3, 4, 5).requiresGrad(true));
    }

    @Test
    void f64InputGivesF64Output() {
        assertEquals(DType.F64, Dropout.apply(Tensor.randn(6, 10).to(DType.F64), 0.5, 1, 1).dtype());
    }

    @Test
    void rejectsNullX() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Dropout.apply(null, 0.1, 1, 0));
        assertTrue(e.getMessage().contains("dropout: x must not be null"), e.getMessage());
    }

    @Test
    void rejectsNegativeP() {
        assertPRejected(-0.1, "got -0.1");
    }

    @Test
    void rejectsPOfOne() {
        assertPRejected(1.0, "got 1.0");
    }

    @Test
    void rejectsPAboveOne() {
        assertPRejected(1.5, "got 1.5");
    }

    @Test
    void rejectsNaNP() {
        assertPRejected(Double.NaN, "got NaN");
    }

    private static void assertPRejected(double p, String got) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Dropout.apply(Tensor.ones(3), p, 1, 0));
        assertTrue(e.getMessage().contains("dropout: p must be in [0, 1)"), e.getMessage());
        assertTrue(e.getMessage().contains(got), e.getMessage());
    }
}
