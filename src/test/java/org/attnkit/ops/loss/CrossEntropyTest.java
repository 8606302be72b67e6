package org.attnkit.ops.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.attnkit.autograd.GradCheck;
import org.attnkit.tensor.DType;
import org.attnkit.tensor.Tensor;
import org.junit.jupiter.api.Test;

class CrossEntropyTest {
    @Test
    void uniformLogitsGiveLogOfClassCount() {
        Tensor logits = Tensor.zeros(3, 4);
        assertEquals(Math.log(4), CrossEntropy.apply(logits, new int[] {0, 3, 1}).item(), 1e-6);
    }

    @Test
    void meanIsNegativeLogSoftmaxAtTargetAveraged() {
        SplittableRandom r = new SplittableRandom(5);
        int rows = 9;
        int classes = 7;
        Tensor logits = Tensor.randn(1, rows, classes);
        int[] targets = r.ints(rows, 0, classes).toArray();
        double[] x = logits.toDoubleArray();
        double expected = 0;
        for (int n = 0; n < rows; n++) {
            expected += -Math.log(softmaxAt(x, n, classes, targets[n]));
        }
        expected /= rows;
        assertEquals(expected, CrossEntropy.apply(logits, targets).item(), 1e-5);
    }

    @Test
    void ignoredRowsAreNeitherSummedNorCounted() {
        Tensor logits = Tensor.randn(2, 4, 3);
        int[] targets = {2, -1, 0, -1};
        double[] x = logits.toDoubleArray();
        double expected = (-Math.log(softmaxAt(x, 0, 3, 2)) - Math.log(softmaxAt(x, 2, 3, 0))) / 2;
        assertEquals(expected, CrossEntropy.apply(logits, targets, -1).item(), 1e-6);
    }

    @Test
    void ignoreIndexMayBeAClass() {
        Tensor logits = Tensor.randn(3, 3, 4);
        int[] targets = {0, 1, 0};
        double[] x = logits.toDoubleArray();
        assertEquals(-Math.log(softmaxAt(x, 1, 4, 1)), CrossEntropy.apply(logits, targets, 0).item(), 1e-6);
    }

    @Test
    void sumAndNoneAgreeWithPerRowLosses() {
        Tensor logits = Tensor.randn(4, 2, 3, 5); // [2, 3, C=5] flattened to 6 rows
        int[] targets = {4, 0, 7, 2, 1, 3};
        double[] x = logits.toDoubleArray();
        Tensor none = CrossEntropy.apply(logits, targets, 7, Reduction.NONE);
        assertArrayEquals(new int[] {2, 3}, none.shape().toArray());
        double[] perRow = none.toDoubleArray();
        double sum = 0;
        for (int n = 0; n < 6; n++) {
            double expected = targets[n] == 7 ? 0 : -Math.log(softmaxAt(x, n, 5, targets[n]));
            assertEquals(expected, perRow[n], 1e-6);
            sum += expected;
        }
        Tensor total = CrossEntropy.apply(logits, targets, 7, Reduction.SUM);
        assertEquals(0, total.rank());
        assertEquals(sum, total.item(), 1e-5);
        assertEquals(sum / 5, CrossEntropy.apply(logits, targets, 7, Reduction.MEAN).item(), 1e-6);
    }

    @Test
    void largeLogitsStayFinite() {
        Tensor logits = Tensor.of(new float[] {1000, 1001, 1002}, 1, 3);
        double expected = -Math.log(Math.exp(0) / (Math.exp(0) + Math.exp(1) + Math.exp(2)));
        assertEquals(expected, CrossEntropy.apply(logits, new int[] {0}).item(), 1e-4);
    }

    @Test
    void allIgnoredGivesZeroLossAndZeroGradient() {
        Tensor logits = Tensor.randn(6, 3, 4).requiresGrad(true);
        Tensor loss = CrossEntropy.apply(logits, new int[] {-100, -100, -100});
        assertEquals(0.0, loss.item());
        loss.backward();
        assertArrayEquals(new float[12], logits.grad().toArray());
    }

    @Test
    void emptyBatchGivesZeroLoss() {
        assertEquals(0.0, CrossEntropy.apply(Tensor.zeros(0, 5), new int[0]).item());
    }

    @Test
    void gradientIsSoftmaxMinusOneHotOverCount() {
        Tensor logits = Tensor.randn(7, 3, 4).requiresGrad(true);
        int[] targets = {1, 9, 3};
        CrossEntropy.apply(logits, targets, 9).backward();
        double[] x = logits.toDoubleArray();
        float[] g = logits.grad().toArray();
        for (int n = 0; n < 3; n++) {
            for (int c = 0; c < 4; c++) {
                double expected = targets[n] == 9 ? 0 : (softmaxAt(x, n, 4, c) - (c == targets[n] ? 1 : 0)) / 2;
                assertEquals(expected, g[n * 4 + c], 1e-6);
            }
        }
    }

