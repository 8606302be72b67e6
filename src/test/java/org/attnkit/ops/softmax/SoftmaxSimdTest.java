package org.attnkit.ops.softmax;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
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

/** The SIMD Softmax and LogSoftmax against the double reference, over last and non-last axes. */
class SoftmaxSimdTest {
    // Forward: lanewise EXP (about an ulp) and a float32 sum of n terms in [0, 1]: relative error of
    // the normalizer <~ n * 2^-24 / sqrt-ish, ~1e-6 for n of a few hundred; log-softmax subtracts a
    // float log-sum-exp of magnitude ~ max|x| + log n, so its absolute error scales with that.
    private static final double FWD_ATOL = 1e-6;
    private static final double FWD_RTOL = 2e-6;
    // Backward: a float dot/sum over the line (|dy| ~ 1, n terms) and one multiply-subtract.
    private static final double BWD_ATOL = 1e-5;
    private static final double BWD_RTOL = 1e-5;

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (int n : new int[] {1, 3, 15, 16, 17, 33, 100}) {
            out.add(Arguments.of(new int[] {4, n}, -1));     // last axis
            out.add(Arguments.of(new int[] {n, 5}, 0));      // leading axis, inner 5 < one vector
            out.add(Arguments.of(new int[] {2, 7, n}, 1));   // middle axis, inner = n (vector + tail)
        }
        out.add(Arguments.of(new int[] {3, 1000}, 1));       // several row tasks
        out.add(Arguments.of(new int[] {2, 40, 600}, 1));    // several column blocks
        out.add(Arguments.of(new int[] {2, 300, 20}, 1));    // long lines across lanes
        out.add(Arguments.of(new int[] {5}, 0));             // rank 1
        out.add(Arguments.of(new int[] {2, 0, 3}, 1));       // empty
        return out.stream();
    }

    @ParameterizedTest(name = "{0} axis={1}")
    @MethodSource("cases")
    void simdMatchesReference(int[] shape, int axis) {
        long seed = java.util.Arrays.hashCode(shape) * 13L + axis;
        float[] v = Tensor.randn(seed, shape).toArray();
        for (int i = 0; i < v.length; i++) {
            v[i] *= 3; // a spread of logits so that the max subtraction matters
        }
        Tensor x = Tensor.of(v, shape);
        Tensor dy = Tensor.randn(seed + 1, shape);
        for (boolean log : new boolean[] {false, true}) {
            Tensor[] ref = run(Backend.REF, x, dy, axis, log);
            Tensor[] simd = run(Backend.SIMD, x, dy, axis, log);
            String what = log ? "logSoftmax" : "softmax";
            Compare.close(what + " y", ref[0], simd[0], FWD_ATOL, FWD_RTOL);
            Compare.close(what + " dx", ref[1], simd[1], BWD_ATOL, BWD_RTOL);
        }
    }

    @Test
    void largeLogitsDoNotOverflow() {
        float[] v = {1000f, 999f, -1000f, 998f, 1000f, 0f, 17f, 5f, 4f, 3f, 2f, 1f, 0f, -1f, -2f, -3f, 88f, 89f};
        Tensor x = Tensor.of(v, 1, 18);
        Compare.close("softmax", Compare.on(Backend.REF, () -> Softmax.apply(x, -1)),
                Compare.on(Backend.SIMD, () -> Softmax.apply(x, -1)), FWD_ATOL, FWD_RTOL);
        Compare.close("logSoftmax", Compare.on(Backend.REF, () -> LogSoftmax.apply(x, -1)),
                Compare.on(Backend.SIMD, () -> LogSoftmax.apply(x, -1)), FWD_ATOL, FWD_RTOL);
        Tensor xt = Tensor.of(v, 18, 1);
        Compare.close("softmax dim 0", Compare.on(Backend.REF, () -> Softmax.apply(xt, 0)),
                Compare.on(Backend.SIMD, () -> Softmax.apply(xt, 0)), FWD_ATOL, FWD_RTOL);
    }

    @Test
    void simdIsTheDefaultForFloat32() {
        assertEquals(Backend.SIMD, Softmax.KERNELS.choose(Device.CPU, DType.F32));
        assertEquals(Backend.REF, Softmax.KERNELS.choose(Device.CPU, DType.F64));
    }

    private static Tensor[] run(Backend backend, Tensor x0, Tensor dy, int axis, boolean log) {
        return Compare.on(backend, () -> {
            Tensor x = x0.copy().requiresGrad(true);
            Tensor y = log ? LogSoftmax.apply(x, axis) : Softmax.apply(x, axis);
            y.backward(dy);
            return new Tensor[] {y, x.grad()};
        });
    }
}
