package org.attnkit.ops.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;

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

/** The SIMD CrossEntropy against the double reference, forward and backward. */
class CrossEntropySimdTest {
    // Forward: the log-sum-exp of a row is a float32 vector sum of C exps (lanewise EXP ~1 ulp),
    // ~1e-6 relative, and the loss is formed from it in double; reductions add rows in double.
    private static final double FWD_ATOL = 2e-6;
    private static final double FWD_RTOL = 2e-6;
    // Backward: exp(x - lse) in float with lse rounded to float: an ulp of |lse| (~1e-6 for |lse| ~ 10)
    // becomes that relative error in the softmax.
    private static final double BWD_ATOL = 2e-6;
    private static final double BWD_RTOL = 5e-6;

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (int c : new int[] {1, 3, 15, 16, 17, 33, 100}) {
            for (Reduction r : Reduction.values()) {
                out.add(Arguments.of(new int[] {6, c}, r, -100));
                out.add(Arguments.of(new int[] {2, 3, c}, r, 0)); // class 0 doubles as padding
            }
        }
        out.add(Arguments.of(new int[] {3000, 40}, Reduction.MEAN, 1)); // several row tasks
        out.add(Arguments.of(new int[] {4, 1000}, Reduction.SUM, -1));
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} ignore={2}")
    @MethodSource("cases")
    void simdMatchesReference(int[] shape, Reduction reduction, int ignoreIndex) {
        long seed = java.util.Arrays.hashCode(shape) * 7L + reduction.ordinal();
        float[] v = Tensor.randn(seed, shape).toArray();
        for (int i = 0; i < v.length; i++) {
            v[i] *= 4;
        }
        Tensor logits = Tensor.of(v, shape);
        int classes = shape[shape.length - 1];
        int rows = logits.numel() / classes;
        SplittableRandom r = new SplittableRandom(seed);
        int[] targets = new int[rows];
        for (int n = 0; n < rows; n++) {
            targets[n] = r.nextInt(4) == 0 ? ignoreIndex : r.nextInt(classes);
        }
        targets[0] = ignoreIndex; // at least one ignored row
        Tensor[] ref = run(Backend.REF, logits, targets, ignoreIndex, reduction, seed);
        Tensor[] simd = run(Backend.SIMD, logits, targets, ignoreIndex, reduction, seed);
        Compare.close("loss", ref[0], simd[0], FWD_ATOL, FWD_RTOL);
        Compare.close("dlogits", ref[1], simd[1], BWD_ATOL, BWD_RTOL);
    }

    @Test
    void everyRowIgnoredGivesZeroLossAndGradient() {
        Tensor logits = Tensor.randn(3, 4, 20);
        int[] targets = {-100, -100, -100, -100};
        Tensor[] simd = run(Backend.SIMD, logits, targets, -100, Reduction.MEAN, 1);
        assertEquals(0.0, simd[0].item());
        for (float g : simd[1].toArray()) {
            assertEquals(0f, g);
        }
    }

    @Test
    void simdIsTheDefaultForFloat32() {
        assertEquals(Backend.SIMD, CrossEntropy.KERNELS.choose(Device.CPU, DType.F32));
        assertEquals(Backend.REF, CrossEntropy.KERNELS.choose(Device.CPU, DType.F64));
    }

    private static Tensor[] run(Backend backend, Tensor logits0, int[] targets, int ignore, Reduction reduction,
                                long seed) {
        return Compare.on(backend, () -> {
            Tensor logits = logits0.copy().requiresGrad(true);
            Tensor loss = CrossEntropy.apply(logits, targets, ignore, reduction);
            loss.backward(Tensor.randn(seed + 5, loss.shape().toArray()));
            return new Tensor[] {loss, logits.grad()};
        });
    }
}
