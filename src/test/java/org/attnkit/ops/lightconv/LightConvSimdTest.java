package org.attnkit.ops.lightconv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.attnkit.backend.Backend;
import org.attnkit.random.DropConnect;
import org.attnkit.tensor.Tensor;
import org.attnkit.testing.Compare;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/** The SIMD backend against the reference, forward and backward. */
class LightConvSimdTest {
    // Forward: each output sums K float32 products (|err| ~ K * 2^-24 * scale).
    private static final double FWD_ATOL = 1e-5;
    private static final double FWD_RTOL = 1e-4;
    // Backward: dW sums B*T*R products in float within a 64-row block, then in double over blocks.
    private static final double BWD_ATOL = 5e-5;
    private static final double BWD_RTOL = 1e-3;

    static Stream<Arguments> shapes() {
        List<Arguments> cases = new ArrayList<>();
        // B, T, C, H, K, P, softmax, bias, dropConnect scope (null = none)
        cases.add(Arguments.of(2, 40, 32, 2, 3, 1, true, false, null));          // small centered
        cases.add(Arguments.of(1, 5, 4, 1, 7, 3, true, true, null));              // T < K, H = 1
        cases.add(Arguments.of(2, 33, 19, 19, 5, 4, true, true, null));           // C = H, C past a vector
        cases.add(Arguments.of(1, 70, 40, 8, 31, 15, true, false, null));         // K = 31, R = 5
        cases.add(Arguments.of(1, 150, 48, 3, 63, 62, true, true, null));         // K = 63 causal
        cases.add(Arguments.of(2, 300, 64, 4, 15, 7, false, true, null));         // long T, no softmax
        cases.add(Arguments.of(1, 17, 16, 4, 1, 0, true, false, null));           // K = 1
        cases.add(Arguments.of(2, 65, 24, 6, 6, 2, true, true, null));            // even K, arbitrary P
        cases.add(Arguments.of(2, 50, 33, 11, 9, 4, true, true, DropConnect.Scope.HEAD_KERNEL));
        cases.add(Arguments.of(2, 50, 36, 4, 9, 8, true, true, DropConnect.Scope.POSITION));
        cases.add(Arguments.of(1, 3, 8, 2, 31, 30, true, false, DropConnect.Scope.POSITION)); // T << K
        cases.add(Arguments.of(2, 3, 8, 4, 9, 4, true, true, null));             // P >= T, centered
        cases.add(Arguments.of(1, 8, 32, 4, 31, 15, true, false, null));          // P >= T, K = 31
        cases.add(Arguments.of(2, 70, 16, 2, 15, 14, true, false, null));         // P past the first block
        // past one time block (256 rows) and one channel group (8 vectors): the second group ends in a tail
        cases.add(Arguments.of(1, 530, 200, 8, 31, 15, true, true, null));
        cases.add(Arguments.of(2, 260, 144, 16, 7, 6, true, true, DropConnect.Scope.HEAD_KERNEL));
        cases.add(Arguments.of(1, 300, 136, 8, 63, 40, false, false, null));     // K = 63, P past the block
        // enough rows for longer blocks (LightConvSimd.timeBlock): 256 rows, then 128
        cases.add(Arguments.of(4, 1030, 136, 8, 31, 15, true, true, null));
        cases.add(Arguments.of(3, 700, 40, 8, 7, 3, true, true, DropConnect.Scope.HEAD_KERNEL));
        cases.add(Arguments.of(4, 520, 24, 4, 9, 8, true, true, DropConnect.Scope.POSITION));
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < 12; i++) {
            int h = 1 + r.nextInt(6);
            int c = h * (1 + r.nextInt(12));
            int k = 1 + r.nextInt(20);
            DropConnect.Scope scope = i % 3 == 0 ? null : DropConnect.Scope.values()[i % 2];
            cases.add(Arguments.of(1 + r.nextInt(3), 1 + r.nextInt(90), c, h, k, r.nextInt(k), r.nextBoolean(),
                    r.nextBoolean(), scope));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "B={0} T={1} C={2} H={3} K={4} P={5} softmax={6} bias={7} dc={8}")
    @MethodSource("shapes")
    void simdMatchesReference(int B, int T, int C, int H, int K, int P, boolean softmax, boolean withBias,
                              DropConnect.Scope scope) {
        long seed = 31L * T + C + K;
        Tensor x = Tensor.randn(seed, B, T, C);
        Tensor w = Tensor.randn(seed + 1, H, K);
        Tensor bias = withBias ? Tensor.randn(seed + 2, C) : null;
        Tensor dy = Tensor.randn(seed + 3, B, T, C);
        DropConnect dc = scope == null ? DropConnect.NONE : new DropConnect(0.3, 99, 5, scope);
        LightConv.Options opt = new LightConv.Options(P, softmax, dc);

        Tensor[] ref = run(Backend.REF, x, w, bias, dy, opt);
        Tensor[] simd = run(Backend.SIMD, x, w, bias, dy, opt);
        Compare.close("y", ref[0], simd[0], FWD_ATOL, FWD_RTOL);
        Compare.close("dx", ref[1], simd[1], BWD_ATOL, BWD_RTOL);
        Compare.close("dweight", ref[2], simd[2], BWD_ATOL, BWD_RTOL);
        if (withBias) {
            Compare.close("dbias", ref[3], simd[3], BWD_ATOL, BWD_RTOL);
        }
    }

