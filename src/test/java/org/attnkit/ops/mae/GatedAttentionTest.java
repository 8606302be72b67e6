package org.attnkit.ops.mae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.attnkit.autograd.GradCheck;
import org.attnkit.backend.Backend;
import org.attnkit.ops.attention.Attention;
import org.attnkit.ops.attention.AttentionKernels;
import org.attnkit.ops.attention.AttentionSimdKernels;
import org.attnkit.tensor.DType;
import org.attnkit.tensor.Device;
import org.attnkit.tensor.Tensor;
import org.attnkit.testing.Compare;
import org.attnkit.testing.DeviceStandIn;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The fused MAE attention: on the reference and SIMD backends it is, bit for bit, the two-op graph
 * HeadMixture(Attention(...)) (forward and all four gradients); its values match alpha_h times plain
 * attention with alpha computed here; F64 gradient checks of every input and option; bad input.
 */
class GatedAttentionTest {
    static Stream<Arguments> shapes() {
        List<Arguments> cases = new ArrayList<>();
        // B, Tq, Tk, H, Rq (D/H), Rv (Dv/H), m (0 = dropOne), perToken, causal, padding
        cases.add(Arguments.of(2, 5, 5, 4, 8, 8, 0, false, false, false));
        cases.add(Arguments.of(2, 5, 5, 4, 8, 8, 0, true, true, false));
        cases.add(Arguments.of(3, 7, 9, 3, 5, 3, 2, false, true, true));   // Tq < Tk, subsets of 2
        cases.add(Arguments.of(2, 9, 4, 2, 16, 17, 1, true, true, true));  // Tq > Tk: queries with no key
        cases.add(Arguments.of(1, 1, 1, 1, 1, 1, 1, false, false, false)); // every size 1 (H = 1, m = 1)
        cases.add(Arguments.of(2, 33, 40, 4, 16, 16, 3, true, false, true));
        cases.add(Arguments.of(1, 70, 70, 2, 64, 64, 0, false, true, false)); // head size 64, long rows
        return cases.stream();
    }

    @ParameterizedTest(name = "B={0} Tq={1} Tk={2} H={3} Rq={4} Rv={5} m={6} perToken={7} causal={8} pad={9}")
    @MethodSource("shapes")
    void referenceAndSimdAreTheTwoOpGraphBitForBit(int b, int tq, int tk, int h, int rq, int rv, int m,
            boolean perToken, boolean causal, boolean padding) {
        Tensor membership = m == 0 ? Membership.dropOne(h) : Membership.keepSubsets(h, m);
        int e = membership.dim(0);
        long seed = 1000L * tq + 10L * tk + h;
        Tensor[] in = {Tensor.randn(seed, b, tq, h * rq), Tensor.randn(seed + 1, b, tk, h * rq),
            Tensor.randn(seed + 2, b, tk, h * rv), perToken ? HeadMixtureTest.randomGate(seed + 3, b, tq, e)
                    : HeadMixtureTest.randomGate(seed + 3, b, e)};
        Tensor mask = padding ? randomMask(seed + 4, b, tk) : null;
        Tensor dy = Tensor.randn(seed + 5, b, tq, h * rv);
        for (Backend backend : new Backend[] {Backend.REF, Backend.SIMD}) {
            for (DType dtype : backend == Backend.REF ? new DType[] {DType.F32, DType.F64} : new DType[] {DType.F32}) {
                Tensor mk = mask == null ? null : mask.to(dtype);
                Tensor mem = membership.to(dtype);
                Tensor[] fused = run(backend, dtype, in, dy,
                        t -> GatedAttention.apply(t[0], t[1], t[2], h, causal, mk, t[3], mem));
                Tensor[] composed = run(backend, dtype, in, dy,
                        t -> HeadMixture.apply(Attention.apply(t[0], t[1], t[2], h, causal, mk), t[3], mem));
                String[] names = {"y", "dq", "dk", "dv", "dgate"};
                for (int i = 0; i < names.length; i++) {
                    assertArrayEquals(composed[i].toDoubleArray(), fused[i].toDoubleArray(),
                            backend + " " + dtype + " " + names[i]);
                }
            }
        }
    }

