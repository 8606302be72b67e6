package org.attnkit.ops.activation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.attnkit.autograd.GradCheck;
import org.attnkit.tensor.Tensor;
import org.junit.jupiter.api.Test;

class TanhTest {
    @Test
    void forwardMatchesMathTanh() {
        Tensor x = Tensor.randn(7, 3, 5);
        float[] y = Tanh.apply(x).toArray();
        float[] xv = x.toArray();
        for (int i = 0; i < y.length; i++) {
            assertEquals(Math.tanh(xv[i]), y[i], 1e-7);
        }
    }

    @Test
    void gradientMatchesFiniteDifferences() {
        GradCheck.assertGradients(in -> Tanh.apply(in[0]), Tensor.randn(8, 3, 4).requiresGrad(true));
    }

    @Test
    void rejectsNull() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tanh.apply(null));
        assertTrue(e.getMessage().contains("x must not be null"), e.getMessage());
    }
}