    private static Tensor[] run(Backend backend, Tensor x0, Tensor w0, Tensor b0, Tensor dy, LightConv.Options opt) {
        return Compare.on(backend, () -> {
            Tensor x = x0.copy().requiresGrad(true);
            Tensor w = w0.copy().requiresGrad(true);
            Tensor b = b0 == null ? null : b0.copy().requiresGrad(true);
            Tensor y = LightConv.apply(x, w, b, opt);
            y.backward(dy);
            return new Tensor[] {y, x.grad(), w.grad(), b == null ? null : b.grad()};
        });
    }

    /**
     * Only some inputs require a gradient: without dx the SIMD backward packs dy itself instead of
     * reusing the panel of the dx convolution. needs = {x, weight, bias}.
     */
    @ParameterizedTest(name = "T={0} C={1} K={2} P={3} needs x={4} w={5} b={6}")
    @CsvSource({
        "530, 200, 31, 15, false, true, true",
        "530, 200, 31, 15, false, false, true",
        "530, 200, 31, 15, true, false, false",
        "70, 16, 15, 14, false, true, false",
        "3, 8, 9, 4, false, true, true",
        "300, 136, 63, 40, true, false, true",
    })
    void someGradientsMatchTheReference(int T, int C, int K, int P, boolean needX, boolean needW, boolean needB) {
        long seed = 17L * T + C + K;
        Tensor x = Tensor.randn(seed, 2, T, C);
        Tensor w = Tensor.randn(seed + 1, 4, K);
        Tensor bias = Tensor.randn(seed + 2, C);
        Tensor dy = Tensor.randn(seed + 3, 2, T, C);
        LightConv.Options opt = LightConv.Options.padded(P);
        Tensor[][] grads = new Tensor[2][];
        Backend[] backends = {Backend.REF, Backend.SIMD};
        for (int i = 0; i < 2; i++) {
            grads[i] = Compare.on(backends[i], () -> {
                Tensor xi = x.copy().requiresGrad(needX);
                Tensor wi = w.copy().requiresGrad(needW);
                Tensor bi = bias.copy().requiresGrad(needB);
                LightConv.apply(xi, wi, bi, opt).backward(dy);
                return new Tensor[] {xi.grad(), wi.grad(), bi.grad()};
            });
        }
        String[] names = {"dx", "dweight", "dbias"};
        boolean[] needs = {needX, needW, needB};
        for (int j = 0; j < 3; j++) {
            if (needs[j]) {
                Compare.close(names[j], grads[0][j], grads[1][j], BWD_ATOL, BWD_RTOL);
            } else {
                assertNull(grads[1][j], names[j] + " of an input that needs no gradient");
            }
        }
    }

    @Test
    void timeBlocksAreLongWhileTheyLeaveSixteenTasks() {
        assertEquals(256, LightConvSimd.timeBlock(8, 512));
        assertEquals(256, LightConvSimd.timeBlock(1, 4096));
        assertEquals(128, LightConvSimd.timeBlock(3, 700));
        assertEquals(64, LightConvSimd.timeBlock(1, 512));
        assertEquals(64, LightConvSimd.timeBlock(1, 3));
    }

    @Test
    void simdIsTheDefaultForFloat32AndRefForFloat64() {
        assertEquals(Backend.SIMD, LightConv.KERNELS.choose(org.attnkit.tensor.Device.CPU,
                org.attnkit.tensor.DType.F32));
        assertEquals(Backend.REF, LightConv.KERNELS.choose(org.attnkit.tensor.Device.CPU,
                org.attnkit.tensor.DType.F64));
    }

    @Test
    void repeatedRunsGiveTheSameBits() {
        Tensor x = Tensor.randn(1, 4, 200, 64);
        Tensor w = Tensor.randn(2, 8, 15).requiresGrad(true);
        Tensor dy = Tensor.randn(3, 4, 200, 64);
        float[] first = null;
        for (int i = 0; i < 3; i++) {
            w.zeroGrad();
            Tensor y = Compare.on(Backend.SIMD, () -> LightConv.apply(x, w, null, LightConv.Options.centered(15)));
            y.backward(dy);
            if (first == null) {
                first = w.grad().toArray();
            } else {
                assertArrayEquals(first, w.grad().toArray());
            }
        }
    }
}
