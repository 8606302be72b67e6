package org.attnkit.ops.dynamicconv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.attnkit.backend.Backend;
import org.attnkit.random.DropConnect;
import org.attnkit.tensor.DType;
import org.attnkit.tensor.Device;
import org.attnkit.tensor.Tensor;
import org.attnkit.testing.Compare;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The SIMD backend against the reference, forward and every gradient. */
class DynamicConvSimdTest {
    // Forward: the logits are float32 sums of Cq products (generator weights scaled by 1/sqrt(Cq), so
    // logits are O(1) and their error ~ sqrt(Cq) 2^-24), then a float softmax and K float products.
    private static final double FWD_ATOL = 2e-5;
    private static final double FWD_RTOL = 1e-4;
    // Backward: dweight and dbias sum B*T float32 products per entry (up to ~1000 here) and dG inherits
    // the forward's logit error through the softmax; 1e-4 / 1e-3 as the SPEC's gradient tolerance.
    private static final double BWD_ATOL = 1e-4;
    private static final double BWD_RTOL = 1e-3;

    static Stream<Arguments> shapes() {
        List<Arguments> cases = new ArrayList<>();
        // B, T, C, Cq (0 = no query), H, K, P, softmax, renorm, bias, dropConnect scope (null = none)
        cases.add(Arguments.of(2, 40, 32, 0, 2, 3, 1, true, false, false, null));          // small centered
        cases.add(Arguments.of(1, 5, 4, 0, 1, 7, 3, true, true, true, null));              // T < K, H = 1, renorm
        cases.add(Arguments.of(1, 5, 4, 6, 1, 7, 6, true, false, true, null));             // T < K, causal, query
        cases.add(Arguments.of(2, 33, 19, 0, 19, 5, 4, true, true, true, null));           // C = H past a vector
        cases.add(Arguments.of(1, 70, 40, 0, 8, 31, 15, true, false, true, null));         // K = 31, R = 5
        cases.add(Arguments.of(1, 70, 64, 24, 2, 31, 15, true, true, false, null));        // K = 31, R = 32, query
        cases.add(Arguments.of(1, 150, 48, 0, 3, 63, 62, true, true, true, null));         // K = 63 causal, renorm
        cases.add(Arguments.of(1, 100, 128, 37, 2, 63, 31, false, false, true, null));     // K = 63, R = 64, no softmax
        cases.add(Arguments.of(2, 300, 64, 0, 4, 15, 7, false, true, true, null));         // long T, no softmax, renorm
        cases.add(Arguments.of(1, 17, 16, 0, 4, 1, 0, true, false, false, null));          // K = 1
        cases.add(Arguments.of(2, 65, 24, 9, 6, 6, 2, true, true, true, null));            // even K, arbitrary P
        cases.add(Arguments.of(2, 50, 33, 0, 11, 9, 4, true, false, true, DropConnect.Scope.HEAD_KERNEL));
        cases.add(Arguments.of(2, 50, 36, 20, 4, 9, 8, true, true, false, DropConnect.Scope.HEAD_KERNEL));
        cases.add(Arguments.of(2, 50, 36, 0, 4, 9, 8, true, true, true, DropConnect.Scope.POSITION));
        cases.add(Arguments.of(1, 97, 80, 17, 5, 31, 15, false, false, true, DropConnect.Scope.POSITION));
        cases.add(Arguments.of(1, 3, 8, 0, 2, 31, 30, true, false, false, DropConnect.Scope.POSITION)); // T << K
        // heads of 4-vector channel blocks: rows with every tap in range go through the 4 x 4 register tile
        cases.add(Arguments.of(2, 90, 160, 0, 2, 7, 3, true, false, true, null));         // R = 80: a block + 16
        cases.add(Arguments.of(1, 60, 128, 0, 2, 3, 0, true, true, false, DropConnect.Scope.HEAD_KERNEL)); // K = 3
        cases.add(Arguments.of(1, 120, 256, 40, 4, 31, 15, true, false, true, null));     // K = 31, R = 64, query
        cases.add(Arguments.of(2, 50, 128, 0, 1, 4, 2, true, true, true, DropConnect.Scope.POSITION)); // even K
        cases.add(Arguments.of(1, 70, 64, 0, 2, 15, 7, true, false, true, null));        // R = 32: a 2-vector tile
        cases.add(Arguments.of(2, 40, 208, 0, 2, 5, 2, true, true, false, null));        // R = 104: 4 + 2 + 8 lanes
        // V <= K <= 2V: the softmax of a head in two overlapping vectors (sharing all, 2V-K or no lanes)
        cases.add(Arguments.of(2, 60, 32, 0, 2, 16, 8, true, false, true, null));
        cases.add(Arguments.of(1, 50, 40, 0, 2, 20, 3, true, true, false, null));        // renorm: edges tap by tap
        cases.add(Arguments.of(1, 70, 64, 0, 4, 32, 31, true, false, false, null));
        cases.add(Arguments.of(1, 2 * DynamicConvSimd.TILE, 32, 0, 2, 5, 2, true, false, true, null));   // whole tiles
        cases.add(Arguments.of(2, DynamicConvSimd.TILE + 1, 32, 0, 2, 31, 30, true, true, true,
                DropConnect.Scope.POSITION));                                                     // a 1-row tile
        SplittableRandom r = new SplittableRandom(11);
        for (int i = 0; i < 14; i++) {
            int h = 1 + r.nextInt(6);
            int c = h * (1 + r.nextInt(20));
            int k = 1 + r.nextInt(24);
            DropConnect.Scope scope = i % 3 == 0 ? null : DropConnect.Scope.values()[i % 2];
            cases.add(Arguments.of(1 + r.nextInt(3), 1 + r.nextInt(110), c, r.nextBoolean() ? 0 : 1 + r.nextInt(40),
                    h, k, r.nextInt(k), r.nextBoolean(), r.nextBoolean(), r.nextBoolean(), scope));
        }
        return cases.stream();
    }

