package org.attnkit.ops.linear;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.attnkit.autograd.GradCheck;
import org.attnkit.backend.Backend;
import org.attnkit.ops.linear.LinearEpilogue.Activation;
import org.attnkit.tensor.DType;
import org.attnkit.tensor.Tensor;
import org.attnkit.testing.Compare;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

class LinearEpilogueTest {
    static Tensor randn64(long seed, int... shape) {
        return Tensor.randn(seed, shape).to(DType.F64);
    }

    /** f applied to z in double, straight from the definitions (GLU: first half a, second half the gate). */
    static double[] activate(double[] z, int rows, int out, Activation act) {
        if (act == Activation.GLU) {
            int half = out / 2;
            double[] y = new double[rows * half];
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < half; j++) {
                    double a = z[r * out + j];
                    double g = z[r * out + half + j];
                    y[r * half + j] = a / (1 + Math.exp(-g));
                }
            }
            return y;
        }
        double[] y = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            double v = z[i];
            y[i] = switch (act) {
                case RELU -> Math.max(v, 0);
                case TANH -> Math.tanh(v);
                case SIGMOID -> 1 / (1 + Math.exp(-v));
                // x Phi(x) by numerical integration of the normal density (independent of any erf code):
                // Phi(x) = 1/2 + integral_0^x phi, Simpson's rule with 2000 panels.
                case GELU -> v * (0.5 + simpsonPhi(v));
                default -> throw new AssertionError(act);
            };
        }
        return y;
    }

    private static double simpsonPhi(double x) {
        int n = 2000;
        double h = x / n;
        double s = 0;
        for (int i = 0; i <= n; i++) {
            double t = i * h;
            double f = Math.exp(-0.5 * t * t) / Math.sqrt(2 * Math.PI);
            s += (i == 0 || i == n ? 1 : i % 2 == 1 ? 4 : 2) * f;
        }
        return s * h / 3;
    }

    static Stream<Arguments> cases() {
        List<Arguments> list = new ArrayList<>();
        int[][] xShapes = {{4}, {2, 4}, {2, 3, 5}, {3, 1}};
        int[] outs = {6, 2, 4, 2};
        for (Activation act : Activation.values()) {
            for (int i = 0; i < xShapes.length; i++) {
                list.add(Arguments.of(act, xShapes[i], outs[i], i % 2 == 0));
            }
        }
        return list.stream();
    }

    @ParameterizedTest(name = "{0} x={1} out={2} bias={3}")
    @MethodSource("cases")
    void forwardMatchesTheDefinition(Activation act, int[] xShape, int out, boolean withBias) {
        Tensor x = randn64(1, xShape);
        Tensor w = randn64(2, out, xShape[xShape.length - 1]);
        Tensor b = withBias ? randn64(3, out) : null;
        int rows = x.numel() / w.dim(1);
        double[] want = activate(LinearTest.naive(x, w, b), rows, out, act);
        Tensor y = LinearEpilogue.apply(x, w, b, act);
        int[] shape = xShape.clone();
        shape[shape.length - 1] = act == Activation.GLU ? out / 2 : out;
        assertArrayEquals(shape, y.shape().toArray());
        assertArrayEquals(want, y.toDoubleArray(), 1e-9);
    }

    @ParameterizedTest(name = "{0} x={1} out={2} bias={3}")
    @MethodSource("cases")
    void gradientsMatchFiniteDifferences(Activation act, int[] xShape, int out, boolean withBias) {
        Tensor b = withBias ? randn64(6, out) : null;
        GradCheck.assertGradients(in -> LinearEpilogue.apply(in[0], in[1], in[2], act),
                randn64(4, xShape).requiresGrad(true),
                randn64(5, out, xShape[xShape.length - 1]).requiresGrad(true),
                b == null ? null : b.requiresGrad(true));
    }

    static Stream<Arguments> hostBackends() {
        List<Arguments> list = new ArrayList<>();
        for (Backend backend : new Backend[] {Backend.REF, Backend.SIMD}) {
            for (Activation act : Activation.values()) {
                list.add(Arguments.of(backend, act, true));
                list.add(Arguments.of(backend, act, false));
            }
        }
        return list.stream();
    }

    /** The same bits as Linear.apply then the activation op on the same backend, forward and every gradient. */
    @ParameterizedTest(name = "{0} {1} bias={2}")
    @MethodSource("hostBackends")
    void equalsTheUnfusedOpsBitForBit(Backend backend, Activation act, boolean withBias) {
        int[] xShape = {3, 7, 33};
        int out = 18;
        Tensor[] fused = run(backend, xShape, out, withBias, in -> LinearEpilogue.apply(in[0], in[1], in[2], act));
        Tensor[] unfused = run(backend, xShape, out, withBias,
                in -> act.applyUnfused(Linear.apply(in[0], in[1], in[2])));
        String[] names = {"y", "dx", "dweight", "dbias"};
        for (int i = 0; i < fused.length; i++) {
            if (unfused[i] == null) {
                assertEquals(null, fused[i], names[i]);
                continue;
            }
            assertEquals(DType.F32, fused[i].dtype(), names[i]);
            assertArrayEquals(unfused[i].shape().toArray(), fused[i].shape().toArray(), names[i]);
            assertArrayEquals(unfused[i].data(), fused[i].data(), names[i] + " on " + backend);
        }
    }

    private static Tensor[] run(Backend backend, int[] xShape, int out, boolean withBias,
            java.util.function.Function<Tensor[], Tensor> f) {
        return Compare.on(backend, () -> {
            Tensor x = Tensor.randn(11, xShape).requiresGrad(true);
            Tensor w = Tensor.randn(12, out, xShape[xShape.length - 1]).requiresGrad(true);
            Tensor b = withBias ? Tensor.randn(13, out).requiresGrad(true) : null;
            Tensor y = f.apply(new Tensor[] {x, w, b});
            y.backward(Tensor.randn(14, y.shape().toArray()));
            return new Tensor[] {y, x.grad(), w.grad(), b == null ? null : b.grad()};
        });
    }

    @ParameterizedTest
    @EnumSource(Activation.class)
    void noGradForwardEqualsTheGradForward(Activation act) {
        Tensor x = Tensor.randn(1, 4, 6);
        Tensor w = Tensor.randn(2, 8, 6);
        Tensor y1 = LinearEpilogue.apply(x, w, null, act);
        Tensor y2;
        try (var ignored = org.attnkit.autograd.GradMode.noGrad()) {
            y2 = LinearEpilogue.apply(x, w, null, act);
        }
        assertArrayEquals(y1.data(), y2.data());
    }

    @Test
    void rejectsANullActivation() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LinearEpilogue.apply(Tensor.randn(1, 2, 3), Tensor.randn(2, 4, 3), null, null));
        assertTrue(e.getMessage().startsWith("linear_epilogue: activation must not be null"), e.getMessage());
    }

    @Test
    void rejectsAnOddOutForGlu() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LinearEpilogue.apply(Tensor.randn(1, 2, 3), Tensor.randn(2, 5, 3), null, Activation.GLU));
        assertTrue(e.getMessage().contains("out = 5") && e.getMessage().contains("GLU"), e.getMessage());
        // The elementwise activations take any out.
        assertEquals(5, LinearEpilogue.apply(Tensor.randn(1, 2, 3), Tensor.randn(2, 5, 3), null,
                Activation.TANH).dim(1));
    }

    @Test
    void rejectsMismatchedInFeatures() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LinearEpilogue.apply(Tensor.randn(1, 2, 3), Tensor.randn(2, 4, 5), null, Activation.RELU));
        assertTrue(e.getMessage().startsWith("linear_epilogue: ") && e.getMessage().contains("in = 3")
                && e.getMessage().contains("in = 5"), e.getMessage());
    }

    @Test
    void rejectsABiasOfTheWrongShape() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LinearEpilogue.apply(Tensor.randn(1, 2, 3), Tensor.randn(2, 4, 3), Tensor.randn(3, 5),
                        Activation.GELU));
        assertTrue(e.getMessage().startsWith("linear_epilogue: ") && e.getMessage().contains("bias"),
                e.getMessage());
    }

    @Test
    void rejectsMixedDtypes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LinearEpilogue.apply(Tensor.randn(1, 2, 3), randn64(2, 4, 3), null, Activation.SIGMOID));
        assertTrue(e.getMessage().startsWith("linear_epilogue: ") && e.getMessage().contains("weight"),
                e.getMessage());
    }

    @Test
    void rejectsANullX() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LinearEpilogue.apply(null, Tensor.randn(2, 4, 3), null, Activation.RELU));
        assertTrue(e.getMessage().startsWith("linear_epilogue: ") && e.getMessage().contains("x"), e.getMessage());
    }
}
