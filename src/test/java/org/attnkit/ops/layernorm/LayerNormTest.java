package org.attnkit.ops.layernorm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.attnkit.autograd.GradCheck;
import org.attnkit.tensor.DType;
import org.attnkit.tensor.Tensor;
import org.junit.jupiter.api.Test;

class LayerNormTest {
    @Test
    void rowsHaveMeanZeroAndUnitVarianceWithoutAffine() {
        Tensor x = Tensor.randn(1, 4, 3, 16);
        double[] y = LayerNorm.apply(x, null, null).toDoubleArray();
        double[] xv = x.toDoubleArray();
        for (int r = 0; r < 12; r++) {
            double mean = 0;
            double sq = 0;
            double xvar = 0;
            double xmean = 0;
            for (int j = 0; j < 16; j++) {
                mean += y[r * 16 + j] / 16;
                xmean += xv[r * 16 + j] / 16;
            }
            for (int j = 0; j < 16; j++) {
                sq += (y[r * 16 + j] - mean) * (y[r * 16 + j] - mean) / 16;
                xvar += (xv[r * 16 + j] - xmean) * (xv[r * 16 + j] - xmean) / 16;
            }
            assertEquals(0, mean, 1e-6);
            // eps shrinks the variance to var / (var + eps), not exactly 1.
            assertEquals(xvar / (xvar + 1e-5), sq, 1e-5);
        }
    }

    @Test
    void matchesDirectFormulaWithGammaAndBeta() {
        int[][] shapes = {{5}, {2, 3, 5}, {1, 1, 7}, {3, 1}};
        long seed = 10;
        for (int[] shape : shapes) {
            int d = shape[shape.length - 1];
            Tensor x = Tensor.randn(seed++, shape);
            Tensor gamma = Tensor.randn(seed++, d);
            Tensor beta = Tensor.randn(seed++, d);
            double eps = 1e-3;
            double[] expected = direct(x.toDoubleArray(), d, gamma.toDoubleArray(), beta.toDoubleArray(), eps);
            float[] y = LayerNorm.apply(x, gamma, beta, eps).toArray();
            assertArrayEquals(shape, LayerNorm.apply(x, gamma, beta, eps).shape().toArray());
            for (int i = 0; i < y.length; i++) {
                assertEquals(expected[i], y[i], 1e-5);
            }
        }
    }

    @Test
    void gammaOnlyAndBetaOnlyMatchDirectFormula() {
        Tensor x = Tensor.randn(20, 3, 6);
        Tensor gamma = Tensor.randn(21, 6);
        Tensor beta = Tensor.randn(22, 6);
        double[] ones = {1, 1, 1, 1, 1, 1};
        double[] zeros = new double[6];
        double[] xv = x.toDoubleArray();
        assertArrayEquals(toFloat(direct(xv, 6, gamma.toDoubleArray(), zeros, 1e-5)),
                LayerNorm.apply(x, gamma, null).toArray(), 1e-5f);
        assertArrayEquals(toFloat(direct(xv, 6, ones, beta.toDoubleArray(), 1e-5)),
                LayerNorm.apply(x, null, beta).toArray(), 1e-5f);
    }

    @Test
    void constantRowNormalizesToBetaNotNaN() {
        Tensor x = Tensor.full(3f, 2, 4);
        Tensor beta = Tensor.of(new float[] {1, 2, 3, 4}, 4);
        assertArrayEquals(new float[] {1, 2, 3, 4, 1, 2, 3, 4}, LayerNorm.apply(x, Tensor.ones(4), beta).toArray());
    }

    @Test
    void f64InputGivesF64Output() {
        assertEquals(DType.F64, LayerNorm.apply(Tensor.randn(2, 2, 3).to(DType.F64), null, null).dtype());
    }

    @Test
    void gradientWithGammaAndBeta() {
        GradCheck.assertGradients(in -> LayerNorm.apply(in[0], in[1], in[2]),
                Tensor.randn(30, 2, 3, 5).requiresGrad(true), Tensor.randn(31, 5).requiresGrad(true),
                Tensor.randn(32, 5).requiresGrad(true));
    }

    @Test
    void gradientWithoutGammaOrBeta() {
        GradCheck.assertGradients(in -> LayerNorm.apply(in[0], null, null), Tensor.randn(33, 4, 6).requiresGrad(true));
    }