    /** randn scaled by 1/sqrt(fanIn), as a Linear's initialization: logits stay O(1). */
    private static Tensor generator(long seed, int rows, int fanIn) {
        float[] w = Tensor.randn(seed, rows, fanIn).toArray();
        float s = (float) (1 / Math.sqrt(fanIn));
        for (int i = 0; i < w.length; i++) {
            w[i] *= s;
        }
        return Tensor.wrap(w, rows, fanIn);
    }

    @ParameterizedTest(name = "B={0} T={1} C={2} Cq={3} H={4} K={5} P={6} softmax={7} renorm={8} bias={9} dc={10}")
    @MethodSource("shapes")
    void simdMatchesReference(int B, int T, int C, int Cq, int H, int K, int P, boolean softmax, boolean renorm,
                              boolean withBias, DropConnect.Scope scope) {
        long seed = 31L * T + 7L * C + K + Cq;
        boolean withQuery = Cq > 0;
        int fanIn = withQuery ? Cq : C;
        Tensor x = Tensor.randn(seed, B, T, C);
        Tensor q = withQuery ? Tensor.randn(seed + 1, B, T, Cq) : null;
        Tensor w = generator(seed + 2, H * K, fanIn);
        Tensor bias = withBias ? Tensor.randn(seed + 3, H * K) : null;
        Tensor dy = Tensor.randn(seed + 4, B, T, C);
        DropConnect dc = scope == null ? DropConnect.NONE : new DropConnect(0.3, 99, 5, scope);
        DynamicConv.Options opt = new DynamicConv.Options(P, softmax, renorm, dc);

        Tensor[] ref = run(Backend.REF, x, q, w, bias, dy, H, opt, new boolean[] {true, true, true, true});
        Tensor[] simd = run(Backend.SIMD, x, q, w, bias, dy, H, opt, new boolean[] {true, true, true, true});
        Compare.close("y", ref[0], simd[0], FWD_ATOL, FWD_RTOL);
        Compare.close("dx", ref[1], simd[1], BWD_ATOL, BWD_RTOL);
        if (withQuery) {
            Compare.close("dquery", ref[2], simd[2], BWD_ATOL, BWD_RTOL);
        }
        Compare.close("dweight", ref[3], simd[3], BWD_ATOL, BWD_RTOL);
        if (withBias) {
            Compare.close("dbias", ref[4], simd[4], BWD_ATOL, BWD_RTOL);
        }
    }

    /**
     * Unscaled generator weights: logits of spread ~ sqrt(C), so the kernels are nearly one-hot and the
     * softmax works far down the exp range (clamped at -87 in the vector exp, exactly 0 in double).
     */
    @Test
    void peakyKernelsMatchReference() {
        Tensor x = Tensor.randn(61, 2, 90, 96);
        Tensor w = Tensor.randn(62, 4 * 15, 96);
        Tensor bias = Tensor.randn(63, 4 * 15);
        Tensor dy = Tensor.randn(64, 2, 90, 96);
        for (boolean renorm : new boolean[] {false, true}) {
            DynamicConv.Options opt = DynamicConv.Options.causal(15).withRenormPadding(renorm);
            boolean[] all = {true, true, true, true};
            Tensor[] ref = run(Backend.REF, x, null, w, bias, dy, 4, opt, all);
            Tensor[] simd = run(Backend.SIMD, x, null, w, bias, dy, 4, opt, all);
            // The same tolerances hold: near one-hot kernels take their error mostly from the largest logit.
            Compare.close("y", ref[0], simd[0], FWD_ATOL, FWD_RTOL);
            for (int i = 1; i < 5; i += i == 1 ? 2 : 1) {
                Compare.close("gradient " + i, ref[i], simd[i], BWD_ATOL, BWD_RTOL);
            }
        }
    }