    @ParameterizedTest(name = "B={0} Tq={1} Tk={2} H={3} Rq={4} Rv={5} m={6} perToken={7} causal={8} pad={9}")
    @MethodSource("shapes")
    void simdBackwardFromTheSavedForwardHasTheBitsOfTheRecomputingOne(int b, int tq, int tk, int h, int rq, int rv,
            int m, boolean perToken, boolean causal, boolean padding) {
        Tensor membership = (m == 0 ? Membership.dropOne(h) : Membership.keepSubsets(h, m)).to(DType.F32);
        int e = membership.dim(0);
        int hm = Membership.headsPerExpert("test", membership);
        long seed = 1000L * tq + 10L * tk + h;
        Tensor q = Tensor.randn(seed, b, tq, h * rq);
        Tensor k = Tensor.randn(seed + 1, b, tk, h * rq);
        Tensor v = Tensor.randn(seed + 2, b, tk, h * rv);
        Tensor gate = (perToken ? HeadMixtureTest.randomGate(seed + 3, b, tq, e)
                : HeadMixtureTest.randomGate(seed + 3, b, e)).to(DType.F32);
        Tensor mask = padding ? randomMask(seed + 4, b, tk).to(DType.F32) : null;
        Tensor dy = Tensor.randn(seed + 5, b, tq, h * rv);
        GatedAttentionKernels kern =
                new GatedAttentionComposed(new AttentionSimdKernels(), new HeadMixtureSimdKernels());
        AttentionKernels.Forward fwd = kern.forwardSaving(q, k, v, h, causal, mask, gate, membership, hm);
        assertArrayEquals(kern.forward(q, k, v, h, causal, mask, gate, membership, hm).toArray(), fwd.y().toArray());
        boolean[] all = {true, true, true, true};
        Tensor[] recomputed = kern.backward(q, k, v, h, causal, mask, gate, membership, hm, dy, all);
        Tensor[] reused = kern.backward(fwd, q, k, v, h, causal, mask, gate, membership, hm, dy, all);
        String[] names = {"dq", "dk", "dv", "dgate"};
        for (int i = 0; i < names.length; i++) {
            assertArrayEquals(recomputed[i].toArray(), reused[i].toArray(), names[i]);
        }
    }

    private static Tensor[] run(Backend backend, DType dtype, Tensor[] inputs, Tensor dy,
            java.util.function.Function<Tensor[], Tensor> op) {
        return Compare.on(backend, () -> {
            Tensor[] t = new Tensor[inputs.length];
            for (int i = 0; i < t.length; i++) {
                t[i] = inputs[i].to(dtype).copy().requiresGrad(true);
            }
            Tensor y = op.apply(t);
            y.backward(dy.to(dtype));
            return new Tensor[] {y, t[0].grad(), t[1].grad(), t[2].grad(), t[3].grad()};
        });
    }

    @Test
    void eachHeadIsPlainAttentionScaledByItsAlpha() {
        // Drop-one experts: alpha_h = H/(H-1) (1 - g_h), computed here from the gate, times plain attention.
        int heads = 3;
        Tensor q = Tensor.randn(1, 2, 4, 6).to(DType.F64);
        Tensor k = Tensor.randn(2, 2, 5, 6).to(DType.F64);
        Tensor v = Tensor.randn(3, 2, 5, 9).to(DType.F64);
        Tensor gate = HeadMixtureTest.randomGate(4, 2, 4, heads); // per query
        Tensor mask = Tensor.wrap(new double[] {0, 1, 0, 0, 0, 1, 1, 1, 1, 1}, 2, 5); // batch 1 fully padded
        Tensor y = GatedAttention.apply(q, k, v, heads, true, mask, gate, Membership.dropOne(heads).to(DType.F64));
        Tensor o = Attention.apply(q, k, v, heads, true, mask);
        for (int b = 0; b < 2; b++) {
            for (int i = 0; i < 4; i++) {
                for (int h = 0; h < heads; h++) {
                    double alpha = heads / (heads - 1.0) * (1 - gate.get(b, i, h));
                    for (int c = 0; c < 3; c++) {
                        double want = alpha * o.get(b, i, h * 3 + c);
                        assertEquals(want, y.get(b, i, h * 3 + c), 1e-14 * (1 + Math.abs(want)));
                    }
                }
            }
        }
        // The fully padded batch row outputs zeros whatever the gate.
        for (int i = 0; i < 4; i++) {
            for (int c = 0; c < 9; c++) {
                assertEquals(0.0, y.get(1, i, c));
            }
        }
    }

