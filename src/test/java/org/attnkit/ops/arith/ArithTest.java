package org.attnkit.ops.arith;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.function.BinaryOperator;
import java.util.function.DoubleBinaryOperator;
import java.util.stream.Stream;
import org.attnkit.autograd.GradCheck;
import org.attnkit.tensor.DType;
import org.attnkit.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ArithTest {
    record Op(String name, BinaryOperator<Tensor> apply, DoubleBinaryOperator math) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Op> ops() {
        return Stream.of(
                new Op("add", Add::apply, (x, y) -> x + y),
                new Op("sub", Sub::apply, (x, y) -> x - y),
                new Op("mul", Mul::apply, (x, y) -> x * y),
                new Op("div", Div::apply, (x, y) -> x / y));
    }

    /** Pairs of operand shapes that broadcast, covering size-1 dims, rank differences and rank 0. */
    static Stream<Arguments> broadcastCases() {
        int[][][] shapes = {
            {{2, 1, 3}, {4, 3}},
            {{4, 3}, {2, 1, 3}},
            {{3, 4}, {3, 4}},
            {{2, 3}, {1}},
            {{1}, {2, 3}},
            {{2, 3}, {}},
            {{}, {3}},
            {{3, 1}, {1, 4}},
            {{2, 1, 4, 1}, {3, 1, 5}},
        };
        return ops().flatMap(op -> Stream.of(shapes).map(s -> Arguments.of(op, s[0], s[1])));
    }

    /** Values away from zero, so that Div and its gradient stay well conditioned. */
    static Tensor awayFromZero(long seed, DType dtype, int... shape) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] v = new double[Tensor.zeros(shape).numel()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (r.nextBoolean() ? 1 : -1) * (0.5 + r.nextDouble());
        }
        return Tensor.fromDoubles(v, dtype, shape);
    }

    /** c[idx] computed from coordinates: a dim of size 1 (or one a lacks) reads coordinate 0. */
    static double[] expected(Tensor a, Tensor b, int[] outShape, DoubleBinaryOperator f) {
        Tensor out = Tensor.zeros(outShape);
        double[] c = new double[out.numel()];
        int[] idx = new int[outShape.length];
        for (int i = 0; i < c.length; i++) {
            int rem = i;
            for (int d = outShape.length - 1; d >= 0; d--) {
                idx[d] = rem % outShape[d];
                rem /= outShape[d];
            }
            c[i] = f.applyAsDouble(a.get(project(idx, a)), b.get(project(idx, b)));
        }
        return c;
    }

    static int[] project(int[] outIdx, Tensor t) {
        int[] idx = new int[t.rank()];
        int off = outIdx.length - t.rank();
        for (int d = 0; d < idx.length; d++) {
            idx[d] = t.dim(d) == 1 ? 0 : outIdx[d + off];
        }
        return idx;
    }

    static int[] broadcastShape(int[] a, int[] b) {
        int rank = Math.max(a.length, b.length);
        int[] out = new int[rank];
        for (int i = 0; i < rank; i++) {
            int da = i - (rank - a.length) >= 0 ? a[i - (rank - a.length)] : 1;
            int db = i - (rank - b.length) >= 0 ? b[i - (rank - b.length)] : 1;
            out[i] = Math.max(da, db);
        }
        return out;
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("broadcastCases")
    void forwardMatchesCoordinateFormula(Op op, int[] sa, int[] sb) {
        Tensor a = awayFromZero(1, DType.F64, sa);
        Tensor b = awayFromZero(2, DType.F64, sb);
        Tensor c = op.apply.apply(a, b);
        int[] outShape = broadcastShape(sa, sb);
        assertArrayEquals(outShape, c.shape().toArray());
        assertArrayEquals(expected(a, b, outShape, op.math), c.toDoubleArray(), 0);
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("broadcastCases")
    void gradientsMatchFiniteDifferencesForBothOperands(Op op, int[] sa, int[] sb) {
        GradCheck.assertGradients(in -> op.apply.apply(in[0], in[1]),
                awayFromZero(3, DType.F64, sa).requiresGrad(true),
                awayFromZero(4, DType.F64, sb).requiresGrad(true));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ops")
    void gradientOfOneOperandAlone(Op op) {
        GradCheck.assertGradients(in -> op.apply.apply(in[0], in[1]),
                awayFromZero(5, DType.F64, 2, 1, 3),
                awayFromZero(6, DType.F64, 4, 3).requiresGrad(true));
        GradCheck.assertGradients(in -> op.apply.apply(in[0], in[1]),
                awayFromZero(7, DType.F64, 2, 1, 3).requiresGrad(true),
                awayFromZero(8, DType.F64, 4, 3));
    }

    @Test
    void randomBroadcastShapesMatchTheFormula() {
        SplittableRandom r = new SplittableRandom(42);
        for (int trial = 0; trial < 40; trial++) {
            int rank = r.nextInt(5);
            int[] out = new int[rank];
            for (int d = 0; d < rank; d++) {
                out[d] = 1 + r.nextInt(5);
            }
            int[] sa = operandShape(r, out);
            int[] sb = operandShape(r, out);
            Op op = ops().toList().get(r.nextInt(4));
            Tensor a = awayFromZero(trial, DType.F32, sa);
            Tensor b = awayFromZero(trial + 1000, DType.F32, sb);
            Tensor c = op.apply.apply(a, b);
            int[] outShape = broadcastShape(sa, sb);
            assertArrayEquals(outShape, c.shape().toArray());
            double[] want = expected(a, b, outShape, op.math);
            float[] got = c.toArray();
            for (int i = 0; i < got.length; i++) {
                assertEquals(want[i], got[i], 1e-6 * Math.max(1, Math.abs(want[i])), op + " element " + i);
            }
        }
    }

    /** A shape that broadcasts to out: some leading dims dropped, some dims set to 1. */
    private static int[] operandShape(SplittableRandom r, int[] out) {
        int drop = r.nextInt(out.length + 1);
        int[] s = new int[out.length - drop];
        for (int d = 0; d < s.length; d++) {
            s[d] = r.nextInt(3) == 0 ? 1 : out[d + drop];
        }
        return s;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ops")
    void sameTensorAsBothOperandsGetsBothGradients(Op op) {
        GradCheck.assertGradients(in -> op.apply.apply(in[0], in[0]), awayFromZero(15, DType.F64, 2, 3).requiresGrad(true));
    }

    @Test
    void addGradientSumsOverBroadcastDims() {
        Tensor a = Tensor.zeros(DType.F64, 2, 1, 3).requiresGrad(true);
        Tensor b = Tensor.zeros(DType.F64, 4, 3).requiresGrad(true);
        Add.apply(a, b).backward(Tensor.fromDoubles(filled(24, 1), DType.F64, 2, 4, 3));
        assertArrayEquals(filled(6, 4), a.grad().toDoubleArray(), 0); // each a element feeds 4 outputs
        assertArrayEquals(filled(12, 2), b.grad().toDoubleArray(), 0); // each b element feeds 2 outputs
    }

    private static double[] filled(int n, double v) {
        double[] d = new double[n];
        java.util.Arrays.fill(d, v);
        return d;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ops")
    void float32MatchesFloat64(Op op) {
        Tensor a64 = awayFromZero(9, DType.F64, 3, 1, 5);
        Tensor b64 = awayFromZero(10, DType.F64, 4, 5);
        double[] want = op.apply.apply(a64, b64).toDoubleArray();
        float[] got = op.apply.apply(a64.to(DType.F32), b64.to(DType.F32)).toArray();
        assertEquals(DType.F32, op.apply.apply(a64.to(DType.F32), b64.to(DType.F32)).dtype());
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 1e-5 * Math.abs(want[i]), op + " element " + i);
        }
    }

    @Test
    void scalarVariantsMatchTensorOperands() {
        Tensor x = awayFromZero(11, DType.F64, 2, 3);
        double[] xv = x.toDoubleArray();
        double[] add = Add.apply(x, 1.5).toDoubleArray();
        double[] sub = Sub.apply(x, 1.5).toDoubleArray();
        double[] mul = Mul.apply(x, -2.5).toDoubleArray();
        double[] div = Div.apply(x, 4.0).toDoubleArray();
        for (int i = 0; i < xv.length; i++) {
            assertEquals(xv[i] + 1.5, add[i], 0);
            assertEquals(xv[i] - 1.5, sub[i], 0);
            assertEquals(xv[i] * -2.5, mul[i], 0);
            assertEquals(xv[i] / 4.0, div[i], 0);
        }
        assertEquals(DType.F32, Mul.apply(x.to(DType.F32), 2).dtype());
    }

    @Test
    void scalarVariantsHaveGradients() {
        GradCheck.assertGradients(in -> Add.apply(in[0], 0.3), awayFromZero(12, DType.F64, 2, 3).requiresGrad(true));
        GradCheck.assertGradients(in -> Sub.apply(in[0], 0.3), awayFromZero(12, DType.F64, 2, 3).requiresGrad(true));
        GradCheck.assertGradients(in -> Mul.apply(in[0], -1.7), awayFromZero(13, DType.F64, 2, 3).requiresGrad(true));
        GradCheck.assertGradients(in -> Div.apply(in[0], 0.7), awayFromZero(14, DType.F64, 2, 3).requiresGrad(true));
    }

    @Test
    void divisionByZeroGivesIeeeValuesWithoutException() {
        Tensor a = Tensor.of(new double[] {1, -1, 0, 2}, 4);
        Tensor b = Tensor.of(new double[] {0, 0, 0, -0.0}, 4);
        double[] c = Div.apply(a, b).toDoubleArray();
        assertEquals(Double.POSITIVE_INFINITY, c[0]);
        assertEquals(Double.NEGATIVE_INFINITY, c[1]);
        assertTrue(Double.isNaN(c[2]));
        assertEquals(Double.NEGATIVE_INFINITY, c[3]);
        assertEquals(Float.POSITIVE_INFINITY, Div.apply(Tensor.of(new float[] {3}, 1), 0.0).toArray()[0]);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ops")
    void rejectsShapesThatDoNotBroadcastNamingBoth(Op op) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> op.apply.apply(Tensor.zeros(2, 3), Tensor.zeros(4, 2)));
        assertTrue(e.getMessage().contains(op.name + ":"), e.getMessage());
        assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("[4, 2]"), e.getMessage());
        IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class,
                () -> op.apply.apply(Tensor.zeros(3, 2, 5), Tensor.zeros(3, 5)));
        assertTrue(e2.getMessage().contains("[3, 2, 5]") && e2.getMessage().contains("[3, 5]"), e2.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ops")
    void rejectsNullOperands(Op op) {
        IllegalArgumentException ea = assertThrows(IllegalArgumentException.class,
                () -> op.apply.apply(null, Tensor.zeros(2)));
        assertTrue(ea.getMessage().contains(op.name + ": a must not be null"), ea.getMessage());
        IllegalArgumentException eb = assertThrows(IllegalArgumentException.class,
                () -> op.apply.apply(Tensor.zeros(2), null));
        assertTrue(eb.getMessage().contains(op.name + ": b must not be null"), eb.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ops")
    void rejectsMixedDtypes(Op op) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> op.apply.apply(Tensor.zeros(DType.F32, 2), Tensor.zeros(DType.F64, 2)));
        assertTrue(e.getMessage().contains("b is F64") && e.getMessage().contains("a is F32"), e.getMessage());
    }

    @Test
    void scalarVariantsRejectNullAndNonFiniteScalars() {
        IllegalArgumentException n = assertThrows(IllegalArgumentException.class, () -> Mul.apply(null, 2.0));
        assertTrue(n.getMessage().contains("mul: a must not be null"), n.getMessage());
        IllegalArgumentException nan = assertThrows(IllegalArgumentException.class,
                () -> Add.apply(Tensor.zeros(2), Double.NaN));
        assertTrue(nan.getMessage().contains("add: scalar must be finite, got NaN"), nan.getMessage());
        IllegalArgumentException inf = assertThrows(IllegalArgumentException.class,
                () -> Div.apply(Tensor.zeros(2), Double.POSITIVE_INFINITY));
        assertTrue(inf.getMessage().contains("div: scalar must be finite, got Infinity"), inf.getMessage());
    }
}