    /**
     * Each gradient alone: the SIMD backward skips the phases nobody asked for, and must still give
     * the reference's values for the ones asked (dx without the generator path when a query is given).
     */
    @ParameterizedTest(name = "query={0} only input {1}")
    @MethodSource("singleGradients")
    void eachGradientAloneMatchesReference(boolean withQuery, int only) {
        int B = 2;
        int T = 37;
        int C = 24;
        int Cq = 20;
        int H = 3;
        int K = 7;
        Tensor x = Tensor.randn(41, B, T, C);
        Tensor q = withQuery ? Tensor.randn(42, B, T, Cq) : null;
        Tensor w = generator(43, H * K, withQuery ? Cq : C);
        Tensor bias = Tensor.randn(44, H * K);
        Tensor dy = Tensor.randn(45, B, T, C);
        DynamicConv.Options opt = DynamicConv.Options.centered(K)
                .withDropConnect(new DropConnect(0.2, 3, 1, DropConnect.Scope.POSITION));
        boolean[] req = new boolean[4];
        req[only] = true;
        Tensor[] ref = run(Backend.REF, x, q, w, bias, dy, H, opt, req);
        Tensor[] simd = run(Backend.SIMD, x, q, w, bias, dy, H, opt, req);
        for (int i = 0; i < 4; i++) {
            if (i == only) {
                assertNotNull(simd[i + 1], "gradient " + i);
                Compare.close("gradient " + i, ref[i + 1], simd[i + 1], BWD_ATOL, BWD_RTOL);
            } else {
                assertNull(simd[i + 1], "gradient " + i + " was not requested");
            }
        }
    }

    static Stream<Arguments> singleGradients() {
        List<Arguments> cases = new ArrayList<>();
        for (boolean withQuery : new boolean[] {false, true}) {
            for (int i = 0; i < 4; i++) {
                if (i != 1 || withQuery) {
                    cases.add(Arguments.of(withQuery, i));
                }
            }
        }
        return cases.stream();
    }

    /** {y, dx, dquery, dweight, dbias}; the gradient of an input that does not require grad is null. */
    private static Tensor[] run(Backend backend, Tensor x0, Tensor q0, Tensor w0, Tensor b0, Tensor dy, int heads,
                                DynamicConv.Options opt, boolean[] req) {
        return Compare.on(backend, () -> {
            Tensor x = x0.copy().requiresGrad(req[0]);
            Tensor q = q0 == null ? null : q0.copy().requiresGrad(req[1]);
            Tensor w = w0.copy().requiresGrad(req[2]);
            Tensor b = b0 == null ? null : b0.copy().requiresGrad(req[3]);
            Tensor y = DynamicConv.apply(x, q, w, b, heads, opt);
            y.backward(dy);
            return new Tensor[] {y, x.grad(), q == null ? null : q.grad(), w.grad(), b == null ? null : b.grad()};
        });
    }

    @Test
    void simdIsTheDefaultForFloat32AndRefForFloat64() {
        assertEquals(Backend.SIMD, DynamicConv.KERNELS.choose(Device.CPU, DType.F32));
        assertEquals(Backend.REF, DynamicConv.KERNELS.choose(Device.CPU, DType.F64));
    }

    @Test
    void repeatedRunsGiveTheSameBits() {
        Tensor x = Tensor.randn(1, 3, 200, 64).requiresGrad(true);
        Tensor w = generator(2, 4 * 15, 64).requiresGrad(true);
        Tensor b = Tensor.randn(3, 4 * 15).requiresGrad(true);
        Tensor dy = Tensor.randn(4, 3, 200, 64);
        float[][] first = null;
        for (int i = 0; i < 3; i++) {
            x.zeroGrad();
            w.zeroGrad();
            b.zeroGrad();
            Tensor y = Compare.on(Backend.SIMD, () -> DynamicConv.apply(x, null, w, b, 4,
                    DynamicConv.Options.centered(15)));
            y.backward(dy);
            float[][] now = {y.toArray(), x.grad().toArray(), w.grad().toArray(), b.grad().toArray()};
            if (first == null) {
                first = now;
            } else {
                for (int j = 0; j < now.length; j++) {
                    assertArrayEquals(first[j], now[j], "output " + j);
                }
            }
        }
    }

    @Test
    void vectorExpIsAccurateAndMatchesItsScalarTwin() {
        int n = 4096;
        float[] v = new float[n];
        SplittableRandom r = new SplittableRandom(5);
        for (int i = 0; i < n; i++) {
            v[i] = i < 8 ? -i : (float) (-87 * r.nextDouble()); // exact small integers, then the shifted range
        }
        float[] out = new float[n];
        int bound = DynamicConvSimd.S.loopBound(n);
        for (int i = 0; i < bound; i += DynamicConvSimd.S.length()) {
            org.attnkit.backend.VectorMath.exp(jdk.incubator.vector.FloatVector.fromArray(DynamicConvSimd.S, v, i)).intoArray(out, i);
        }
        for (int i = 0; i < n; i++) {
            double want = Math.exp(v[i]);
            // A few float ulps: the polynomial's 1 ulp plus the rounding of r and of the final products.
            assertEquals(want, out[i], 4e-7 * want, "exp(" + v[i] + ")");
            assertEquals(Float.floatToIntBits(org.attnkit.backend.VectorMath.exp(v[i])), Float.floatToIntBits(out[i]),
                    "scalar twin of exp(" + v[i] + ")");
        }
    }
}
