package org.attnkit.random;

/**
 * Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011), the
 * counter-based generator behind dropout and DropConnect on every backend.
 *
 * <p>The stream used by attnkit, which the SIMD and CUDA backends reproduce bit for bit:
 * <ul>
 *   <li>key = (low 32 bits of {@code seed}, high 32 bits of {@code seed});</li>
 *   <li>for element {@code i} (a non-negative long), counter = (low 32 of {@code i >>> 2}, high 32 of
 *       {@code i >>> 2}, low 32 of {@code offset}, high 32 of {@code offset});</li>
 *   <li>the element's 32-bit word is lane {@code i & 3} of the 10-round output block;</li>
 *   <li>its uniform is {@code (word >>> 8) * 2^-24}, in [0, 1) with 24 bits (exact in float32);</li>
 *   <li>an element is kept when its uniform is {@code >= p} (dropped with probability p).</li>
 * </ul>
 * The {@code offset} lets one seed serve many calls (a training step count, a layer index) without
 * overlapping streams.
 */
public final class Philox {
    private static final int M0 = 0xD2511F53;
    private static final int M1 = 0xCD9E8D57;
    private static final int W0 = 0x9E3779B9;
    private static final int W1 = 0xBB67AE85;
    private static final float TWO_POW_MINUS_24 = 1.0f / (1 << 24);

    private Philox() {
    }

    /**
     * One Philox4x32-10 block: the four 32-bit output words for counter (c0, c1, c2, c3) and key
     * (k0, k1).
     */
    public static int[] block(int c0, int c1, int c2, int c3, int k0, int k1) {
        for (int round = 0; round < 10; round++) {
            long p0 = (M0 & 0xFFFFFFFFL) * (c0 & 0xFFFFFFFFL);
            long p1 = (M1 & 0xFFFFFFFFL) * (c2 & 0xFFFFFFFFL);
            int hi0 = (int) (p0 >>> 32);
            int lo0 = (int) p0;
            int hi1 = (int) (p1 >>> 32);
            int lo1 = (int) p1;
            c0 = hi1 ^ c1 ^ k0;
            c1 = lo1;
            c2 = hi0 ^ c3 ^ k1;
            c3 = lo0;
            k0 += W0;
            k1 += W1;
        }
        return new int[] {c0, c1, c2, c3};
    }

    /** The 32-bit word of element {@code index} in the stream (seed, offset). */
    public static int word(long seed, long offset, long index) {
        long ctr = index >>> 2;
        int[] out = block((int) ctr, (int) (ctr >>> 32), (int) offset, (int) (offset >>> 32),
                (int) seed, (int) (seed >>> 32));
        return out[(int) (index & 3)];
    }

    /** The uniform in [0, 1) of element {@code index} in the stream (seed, offset). */
    public static float uniform(long seed, long offset, long index) {
        return (word(seed, offset, index) >>> 8) * TWO_POW_MINUS_24;
    }

    /** Whether element {@code index} survives a drop with probability {@code p}. */
    public static boolean keep(long seed, long offset, long index, double p) {
        return p == 0 || uniform(seed, offset, index) >= p;
    }
}