    @Test
    void gradientWithGammaOnly() {
        GradCheck.assertGradients(in -> LayerNorm.apply(in[0], in[1], null),
                Tensor.randn(34, 3, 4).requiresGrad(true), Tensor.randn(35, 4).requiresGrad(true));
    }

    @Test
    void gradientWithBetaOnlyAndLargeEps() {
        GradCheck.assertGradients(in -> LayerNorm.apply(in[0], null, in[1], 0.5),
                Tensor.randn(36, 3, 4).requiresGrad(true), Tensor.randn(37, 4).requiresGrad(true));
    }

    @Test
    void gradientOfParametersAloneWithFixedInput() {
        GradCheck.assertGradients(in -> LayerNorm.apply(in[0], in[1], in[2]),
                Tensor.randn(38, 5, 3), Tensor.randn(39, 3).requiresGrad(true), Tensor.randn(40, 3).requiresGrad(true));
    }

    @Test
    void gradientOfInputAloneWithFixedParameters() {
        // Only dx is asked for: backward must compute it without dgamma/dbeta.
        GradCheck.assertGradients(in -> LayerNorm.apply(in[0], in[1], in[2]),
                Tensor.randn(41, 2, 5).requiresGrad(true), Tensor.randn(42, 5), Tensor.randn(43, 5));
    }

    @Test
    void rejectsNullX() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LayerNorm.apply(null, null, null));
        assertTrue(e.getMessage().contains("layer_norm: x must not be null"), e.getMessage());
    }

    @Test
    void rejectsRankZero() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LayerNorm.apply(Tensor.scalar(1f), null, null));
        assertTrue(e.getMessage().contains("x must have rank >= 1"), e.getMessage());
    }

    @Test
    void rejectsEmptyLastDimension() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LayerNorm.apply(Tensor.zeros(3, 0), null, null));
        assertTrue(e.getMessage().contains("last dimension D >= 1"), e.getMessage());
        assertTrue(e.getMessage().contains("got 0"), e.getMessage());
    }

    @Test
    void rejectsGammaOfWrongShape() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LayerNorm.apply(Tensor.zeros(2, 4), Tensor.ones(5), null));
        assertTrue(e.getMessage().contains("gamma must have shape [D] = [4], got [5]"), e.getMessage());
    }

    @Test
    void rejectsBetaOfWrongShape() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LayerNorm.apply(Tensor.zeros(2, 4), null, Tensor.zeros(1, 4)));
        assertTrue(e.getMessage().contains("beta must have shape [D] = [4], got [1, 4]"), e.getMessage());
    }

    @Test
    void rejectsMixedDtypes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LayerNorm.apply(Tensor.zeros(2, 4), Tensor.ones(4).to(DType.F64), null));
        assertTrue(e.getMessage().contains("gamma is F64 but x is F32"), e.getMessage());
    }

    @Test
    void rejectsZeroEps() {
        assertEpsRejected(0.0, "got 0.0");
    }

    @Test
    void rejectsNegativeEps() {
        assertEpsRejected(-1e-5, "got -1.0E-5");
    }

    @Test
    void rejectsNaNEps() {
        assertEpsRejected(Double.NaN, "got NaN");
    }

    @Test
    void rejectsInfiniteEps() {
        assertEpsRejected(Double.POSITIVE_INFINITY, "got Infinity");
    }

    private static void assertEpsRejected(double eps, String got) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LayerNorm.apply(Tensor.zeros(2, 4), null, null, eps));
        assertTrue(e.getMessage().contains("layer_norm: eps must be > 0 and finite"), e.getMessage());
        assertTrue(e.getMessage().contains(got), e.getMessage());
    }

    /** gamma * (x - mean) / sqrt(var + eps) + beta per row, with the textbook one-row-at-a-time formula. */
    private static double[] direct(double[] x, int d, double[] gamma, double[] beta, double eps) {
        double[] y = new double[x.length];
        for (int r = 0; r < x.length / d; r++) {
            double mean = 0;
            for (int j = 0; j < d; j++) {
                mean += x[r * d + j];
            }
            mean /= d;
            double var = 0;
            for (int j = 0; j < d; j++) {
                var += Math.pow(x[r * d + j] - mean, 2);
            }
            var /= d;
            for (int j = 0; j < d; j++) {
                y[r * d + j] = gamma[j] * (x[r * d + j] - mean) / Math.sqrt(var + eps) + beta[j];
            }
        }
        return y;
    }

    private static float[] toFloat(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }
}
