package org.attnkit.ops.embedding;

import static org.junit.jupiter.api.Assertions.assertEquals;

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

/** The SIMD Embedding against the reference: an exact gather, and a scatter-add within float rounding. */
class EmbeddingSimdTest {
    // Backward adds up to ~N/V repeated rows in float, in index order, where the reference adds in
    // double: ~repeats * 2^-24 relative to the terms.
    private static final double BWD_ATOL = 1e-6;
    private static final double BWD_RTOL = 1e-6;

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of(new int[] {1}, 1, 1),
                Arguments.of(new int[] {3}, 5, 3),
                Arguments.of(new int[] {2, 7}, 4, 15),
                Arguments.of(new int[] {16}, 10, 16),
                Arguments.of(new int[] {17}, 3, 17),
                Arguments.of(new int[] {3, 11}, 50, 33),
                Arguments.of(new int[] {100}, 7, 100),
                Arguments.of(new int[] {4, 500}, 30, 300), // several column blocks, many repeats
                Arguments.of(new int[] {0}, 4, 8));
    }

    @ParameterizedTest(name = "ids={0} V={1} D={2}")
    @MethodSource("cases")
    void simdMatchesReference(int[] idsShape, int vocab, int d) {
        int count = 1;
        for (int s : idsShape) {
            count *= s;
        }
        SplittableRandom r = new SplittableRandom(vocab * 31L + d);
        int[] ids = new int[count];
        for (int i = 0; i < count; i++) {
            ids[i] = r.nextInt(vocab);
        }
        Tensor table = Tensor.randn(vocab + d, vocab, d);
        int[] outShape = java.util.Arrays.copyOf(idsShape, idsShape.length + 1);
        outShape[idsShape.length] = d;
        Tensor dy = Tensor.randn(count + 1L, outShape);
        Tensor[] ref = run(Backend.REF, ids, idsShape, table, dy);
        Tensor[] simd = run(Backend.SIMD, ids, idsShape, table, dy);
        Compare.close("out", ref[0], simd[0], 0, 0);
        Compare.close("dtable", ref[1], simd[1], BWD_ATOL, BWD_RTOL);
    }

    @Test
    void simdIsTheDefaultForFloat32() {
        assertEquals(Backend.SIMD, Embedding.KERNELS.choose(Device.CPU, DType.F32));
        assertEquals(Backend.REF, Embedding.KERNELS.choose(Device.CPU, DType.F64));
    }

    private static Tensor[] run(Backend backend, int[] ids, int[] idsShape, Tensor table0, Tensor dy) {
        return Compare.on(backend, () -> {
            Tensor table = table0.copy().requiresGrad(true);
            Tensor y = Embedding.apply(ids, idsShape, table);
            y.backward(dy);
            return new Tensor[] {y, table.grad()};
        });
    }
}
