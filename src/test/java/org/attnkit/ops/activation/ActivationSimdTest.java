package org.attnkit.ops.activation;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.attnkit.backend.Backend;
import org.attnkit.tensor.DType;
import org.attnkit.tensor.Device;
import org.attnkit.tensor.Tensor;
import org.attnkit.testing.Compare;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The SIMD activations against the double reference, forward and backward. */
class ActivationSimdTest {
    // Tanh and sigmoid use the platform's lanewise TANH/EXP (a few float ulps) against a double
    // reference rounded to float: a few 2^-24 relative, so 1e-6 relative with 1e-7 absolute (for
    // values near 0, where the relative error of 1 - y^2 style terms is not meaningful).
    private static final double ATOL = 1e-7;
    private static final double RTOL = 1e-6;
    // Backward of tanh and sigmoid reads the saved y: a one-ulp difference in y (6e-8 near |y| = 1)
    // becomes |dy| * 6e-8 absolute in 1 - y^2 or y(1 - y), however small those are; |dy| <= ~4.
    private static final double BWD_ATOL = 5e-7;
    // Gelu: the float erfc fit is ~1.2e-7 relative in exact arithmetic; evaluated in float its
    // exponent -z^2 + P(t) carries a few ulps of |z^2| <= ~16 for randn inputs, i.e. up to ~1e-6
    // absolute in the exponent, so 3e-6 relative (plus 3e-7 absolute near Phi's zeros) is the bound.
    private static final double GELU_ATOL = 3e-7;
    private static final double GELU_RTOL = 3e-6;

    static Stream<Arguments> shapes() {
        return Stream.of(
                Arguments.of((Object) new int[] {1}),
                Arguments.of((Object) new int[] {3}),
                Arguments.of((Object) new int[] {15}),
                Arguments.of((Object) new int[] {16}),
                Arguments.of((Object) new int[] {17}),
                Arguments.of((Object) new int[] {33}),
                Arguments.of((Object) new int[] {4, 100}),
                Arguments.of((Object) new int[] {2, 1, 3, 17}),
                Arguments.of((Object) new int[] {}),
                Arguments.of((Object) new int[] {3, 0}),
                // Several parallel chunks with a tail in the last one.
                Arguments.of((Object) new int[] {3, 16411}));
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void tanhMatchesReference(int[] shape) {
        check(Tanh::apply, shape, 3.0, ATOL, RTOL, BWD_ATOL);
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void reluMatchesReference(int[] shape) {
        // Exact: a select, no arithmetic.
        check(Relu::apply, shape, 1.0, 0, 0, 0);
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void sigmoidMatchesReference(int[] shape) {
        check(Sigmoid::apply, shape, 6.0, ATOL, RTOL, BWD_ATOL);
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void geluMatchesReference(int[] shape) {
        check(Gelu::apply, shape, 2.0, GELU_ATOL, GELU_RTOL, GELU_ATOL);
    }

    @Test
    void geluTailsAndLargeInputs() {
        // The far tails: Phi(x) for x near -10 is ~1e-23 (x * Phi must stay tiny, not 0 or garbage),
        // and x -> +inf must give y = x; the absolute part of the tolerance covers the tail.
        float[] v = new float[64];
        for (int i = 0; i < v.length; i++) {
            v[i] = -12f + i * 0.4f;
        }
        Tensor x = Tensor.of(v, 64);
        Tensor ref = Compare.on(Backend.REF, () -> Gelu.apply(x));
        Tensor simd = Compare.on(Backend.SIMD, () -> Gelu.apply(x));
        Compare.close("gelu tails", ref, simd, 1e-7, 3e-6);
    }

    @Test
    void specialValuesFollowTheReference() {
        float[] v = {Float.NaN, -0.0f, 0.0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -200f, 200f, 1e-30f};
        Tensor x = Tensor.of(v, v.length);
        float[] ref = Compare.on(Backend.REF, () -> Relu.apply(x)).toArray();
        float[] simd = Compare.on(Backend.SIMD, () -> Relu.apply(x)).toArray();
        for (int i = 0; i < v.length; i++) {
            assertEquals(Float.floatToRawIntBits(ref[i]), Float.floatToRawIntBits(simd[i]), "relu of " + v[i]);
        }
        float[] sr = Compare.on(Backend.REF, () -> Sigmoid.apply(x)).toArray();
        float[] ss = Compare.on(Backend.SIMD, () -> Sigmoid.apply(x)).toArray();
        for (int i = 1; i < v.length; i++) {
            assertEquals(sr[i], ss[i], 1e-7, "sigmoid of " + v[i]);
        }
        float[] tr = Compare.on(Backend.REF, () -> Tanh.apply(x)).toArray();
        float[] ts = Compare.on(Backend.SIMD, () -> Tanh.apply(x)).toArray();
        for (int i = 1; i < v.length; i++) {
            assertEquals(tr[i], ts[i], 1e-7, "tanh of " + v[i]);
        }
    }

    @Test
    void simdIsTheDefaultForFloat32() {
        assertEquals(Backend.SIMD, Gelu.KERNELS.choose(Device.CPU, DType.F32));
        assertEquals(Backend.SIMD, Tanh.KERNELS.choose(Device.CPU, DType.F32));
        assertEquals(Backend.SIMD, Relu.KERNELS.choose(Device.CPU, DType.F32));
        assertEquals(Backend.SIMD, Sigmoid.KERNELS.choose(Device.CPU, DType.F32));
        assertEquals(Backend.REF, Gelu.KERNELS.choose(Device.CPU, DType.F64));
    }

    private static void check(UnaryOperator<Tensor> op, int[] shape, double spread, double atol, double rtol,
                              double bwdAtol) {
        long seed = 17L * shape.length + java.util.Arrays.hashCode(shape);
        float[] v = Tensor.randn(seed, shape).toArray();
        for (int i = 0; i < v.length; i++) {
            v[i] *= (float) spread;
        }
        Tensor x = Tensor.of(v, shape);
        Tensor dy = Tensor.randn(seed + 1, shape);
        Tensor[] ref = run(Backend.REF, op, x, dy);
        Tensor[] simd = run(Backend.SIMD, op, x, dy);
        Compare.close("y", ref[0], simd[0], atol, rtol);
        Compare.close("dx", ref[1], simd[1], bwdAtol, rtol);
    }

    private static Tensor[] run(Backend backend, UnaryOperator<Tensor> op, Tensor x0, Tensor dy) {
        return Compare.on(backend, () -> {
            Tensor x = x0.copy().requiresGrad(true);
            Tensor y = op.apply(x);
            y.backward(dy);
            return new Tensor[] {y, x.grad()};
        });
    }
}
