package org.attnkit.ops.layernorm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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

/** The SIMD LayerNorm against the double reference, forward and backward, with and without gamma/beta. */
class LayerNormSimdTest {
    // Forward: float32 row mean and centred variance (D terms, ~D * 2^-24 relative at worst, far less
    // in practice) and one multiply-add: a few 1e-7 of the normalized values (|xhat| <~ 4).
    private static final double FWD_ATOL = 2e-6;
    private static final double FWD_RTOL = 2e-6;
    // Backward: dx combines two float row means (mean(g), mean(g * xhat)) that nearly cancel;
    // dgamma/dbeta sum rows in float blocks added in double.
    private static final double BWD_ATOL = 2e-5;
    private static final double BWD_RTOL = 2e-5;

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (int d : new int[] {1, 3, 15, 16, 17, 33, 100}) {
            out.add(Arguments.of(new int[] {5, d}, true, true));
            out.add(Arguments.of(new int[] {2, 3, d}, false, false));
            out.add(Arguments.of(new int[] {4, d}, true, false));
            out.add(Arguments.of(new int[] {4, d}, false, true));
        }
        out.add(Arguments.of(new int[] {300, 512}, true, true)); // several row tasks for the partials
        out.add(Arguments.of(new int[] {1, 1, 40}, true, true));
        return out.stream();
    }

    @ParameterizedTest(name = "{0} gamma={1} beta={2}")
    @MethodSource("cases")
    void simdMatchesReference(int[] shape, boolean withGamma, boolean withBeta) {
        long seed = java.util.Arrays.hashCode(shape) * 3L + (withGamma ? 1 : 0) + (withBeta ? 2 : 0);
        int d = shape[shape.length - 1];
        float[] v = Tensor.randn(seed, shape).toArray();
        for (int i = 0; i < v.length; i++) {
            v[i] = 2 * v[i] + 0.5f; // a nonzero mean and a spread other than 1
        }
        Tensor x = Tensor.of(v, shape);
        Tensor gamma = withGamma ? Tensor.randn(seed + 1, d) : null;
        Tensor beta = withBeta ? Tensor.randn(seed + 2, d) : null;
        Tensor dy = Tensor.randn(seed + 3, shape);
        Tensor[] ref = run(Backend.REF, x, gamma, beta, dy);
        Tensor[] simd = run(Backend.SIMD, x, gamma, beta, dy);
        Compare.close("y", ref[0], simd[0], FWD_ATOL, FWD_RTOL);
        Compare.close("dx", ref[1], simd[1], BWD_ATOL, BWD_RTOL);
        if (withGamma) {
            Compare.close("dgamma", ref[2], simd[2], BWD_ATOL, BWD_RTOL);
        }
        if (withBeta) {
            Compare.close("dbeta", ref[3], simd[3], BWD_ATOL, BWD_RTOL);
        }
    }

    @Test
    void savedStatisticsMatchTheReference() {
        Tensor x = Tensor.randn(4, 7, 33);
        LayerNormKernels.Forward ref = new LayerNormRef().forward(x, null, null, 1e-5);
        LayerNormKernels.Forward simd = new LayerNormSimdKernels().forward(x, null, null, 1e-5);
        Compare.close("mean", ref.mean(), simd.mean(), 1e-7, 1e-6);
        Compare.close("rstd", ref.rstd(), simd.rstd(), 1e-7, 1e-6);
        assertArrayEquals(new int[] {7}, simd.mean().shape().toArray());
    }

    @Test
    void repeatedRunsGiveTheSameBits() {
        Tensor x = Tensor.randn(1, 2000, 64);
        Tensor gamma = Tensor.randn(2, 64).requiresGrad(true);
        Tensor dy = Tensor.randn(3, 2000, 64);
        float[] first = null;
        for (int i = 0; i < 3; i++) {
            gamma.zeroGrad();
            Compare.on(Backend.SIMD, () -> LayerNorm.apply(x, gamma, null)).backward(dy);
            if (first == null) {
                first = gamma.grad().toArray();
            } else {
                assertArrayEquals(first, gamma.grad().toArray());
            }
        }
    }

    @Test
    void simdIsTheDefaultForFloat32() {
        assertEquals(Backend.SIMD, LayerNorm.KERNELS.choose(Device.CPU, DType.F32));
        assertEquals(Backend.REF, LayerNorm.KERNELS.choose(Device.CPU, DType.F64));
    }

    private static Tensor[] run(Backend backend, Tensor x0, Tensor g0, Tensor b0, Tensor dy) {
        return Compare.on(backend, () -> {
            Tensor x = x0.copy().requiresGrad(true);
            Tensor g = g0 == null ? null : g0.copy().requiresGrad(true);
            Tensor b = b0 == null ? null : b0.copy().requiresGrad(true);
            Tensor y = LayerNorm.apply(x, g, b);
            y.backward(dy);
            return new Tensor[] {y, x.grad(), g == null ? null : g.grad(), b == null ? null : b.grad()};
        });
    }
}