    @Test
    void aUniformGateIsPlainAttention() {
        Tensor q = Tensor.randn(5, 2, 3, 8).to(DType.F64);
        Tensor k = Tensor.randn(6, 2, 4, 8).to(DType.F64);
        Tensor v = Tensor.randn(7, 2, 4, 8).to(DType.F64);
        double[] u = new double[2 * 4];
        java.util.Arrays.fill(u, 0.25);
        Tensor y = GatedAttention.apply(q, k, v, 4, false, null, Tensor.wrap(u, 2, 4),
                Membership.dropOne(4).to(DType.F64));
        double[] want = Attention.apply(q, k, v, 4, false, null).toDoubleArray();
        double[] got = y.toDoubleArray();
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 1e-14 * (1 + Math.abs(want[i])));
        }
    }

    @Test
    void backwardComputesOnlyTheRequestedGradients() {
        Tensor q = Tensor.randn(61, 1, 3, 4);
        Tensor k = Tensor.randn(62, 1, 3, 4);
        Tensor v = Tensor.randn(63, 1, 3, 4);
        Tensor gate = HeadMixtureTest.randomGate(64, 1, 2).to(DType.F32);
        Tensor dy = Tensor.randn(65, 1, 3, 4);
        for (GatedAttentionKernels kern : new GatedAttentionKernels[] {GatedAttention.KERNELS.select(q),
            Compare.on(Backend.REF, () -> GatedAttention.KERNELS.select(q))}) {
            Tensor[] onlyGate = kern.backward(q, k, v, 2, true, null, gate, Membership.dropOne(2), 1, dy,
                    new boolean[] {false, false, false, true});
            assertNull(onlyGate[0]);
            assertNull(onlyGate[1]);
            assertNull(onlyGate[2]);
            assertEquals(2, onlyGate[3].numel());
            Tensor[] onlyV = kern.backward(q, k, v, 2, true, null, gate, Membership.dropOne(2), 1, dy,
                    new boolean[] {false, false, true, false});
            assertNull(onlyV[0]);
            assertNull(onlyV[3]);
            assertEquals(12, onlyV[2].numel());
        }
    }

    // ------------------------------------------------------------------ gradients (F64)

    @Test
    void gradientsPerSequenceGateDropOne() {
        Tensor membership = Membership.dropOne(2).to(DType.F64);
        GradCheck.assertGradients(in -> GatedAttention.apply(in[0], in[1], in[2], 2, false, null, in[3], membership),
                Tensor.randn(71, 2, 3, 4).requiresGrad(true), Tensor.randn(72, 2, 5, 4).requiresGrad(true),
                Tensor.randn(73, 2, 5, 6).requiresGrad(true), HeadMixtureTest.randomGate(74, 2, 2).requiresGrad(true));
    }

    @Test
    void gradientsPerQueryGateCausalWithPaddingAndFullyMaskedRows() {
        // Tq = 3 > Tk = 2 with causal: query 0 has no key; batch 1 pads key 0, so its query 1 has none either.
        Tensor mask = Tensor.wrap(new float[] {0, 0, 1, 0}, 2, 2);
        Tensor membership = Membership.keepSubsets(3, 2).to(DType.F64);
        GradCheck.assertGradients(
                in -> GatedAttention.apply(in[0], in[1], in[2], 3, true, in[4], in[3], membership),
                Tensor.randn(80, 2, 3, 6).requiresGrad(true), Tensor.randn(81, 2, 2, 6).requiresGrad(true),
                Tensor.randn(82, 2, 2, 3).requiresGrad(true), HeadMixtureTest.randomGate(83, 2, 3, 3).requiresGrad(true),
                mask);
    }

    @Test
    void gradientsCausalTqBelowTkWithRandomPadding() {
        Tensor membership = Membership.keepSubsets(4, 3).to(DType.F64);
        GradCheck.assertGradients(
                in -> GatedAttention.apply(in[0], in[1], in[2], 4, true, in[4], in[3], membership),
                Tensor.randn(84, 2, 2, 4).requiresGrad(true), Tensor.randn(85, 2, 5, 4).requiresGrad(true),
                Tensor.randn(86, 2, 5, 8).requiresGrad(true), HeadMixtureTest.randomGate(87, 2, 4).requiresGrad(true),
                randomMask(88, 2, 5));
    }

    @Test
    void gradientsForEachInputAlone() {
        Tensor membership = Membership.dropOne(2).to(DType.F64);
        for (int which = 0; which < 4; which++) {
            Tensor[] in = {Tensor.randn(91, 1, 3, 4), Tensor.randn(92, 1, 4, 4), Tensor.randn(93, 1, 4, 2),
                HeadMixtureTest.randomGate(94, 1, 3, 2)};
            in[which].requiresGrad(true);
            GradCheck.assertGradients(t -> GatedAttention.apply(t[0], t[1], t[2], 2, true, null, t[3], membership), in);
        }
    }

    // ------------------------------------------------------------------ bad input

    private final Tensor q = Tensor.randn(1, 2, 3, 4);
    private final Tensor k = Tensor.randn(2, 2, 5, 4);
    private final Tensor v = Tensor.randn(3, 2, 5, 6);
    private final Tensor gate = Tensor.full(0.5f, 2, 2);
    private final Tensor membership = Membership.dropOne(2);

    static void assertRejected(Executable call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
        }
        assertTrue(e.getMessage().startsWith("gated attention: "), e.getMessage());
    }

    @Test
    void rejectsTheAttentionArgumentsUnderItsOwnName() {
        assertRejected(() -> GatedAttention.apply(null, k, v, 2, false, null, gate, membership), "q must not be null");
        assertRejected(() -> GatedAttention.apply(q, Tensor.randn(4, 2, 5, 3), v, 2, false, null, gate, membership),
                "k", "3");
        assertRejected(() -> GatedAttention.apply(q, k, Tensor.randn(4, 2, 4, 6), 2, false, null, gate, membership),
                "v", "Tk");
        assertRejected(() -> GatedAttention.apply(q, k, Tensor.randn(4, 2, 5, 5), 2, false, null, gate, membership),
                "heads", "Dv", "5");
        Tensor grads = Tensor.zeros(2, 5).requiresGrad(true);
        assertRejected(() -> GatedAttention.apply(q, k, v, 2, false, grads, gate, membership),
                "keyPaddingMask must not require grad");
    }

    @Test
    void rejectsANullGate() {
        assertRejected(() -> GatedAttention.apply(q, k, v, 2, false, null, null, membership), "gate must not be null");
    }

    @Test
    void rejectsAGateOfTheWrongRank() {
        assertRejected(() -> GatedAttention.apply(q, k, v, 2, false, null, Tensor.full(0.5f, 2), membership),
                "gate must have rank 2 [B,E] or 3 [B,Tq,E], got rank 1");
    }

    @Test
    void rejectsAGateOfAnotherBatchSize() {
        assertRejected(() -> GatedAttention.apply(q, k, v, 2, false, null, Tensor.full(0.5f, 3, 2), membership),
                "gate", "3", "batch size B");
    }

    @Test
    void rejectsAPerQueryGateOfAnotherLength() {
        assertRejected(() -> GatedAttention.apply(q, k, v, 2, false, null, Tensor.full(0.5f, 2, 5, 2), membership),
                "gate", "5", "query length Tq");
    }

    @Test
    void rejectsAGateWithAnotherNumberOfExperts() {
        assertRejected(() -> GatedAttention.apply(q, k, v, 2, false, null, Tensor.full(0.5f, 2, 3), membership),
                "gate", "3", "experts E");
    }

    @Test
    void rejectsAMembershipForAnotherNumberOfHeads() {
        assertRejected(() -> GatedAttention.apply(q, k, v, 2, false, null, Tensor.full(0.5f, 2, 3),
                Membership.dropOne(3)), "membership dimension 1 (heads H) must equal heads = 2, got 3");
    }

    @Test
    void rejectsAMembershipOfTheWrongRank() {
        assertRejected(() -> GatedAttention.apply(q, k, v, 2, false, null, gate, Tensor.full(1f, 2)), "membership",
                "rank");
    }

    @Test
    void rejectsAMembershipThatIsNotZeroOne() {
        Tensor bad = Tensor.wrap(new float[] {0, 1, 0.5f, 0}, 2, 2);
        assertRejected(() -> GatedAttention.apply(q, k, v, 2, false, null, gate, bad),
                "membership[1,0] must be 0 or 1, got 0.5");
        Tensor uneven = Tensor.wrap(new float[] {1, 1, 0, 1}, 2, 2);
        assertRejected(() -> GatedAttention.apply(q, k, v, 2, false, null, gate, uneven),
                "membership row 1 has 1 heads but row 0 has 2");
    }

    @Test
    void rejectsAMembershipThatRequiresGrad() {
        Tensor trainable = Membership.dropOne(2).requiresGrad(true);
        assertRejected(() -> GatedAttention.apply(q, k, v, 2, false, null, gate, trainable),
                "membership must not require grad");
    }

    @Test
    void rejectsMixedDevicesAndTypes() {
        assertRejected(() -> GatedAttention.apply(q, k, v, 2, false, null, DeviceStandIn.on(Device.cuda(0), 2, 2),
                membership), "gate", "cuda:0", "cpu");
        assertRejected(() -> GatedAttention.apply(q, k, v, 2, false, null, gate.to(DType.F64), membership), "gate",
                "F64");
    }

    // ------------------------------------------------------------------ the CUDA backend without a GPU

    @Test
    void theCudaKernelsRefuseUnsupportedShapesBeforeAvailabilityAndThenNeedCuda() {
        GatedAttentionKernels cuda = GatedAttention.KERNELS.select(Device.cuda(0), DType.F32);
        Tensor gateOnGpu = DeviceStandIn.on(Device.cuda(0), 1, 1);
        Tensor mem = DeviceStandIn.on(Device.cuda(0), 1, 1);
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> cuda.forward(DeviceStandIn.on(Device.cuda(0), 1, 2, 256), DeviceStandIn.on(Device.cuda(0), 1, 3, 256),
                        DeviceStandIn.on(Device.cuda(0), 1, 3, 8), 1, false, null, gateOnGpu, mem, 1));
        assertTrue(e.getMessage().startsWith("gated attention on CUDA supports head sizes up to 128")
                && e.getMessage().contains("D/H = 256"), e.getMessage());
        e = assertThrows(UnsupportedOperationException.class,
                () -> cuda.backward(DeviceStandIn.on(Device.cuda(0), 4097, 1, 16), DeviceStandIn.on(Device.cuda(0), 4097, 1, 16),
                        DeviceStandIn.on(Device.cuda(0), 4097, 1, 16), 16, false, null, gateOnGpu, mem, 1,
                        DeviceStandIn.on(Device.cuda(0), 4097, 1, 16), new boolean[] {true, true, true, true}));
        assertTrue(e.getMessage().contains("B * H = 65552"), e.getMessage());
        org.junit.jupiter.api.Assumptions.assumeFalse(org.attnkit.backend.cuda.Cuda.isAvailable(), "a GPU is present");
        org.attnkit.backend.cuda.CudaUnavailableException u = assertThrows(
                org.attnkit.backend.cuda.CudaUnavailableException.class,
                () -> cuda.forward(DeviceStandIn.on(Device.cuda(0), 2, 3, 8), DeviceStandIn.on(Device.cuda(0), 2, 4, 8),
                        DeviceStandIn.on(Device.cuda(0), 2, 4, 8), 2, true, null, DeviceStandIn.on(Device.cuda(0), 2, 2),
                        DeviceStandIn.on(Device.cuda(0), 2, 2), 1));
        assertTrue(u.getMessage().startsWith("gated attention forward: CUDA is unavailable ("), u.getMessage());
    }

    /** Random key padding, about a third of the keys. */
    static Tensor randomMask(long seed, int b, int tk) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] m = new float[b * tk];
        for (int i = 0; i < m.length; i++) {
            m[i] = r.nextInt(3) == 0 ? 1 : 0;
        }
        return Tensor.wrap(m, b, tk);
    }
}
