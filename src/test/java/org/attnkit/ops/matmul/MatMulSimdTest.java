package org.attnkit.ops.matmul;

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

/** The SIMD backend of MatMul against the reference, forward and both gradients. */
class MatMulSimdTest {
    // Every output is a float32 sum of at most ~300 products of N(0,1) values (K for c, N for da, M
    // for db): the rounding error grows like sqrt(terms) * 2^-24 * |terms| ~ 1e-6 relative to the
    // output scale, so 1e-5 of the scale plus 1e-4 relative leaves room while a missing or wrong
    // term (an error of order 1) fails.
    private static final double ATOL = 1e-5;
    private static final double RTOL = 1e-4;

    static Stream<Arguments> shapes() {
        List<Arguments> cases = new ArrayList<>();
        // batch dims, M, K, N
        cases.add(Arguments.of(new int[0], 1, 1, 1));
        cases.add(Arguments.of(new int[0], 1, 33, 17));
        cases.add(Arguments.of(new int[0], 15, 1, 16));
        cases.add(Arguments.of(new int[0], 17, 100, 1));
        cases.add(Arguments.of(new int[0], 100, 257, 33));
        cases.add(Arguments.of(new int[] {3}, 7, 15, 33));
        cases.add(Arguments.of(new int[] {2, 3}, 6, 64, 32));
        cases.add(Arguments.of(new int[] {1, 1}, 130, 40, 70));
        cases.add(Arguments.of(new int[] {4}, 64, 64, 64));
        SplittableRandom r = new SplittableRandom(11);
        for (int i = 0; i < 8; i++) {
            int[] batch = i % 3 == 0 ? new int[0] : i % 3 == 1 ? new int[] {1 + r.nextInt(4)}
                    : new int[] {1 + r.nextInt(3), 1 + r.nextInt(3)};
            cases.add(Arguments.of(batch, 1 + r.nextInt(140), 1 + r.nextInt(300), 1 + r.nextInt(140)));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "batch={0} M={1} K={2} N={3}")
    @MethodSource("shapes")
    void simdMatchesReference(int[] batch, int M, int K, int N) {
        long seed = 97L * M + 13L * K + N + batch.length;
        Tensor a = Tensor.randn(seed, withBatch(batch, M, K));
        Tensor b = Tensor.randn(seed + 1, withBatch(batch, K, N));
        Tensor dc = Tensor.randn(seed + 2, withBatch(batch, M, N));
        Tensor[] ref = run(Backend.REF, a, b, dc);
        Tensor[] simd = run(Backend.SIMD, a, b, dc);
        Compare.close("c", ref[0], simd[0], ATOL, RTOL);
        Compare.close("da", ref[1], simd[1], ATOL, RTOL);
        Compare.close("db", ref[2], simd[2], ATOL, RTOL);
    }

    @Test
    void backwardComputesOnlyRequestedGradients() {
        Tensor a = Tensor.randn(1, 2, 5, 19);
        Tensor b = Tensor.randn(2, 2, 19, 3);
        Tensor dc = Tensor.randn(3, 2, 5, 3);
        Tensor[] ref = new MatMulRef().backward(a, b, dc, new boolean[] {false, true});
        Tensor[] g = new MatMulSimdKernels().backward(a, b, dc, new boolean[] {false, true});
        assertNull(g[0]);
        Compare.close("db", ref[1], g[1], ATOL, RTOL);
        g = new MatMulSimdKernels().backward(a, b, dc, new boolean[] {true, false});
        assertNull(g[1]);
        Compare.close("da", new MatMulRef().backward(a, b, dc, new boolean[] {true, false})[0], g[0], ATOL, RTOL);
    }

    @Test
    void simdIsTheDefaultForFloat32AndRefForFloat64() {
        assertEquals(Backend.SIMD, MatMul.KERNELS.choose(Device.CPU, DType.F32));
        assertEquals(Backend.REF, MatMul.KERNELS.choose(Device.CPU, DType.F64));
    }

    @Test
    void repeatedRunsGiveTheSameBits() {
        Tensor a = Tensor.randn(4, 3, 150, 260);
        Tensor b = Tensor.randn(5, 3, 260, 90);
        Tensor dc = Tensor.randn(6, 3, 150, 90);
        Tensor[] first = run(Backend.SIMD, a, b, dc);
        Tensor[] again = run(Backend.SIMD, a, b, dc);
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(first[i].toArray(), again[i].toArray());
        }
    }

    private static int[] withBatch(int[] batch, int rows, int cols) {
        int[] s = java.util.Arrays.copyOf(batch, batch.length + 2);
        s[batch.length] = rows;
        s[batch.length + 1] = cols;
        return s;
    }

    private static Tensor[] run(Backend backend, Tensor a0, Tensor b0, Tensor dc) {
        return Compare.on(backend, () -> {
            Tensor a = a0.copy().requiresGrad(true);
            Tensor b = b0.copy().requiresGrad(true);
            Tensor c = MatMul.apply(a, b);
            c.backward(dc);
            return new Tensor[] {c, a.grad(), b.grad()};
        });
    }
}
