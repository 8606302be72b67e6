package org.attnkit.bench;

/**
 * The sizes of one benchmark case: batch B, time T, channels C (the model width d), heads H and
 * kernel size K. Every operator reads the sizes it needs from here (see {@link BenchOp} for how each
 * maps them onto its tensors) and ignores the others.
 */
public record BenchShape(int B, int T, int C, int H, int K) {
    /** The headline shape: B=8 T=512 C=512 H=8 K=31. */
    public static final BenchShape DEFAULT = new BenchShape(8, 512, 512, 8, 31);
    /** Small enough that every op and backend, the reference included, runs in milliseconds. */
    public static final BenchShape QUICK = new BenchShape(2, 64, 64, 4, 7);

    public BenchShape {
        if (B < 1 || T < 1 || C < 1 || H < 1 || K < 1) {
            throw new IllegalArgumentException("B, T, C, H and K must all be >= 1, got B=" + B + " T=" + T + " C=" + C
                    + " H=" + H + " K=" + K);
        }
        if (C % H != 0) {
            throw new IllegalArgumentException("C = " + C + " must be a multiple of H = " + H
                    + " (each head owns C/H channels)");
        }
    }

    /** N = B*T, the number of tokens. */
    public long tokens() {
        return (long) B * T;
    }

    public BenchShape withB(int b) {
        return new BenchShape(b, T, C, H, K);
    }

    public BenchShape withT(int t) {
        return new BenchShape(B, t, C, H, K);
    }

    @Override
    public String toString() {
        return "B=" + B + " T=" + T + " C=" + C + " H=" + H + " K=" + K;
    }
}
