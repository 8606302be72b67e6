package org.attnkit.ops.mae;

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

/** The SIMD MAE gate against the double reference, forward and all five gradients. */
class MaeGateSimdTest {
    // Forward: the (prefix) mean sums up to T float32 values (~sqrt(T) * 2^-24 relative), then two dot
    // products of D and G float32 terms and float tanh: ~1e-6 on gates in [0, 1].
    private static final double FWD_ATOL = 1e-5;
    private static final double FWD_RTOL = 1e-4;
    // Backward: dw1/dw2 sum over all rows (up to B*T = 600 here) of float32 outer products, in float
    // within a row block and in double across blocks; dx adds a suffix sum of up to T terms. Observed
    // errors are ~1e-6 relative; 2e-4 keeps a 0.1% slip in a scale factor (say 1/(t+1)) detectable.
    private static final double BWD_ATOL = 2e-5;
    private static final double BWD_RTOL = 2e-4;

    static Stream<Arguments> shapes() {
        List<Arguments> cases = new ArrayList<>();
        // B, T, D, G, E, causal, biases
        cases.add(Arguments.of(2, 5, 16, 8, 4, false, true));      // whole vectors
        cases.add(Arguments.of(3, 7, 7, 5, 3, true, true));        // D, G < a vector, causal
        cases.add(Arguments.of(1, 1, 33, 17, 2, false, false));    // T = 1, vector tails, no biases
        cases.add(Arguments.of(2, 1, 1, 1, 1, true, true));        // every size 1, causal
        cases.add(Arguments.of(2, 300, 40, 24, 6, true, true));    // long T causal: several row blocks
        cases.add(Arguments.of(2, 300, 64, 32, 8, false, false));  // long T mean
        cases.add(Arguments.of(40, 9, 100, 70, 5, false, true));   // many sequences: several row blocks
        SplittableRandom r = new SplittableRandom(5);
        for (int i = 0; i < 8; i++) {
            cases.add(Arguments.of(1 + r.nextInt(4), 1 + r.nextInt(60), 1 + r.nextInt(50), 1 + r.nextInt(40),
                    1 + r.nextInt(8), r.nextBoolean(), r.nextBoolean()));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "B={0} T={1} D={2} G={3} E={4} causal={5} biases={6}")
    @MethodSource("shapes")
    void simdMatchesReference(int b, int t, int d, int g, int e, boolean causal, boolean biases) {
        long seed = 97L * t + 13L * d + g;
        Tensor x = Tensor.randn(seed, b, t, d);
        Tensor w1 = Tensor.randn(seed + 1, g, d);
        Tensor b1 = biases ? Tensor.randn(seed + 2, g) : null;
        Tensor w2 = Tensor.randn(seed + 3, e, g);
        Tensor b2 = biases ? Tensor.randn(seed + 4, e) : null;
        Tensor dg = causal ? Tensor.randn(seed + 5, b, t, e) : Tensor.randn(seed + 5, b, e);
        Tensor[] ref = run(Backend.REF, x, w1, b1, w2, b2, causal, dg);
        Tensor[] simd = run(Backend.SIMD, x, w1, b1, w2, b2, causal, dg);
        Compare.close("gate", ref[0], simd[0], FWD_ATOL, FWD_RTOL);
        String[] names = {"dx", "dw1", "db1", "dw2", "db2"};
        for (int i = 0; i < 5; i++) {
            if (ref[i + 1] != null) {
                Compare.close(names[i], ref[i + 1], simd[i + 1], BWD_ATOL, BWD_RTOL);
            }
        }
    }

    private static Tensor[] run(Backend backend, Tensor x0, Tensor w10, Tensor b10, Tensor w20, Tensor b20,
            boolean causal, Tensor dg) {
        return Compare.on(backend, () -> {
            Tensor x = x0.copy().requiresGrad(true);
            Tensor w1 = w10.copy().requiresGrad(true);
            Tensor b1 = b10 == null ? null : b10.copy().requiresGrad(true);
            Tensor w2 = w20.copy().requiresGrad(true);
            Tensor b2 = b20 == null ? null : b20.copy().requiresGrad(true);
            Tensor gate = MaeGate.apply(x, w1, b1, w2, b2, causal);
            gate.backward(dg);
            return new Tensor[] {gate, x.grad(), w1.grad(), b1 == null ? null : b1.grad(), w2.grad(),
                b2 == null ? null : b2.grad()};
        });
    }

    @Test
    void backwardComputesOnlyTheRequestedGradients() {
        Tensor x = Tensor.randn(1, 2, 40, 20);
        Tensor w1 = Tensor.randn(2, 9, 20);
        Tensor b1 = Tensor.randn(3, 9);
        Tensor w2 = Tensor.randn(4, 3, 9);
        Tensor b2 = Tensor.randn(5, 3);
        Tensor dg = Tensor.randn(6, 2, 40, 3);
        MaeGateKernels simd = MaeGate.KERNELS.select(Device.CPU, DType.F32);
        MaeGateKernels ref = new MaeGateRef();
        Tensor g = ref.forward(x, w1, b1, w2, b2, true);
        Tensor[] all = ref.backward(x, w1, b1, w2, b2, true, g, dg, new boolean[] {true, true, true, true, true});
        for (int which = 0; which < 5; which++) {
            boolean[] needs = new boolean[5];
            needs[which] = true;
            Tensor[] got = simd.backward(x, w1, b1, w2, b2, true, g, dg, needs);
            for (int i = 0; i < 5; i++) {
                if (i == which) {
                    Compare.close("gradient " + i, all[i], got[i], BWD_ATOL, BWD_RTOL);
                } else {
                    assertNull(got[i]);
                }
            }
        }
    }

    @Test
    void simdIsTheDefaultForFloat32AndRefForFloat64() {
        assertEquals(Backend.SIMD, MaeGate.KERNELS.choose(Device.CPU, DType.F32));
        assertEquals(Backend.REF, MaeGate.KERNELS.choose(Device.CPU, DType.F64));
    }

    @Test
    void repeatedRunsGiveTheSameBits() {
        Tensor x = Tensor.randn(1, 3, 200, 48);
        Tensor w1 = Tensor.randn(2, 16, 48);
        Tensor w2 = Tensor.randn(3, 4, 16);
        Tensor dg = Tensor.randn(4, 3, 200, 4);
        Tensor[] first = run(Backend.SIMD, x, w1, null, w2, null, true, dg);
        Tensor[] again = run(Backend.SIMD, x, w1, null, w2, null, true, dg);
        for (int i = 0; i < first.length; i++) {
            if (first[i] != null) {
                assertArrayEquals(first[i].toArray(), again[i].toArray());
            }
        }
    }
}
