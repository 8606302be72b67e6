package org.attnkit.ops.reduce;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

/** The SIMD Sum and Mean against the double reference, forward and backward. */
class ReduceSimdTest {
    // Forward: float32 vector partial sums (chunks of 4096 along a row, blocks of 128 rows down a
    // column) added in double: |err| <~ 128 * 2^-24 * max|x| ~ 1e-5 relative to the inputs' scale.
    private static final double FWD_ATOL = 1e-5;
    private static final double FWD_RTOL = 1e-5;
    // Backward: dy times the scale, broadcast; Mean's float 1/count differs from the double one by
    // half an ulp, so a couple of float ulps.
    private static final double BWD_ATOL = 1e-7;
    private static final double BWD_RTOL = 3e-7;

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (int n : new int[] {1, 3, 15, 16, 17, 33, 100}) {
            out.add(Arguments.of(new int[] {n}, null, false));
            out.add(Arguments.of(new int[] {4, n}, new int[] {1}, false));   // last dim
            out.add(Arguments.of(new int[] {n, 6}, new int[] {0}, true));    // leading dim
            out.add(Arguments.of(new int[] {2, n, 3}, new int[] {1}, false)); // middle dim
        }
        out.add(Arguments.of(new int[] {2, 3, 33}, new int[] {0, 2}, true));
        out.add(Arguments.of(new int[] {2, 3, 33}, new int[] {0, 1}, false));
        out.add(Arguments.of(new int[] {2, 3, 33}, new int[] {-1, -2}, false));
        out.add(Arguments.of(new int[] {2, 3, 33}, new int[] {0, 1, 2}, true));
        out.add(Arguments.of(new int[] {3, 2, 5, 7}, new int[] {1, 3}, false)); // alternating
        out.add(Arguments.of(new int[] {2, 1, 15}, new int[] {1}, false));      // size-1 dim
        out.add(Arguments.of(new int[] {5, 300, 17}, new int[] {1}, true));     // several column blocks
        out.add(Arguments.of(new int[] {700, 70}, new int[] {0}, false));
        out.add(Arguments.of(new int[] {3, 70000}, null, false));               // parallel full sum
        out.add(Arguments.of(new int[] {3, 9000}, new int[] {1}, false));       // rows past one chunk
        out.add(Arguments.of(new int[] {0, 3}, new int[] {1}, false));          // empty output
        return out.stream();
    }

    @ParameterizedTest(name = "{0} dims={1} keep={2}")
    @MethodSource("cases")
    void simdMatchesReference(int[] shape, int[] dims, boolean keepDim) {
        Tensor x = Tensor.randn(java.util.Arrays.hashCode(shape) + 7L, shape);
        for (boolean mean : new boolean[] {false, true}) {
            Tensor[] ref = run(Backend.REF, x, dims, keepDim, mean);
            Tensor[] simd = run(Backend.SIMD, x, dims, keepDim, mean);
            Compare.close(mean ? "mean" : "sum", ref[0], simd[0], FWD_ATOL, FWD_RTOL);
            Compare.close("dx", ref[1], simd[1], BWD_ATOL, BWD_RTOL);
        }
    }

    @Test
    void emptyReductionGivesZeroSumAndNaNMeanAsInTheReference() {
        Tensor x = Tensor.zeros(4, 0, 3);
        Tensor y = Compare.on(Backend.SIMD, () -> Mean.apply(x, 1, false));
        assertArrayEquals(new int[] {4, 3}, y.shape().toArray());
        for (float v : y.toArray()) {
            assertTrue(Float.isNaN(v));
        }
        Tensor s = Compare.on(Backend.SIMD, () -> Sum.apply(x, 1, true));
        assertArrayEquals(new int[] {4, 1, 3}, s.shape().toArray());
        assertArrayEquals(new float[12], s.toArray());
    }

    @Test
    void repeatedRunsGiveTheSameBits() {
        Tensor x = Tensor.randn(5, 1000, 300);
        float[] first = Compare.on(Backend.SIMD, () -> Sum.apply(x, 0, false)).toArray();
        float[] all = Compare.on(Backend.SIMD, () -> Sum.apply(x)).toArray();
        for (int i = 0; i < 2; i++) {
            assertArrayEquals(first, Compare.on(Backend.SIMD, () -> Sum.apply(x, 0, false)).toArray());
            assertArrayEquals(all, Compare.on(Backend.SIMD, () -> Sum.apply(x)).toArray());
        }
    }

    @Test
    void simdIsTheDefaultForFloat32() {
        assertEquals(Backend.SIMD, Sum.KERNELS.choose(Device.CPU, DType.F32));
        assertEquals(Backend.SIMD, Mean.KERNELS.choose(Device.CPU, DType.F32));
        assertEquals(Backend.REF, Sum.KERNELS.choose(Device.CPU, DType.F64));
    }

    private static Tensor[] run(Backend backend, Tensor x0, int[] dims, boolean keepDim, boolean mean) {
        return Compare.on(backend, () -> {
            Tensor x = x0.copy().requiresGrad(true);
            Tensor y;
            if (dims == null) {
                y = mean ? Mean.apply(x) : Sum.apply(x);
            } else {
                y = mean ? Mean.apply(x, dims, keepDim) : Sum.apply(x, dims, keepDim);
            }
            Tensor dy = Tensor.randn(99, y.shape().toArray());
            y.backward(dy);
            return new Tensor[] {y, x.grad()};
        });
    }
}
