package org.attnkit.ops.linear;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
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

/** The SIMD backend of Linear against the reference, forward and every gradient. */
class LinearSimdTest {
    // y sums `in` float32 products (plus the bias), dx sums `out`, dW and db sum `rows` (at most a
    // few hundred terms of N(0,1) products): rounding grows like sqrt(terms) * 2^-24 relative to the
    // terms' scale, ~1e-6 of the output scale. 1e-5 of the scale plus 1e-4 relative leaves room;
    // one wrong or missing term (error of order 1) fails.
    private static final double ATOL = 1e-5;
    private static final double RTOL = 1e-4;

    static Stream<Arguments> shapes() {
        List<Arguments> cases = new ArrayList<>();
        // x shape, out, bias
        cases.add(Arguments.of(new int[] {1}, 1, true));
        cases.add(Arguments.of(new int[] {17}, 15, false));
        cases.add(Arguments.of(new int[] {4, 33}, 16, true));
        cases.add(Arguments.of(new int[] {1, 16}, 33, false));
        cases.add(Arguments.of(new int[] {2, 5, 7}, 3, true));
        cases.add(Arguments.of(new int[] {3, 40, 64}, 100, true));
        cases.add(Arguments.of(new int[] {2, 70, 257}, 31, false));
        cases.add(Arguments.of(new int[] {300, 1}, 9, true));
        cases.add(Arguments.of(new int[] {1, 1, 1}, 1, false));
        SplittableRandom r = new SplittableRandom(21);
        for (int i = 0; i < 8; i++) {
            int in = 1 + r.nextInt(200);
            int[] x = i % 3 == 0 ? new int[] {in} : i % 3 == 1 ? new int[] {1 + r.nextInt(150), in}
                    : new int[] {1 + r.nextInt(4), 1 + r.nextInt(60), in};
            cases.add(Arguments.of(x, 1 + r.nextInt(150), r.nextBoolean()));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "x={0} out={1} bias={2}")
    @MethodSource("shapes")
    void simdMatchesReference(int[] xShape, int out, boolean withBias) {
        long seed = 31L * out + xShape[xShape.length - 1] + xShape.length;
        Tensor x = Tensor.randn(seed, xShape);
        Tensor w = Tensor.randn(seed + 1, out, xShape[xShape.length - 1]);
        Tensor bias = withBias ? Tensor.randn(seed + 2, out) : null;
        int[] yShape = xShape.clone();
        yShape[yShape.length - 1] = out;
        Tensor dy = Tensor.randn(seed + 3, yShape);
        Tensor[] ref = run(Backend.REF, x, w, bias, dy);
        Tensor[] simd = run(Backend.SIMD, x, w, bias, dy);
        Compare.close("y", ref[0], simd[0], ATOL, RTOL);
        Compare.close("dx", ref[1], simd[1], ATOL, RTOL);
        Compare.close("dweight", ref[2], simd[2], ATOL, RTOL);
        if (withBias) {
            Compare.close("dbias", ref[3], simd[3], ATOL, RTOL);
        }
    }

    @Test
    void biasGradientSumsManyRowsAccurately() {
        // 5000 rows span many 256-row float blocks: the blocks are added in double.
        Tensor dy = Tensor.randn(7, 5000, 37);
        float[] g = dy.data();
        float[] got = LinearSimdKernels.columnSums(g, 5000, 37);
        for (int c = 0; c < 37; c++) {
            double want = 0;
            for (int r = 0; r < 5000; r++) {
                want += g[r * 37 + c];
            }
            // 256 float additions of N(0,1) values per block: error ~ sqrt(256) * 2^-24 * 16 per block.
            assertEquals(want, got[c], 1e-4, "column " + c);
        }
    }

    @Test
    void backwardComputesOnlyRequestedGradients() {
        Tensor x = Tensor.randn(1, 3, 20);
        Tensor w = Tensor.randn(2, 18, 20);
        Tensor dy = Tensor.randn(3, 3, 18);
        Tensor[] g = new LinearSimdKernels().backward(x, w, dy, new boolean[] {false, true, false});
        assertNull(g[0]);
        assertNull(g[2]);
        Compare.close("dweight", new LinearRef().backward(x, w, dy, new boolean[] {false, true, false})[1], g[1],
                ATOL, RTOL);
        g = new LinearSimdKernels().backward(x, w, dy, new boolean[] {true, false});
        assertNull(g[1]);
        assertNull(g[2]);
        Compare.close("dx", new LinearRef().backward(x, w, dy, new boolean[] {true, false})[0], g[0], ATOL, RTOL);
    }

    @Test
    void simdIsTheDefaultForFloat32AndRefForFloat64() {
        assertEquals(Backend.SIMD, Linear.KERNELS.choose(Device.CPU, DType.F32));
        assertEquals(Backend.REF, Linear.KERNELS.choose(Device.CPU, DType.F64));
    }

    @Test
    void repeatedRunsGiveTheSameBits() {
        Tensor x = Tensor.randn(4, 8, 100, 300);
        Tensor w = Tensor.randn(5, 130, 300);
        Tensor b = Tensor.randn(6, 130);
        Tensor dy = Tensor.randn(7, 8, 100, 130);
        Tensor[] first = run(Backend.SIMD, x, w, b, dy);
        Tensor[] again = run(Backend.SIMD, x, w, b, dy);
        for (int i = 0; i < 4; i++) {
            assertArrayEquals(first[i].toArray(), again[i].toArray());
        }
    }

    private static Tensor[] run(Backend backend, Tensor x0, Tensor w0, Tensor b0, Tensor dy) {
        return Compare.on(backend, () -> {
            Tensor x = x0.copy().requiresGrad(true);
            Tensor w = w0.copy().requiresGrad(true);
            Tensor b = b0 == null ? null : b0.copy().requiresGrad(true);
            Tensor y = Linear.apply(x, w, b);
            y.backward(dy);
            return new Tensor[] {y, x.grad(), w.grad(), b == null ? null : b.grad()};
        });
    }
}