    @Test
    void backwardUsesTargetsAsTheyWereAtForward() {
        Tensor logits = Tensor.randn(8, 2, 3).requiresGrad(true);
        int[] targets = {0, 2};
        Tensor loss = CrossEntropy.apply(logits, targets);
        targets[0] = 1;
        loss.backward();
        float[] g = logits.grad().toArray();
        assertTrue(g[0] < 0 && g[1] > 0, "target 0 of row 0 must get the negative gradient");
    }

    @Test
    void f64LogitsGiveF64Loss() {
        assertEquals(DType.F64, CrossEntropy.apply(Tensor.randn(1, 2, 3).to(DType.F64), new int[] {0, 1}).dtype());
    }

    @Test
    void gradientMean() {
        GradCheck.assertGradients(in -> CrossEntropy.apply(in[0], new int[] {0, 3, 2, 1}),
                Tensor.randn(10, 4, 4).requiresGrad(true));
    }

    @Test
    void gradientMeanWithIgnoredRows() {
        GradCheck.assertGradients(in -> CrossEntropy.apply(in[0], new int[] {2, -100, 0, -100, 1}, -100),
                Tensor.randn(11, 5, 3).requiresGrad(true));
    }

    @Test
    void gradientSum() {
        GradCheck.assertGradients(in -> CrossEntropy.apply(in[0], new int[] {1, 0, 1}, 0, Reduction.SUM),
                Tensor.randn(12, 3, 2).requiresGrad(true));
    }

    @Test
    void gradientNoneOnRank3Logits() {
        GradCheck.assertGradients(in -> CrossEntropy.apply(in[0], new int[] {0, 4, 2, -1, 3, 1}, -1, Reduction.NONE),
                Tensor.randn(13, 2, 3, 5).requiresGrad(true));
    }

    @Test
    void rejectsNullLogits() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CrossEntropy.apply(null, new int[] {0}));
        assertTrue(e.getMessage().contains("cross_entropy: logits must not be null"), e.getMessage());
    }

    @Test
    void rejectsRankOneLogits() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CrossEntropy.apply(Tensor.zeros(4), new int[] {0}));
        assertTrue(e.getMessage().contains("logits must have rank >= 2"), e.getMessage());
        assertTrue(e.getMessage().contains("got rank 1"), e.getMessage());
    }

    @Test
    void rejectsZeroClasses() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CrossEntropy.apply(Tensor.zeros(2, 0), new int[] {0, 0}));
        assertTrue(e.getMessage().contains("logits must have at least 1 class"), e.getMessage());
        assertTrue(e.getMessage().contains("got 0"), e.getMessage());
    }

    @Test
    void rejectsNullTargets() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CrossEntropy.apply(Tensor.zeros(2, 3), null));
        assertTrue(e.getMessage().contains("cross_entropy: targets must not be null"), e.getMessage());
    }

    @Test
    void rejectsNullReduction() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CrossEntropy.apply(Tensor.zeros(2, 3), new int[] {0, 1}, -100, null));
        assertTrue(e.getMessage().contains("cross_entropy: reduction must not be null"), e.getMessage());
    }

    @Test
    void rejectsTargetsOfWrongLength() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CrossEntropy.apply(Tensor.zeros(2, 3, 4), new int[] {0, 1, 2, 3, 0}));
        assertTrue(e.getMessage().contains("targets length must be 6"), e.getMessage());
        assertTrue(e.getMessage().contains("got 5"), e.getMessage());
    }

    @Test
    void rejectsTargetAtOrPastClassCount() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CrossEntropy.apply(Tensor.zeros(3, 4), new int[] {0, 1, 4}));
        assertTrue(e.getMessage().contains("targets[2] = 4 is out of range [0, 4)"), e.getMessage());
    }

    @Test
    void rejectsNegativeTargetThatIsNotTheIgnoreIndex() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CrossEntropy.apply(Tensor.zeros(3, 4), new int[] {-100, -1, 0}));
        assertTrue(e.getMessage().contains("targets[1] = -1 is out of range [0, 4)"), e.getMessage());
        assertTrue(e.getMessage().contains("ignore index -100"), e.getMessage());
    }

    /** exp(x[n, c]) / sum_j exp(x[n, j]), directly. */
    private static double softmaxAt(double[] x, int n, int classes, int c) {
        double sum = 0;
        for (int j = 0; j < classes; j++) {
            sum += Math.exp(x[n * classes + j]);
        }
        return Math.exp(x[n * classes + c]) / sum;
    }
}
