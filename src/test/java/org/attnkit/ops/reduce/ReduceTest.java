package org.attnkit.ops.reduce;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.attnkit.autograd.GradCheck;
import org.attnkit.tensor.DType;
import org.attnkit.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class ReduceTest {
    static Tensor reduce(boolean mean, Tensor x, int[] dims, boolean keepDim) {
        return mean ? Mean.apply(x, dims, keepDim) : Sum.apply(x, dims, keepDim);
    }

    /** Sums one dimension of a row-major array (keeping it as size 1), by explicit outer/inner loops. */
    static double[] sumAlong(double[] v, int[] shape, int d) {
        int outer = 1;
        for (int i = 0; i < d; i++) {
            outer *= shape[i];
        }
        int inner = 1;
        for (int i = d + 1; i < shape.length; i++) {
            inner *= shape[i];
        }
        double[] out = new double[outer * inner];
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < shape[d]; j++) {
                for (int i = 0; i < inner; i++) {
                    out[o * inner + i] += v[(o * shape[d] + j) * inner + i];
                }
            }
        }
        return out;
    }

    @Test
    void handComputedCase() {
        Tensor x = Tensor.of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        assertArrayEquals(new double[] {5, 7, 9}, Sum.apply(x, 0, false).toDoubleArray(), 0);
        assertArrayEquals(new double[] {6, 15}, Sum.apply(x, 1, false).toDoubleArray(), 0);
        assertArrayEquals(new double[] {2, 5}, Mean.apply(x, -1, false).toDoubleArray(), 0);
        assertArrayEquals(new int[] {2, 1}, Mean.apply(x, -1, true).shape().toArray());
        assertEquals(21, Sum.apply(x).item(), 0);
        assertEquals(3.5, Mean.apply(x).item(), 0);
        assertEquals(0, Sum.apply(x).rank());
        assertEquals(3.5, Mean.apply(x, new int[] {1, 0}, true).item(), 0);
        assertArrayEquals(new int[] {1, 1}, Mean.apply(x, new int[] {1, 0}, true).shape().toArray());
    }

    @ParameterizedTest(name = "mean={0}")
    @ValueSource(booleans = {false, true})
    void randomShapesAndDimsMatchOneDimAtATime(boolean mean) {
        SplittableRandom r = new SplittableRandom(mean ? 5 : 6);
        for (int trial = 0; trial < 40; trial++) {
            int rank = 1 + r.nextInt(4);
            int[] shape = new int[rank];
            for (int d = 0; d < rank; d++) {
                shape[d] = 1 + r.nextInt(4);
            }
            List<Integer> dims = new ArrayList<>();
            for (int d = 0; d < rank; d++) {
                if (r.nextBoolean()) {
                    dims.add(r.nextBoolean() ? d : d - rank); // mix positive and negative spellings
                }
            }
            if (dims.isEmpty()) {
                dims.add(-1);
            }
            int[] dimArr = dims.stream().mapToInt(Integer::intValue).toArray();
            boolean keepDim = r.nextBoolean();
            Tensor x = Tensor.randn(trial, shape).to(DType.F64);

            double[] want = x.toDoubleArray();
            int[] keptShape = shape.clone();
            int count = 1;
            for (int dim : dimArr) {
                int axis = dim < 0 ? dim + rank : dim;
                want = sumAlong(want, keptShape, axis);
                count *= keptShape[axis];
                keptShape[axis] = 1;
            }
            if (mean) {
                for (int i = 0; i < want.length; i++) {
                    want[i] /= count;
                }
            }
            List<Integer> dropped = new ArrayList<>();
            for (int d = 0; d < rank; d++) {
                final int axis = d;
                boolean reduced = dims.stream().anyMatch(v -> v == axis || v + rank == axis);
                if (keepDim || !reduced) {
                    dropped.add(keptShape[d]);
                }
            }
            Tensor y = reduce(mean, x, dimArr, keepDim);
            assertArrayEquals(dropped.stream().mapToInt(Integer::intValue).toArray(), y.shape().toArray());
            assertArrayEquals(want, y.toDoubleArray(), 1e-12);
        }
    }

    static Stream<Arguments> gradCases() {
        Object[][] cases = {
            {new int[] {0}, false}, {new int[] {-1}, true}, {new int[] {0, 2}, false}, {new int[] {2, -3}, true},
            {new int[] {1}, false}, {new int[] {0, 1, 2}, false},
        };
        return Stream.of(false, true).flatMap(mean -> Stream.of(cases).map(c -> Arguments.of(mean, c[0], c[1])));
    }

    @ParameterizedTest(name = "mean={0} dims={1} keepDim={2}")
    @MethodSource("gradCases")
    void gradientMatchesFiniteDifferences(boolean mean, int[] dims, boolean keepDim) {
        GradCheck.assertGradients(in -> reduce(mean, in[0], dims, keepDim),
                Tensor.randn(11, 2, 3, 4).to(DType.F64).requiresGrad(true));
    }

    @Test
    void gradientOfFullReductionMatchesFiniteDifferences() {
        GradCheck.assertGradients(in -> Sum.apply(in[0]), Tensor.randn(12, 3, 2).to(DType.F64).requiresGrad(true));
        GradCheck.assertGradients(in -> Mean.apply(in[0]), Tensor.randn(13, 3, 2).to(DType.F64).requiresGrad(true));
    }

    @Test
    void meanBackwardSpreadsEvenly() {
        Tensor x = Tensor.zeros(DType.F64, 2, 4).requiresGrad(true);
        Mean.apply(x, 1, false).backward(Tensor.of(new double[] {4, 8}, 2));
        assertArrayEquals(new double[] {1, 1, 1, 1, 2, 2, 2, 2}, x.grad().toDoubleArray(), 0);
    }

    @Test
    void float32MatchesFloat64() {
        Tensor x = Tensor.randn(14, 5, 7, 3);
        double[] want = Mean.apply(x.to(DType.F64), new int[] {0, 2}, false).toDoubleArray();
        Tensor y = Mean.apply(x, new int[] {0, 2}, false);
        assertEquals(DType.F32, y.dtype());
        float[] got = y.toArray();
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 1e-5 * Math.abs(want[i]) + 1e-7);
        }
        assertEquals(Sum.apply(x.to(DType.F64)).item(), Sum.apply(x).item(), 1e-5 * Math.abs(Sum.apply(x).item()));
    }

    @Test
    void emptyReductionGivesZeroSumAndNanMean() {
        Tensor x = Tensor.zeros(DType.F64, 0, 3);
        assertArrayEquals(new double[] {0, 0, 0}, Sum.apply(x, 0, false).toDoubleArray(), 0);
        assertTrue(Double.isNaN(Mean.apply(x, 0, false).toDoubleArray()[0]));
    }

    private static IllegalArgumentException rejects(Executable e) {
        return assertThrows(IllegalArgumentException.class, e);
    }

    @Test
    void rejectsNullInputAndNullDims() {
        assertTrue(rejects(() -> Sum.apply(null)).getMessage().contains("sum: x must not be null"));
        assertTrue(rejects(() -> Mean.apply(null, 0, false)).getMessage().contains("mean: x must not be null"));
        String m = rejects(() -> Sum.apply(Tensor.zeros(2), (int[]) null, false)).getMessage();
        assertTrue(m.contains("sum: dims must not be null"), m);
    }

    @Test
    void rejectsEmptyDims() {
        String m = rejects(() -> Mean.apply(Tensor.zeros(2, 3), new int[0], false)).getMessage();
        assertTrue(m.contains("mean: dims must name at least one dimension, got []"), m);
    }

    @Test
    void rejectsOutOfRangeDimsNamingTheDimAndRank() {
        String m = rejects(() -> Sum.apply(Tensor.zeros(2, 3), 2, false)).getMessage();
        assertTrue(m.contains("sum: dim 2 is out of range [-2, 1] for x of rank 2 with shape [2, 3]"), m);
        String m2 = rejects(() -> Mean.apply(Tensor.zeros(2, 3), new int[] {0, -3}, true)).getMessage();
        assertTrue(m2.contains("mean: dim -3 is out of range"), m2);
        String m3 = rejects(() -> Sum.apply(Tensor.scalar(1f), 0, false)).getMessage();
        assertTrue(m3.contains("dim 0 is out of range") && m3.contains("rank 0"), m3);
    }

    @Test
    void rejectsRepeatedDimsEvenWhenSpelledDifferently() {
        String m = rejects(() -> Sum.apply(Tensor.zeros(2, 3, 4), new int[] {1, -2}, false)).getMessage();
        assertTrue(m.contains("sum: dims [1, -2] name dimension 1 more than once"), m);
    }
}
