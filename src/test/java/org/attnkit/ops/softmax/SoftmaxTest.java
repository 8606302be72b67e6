package org.attnkit.ops.softmax;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.attnkit.autograd.GradCheck;
import org.attnkit.tensor.DType;
import org.attnkit.tensor.Tensor;
import org.junit.jupiter.api.Test;

class SoftmaxTest {
    private static final int[][] SHAPES = {{7}, {3, 5}, {2, 3, 4}, {1, 6, 1, 3}};

    @Test
    void softmaxMatchesExpOverSumAlongEveryDim() {
        long seed = 1;
        for (int[] shape : SHAPES) {
            Tensor x = Tensor.randn(seed++, shape);
            for (int dim = 0; dim < shape.length; dim++) {
                double[] expected = directSoftmax(x.toDoubleArray(), shape, dim, false);
                float[] y = Softmax.apply(x, dim).toArray();
                for (int i = 0; i < y.length; i++) {
                    assertEquals(expected[i], y[i], 1e-6, "shape " + java.util.Arrays.toString(shape) + " dim " + dim);
                }
            }
        }
    }

    @Test
    void softmaxLinesSumToOne() {
        Tensor x = Tensor.randn(3, 4, 5, 6);
        double[] y = Softmax.apply(x, 1).toDoubleArray();
        for (int o = 0; o < 4; o++) {
            for (int i = 0; i < 6; i++) {
                double s = 0;
                for (int j = 0; j < 5; j++) {
                    s += y[(o * 5 + j) * 6 + i];
                }
                assertEquals(1.0, s, 1e-6);
            }
        }
    }

    @Test
    void negativeDimCountsFromTheEnd() {
        Tensor x = Tensor.randn(4, 2, 3, 4);
        assertArrayEquals(Softmax.apply(x, 1).toArray(), Softmax.apply(x, -2).toArray());
        assertArrayEquals(LogSoftmax.apply(x, 0).toArray(), LogSoftmax.apply(x, -3).toArray());
    }

    @Test
    void largeLogitsDoNotOverflow() {
        Tensor big = Tensor.of(new float[] {1000, 1001, 1002}, 3);
        Tensor small = Tensor.of(new float[] {0, 1, 2}, 3);
        float[] y = Softmax.apply(big, 0).toArray();
        assertArrayEquals(Softmax.apply(small, 0).toArray(), y, 1e-7f);
        float[] ly = LogSoftmax.apply(big, 0).toArray();
        assertArrayEquals(LogSoftmax.apply(small, 0).toArray(), ly, 1e-5f);
    }

    @Test
    void logSoftmaxIsLogOfSoftmax() {
        long seed = 11;
        for (int[] shape : SHAPES) {
            Tensor x = Tensor.randn(seed++, shape);
            for (int dim = 0; dim < shape.length; dim++) {
                double[] expected = directSoftmax(x.toDoubleArray(), shape, dim, true);
                float[] y = LogSoftmax.apply(x, dim).toArray();
                for (int i = 0; i < y.length; i++) {
                    assertEquals(expected[i], y[i], 1e-5);
                }
            }
        }
    }

    @Test
    void logSoftmaxStaysFiniteWhereSoftmaxUnderflows() {
        float[] y = LogSoftmax.apply(Tensor.of(new float[] {0, -1000}, 2), 0).toArray();
        assertEquals(0, y[0], 1e-6);
        assertEquals(-1000, y[1], 1e-3);
    }

    @Test
    void f64InputGivesF64Output() {
        Tensor x = Tensor.randn(5, 2, 3).to(DType.F64);
        assertSame(DType.F64, Softmax.apply(x, 1).dtype());
        assertSame(DType.F64, LogSoftmax.apply(x, 1).dtype());
    }

    @Test
    void softmaxGradientAlongEveryDim() {
        for (int dim = -3; dim < 3; dim++) {
            int d = dim;
            GradCheck.assertGradients(in -> Softmax.apply(in[0], d), Tensor.randn(20 + dim, 2, 3, 4).requiresGrad(true));
        }
    }

    @Test
    void logSoftmaxGradientAlongEveryDim() {
        for (int dim = -3; dim < 3; dim++) {
            int d = dim;
            GradCheck.assertGradients(in -> LogSoftmax.apply(in[0], d),
                    Tensor.randn(30 + dim, 2, 3, 4).requiresGrad(true));
        }
    }

    @Test
    void gradientOfSingleElementLineIsZero() {
        // softmax over a dim of size 1 is the constant 1: no gradient flows.
        GradCheck.assertGradients(in -> Softmax.apply(in[0], 1), Tensor.randn(40, 3, 1).requiresGrad(true));
    }

    @Test
    void rejectsNullX() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Softmax.apply(null, 0));
        assertTrue(e.getMessage().contains("softmax: x must not be null"), e.getMessage());
    }

    @Test
    void rejectsRankZero() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LogSoftmax.apply(Tensor.scalar(1f), 0));
        assertTrue(e.getMessage().contains("log_softmax: x must have rank >= 1"), e.getMessage());
    }

    @Test
    void rejectsDimPastTheLast() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Softmax.apply(Tensor.zeros(2, 3), 2));
        assertTrue(e.getMessage().contains("softmax: dim must be in [-2, 2)"), e.getMessage());
        assertTrue(e.getMessage().contains("got 2"), e.getMessage());
    }

    @Test
    void rejectsDimBeforeTheFirst() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LogSoftmax.apply(Tensor.zeros(2, 3), -3));
        assertTrue(e.getMessage().contains("log_softmax: dim must be in [-2, 2)"), e.getMessage());
        assertTrue(e.getMessage().contains("got -3"), e.getMessage());
    }

    /** exp(x)/sum(exp(x)) (or its log) along dim, by walking coordinates, without max subtraction. */
    private static double[] directSoftmax(double[] x, int[] shape, int dim, boolean log) {
        int[] strides = new int[shape.length];
        int acc = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            strides[d] = acc;
            acc *= shape[d];
        }
        double[] out = new double[x.length];
        for (int flat = 0; flat < x.length; flat++) {
            int coord = (flat / strides[dim]) % shape[dim];
            int lineStart = flat - coord * strides[dim];
            double sum = 0;
            for (int j = 0; j < shape[dim]; j++) {
                sum += Math.exp(x[lineStart + j * strides[dim]]);
            }
            double p = Math.exp(x[flat]) / sum;
            out[flat] = log ? Math.log(p) : p;
        }
        return out;
    }
}
