package org.attnkit.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.stream.Stream;
import org.attnkit.ops.attention.Attention;
import org.attnkit.tensor.Device;
import org.attnkit.tensor.Tensor;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Flash attention on CUDA against the reference, forward and dq, dk, dv: causal with Tq = Tk, Tq < Tk and
 * Tq > Tk (queries with no key), key padding including fully padded batch rows, both kernel families
 * (tiled forward and backward for head sizes <= 64, one thread per query or key for 65..128), lengths that
 * cut the 64-row and 32-row tiles, causal blocks that skip tiles or see no key at all.
 * Needs a GPU: skipped where {@link Cuda#isAvailable()} is false.
 */
@Tag("gpu")
class CudaAttentionEquivalenceTest {
    private static final Device GPU = Device.cuda(0);
    private static final double FWD_ATOL = 2e-5;
    private static final double FWD_RTOL = 2e-4;
    private static final double BWD_ATOL = 1e-4;
    private static final double BWD_RTOL = 2e-3;

    @BeforeEach
    void needsAGpu() {
        assumeTrue(Cuda.isAvailable(), () -> "no CUDA: " + Cuda.status().reason());
    }

    static Stream<Arguments> shapes() {
        List<Arguments> cases = new ArrayList<>();
        // B, Tq, Tk, D, Dv, H, causal, padding
        cases.add(Arguments.of(1, 1, 1, 4, 4, 1, false, false));
        cases.add(Arguments.of(2, 70, 70, 32, 32, 2, true, false));
        cases.add(Arguments.of(2, 65, 33, 64, 48, 1, false, true));
        cases.add(Arguments.of(1, 20, 100, 16, 16, 4, true, true));   // Tq < Tk: cached prefix
        cases.add(Arguments.of(2, 40, 25, 24, 12, 3, true, false));   // Tq > Tk: first 15 queries see no key
        cases.add(Arguments.of(1, 50, 50, 256, 256, 2, true, true)); // head size 128: the 128 template
        cases.add(Arguments.of(3, 130, 129, 96, 96, 1, false, false)); // head size 96: the 128 template
        cases.add(Arguments.of(2, 9, 9, 8, 8, 8, true, true));       // head size 1
        // The tiled forward (head sizes <= 64): whole and cut 64-query blocks, causal tiles skipped,
        // blocks whose queries all precede the first key (Tq > Tk, causal: no tile at all).
        cases.add(Arguments.of(2, 128, 96, 128, 128, 2, true, true)); // head size 64, whole tiles
        cases.add(Arguments.of(1, 200, 10, 32, 32, 2, true, false));  // Tq - Tk = 190: blocks 0-1 see no key
        cases.add(Arguments.of(1, 129, 300, 64, 40, 1, true, false)); // Tq < Tk causal, dv = 40 < dh = 64
        cases.add(Arguments.of(2, 65, 65, 130, 130, 2, false, true));  // head size 65: the old kernel, just past 64
        SplittableRandom r = new SplittableRandom(5);
        for (int i = 0; i < 6; i++) {
            int h = 1 + r.nextInt(4);
            cases.add(Arguments.of(1 + r.nextInt(3), 1 + r.nextInt(90), 1 + r.nextInt(90), h * (1 + r.nextInt(40)),
                    h * (1 + r.nextInt(40)), h, r.nextBoolean(), r.nextBoolean()));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "attention B={0} Tq={1} Tk={2} D={3} Dv={4} H={5} causal={6} padding={7}")
    @MethodSource("shapes")
    void attentionMatchesTheReference(int B, int Tq, int Tk, int D, int Dv, int H, boolean causal, boolean padding) {
        long seed = 11L * Tq + 3L * Tk + D + Dv + H;
        Tensor mask = padding ? mask(B, Tk, seed) : null;
        Tensor[] in = {Tensor.randn(seed, B, Tq, D), Tensor.randn(seed + 1, B, Tk, D), Tensor.randn(seed + 2, B, Tk, Dv)};
        Tensor dy = Tensor.randn(seed + 3, B, Tq, Dv);
        Tensor maskOnGpu = mask == null ? null : mask.to(GPU);
        compare(in, dy, t -> Attention.apply(t[0], t[1], t[2], H, causal,
                t[0].device().isCpu() ? mask : maskOnGpu), "q", "k", "v");
    }

    @Test
    void attentionGradientsAreDeterministic() {
        Tensor q = Tensor.randn(1, 2, 200, 64).to(GPU);
        Tensor dy = Tensor.randn(2, 2, 200, 64).to(GPU);
        float[] first = null;
        for (int i = 0; i < 3; i++) {
            Tensor k = Tensor.randn(3, 2, 200, 64).to(GPU).requiresGrad(true);
            Tensor v = Tensor.randn(4, 2, 200, 64).to(GPU).requiresGrad(true);
            Attention.apply(q, k, v, 2, true, null).backward(dy);
            float[] dk = k.grad().to(Device.CPU).toArray();
            if (first == null) {
                first = dk;
            } else {
                assertArrayEquals(first, dk);
            }
        }
    }

    /** Random padding (about a third), with the last batch row fully padded when B > 1. */
    private static Tensor mask(int b, int tk, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] m = new float[b * tk];
        for (int i = 0; i < m.length; i++) {
            m[i] = r.nextInt(3) == 0 ? 1 : 0;
        }
        if (b > 1) {
            for (int j = 0; j < tk; j++) {
                m[(b - 1) * tk + j] = 1;
            }
        }
        return Tensor.of(m, b, tk);
    }

    private static void compare(Tensor[] inputs, Tensor dy, Function<Tensor[], Tensor> op, String... names) {
        CudaTesting.compareWithReference(inputs, dy, op, FWD_ATOL, FWD_RTOL, BWD_ATOL, BWD_RTOL, names);
    }

}
