package org.attnkit.ops.mae;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

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

/** The SIMD head mixture against the double reference, forward and both gradients. */
class HeadMixtureSimdTest {
    // Forward and do: one float32 product per element with alpha rounded to float (~2 ulp).
    private static final double FWD_ATOL = 1e-6;
    private static final double FWD_RTOL = 1e-6;
    // dgate: sums of up to T*R float32 products dy*o (T = 300, R = 40 here), in float per channel over
    // time, then in double over the head's channels: ~sqrt(T) * 2^-24 relative to the largest term sums.
    private static final double BWD_ATOL = 1e-4;
    private static final double BWD_RTOL = 1e-4;

    static Stream<Arguments> shapes() {
        List<Arguments> cases = new ArrayList<>();
        // B, T, H, R, m (heads per expert; 0 = dropOne), perToken gate
        cases.add(Arguments.of(2, 5, 4, 16, 0, false));   // whole vectors, drop-one experts
        cases.add(Arguments.of(2, 5, 4, 16, 0, true));    // per-token gate
        cases.add(Arguments.of(3, 7, 3, 7, 2, false));    // R = 7 < a vector, subsets of 2
        cases.add(Arguments.of(1, 9, 5, 3, 2, true));     // D = 15: only a scalar tail on AVX-512
        cases.add(Arguments.of(2, 1, 1, 33, 1, false));   // H = 1, T = 1, vector tail
        cases.add(Arguments.of(1, 1, 1, 1, 1, true));     // every size 1
        cases.add(Arguments.of(2, 300, 8, 40, 0, false)); // long T: dalpha sums 300 tokens
        cases.add(Arguments.of(2, 300, 6, 5, 3, true));   // long T per token, D = 30
        cases.add(Arguments.of(3, 17, 2, 1, 1, false));   // R = 1
        return cases.stream();
    }

    @ParameterizedTest(name = "B={0} T={1} H={2} R={3} m={4} perToken={5}")
    @MethodSource("shapes")
    void simdMatchesReference(int b, int t, int h, int r, int m, boolean perToken) {
        Tensor membership = m == 0 ? Membership.dropOne(h) : Membership.keepSubsets(h, m);
        int e = membership.dim(0);
        long seed = 31L * t + 7L * h + r;
        Tensor o = Tensor.randn(seed, b, t, h * r);
        Tensor gate = perToken ? HeadMixtureTest.randomGate(seed + 1, b, t, e).to(DType.F32)
                : HeadMixtureTest.randomGate(seed + 1, b, e).to(DType.F32);
        Tensor dy = Tensor.randn(seed + 2, b, t, h * r);
        Tensor[] ref = run(Backend.REF, o, gate, membership, dy);
        Tensor[] simd = run(Backend.SIMD, o, gate, membership, dy);
        Compare.close("y", ref[0], simd[0], FWD_ATOL, FWD_RTOL);
        Compare.close("do", ref[1], simd[1], FWD_ATOL, FWD_RTOL);
        Compare.close("dgate", ref[2], simd[2], BWD_ATOL, BWD_RTOL);
    }

    private static Tensor[] run(Backend backend, Tensor o0, Tensor gate0, Tensor membership, Tensor dy) {
        return Compare.on(backend, () -> {
            Tensor o = o0.copy().requiresGrad(true);
            Tensor gate = gate0.copy().requiresGrad(true);
            Tensor y = HeadMixture.apply(o, gate, membership);
            y.backward(dy);
            return new Tensor[] {y, o.grad(), gate.grad()};
        });
    }

    @Test
    void backwardComputesOnlyTheRequestedGradients() {
        Tensor membership = Membership.dropOne(4);
        Tensor o = Tensor.randn(1, 2, 6, 20);
        Tensor gate = HeadMixtureTest.randomGate(2, 2, 4).to(DType.F32);
        Tensor dy = Tensor.randn(3, 2, 6, 20);
        HeadMixtureKernels simd = HeadMixture.KERNELS.select(Device.CPU, DType.F32);
        HeadMixtureKernels ref = new HeadMixtureRef();
        Tensor[] all = ref.backward(o, gate, membership, 3, dy, new boolean[] {true, true});
        Tensor[] onlyO = simd.backward(o, gate, membership, 3, dy, new boolean[] {true, false});
        Compare.close("do", all[0], onlyO[0], FWD_ATOL, FWD_RTOL);
        assertNull(onlyO[1]);
        Tensor[] onlyGate = simd.backward(o, gate, membership, 3, dy, new boolean[] {false, true});
        assertNull(onlyGate[0]);
        Compare.close("dgate", all[1], onlyGate[1], BWD_ATOL, BWD_RTOL);
    }

    @Test
    void simdIsTheDefaultForFloat32AndRefForFloat64() {
        assertEquals(Backend.SIMD, HeadMixture.KERNELS.choose(Device.CPU, DType.F32));
        assertEquals(Backend.REF, HeadMixture.KERNELS.choose(Device.CPU, DType.F64));
    }
}
