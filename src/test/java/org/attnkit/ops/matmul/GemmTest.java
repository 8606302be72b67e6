package org.attnkit.ops.matmul;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Gemm against a naive triple loop in double, with an error bound per element. */
class GemmTest {
    private static final float SENTINEL = 12345.5f;

    /** A matrix stored in an array with an offset, a padded leading dimension and sentinel padding. */
    private static final class Stored {
        final float[] data;
        final int off;
        final int ld;
        final int rows;
        final int cols;

        Stored(SplittableRandom r, int rows, int cols, int pad) {
            this.rows = rows;
            this.cols = cols;
            this.off = pad == 0 ? 0 : 3 + pad;
            this.ld = Math.max(1, cols) + pad;
            this.data = new float[off + rows * ld + pad];
            java.util.Arrays.fill(data, SENTINEL);
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    data[off + i * ld + j] = (float) (r.nextDouble() * 2 - 1);
                }
            }
        }

        double get(int i, int j) {
            return data[off + i * ld + j];
        }
    }

    static Stream<Arguments> cases() {
        int[][] sizes = {
            {1, 1, 1}, {1, 17, 33}, {15, 1, 17}, {17, 33, 1}, {33, 15, 100}, {100, 257, 33}, {257, 100, 17},
            {6, 32, 256}, {7, 33, 257}, {1, 100, 257}, {257, 1, 100}, {100, 15, 1},
            // Past one M-block (MC = 120), one N-block (NC = 512 columns) and one K-block (KC = 256).
            {Gemm.MC + 1, Gemm.NC + 1, Gemm.KC + 1},
        };
        List<Arguments> out = new ArrayList<>();
        int i = 0;
        for (int[] s : sizes) {
            for (int t = 0; t < 4; t++) {
                out.add(Arguments.of(s[0], s[1], s[2], (t & 1) != 0, (t & 2) != 0, (i++ % 3) * 2));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "M={0} N={1} K={2} transA={3} transB={4} pad={5}")
    @MethodSource("cases")
    void matchesNaiveProduct(int M, int N, int K, boolean transA, boolean transB, int pad) {
        SplittableRandom r = new SplittableRandom(1000L * M + 10L * N + K + (transA ? 7 : 0) + (transB ? 13 : 0));
        Stored a = transA ? new Stored(r, K, M, pad) : new Stored(r, M, K, pad);
        Stored b = transB ? new Stored(r, N, K, pad) : new Stored(r, K, N, pad + 1);
        for (boolean accumulate : new boolean[] {false, true}) {
            Stored c = new Stored(r, M, N, pad == 0 ? 1 : pad);
            float[] before = c.data.clone();
            Gemm.gemm(transA, transB, M, N, K, a.data, a.off, a.ld, b.data, b.off, b.ld, c.data, c.off, c.ld,
                    accumulate);
            for (int i = 0; i < M; i++) {
                for (int j = 0; j < N; j++) {
                    double exact = accumulate ? before[c.off + i * c.ld + j] : 0;
                    double magnitude = Math.abs(exact);
                    for (int k = 0; k < K; k++) {
                        double p = (transA ? a.get(k, i) : a.get(i, k)) * (transB ? b.get(j, k) : b.get(k, j));
                        exact += p;
                        magnitude += Math.abs(p);
                    }
                    // Float32 sum of K products plus one add per K-block and the initial C: the
                    // classic bound |err| <= n u sum|terms| with n = K + blocks + 1, u = 2^-24;
                    // doubled for slack. A wrong term costs ~|term| and breaks it.
                    double tol = 2.0 * (K + K / Gemm.KC + 3) * 0x1p-24 * magnitude + 1e-30;
                    double got = c.get(i, j);
                    if (!(Math.abs(got - exact) <= tol)) {
                        fail("accumulate=" + accumulate + " C[" + i + "][" + j + "] = " + got + ", expected "
                                + exact + " (tol " + tol + ")");
                    }
                }
            }
            // Nothing outside the M x N window of C is written.
            for (int idx = 0; idx < c.data.length; idx++) {
                int rel = idx - c.off;
                boolean inside = rel >= 0 && rel / c.ld < M && rel % c.ld < N;
                if (!inside) {
                    assertEquals(before[idx], c.data[idx], "C padding at index " + idx + " was modified");
                }
            }
        }
    }

    @Test
    void batchedMatchesPerBatchCallsBitForBit() {
        SplittableRandom r = new SplittableRandom(5);
        int batch = 3;
        int M = 37;
        int N = 45;
        int K = 300;
        int strideA = M * K + 11;
        int strideB = K * N + 5;
        int strideC = M * N + 2;
        float[] A = random(r, batch * strideA);
        float[] B = random(r, batch * strideB);
        float[] batched = new float[batch * strideC];
        float[] single = new float[batch * strideC];
        Gemm.gemmBatched(batch, false, true, M, N, K, A, 0, K, strideA, B, 0, K, strideB, batched, 0, N, strideC,
                false);
        for (int p = 0; p < batch; p++) {
            Gemm.gemm(false, true, M, N, K, A, p * strideA, K, B, p * strideB, K, single, p * strideC, N, false);
        }
        assertArrayEquals(single, batched);
        assertTrue(batched[strideC + 5] != 0f, "second batch entry was computed");
    }

    @Test
    void repeatedLargeRunsGiveTheSameBits() {
        SplittableRandom r = new SplittableRandom(9);
        int M = 300;
        int N = 600;
        int K = 520;
        float[] A = random(r, M * K);
        float[] B = random(r, K * N);
        float[] first = new float[M * N];
        Gemm.gemm(false, false, M, N, K, A, 0, K, B, 0, N, first, 0, N, false);
        for (int rep = 0; rep < 2; rep++) {
            float[] again = new float[M * N];
            Gemm.gemm(false, false, M, N, K, A, 0, K, B, 0, N, again, 0, N, false);
            assertArrayEquals(first, again);
        }
    }

    @Test
    void emptyInnerDimensionZeroesOrKeepsC() {
        float[] c = {1, 2, 3, 4};
        Gemm.gemm(false, false, 2, 2, 0, new float[0], 0, 1, new float[0], 0, 2, c, 0, 2, true);
        assertArrayEquals(new float[] {1, 2, 3, 4}, c);
        Gemm.gemm(false, false, 2, 2, 0, new float[0], 0, 1, new float[0], 0, 2, c, 0, 2, false);
        assertArrayEquals(new float[] {0, 0, 0, 0}, c);
    }

    @Test
    void rejectsNegativeSize() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.gemm(false, false, -1, 2, 2, new float[4], 0, 2, new float[4], 0, 2, new float[4], 0, 2,
                        false));
        assertTrue(e.getMessage().contains("M = -1"), e.getMessage());
    }

    @Test
    void rejectsLeadingDimensionSmallerThanRow() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.gemm(false, true, 2, 3, 4, new float[8], 0, 4, new float[12], 0, 3, new float[6], 0, 3,
                        false));
        assertTrue(e.getMessage().contains("leading dimension of B") && e.getMessage().contains("got 3"),
                e.getMessage());
    }

    @Test
    void rejectsOperandPastTheArray() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.gemm(false, false, 2, 2, 2, new float[4], 1, 2, new float[4], 0, 2, new float[4], 0, 2,
                        false));
        assertTrue(e.getMessage().contains("gemm: A") && e.getMessage().contains("index 4")
                && e.getMessage().contains("length 4"), e.getMessage());
    }

    @Test
    void rejectsNegativeOffset() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.gemm(false, false, 2, 2, 2, new float[4], 0, 2, new float[4], 0, 2, new float[4], -1, 2,
                        false));
        assertTrue(e.getMessage().contains("of C") && e.getMessage().contains("offset -1"), e.getMessage());
    }

    private static float[] random(SplittableRandom r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return v;
    }
}
