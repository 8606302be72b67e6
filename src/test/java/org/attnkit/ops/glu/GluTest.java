package org.attnkit.ops.glu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.attnkit.autograd.GradCheck;
import org.attnkit.tensor.DType;
import org.attnkit.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class GluTest {
    static Tensor randn64(long seed, int... shape) {
        return Tensor.randn(seed, shape).to(DType.F64);
    }

    /** a * sigmoid(g) with a and g cut out by Tensor.slice, computed elementwise here. */
    static double[] viaSlices(Tensor x, int dim) {
        int size = x.dim(dim);
        double[] a = x.slice(dim, 0, size / 2).toDoubleArray();
        double[] g = x.slice(dim, size / 2, size).toDoubleArray();
        double[] y = new double[a.length];
        for (int i = 0; i < y.length; i++) {
            y[i] = a[i] / (1 + Math.exp(-g[i]));
        }
        return y;
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of(new int[] {6}, -1),
                Arguments.of(new int[] {3, 4}, -1),
                Arguments.of(new int[] {4, 3}, 0),
                Arguments.of(new int[] {2, 6, 3}, 1),
                Arguments.of(new int[] {2, 6, 3}, -2),
                Arguments.of(new int[] {4, 3, 5}, 0),
                Arguments.of(new int[] {2, 3, 2}, 2));
    }

    @ParameterizedTest
    @MethodSource("cases")
    void forwardMatchesSlicedFormula(int[] shape, int dim) {
        Tensor x = randn64(1, shape);
        Tensor y = Glu.apply(x, dim);
        int[] want = shape.clone();
        int axis = dim < 0 ? dim + shape.length : dim;
        want[axis] /= 2;
        assertArrayEquals(want, y.shape().toArray());
        assertArrayEquals(viaSlices(x, axis), y.toDoubleArray(), 1e-15);
    }

    @Test
    void defaultDimIsTheLast() {
        Tensor x = randn64(2, 2, 3, 4);
        assertArrayEquals(Glu.apply(x, 2).toDoubleArray(), Glu.apply(x).toDoubleArray(), 0);
        assertArrayEquals(new int[] {2, 3, 2}, Glu.apply(x).shape().toArray());
    }

    @Test
    void handComputedCase() {
        // a = [2, -3], g = [0, large]: sigmoid(0) = 1/2, sigmoid(50) = 1 in double.
        double[] y = Glu.apply(Tensor.of(new double[] {2, -3, 0, 50}, 4)).toDoubleArray();
        assertArrayEquals(new double[] {1, -3}, y, 0);
    }

    @ParameterizedTest
    @MethodSource("cases")
    void gradientMatchesFiniteDifferences(int[] shape, int dim) {
        GradCheck.assertGradients(in -> Glu.apply(in[0], dim), randn64(3, shape).requiresGrad(true));
    }

    @Test
    void float32MatchesFloat64() {
        Tensor x = Tensor.randn(4, 3, 5, 8);
        double[] want = Glu.apply(x.to(DType.F64)).toDoubleArray();
        Tensor y = Glu.apply(x);
        assertEquals(DType.F32, y.dtype());
        float[] got = y.toArray();
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 1e-5 * Math.abs(want[i]) + 1e-30);
        }
    }

    private static String rejects(Executable e) {
        return assertThrows(IllegalArgumentException.class, e).getMessage();
    }

    @Test
    void rejectsNull() {
        assertTrue(rejects(() -> Glu.apply(null)).contains("glu: x must not be null"));
    }

    @Test
    void rejectsOddSizeNamingIt() {
        String m = rejects(() -> Glu.apply(Tensor.zeros(2, 5)));
        assertTrue(m.contains("glu: the size of x along dim -1 must be even") && m.contains("got 5 in shape [2, 5]"), m);
        String m2 = rejects(() -> Glu.apply(Tensor.zeros(3, 4), 0));
        assertTrue(m2.contains("got 3"), m2);
    }

    @Test
    void rejectsDimOutOfRange() {
        String m = rejects(() -> Glu.apply(Tensor.zeros(2, 4), 2));
        assertTrue(m.contains("glu: dim 2 is out of range [-2, 1] for x of rank 2"), m);
        String m2 = rejects(() -> Glu.apply(Tensor.zeros(2, 4), -3));
        assertTrue(m2.contains("dim -3 is out of range"), m2);
        String m3 = rejects(() -> Glu.apply(Tensor.scalar(1f)));
        assertTrue(m3.contains("dim -1 is out of range") && m3.contains("rank 0"), m3);
    }
}
