package org.attnkit.ops.dropout;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.stream.Stream;
import org.attnkit.backend.Backend;
import org.attnkit.random.Philox;
import org.attnkit.tensor.DType;
import org.attnkit.tensor.Device;
import org.attnkit.tensor.Tensor;
import org.attnkit.testing.Compare;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The SIMD Dropout: masks bit-identical to the reference's Philox stream, values within an ulp. */
class DropoutSimdTest {
    // Survivors are x * (float) (1/(1-p)) in float against x / (1-p) in double rounded: two roundings.
    private static final double ATOL = 0;
    private static final double RTOL = 2.5e-7;

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of(new int[] {1}, 0.5, 1L, 0L),
                Arguments.of(new int[] {3}, 0.1, 2L, 7L),
                Arguments.of(new int[] {15}, 0.9, -5L, 3L),
                Arguments.of(new int[] {16}, 0.3, 0x1234_5678_9ABCL, -1L),
                Arguments.of(new int[] {17}, 0.5, 42L, 1L << 40),
                Arguments.of(new int[] {33, 3}, 0.25, 42L, 2L),
                Arguments.of(new int[] {4, 100}, 1.0 / 3, 9L, 4L),
                // p * 2^24 exact, so the keep threshold sits on a representable uniform.
                Arguments.of(new int[] {2, 10001}, 0.5, 11L, 5L),
                Arguments.of(new int[] {7, 3000}, 0.123456789, Long.MIN_VALUE, Long.MAX_VALUE));
    }

    @ParameterizedTest(name = "{0} p={1} seed={2} offset={3}")
    @MethodSource("cases")
    void maskIsTheReferenceMaskBitForBit(int[] shape, double p, long seed, long offset) {
        Tensor ones = Tensor.full(1f, shape);
        float[] y = Compare.on(Backend.SIMD, () -> Dropout.apply(ones, p, seed, offset)).toArray();
        for (int i = 0; i < y.length; i++) {
            assertEquals(Philox.keep(seed, offset, i, p), y[i] != 0, "element " + i);
        }
    }

    @ParameterizedTest(name = "{0} p={1} seed={2} offset={3}")
    @MethodSource("cases")
    void simdMatchesReference(int[] shape, double p, long seed, long offset) {
        Tensor x = Tensor.randn(seed ^ 77, shape);
        Tensor dy = Tensor.randn(seed ^ 78, shape);
        Tensor[] ref = run(Backend.REF, x, dy, p, seed, offset);
        Tensor[] simd = run(Backend.SIMD, x, dy, p, seed, offset);
        Compare.close("y", ref[0], simd[0], ATOL, RTOL);
        Compare.close("dx", ref[1], simd[1], ATOL, RTOL);
    }

    @Test
    void thresholdEdgeMatchesTheFloatComparison() {
        // p just above and below a representable uniform k * 2^-24: keep iff uniform >= p exactly.
        double base = 8_388_608.0 / (1 << 24); // 0.5
        for (double p : new double[] {base, Math.nextUp(base), Math.nextDown(base), 1.0 / (1 << 24),
                1 - 1.0 / (1 << 24)}) {
            Tensor ones = Tensor.full(1f, 4096);
            float[] y = Compare.on(Backend.SIMD, () -> Dropout.apply(ones, p, 3, 4)).toArray();
            for (int i = 0; i < y.length; i++) {
                assertEquals(Philox.keep(3, 4, i, p), y[i] != 0, "p " + p + " element " + i);
            }
        }
    }

    @Test
    void anElementWhoseUniformEqualsPIsKept() {
        // Take p to be the uniform of some elements: those sit exactly on the threshold and must be kept.
        for (int index : new int[] {0, 5, 17, 1000}) {
            double p = Philox.uniform(8, 9, index);
            Tensor ones = Tensor.full(1f, 2048);
            float[] y = Compare.on(Backend.SIMD, () -> Dropout.apply(ones, p, 8, 9)).toArray();
            assertEquals(true, y[index] != 0, "element " + index + " with uniform == p = " + p);
            for (int i = 0; i < y.length; i++) {
                assertEquals(Philox.keep(8, 9, i, p), y[i] != 0, "p " + p + " element " + i);
            }
        }
    }

    @Test
    void simdIsTheDefaultForFloat32() {
        assertEquals(Backend.SIMD, Dropout.KERNELS.choose(Device.CPU, DType.F32));
        assertEquals(Backend.REF, Dropout.KERNELS.choose(Device.CPU, DType.F64));
    }

    private static Tensor[] run(Backend backend, Tensor x0, Tensor dy, double p, long seed, long offset) {
        return Compare.on(backend, () -> {
            Tensor x = x0.copy().requiresGrad(true);
            Tensor y = Dropout.apply(x, p, seed, offset);
            y.backward(dy);
            return new Tensor[] {y, x.grad()};
        });
    }
}
