package org.attnkit.ops.glu;

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

/** The SIMD Glu against the double reference, forward and backward, over every axis. */
class GluSimdTest {
    // A lanewise EXP (about an ulp), a divide and two or three multiplies, all in float32: a few ulps
    // relative (1 - sigmoid(g) is formed as sigmoid(-g), so it keeps its relative accuracy too).
    private static final double ATOL = 2e-7;
    private static final double RTOL = 1e-6;

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (int n : new int[] {1, 3, 15, 16, 17, 33, 100}) {
            out.add(Arguments.of(new int[] {3, 2 * n}, -1));
            out.add(Arguments.of(new int[] {2 * n, 3}, 0));
            out.add(Arguments.of(new int[] {2, 4, n}, 1));
        }
        out.add(Arguments.of(new int[] {2, 4, 20000}, 1)); // several chunks inside one half
        out.add(Arguments.of(new int[] {5000, 2}, 1));     // many tiny halves
        return out.stream();
    }

    @ParameterizedTest(name = "{0} dim={1}")
    @MethodSource("cases")
    void simdMatchesReference(int[] shape, int dim) {
        long seed = java.util.Arrays.hashCode(shape) * 5L + dim;
        float[] v = Tensor.randn(seed, shape).toArray();
        for (int i = 0; i < v.length; i++) {
            v[i] *= 4;
        }
        Tensor x = Tensor.of(v, shape);
        int[] outShape = shape.clone();
        int axis = dim < 0 ? dim + shape.length : dim;
        outShape[axis] /= 2;
        Tensor dy = Tensor.randn(seed + 1, outShape);
        Tensor[] ref = run(Backend.REF, x, dy, dim);
        Tensor[] simd = run(Backend.SIMD, x, dy, dim);
        Compare.close("y", ref[0], simd[0], ATOL, RTOL);
        Compare.close("dx", ref[1], simd[1], ATOL, RTOL);
    }

    @Test
    void simdIsTheDefaultForFloat32() {
        assertEquals(Backend.SIMD, Glu.KERNELS.choose(Device.CPU, DType.F32));
        assertEquals(Backend.REF, Glu.KERNELS.choose(Device.CPU, DType.F64));
    }

    private static Tensor[] run(Backend backend, Tensor x0, Tensor dy, int dim) {
        return Compare.on(backend, () -> {
            Tensor x = x0.copy().requiresGrad(true);
            Tensor y = Glu.apply(x, dim);
            y.backward(dy);
            return new Tensor[] {y, x.grad()};
        });
    }
}
