package org.attnkit.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.attnkit.ops.mae.GatedAttention;
import org.attnkit.ops.mae.Membership;
import org.attnkit.tensor.Device;
import org.attnkit.tensor.Tensor;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The fused MAE attention on CUDA (alpha in the attention epilogue, dalpha from the backward's row dot
 * products) against the reference composition HeadMixture(Attention(...)): forward and dq, dk, dv, dgate,
 * per-sequence and per-query gates, drop-one and keep-subset experts, causal with Tq = Tk, Tq < Tk and
 * Tq > Tk (queries with no key), key padding with a fully padded batch row, both head-size templates and
 * lengths that cut the tiles. Needs a GPU: skipped where {@link Cuda#isAvailable()} is false.
 */
@Tag("gpu")
class CudaGatedAttentionEquivalenceTest {
    private static final Device GPU = CudaTesting.GPU;
    // As CudaAttentionEquivalenceTest: fp32 online softmax against the double reference.
    private static final double FWD_ATOL = 2e-5;
    private static final double FWD_RTOL = 2e-4;
    // dgate sums dy . o over up to Tq * Dv/H float products per (b, h) (a fixed-order tree): ~1e-6 relative
    // per 1000 terms, within the attention gradients' tolerance.
    private static final double BWD_ATOL = 1e-4;
    private static final double BWD_RTOL = 2e-3;

    @BeforeEach
    void needsAGpu() {
        assumeTrue(Cuda.isAvailable(), () -> "no CUDA: " + Cuda.status().reason());
    }

    static Stream<Arguments> shapes() {
        List<Arguments> cases = new ArrayList<>();
        // B, Tq, Tk, H, Rq, Rv, m (0 = dropOne), perToken, causal, padding
        cases.add(Arguments.of(1, 1, 1, 1, 4, 4, 1, false, false, false));
        cases.add(Arguments.of(2, 70, 70, 2, 16, 16, 0, false, true, false));
        cases.add(Arguments.of(2, 70, 70, 4, 16, 16, 0, true, true, false));
        cases.add(Arguments.of(3, 65, 33, 4, 64, 48, 2, false, false, true));  // last batch row fully padded
        cases.add(Arguments.of(1, 20, 100, 4, 16, 16, 3, true, true, true));   // Tq < Tk: cached prefix
        cases.add(Arguments.of(2, 40, 25, 3, 8, 4, 0, true, true, false));    // Tq > Tk: queries with no key
        cases.add(Arguments.of(1, 50, 50, 2, 128, 128, 1, false, true, true)); // head size 128: the 128 template
        cases.add(Arguments.of(2, 300, 300, 8, 8, 8, 0, false, false, false)); // dalpha over 300 queries
        SplittableRandom r = new SplittableRandom(9);
        for (int i = 0; i < 4; i++) {
            int h = 1 + r.nextInt(4);
            cases.add(Arguments.of(1 + r.nextInt(3), 1 + r.nextInt(90), 1 + r.nextInt(90), h, 1 + r.nextInt(40),
                    1 + r.nextInt(40), 1 + r.nextInt(h), r.nextBoolean(), r.nextBoolean(), r.nextBoolean()));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "B={0} Tq={1} Tk={2} H={3} Rq={4} Rv={5} m={6} perToken={7} causal={8} pad={9}")
    @MethodSource("shapes")
    void gatedAttentionMatchesTheReference(int b, int tq, int tk, int h, int rq, int rv, int m, boolean perToken,
            boolean causal, boolean padding) {
        Tensor membership = m == 0 ? Membership.dropOne(h) : Membership.keepSubsets(h, m);
        int e = membership.dim(0);
        long seed = 13L * tq + 5L * tk + 3L * h + rq + rv;
        Tensor mask = padding ? mask(b, tk, seed) : null;
        Tensor[] in = {Tensor.randn(seed, b, tq, h * rq), Tensor.randn(seed + 1, b, tk, h * rq),
            Tensor.randn(seed + 2, b, tk, h * rv), perToken ? gate(seed + 3, b * tq, e).reshape(b, tq, e)
                    : gate(seed + 3, b, e)};
        Tensor dy = Tensor.randn(seed + 4, b, tq, h * rv);
        Tensor maskOnGpu = mask == null ? null : mask.to(GPU);
        Tensor membershipOnGpu = membership.to(GPU);
        CudaTesting.compareWithReference(in, dy, t -> {
            boolean cpu = t[0].device().isCpu();
            return GatedAttention.apply(t[0], t[1], t[2], h, causal, cpu ? mask : maskOnGpu, t[3],
                    cpu ? membership : membershipOnGpu);
        }, FWD_ATOL, FWD_RTOL, BWD_ATOL, BWD_RTOL, "q", "k", "v", "gate");
    }

    @Test
    void gateGradientsAreDeterministic() {
        Tensor q = Tensor.randn(1, 2, 200, 64).to(GPU);
        Tensor k = Tensor.randn(2, 2, 200, 64).to(GPU);
        Tensor v = Tensor.randn(3, 2, 200, 64).to(GPU);
        Tensor dy = Tensor.randn(4, 2, 200, 64).to(GPU);
        Tensor membership = Membership.dropOne(2).to(GPU);
        float[] first = null;
        for (int i = 0; i < 3; i++) {
            Tensor g = gate(5, 2, 2).to(GPU).requiresGrad(true);
            GatedAttention.apply(q, k, v, 2, true, null, g, membership).backward(dy);
            float[] dg = g.grad().to(Device.CPU).toArray();
            if (first == null) {
                first = dg;
            } else {
                assertArrayEquals(first, dg);
            }
        }
    }

    /** rows x e softmax rows (float32). */
    private static Tensor gate(long seed, int rows, int e) {
        float[] z = Tensor.randn(seed, rows, e).toArray();
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int i = 0; i < e; i++) {
                s += Math.exp(z[r * e + i]);
            }
            for (int i = 0; i < e; i++) {
                z[r * e + i] = (float) (Math.exp(z[r * e + i]) / s);
            }
        }
        return Tensor.of(z, rows, e);
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
}
