package org.attnkit.ops.dropout;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.attnkit.backend.CpuPool;
import org.attnkit.random.Philox;
import org.attnkit.tensor.CpuScope;
import org.attnkit.tensor.Tensor;

/**
 * The SIMD backend of {@link Dropout} (float32). The mask is the reference's bit for bit: one
 * Philox4x32-10 block per four elements (the block the reference computes once per element), several
 * blocks at once in 64-bit vector lanes and the last few with scalar code; each
 * word kept iff {@code (word >>> 8) >= ceil(p * 2^24)}, which is exactly {@code uniform >= p} since
 * the uniform is {@code (word >>> 8) * 2^-24} and {@code p * 2^24} is exact in double. A chunk's
 * factors (0 or 1/(1-p)) are written to a small buffer and applied with one vector multiply. Chunks
 * are fixed by the shape and each element depends only on its index.
 */
final class DropoutSimdKernels implements DropoutKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final int CHUNK = 1 << 13; // a multiple of 4: chunks start on a Philox block
    private static final VectorSpecies<Long> SL = LongVector.SPECIES_PREFERRED;
    private static final int LB = SL.length();
    private static final long MASK = 0xFFFFFFFFL;

    @Override
    public Tensor forward(Tensor x, double p, long seed, long offset) {
        return Tensor.wrap(masked(x.data(), p, seed, offset), x.shape().toArray());
    }

    @Override
    public Tensor backward(Tensor dy, double p, long seed, long offset) {
        // The mask is a per-element multiply, so its gradient is the same multiply.
        return Tensor.wrap(masked(dy.data(), p, seed, offset), dy.shape().toArray());
    }

    private static float[] masked(float[] v, double p, long seed, long offset) {
        int n = v.length;
        float[] out = CpuScope.outputArray(n); // every element written
        float scale = (float) (1.0 / (1.0 - p));
        long threshold = (long) Math.ceil(p * (1 << 24));
        int k0 = (int) seed;
        int k1 = (int) (seed >>> 32);
        int c2 = (int) offset;
        int c3 = (int) (offset >>> 32);
        CpuPool.parallelFor((n + CHUNK - 1) / CHUNK, task -> {
            int from = task * CHUNK;
            int to = Math.min(n, from + CHUNK);
            float[] factor = new float[to - from];
            int i = from;
            // LB Philox blocks (4 * LB elements) at a time in 64-bit lanes, then block by block.
            long[] lanes = new long[4 * LB];
            for (; i + 4 * LB <= to; i += 4 * LB) {
                philoxLanes(i >>> 2, c2, c3, k0, k1, threshold, scale, factor, i - from, lanes);
            }
            int[] word = new int[4];
            for (; i < to; i += 4) {
                long ctr = (long) i >>> 2;
                block(word, (int) ctr, (int) (ctr >>> 32), c2, c3, k0, k1);
                for (int lane = 0; lane < 4 && i + lane < to; lane++) {
                    factor[i + lane - from] = (word[lane] >>> 8) >= threshold ? scale : 0f;
                }
            }
            i = from;
            for (int end = from + S.loopBound(to - from); i < end; i += L) {
                FloatVector.fromArray(S, v, i).mul(FloatVector.fromArray(S, factor, i - from)).intoArray(out, i);
            }
            for (; i < to; i++) {
                out[i] = v[i] * factor[i - from];
            }
        });
        return out;
    }

    /**
     * The factors of the 4 * LB elements of blocks ctr0 .. ctr0 + LB - 1, written at factor[at..]
     * (w is scratch for 4 * LB words):
     * Philox4x32-10 with one block per 64-bit lane, each 32-bit word zero-extended in its lane so
     * that the 32 x 32 -> 64-bit products of a round are one lanewise multiply. The counters are
     * int element indices / 4, so their high words are 0.
     */
    private static void philoxLanes(int ctr0, int c2, int c3, int k0, int k1, long threshold, float scale,
                                    float[] factor, int at, long[] w) {
        LongVector x0 = LongVector.broadcast(SL, ctr0).addIndex(1);
        LongVector x1 = LongVector.zero(SL);
        LongVector x2 = LongVector.broadcast(SL, c2 & MASK);
        LongVector x3 = LongVector.broadcast(SL, c3 & MASK);
        long key0 = k0 & MASK;
        long key1 = k1 & MASK;
        for (int round = 0; round < 10; round++) {
            LongVector p0 = x0.mul(0xD2511F53L);
            LongVector p1 = x2.mul(0xCD9E8D57L);
            x0 = p1.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, x1)
                    .lanewise(VectorOperators.XOR, key0);
            x1 = p1.lanewise(VectorOperators.AND, MASK);
            x2 = p0.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, x3)
                    .lanewise(VectorOperators.XOR, key1);
            x3 = p0.lanewise(VectorOperators.AND, MASK);
            key0 = (key0 + 0x9E3779B9L) & MASK;
            key1 = (key1 + 0xBB67AE85L) & MASK;
        }
        x0.intoArray(w, 0);
        x1.intoArray(w, LB);
        x2.intoArray(w, 2 * LB);
        x3.intoArray(w, 3 * LB);
        for (int b = 0; b < LB; b++) {
            for (int lane = 0; lane < 4; lane++) {
                factor[at + 4 * b + lane] = (w[lane * LB + b] >>> 8) >= threshold ? scale : 0f;
            }
        }
    }

    /** {@link Philox#block} writing into {@code out} instead of allocating; the same rounds and keys. */
    private static void block(int[] out, int c0, int c1, int c2, int c3, int k0, int k1) {
        for (int round = 0; round < 10; round++) {
            long p0 = (0xD2511F53L) * (c0 & 0xFFFFFFFFL);
            long p1 = (0xCD9E8D57L) * (c2 & 0xFFFFFFFFL);
            int hi0 = (int) (p0 >>> 32);
            int lo0 = (int) p0;
            int hi1 = (int) (p1 >>> 32);
            int lo1 = (int) p1;
            c0 = hi1 ^ c1 ^ k0;
            c1 = lo1;
            c2 = hi0 ^ c3 ^ k1;
            c3 = lo0;
            k0 += 0x9E3779B9;
            k1 += 0xBB67AE85;
        }
        out[0] = c0;
        out[1] = c1;
        out[2] = c2;
        out[3] = c3;
    }
}
