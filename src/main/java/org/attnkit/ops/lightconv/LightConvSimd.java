package org.attnkit.ops.lightconv;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.attnkit.backend.CpuPool;
import org.attnkit.random.DropConnect;

/**
 * Vector API kernels of LightConv on raw BTC arrays.
 *
 * <p>Outputs are vectorized across channels. The per-head weights are first expanded to a per-channel
 * table {@code wc[k*C + c] = w[h(c)*K + k]} (K x C floats, L2-resident), so any heads/channels ratio
 * runs the same loop. A register tile of {@value #TILE} time steps reuses each loaded weight vector
 * for eight outputs. Work is split over (batch, time block) tasks, a partition that depends only on
 * the shape, so the result does not depend on the thread count.
 */
final class LightConvSimd {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    static final int TILE = 8;
    private static final int TIME_BLOCK = 64;

    private LightConvSimd() {
    }

    /** Taps of the channel table: K rounded up to a multiple of 4 (the smallest register chunk). */
    static int paddedTaps(int K) {
        return (K + 3) / 4 * 4;
    }

    /**
     * wc[k*C + c] = w[(c / (C/H))*K + k] for k < K, and 0 for the padding taps K <= k < paddedTaps(K):
     * a per-channel copy of the per-head weights.
     */
    static float[] channelTable(float[] w, int C, int H, int K) {
        int R = C / H;
        float[] wc = new float[paddedTaps(K) * C];
        for (int k = 0; k < K; k++) {
            for (int c = 0; c < C; c++) {
                wc[k * C + c] = w[(c / R) * K + k];
            }
        }
        return wc;
    }

    /** The table of the reversed filter (k -> K-1-k), used for dx; padding taps stay zero. */
    static float[] reversed(float[] wc, int C, int K) {
        float[] r = new float[wc.length];
        for (int k = 0; k < K; k++) {
            System.arraycopy(wc, (K - 1 - k) * C, r, k * C, C);
        }
        return r;
    }

    /**
     * y[b,t,c] = bias[c] + sum_k wc[k*C+c] * x[b, t+k-P, c] (zero outside [0,T)), for all b, t, c.
     * {@code bias} may be null.
     */
    static void convolve(float[] x, float[] wc, float[] bias, float[] y, int B, int T, int C, int K, int P) {
        int blocks = (T + TIME_BLOCK - 1) / TIME_BLOCK;
        CpuPool.parallelFor(B * blocks, task -> {
            int b = task / blocks;
            int t0 = (task % blocks) * TIME_BLOCK;
            convolveRows(x, wc, bias, y, b * T * C, t0, Math.min(T, t0 + TIME_BLOCK), T, C, K, P);
        });
    }

    private static void convolveRows(float[] x, float[] wc, float[] bias, float[] y, int base, int t0, int t1,
                                     int T, int C, int K, int P) {
        // A tile reads rows t-P .. t+TILE-1+Kp-1-P (padding taps included): those tiles need no bounds
        // checks. Other rows (sequence edges, T < K) take the bounds-checked row path.
        int Kp = paddedTaps(K);
        int lo = Math.max(t0, P);
        int lastTileStart = Math.min(t1 - TILE, T - Kp + P - TILE + 1);
        int t = t0;
        for (; t < lo; t++) {
            convolveRow(x, wc, bias, y, base, t, T, C, K, P);
        }
        for (; t <= lastTileStart; t += TILE) {
            convolveTile(x, wc, bias, y, base, t, C, K, Kp, P);
        }
        for (; t < t1; t++) {
            convolveRow(x, wc, bias, y, base, t, T, C, K, P);
        }
    }

    /**
     * TILE interior rows starting at t. The taps go in register-resident chunks of 16, 8 or 4 over
     * the table padded with zero taps to {@code Kp} (a multiple of 4); the chunks accumulate in y.
     */
    private static void convolveTile(float[] x, float[] wc, float[] bias, float[] y, int base, int t, int C,
                                     int K, int Kp, int P) {
        for (int k0 = 0; k0 < Kp; ) {
            int n = Kp - k0 >= 16 ? 16 : Kp - k0 >= 8 ? 8 : 4;
            boolean first = k0 == 0;
            if (n == 16) {
                taps16(x, wc, bias, y, base, t, C, k0, P, first);
            } else if (n == 8) {
                taps8(x, wc, bias, y, base, t, C, k0, P, first);
            } else {
                taps4(x, wc, bias, y, base, t, C, k0, P, first);
            }
            k0 += n;
        }
        for (int c = S.loopBound(C); c < C; c++) {
            for (int i = 0; i < TILE; i++) {
                float acc = bias == null ? 0f : bias[c];
                int xr = base + (t + i - P) * C + c;
                for (int k = 0; k < K; k++, xr += C) {
                    acc = Math.fma(x[xr], wc[k * C + c], acc);
                }
                y[base + (t + i) * C + c] = acc;
            }
        }
    }

    /**
     * Taps [k0, k0+16) of 8 interior rows starting at t, for every full channel vector: 16 weight
     * vectors and 8 accumulators stay in registers and each input row is loaded once.
     * {@code first} starts from the bias (or zero), otherwise from the partial sums already in y.
     */
    private static void taps16(float[] x, float[] wc, float[] bias, float[] y, int base, int t, int C, int k0,
                               int P, boolean first) {
        int cv = S.loopBound(C);
        for (int c = 0; c < cv; c += L) {
            FloatVector w0 = FloatVector.fromArray(S, wc, (k0 + 0) * C + c);
            FloatVector w1 = FloatVector.fromArray(S, wc, (k0 + 1) * C + c);
            FloatVector w2 = FloatVector.fromArray(S, wc, (k0 + 2) * C + c);
            FloatVector w3 = FloatVector.fromArray(S, wc, (k0 + 3) * C + c);
            FloatVector w4 = FloatVector.fromArray(S, wc, (k0 + 4) * C + c);
            FloatVector w5 = FloatVector.fromArray(S, wc, (k0 + 5) * C + c);
            FloatVector w6 = FloatVector.fromArray(S, wc, (k0 + 6) * C + c);
            FloatVector w7 = FloatVector.fromArray(S, wc, (k0 + 7) * C + c);
            FloatVector w8 = FloatVector.fromArray(S, wc, (k0 + 8) * C + c);
            FloatVector w9 = FloatVector.fromArray(S, wc, (k0 + 9) * C + c);
            FloatVector w10 = FloatVector.fromArray(S, wc, (k0 + 10) * C + c);
            FloatVector w11 = FloatVector.fromArray(S, wc, (k0 + 11) * C + c);
            FloatVector w12 = FloatVector.fromArray(S, wc, (k0 + 12) * C + c);
            FloatVector w13 = FloatVector.fromArray(S, wc, (k0 + 13) * C + c);
            FloatVector w14 = FloatVector.fromArray(S, wc, (k0 + 14) * C + c);
            FloatVector w15 = FloatVector.fromArray(S, wc, (k0 + 15) * C + c);
            int yr = base + t * C + c;
            FloatVector init = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, c);
            FloatVector a0 = first ? init : FloatVector.fromArray(S, y, yr + 0 * C);
            FloatVector a1 = first ? init : FloatVector.fromArray(S, y, yr + 1 * C);
            FloatVector a2 = first ? init : FloatVector.fromArray(S, y, yr + 2 * C);
            FloatVector a3 = first ? init : FloatVector.fromArray(S, y, yr + 3 * C);
            FloatVector a4 = first ? init : FloatVector.fromArray(S, y, yr + 4 * C);
            FloatVector a5 = first ? init : FloatVector.fromArray(S, y, yr + 5 * C);
            FloatVector a6 = first ? init : FloatVector.fromArray(S, y, yr + 6 * C);
            FloatVector a7 = first ? init : FloatVector.fromArray(S, y, yr + 7 * C);
            int xr = base + (t + k0 - P) * C + c;
            FloatVector xv;
            xv = FloatVector.fromArray(S, x, xr + 0 * C);
            a0 = xv.fma(w0, a0);
            xv = FloatVector.fromArray(S, x, xr + 1 * C);
            a0 = xv.fma(w1, a0);
            a1 = xv.fma(w0, a1);
            xv = FloatVector.fromArray(S, x, xr + 2 * C);
            a0 = xv.fma(w2, a0);
            a1 = xv.fma(w1, a1);
            a2 = xv.fma(w0, a2);
            xv = FloatVector.fromArray(S, x, xr + 3 * C);
            a0 = xv.fma(w3, a0);
            a1 = xv.fma(w2, a1);
            a2 = xv.fma(w1, a2);
            a3 = xv.fma(w0, a3);
            xv = FloatVector.fromArray(S, x, xr + 4 * C);
            a0 = xv.fma(w4, a0);
            a1 = xv.fma(w3, a1);
            a2 = xv.fma(w2, a2);
            a3 = xv.fma(w1, a3);
            a4 = xv.fma(w0, a4);
            xv = FloatVector.fromArray(S, x, xr + 5 * C);
            a0 = xv.fma(w5, a0);
            a1 = xv.fma(w4, a1);
            a2 = xv.fma(w3, a2);
            a3 = xv.fma(w2, a3);
            a4 = xv.fma(w1, a4);
            a5 = xv.fma(w0, a5);
            xv = FloatVector.fromArray(S, x, xr + 6 * C);
            a0 = xv.fma(w6, a0);
            a1 = xv.fma(w5, a1);
            a2 = xv.fma(w4, a2);
            a3 = xv.fma(w3, a3);
            a4 = xv.fma(w2, a4);
            a5 = xv.fma(w1, a5);
            a6 = xv.fma(w0, a6);
            xv = FloatVector.fromArray(S, x, xr + 7 * C);
            a0 = xv.fma(w7, a0);
            a1 = xv.fma(w6, a1);
            a2 = xv.fma(w5, a2);
            a3 = xv.fma(w4, a3);
            a4 = xv.fma(w3, a4);
            a5 = xv.fma(w2, a5);
            a6 = xv.fma(w1, a6);
            a7 = xv.fma(w0, a7);
            xv = FloatVector.fromArray(S, x, xr + 8 * C);
            a0 = xv.fma(w8, a0);
            a1 = xv.fma(w7, a1);
            a2 = xv.fma(w6, a2);
            a3 = xv.fma(w5, a3);
            a4 = xv.fma(w4, a4);
            a5 = xv.fma(w3, a5);
            a6 = xv.fma(w2, a6);
            a7 = xv.fma(w1, a7);
            xv = FloatVector.fromArray(S, x, xr + 9 * C);
            a0 = xv.fma(w9, a0);
            a1 = xv.fma(w8, a1);
            a2 = xv.fma(w7, a2);
            a3 = xv.fma(w6, a3);
            a4 = xv.fma(w5, a4);
            a5 = xv.fma(w4, a5);
            a6 = xv.fma(w3, a6);
            a7 = xv.fma(w2, a7);
            xv = FloatVector.fromArray(S, x, xr + 10 * C);
            a0 = xv.fma(w10, a0);
            a1 = xv.fma(w9, a1);
            a2 = xv.fma(w8, a2);
            a3 = xv.fma(w7, a3);
            a4 = xv.fma(w6, a4);
            a5 = xv.fma(w5, a5);
            a6 = xv.fma(w4, a6);
            a7 = xv.fma(w3, a7);
            xv = FloatVector.fromArray(S, x, xr + 11 * C);
            a0 = xv.fma(w11, a0);
            a1 = xv.fma(w10, a1);
            a2 = xv.fma(w9, a2);
            a3 = xv.fma(w8, a3);
            a4 = xv.fma(w7, a4);
            a5 = xv.fma(w6, a5);
            a6 = xv.fma(w5, a6);
            a7 = xv.fma(w4, a7);
            xv = FloatVector.fromArray(S, x, xr + 12 * C);
            a0 = xv.fma(w12, a0);
            a1 = xv.fma(w11, a1);
            a2 = xv.fma(w10, a2);
            a3 = xv.fma(w9, a3);
            a4 = xv.fma(w8, a4);
            a5 = xv.fma(w7, a5);
            a6 = xv.fma(w6, a6);
            a7 = xv.fma(w5, a7);
            xv = FloatVector.fromArray(S, x, xr + 13 * C);
            a0 = xv.fma(w13, a0);
            a1 = xv.fma(w12, a1);
            a2 = xv.fma(w11, a2);
            a3 = xv.fma(w10, a3);
            a4 = xv.fma(w9, a4);
            a5 = xv.fma(w8, a5);
            a6 = xv.fma(w7, a6);
            a7 = xv.fma(w6, a7);
            xv = FloatVector.fromArray(S, x, xr + 14 * C);
            a0 = xv.fma(w14, a0);
            a1 = xv.fma(w13, a1);
            a2 = xv.fma(w12, a2);
            a3 = xv.fma(w11, a3);
            a4 = xv.fma(w10, a4);
            a5 = xv.fma(w9, a5);
            a6 = xv.fma(w8, a6);
            a7 = xv.fma(w7, a7);
            xv = FloatVector.fromArray(S, x, xr + 15 * C);
            a0 = xv.fma(w15, a0);
            a1 = xv.fma(w14, a1);
            a2 = xv.fma(w13, a2);
            a3 = xv.fma(w12, a3);
            a4 = xv.fma(w11, a4);
            a5 = xv.fma(w10, a5);
            a6 = xv.fma(w9, a6);
            a7 = xv.fma(w8, a7);
            xv = FloatVector.fromArray(S, x, xr + 16 * C);
            a1 = xv.fma(w15, a1);
            a2 = xv.fma(w14, a2);
            a3 = xv.fma(w13, a3);
            a4 = xv.fma(w12, a4);
            a5 = xv.fma(w11, a5);
            a6 = xv.fma(w10, a6);
            a7 = xv.fma(w9, a7);
            xv = FloatVector.fromArray(S, x, xr + 17 * C);
            a2 = xv.fma(w15, a2);
            a3 = xv.fma(w14, a3);
            a4 = xv.fma(w13, a4);
            a5 = xv.fma(w12, a5);
            a6 = xv.fma(w11, a6);
            a7 = xv.fma(w10, a7);
            xv = FloatVector.fromArray(S, x, xr + 18 * C);
            a3 = xv.fma(w15, a3);
            a4 = xv.fma(w14, a4);
            a5 = xv.fma(w13, a5);
            a6 = xv.fma(w12, a6);
            a7 = xv.fma(w11, a7);
            xv = FloatVector.fromArray(S, x, xr + 19 * C);
            a4 = xv.fma(w15, a4);
            a5 = xv.fma(w14, a5);
            a6 = xv.fma(w13, a6);
            a7 = xv.fma(w12, a7);
            xv = FloatVector.fromArray(S, x, xr + 20 * C);
            a5 = xv.fma(w15, a5);
            a6 = xv.fma(w14, a6);
            a7 = xv.fma(w13, a7);
            xv = FloatVector.fromArray(S, x, xr + 21 * C);
            a6 = xv.fma(w15, a6);
            a7 = xv.fma(w14, a7);
            xv = FloatVector.fromArray(S, x, xr + 22 * C);
            a7 = xv.fma(w15, a7);
            a0.intoArray(y, yr + 0 * C);
            a1.intoArray(y, yr + 1 * C);
            a2.intoArray(y, yr + 2 * C);
            a3.intoArray(y, yr + 3 * C);
            a4.intoArray(y, yr + 4 * C);
            a5.intoArray(y, yr + 5 * C);
            a6.intoArray(y, yr + 6 * C);
            a7.intoArray(y, yr + 7 * C);
        }
    }

    /**
     * Taps [k0, k0+8) of 8 interior rows starting at t, for every full channel vector: 8 weight
     * vectors and 8 accumulators stay in registers and each input row is loaded once.
     * {@code first} starts from the bias (or zero), otherwise from the partial sums already in y.
     */
    private static void taps8(float[] x, float[] wc, float[] bias, float[] y, int base, int t, int C, int k0,
                               int P, boolean first) {
        int cv = S.loopBound(C);
        for (int c = 0; c < cv; c += L) {
            FloatVector w0 = FloatVector.fromArray(S, wc, (k0 + 0) * C + c);
            FloatVector w1 = FloatVector.fromArray(S, wc, (k0 + 1) * C + c);
            FloatVector w2 = FloatVector.fromArray(S, wc, (k0 + 2) * C + c);
            FloatVector w3 = FloatVector.fromArray(S, wc, (k0 + 3) * C + c);
            FloatVector w4 = FloatVector.fromArray(S, wc, (k0 + 4) * C + c);
            FloatVector w5 = FloatVector.fromArray(S, wc, (k0 + 5) * C + c);
            FloatVector w6 = FloatVector.fromArray(S, wc, (k0 + 6) * C + c);
            FloatVector w7 = FloatVector.fromArray(S, wc, (k0 + 7) * C + c);
            int yr = base + t * C + c;
            FloatVector init = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, c);
            FloatVector a0 = first ? init : FloatVector.fromArray(S, y, yr + 0 * C);
            FloatVector a1 = first ? init : FloatVector.fromArray(S, y, yr + 1 * C);
            FloatVector a2 = first ? init : FloatVector.fromArray(S, y, yr + 2 * C);
            FloatVector a3 = first ? init : FloatVector.fromArray(S, y, yr + 3 * C);
            FloatVector a4 = first ? init : FloatVector.fromArray(S, y, yr + 4 * C);
            FloatVector a5 = first ? init : FloatVector.fromArray(S, y, yr + 5 * C);
            FloatVector a6 = first ? init : FloatVector.fromArray(S, y, yr + 6 * C);
            FloatVector a7 = first ? init : FloatVector.fromArray(S, y, yr + 7 * C);
            int xr = base + (t + k0 - P) * C + c;
            FloatVector xv;
            xv = FloatVector.fromArray(S, x, xr + 0 * C);
            a0 = xv.fma(w0, a0);
            xv = FloatVector.fromArray(S, x, xr + 1 * C);
            a0 = xv.fma(w1, a0);
            a1 = xv.fma(w0, a1);
            xv = FloatVector.fromArray(S, x, xr + 2 * C);
            a0 = xv.fma(w2, a0);
            a1 = xv.fma(w1, a1);
            a2 = xv.fma(w0, a2);
            xv = FloatVector.fromArray(S, x, xr + 3 * C);
            a0 = xv.fma(w3, a0);
            a1 = xv.fma(w2, a1);
            a2 = xv.fma(w1, a2);
            a3 = xv.fma(w0, a3);
            xv = FloatVector.fromArray(S, x, xr + 4 * C);
            a0 = xv.fma(w4, a0);
            a1 = xv.fma(w3, a1);
            a2 = xv.fma(w2, a2);
            a3 = xv.fma(w1, a3);
            a4 = xv.fma(w0, a4);
            xv = FloatVector.fromArray(S, x, xr + 5 * C);
            a0 = xv.fma(w5, a0);
            a1 = xv.fma(w4, a1);
            a2 = xv.fma(w3, a2);
            a3 = xv.fma(w2, a3);
            a4 = xv.fma(w1, a4);
            a5 = xv.fma(w0, a5);
            xv = FloatVector.fromArray(S, x, xr + 6 * C);
            a0 = xv.fma(w6, a0);
            a1 = xv.fma(w5, a1);
            a2 = xv.fma(w4, a2);
            a3 = xv.fma(w3, a3);
            a4 = xv.fma(w2, a4);
            a5 = xv.fma(w1, a5);
            a6 = xv.fma(w0, a6);
            xv = FloatVector.fromArray(S, x, xr + 7 * C);
            a0 = xv.fma(w7, a0);
            a1 = xv.fma(w6, a1);
            a2 = xv.fma(w5, a2);
            a3 = xv.fma(w4, a3);
            a4 = xv.fma(w3, a4);
            a5 = xv.fma(w2, a5);
            a6 = xv.fma(w1, a6);
            a7 = xv.fma(w0, a7);
            xv = FloatVector.fromArray(S, x, xr + 8 * C);
            a1 = xv.fma(w7, a1);
            a2 = xv.fma(w6, a2);
            a3 = xv.fma(w5, a3);
            a4 = xv.fma(w4, a4);
            a5 = xv.fma(w3, a5);
            a6 = xv.fma(w2, a6);
            a7 = xv.fma(w1, a7);
            xv = FloatVector.fromArray(S, x, xr + 9 * C);
            a2 = xv.fma(w7, a2);
            a3 = xv.fma(w6, a3);
            a4 = xv.fma(w5, a4);
            a5 = xv.fma(w4, a5);
            a6 = xv.fma(w3, a6);
            a7 = xv.fma(w2, a7);
            xv = FloatVector.fromArray(S, x, xr + 10 * C);
            a3 = xv.fma(w7, a3);
            a4 = xv.fma(w6, a4);
            a5 = xv.fma(w5, a5);
            a6 = xv.fma(w4, a6);
            a7 = xv.fma(w3, a7);
            xv = FloatVector.fromArray(S, x, xr + 11 * C);
            a4 = xv.fma(w7, a4);
            a5 = xv.fma(w6, a5);
            a6 = xv.fma(w5, a6);
            a7 = xv.fma(w4, a7);
            xv = FloatVector.fromArray(S, x, xr + 12 * C);
            a5 = xv.fma(w7, a5);
            a6 = xv.fma(w6, a6);
            a7 = xv.fma(w5, a7);
            xv = FloatVector.fromArray(S, x, xr + 13 * C);
            a6 = xv.fma(w7, a6);
            a7 = xv.fma(w6, a7);
            xv = FloatVector.fromArray(S, x, xr + 14 * C);
            a7 = xv.fma(w7, a7);
            a0.intoArray(y, yr + 0 * C);
            a1.intoArray(y, yr + 1 * C);
            a2.intoArray(y, yr + 2 * C);
            a3.intoArray(y, yr + 3 * C);
            a4.intoArray(y, yr + 4 * C);
            a5.intoArray(y, yr + 5 * C);
            a6.intoArray(y, yr + 6 * C);
            a7.intoArray(y, yr + 7 * C);
        }
    }

    /**
     * Taps [k0, k0+4) of 8 interior rows starting at t, for every full channel vector: 4 weight
     * vectors and 8 accumulators stay in registers and each input row is loaded once.
     * {@code first} starts from the bias (or zero), otherwise from the partial sums already in y.
     */
    private static void taps4(float[] x, float[] wc, float[] bias, float[] y, int base, int t, int C, int k0,
                               int P, boolean first) {
        int cv = S.loopBound(C);
        for (int c = 0; c < cv; c += L) {
            FloatVector w0 = FloatVector.fromArray(S, wc, (k0 + 0) * C + c);
            FloatVector w1 = FloatVector.fromArray(S, wc, (k0 + 1) * C + c);
            FloatVector w2 = FloatVector.fromArray(S, wc, (k0 + 2) * C + c);
            FloatVector w3 = FloatVector.fromArray(S, wc, (k0 + 3) * C + c);
            int yr = base + t * C + c;
            FloatVector init = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, c);
            FloatVector a0 = first ? init : FloatVector.fromArray(S, y, yr + 0 * C);
            FloatVector a1 = first ? init : FloatVector.fromArray(S, y, yr + 1 * C);
            FloatVector a2 = first ? init : FloatVector.fromArray(S, y, yr + 2 * C);
            FloatVector a3 = first ? init : FloatVector.fromArray(S, y, yr + 3 * C);
            FloatVector a4 = first ? init : FloatVector.fromArray(S, y, yr + 4 * C);
            FloatVector a5 = first ? init : FloatVector.fromArray(S, y, yr + 5 * C);
            FloatVector a6 = first ? init : FloatVector.fromArray(S, y, yr + 6 * C);
            FloatVector a7 = first ? init : FloatVector.fromArray(S, y, yr + 7 * C);
            int xr = base + (t + k0 - P) * C + c;
            FloatVector xv;
            xv = FloatVector.fromArray(S, x, xr + 0 * C);
            a0 = xv.fma(w0, a0);
            xv = FloatVector.fromArray(S, x, xr + 1 * C);
            a0 = xv.fma(w1, a0);
            a1 = xv.fma(w0, a1);
            xv = FloatVector.fromArray(S, x, xr + 2 * C);
            a0 = xv.fma(w2, a0);
            a1 = xv.fma(w1, a1);
            a2 = xv.fma(w0, a2);
            xv = FloatVector.fromArray(S, x, xr + 3 * C);
            a0 = xv.fma(w3, a0);
            a1 = xv.fma(w2, a1);
            a2 = xv.fma(w1, a2);
            a3 = xv.fma(w0, a3);
            xv = FloatVector.fromArray(S, x, xr + 4 * C);
            a1 = xv.fma(w3, a1);
            a2 = xv.fma(w2, a2);
            a3 = xv.fma(w1, a3);
            a4 = xv.fma(w0, a4);
            xv = FloatVector.fromArray(S, x, xr + 5 * C);
            a2 = xv.fma(w3, a2);
            a3 = xv.fma(w2, a3);
            a4 = xv.fma(w1, a4);
            a5 = xv.fma(w0, a5);
            xv = FloatVector.fromArray(S, x, xr + 6 * C);
            a3 = xv.fma(w3, a3);
            a4 = xv.fma(w2, a4);
            a5 = xv.fma(w1, a5);
            a6 = xv.fma(w0, a6);
            xv = FloatVector.fromArray(S, x, xr + 7 * C);
            a4 = xv.fma(w3, a4);
            a5 = xv.fma(w2, a5);
            a6 = xv.fma(w1, a6);
            a7 = xv.fma(w0, a7);
            xv = FloatVector.fromArray(S, x, xr + 8 * C);
            a5 = xv.fma(w3, a5);
            a6 = xv.fma(w2, a6);
            a7 = xv.fma(w1, a7);
            xv = FloatVector.fromArray(S, x, xr + 9 * C);
            a6 = xv.fma(w3, a6);
            a7 = xv.fma(w2, a7);
            xv = FloatVector.fromArray(S, x, xr + 10 * C);
            a7 = xv.fma(w3, a7);
            a0.intoArray(y, yr + 0 * C);
            a1.intoArray(y, yr + 1 * C);
            a2.intoArray(y, yr + 2 * C);
            a3.intoArray(y, yr + 3 * C);
            a4.intoArray(y, yr + 4 * C);
            a5.intoArray(y, yr + 5 * C);
            a6.intoArray(y, yr + 6 * C);
            a7.intoArray(y, yr + 7 * C);
        }
    }

    /** One row with bounds-checked taps (sequence edges, T < K). */
    private static void convolveRow(float[] x, float[] wc, float[] bias, float[] y, int base, int t, int T,
                                    int C, int K, int P) {
        int kLo = Math.max(0, P - t);
        int kHi = Math.min(K, T + P - t);
        int cv = S.loopBound(C);
        int c = 0;
        for (; c < cv; c += L) {
            FloatVector acc = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, c);
            for (int k = kLo; k < kHi; k++) {
                acc = FloatVector.fromArray(S, x, base + (t + k - P) * C + c)
                        .fma(FloatVector.fromArray(S, wc, k * C + c), acc);
            }
            acc.intoArray(y, base + t * C + c);
        }
        for (; c < C; c++) {
            float acc = bias == null ? 0f : bias[c];
            for (int k = kLo; k < kHi; k++) {
                acc = Math.fma(x[base + (t + k - P) * C + c], wc[k * C + c], acc);
            }
            y[base + t * C + c] = acc;
        }
    }

    /**
     * Per-task partial sums of the weight gradient and the bias gradient, over (batch, time block)
     * tasks: {@code dwc[task][k*C + c] = sum_t dy[b,t,c] * x[b,t+k-P,c]} and
     * {@code dbc[task][c] = sum_t dy[b,t,c]} over the task's rows. The dx of the same rows is computed
     * in the same task (while its dy rows are in cache) when {@code dx} is non-null, with the reversed
     * table {@code wcReversed}. Partial sums are float within a task (at most 64 rows) and are reduced
     * over tasks in task order, in double, by the caller: the result does not depend on threads.
     */
    static float[][] backwardBlocks(float[] x, float[] dy, float[] wcReversed, float[] dx, boolean needWeight,
                                    boolean needBias, int B, int T, int C, int K, int P) {
        int blocks = (T + TIME_BLOCK - 1) / TIME_BLOCK;
        int tasks = B * blocks;
        float[][] partials = new float[2 * tasks][];
        CpuPool.parallelFor(tasks, task -> {
            int b = task / blocks;
            int t0 = (task % blocks) * TIME_BLOCK;
            int t1 = Math.min(T, t0 + TIME_BLOCK);
            int base = b * T * C;
            if (dx != null) {
                convolveRows(dy, wcReversed, null, dx, base, t0, t1, T, C, K, K - 1 - P);
            }
            if (needWeight) {
                float[] dw = new float[K * C];
                weightGradientRows(x, dy, dw, base, t0, t1, T, C, K, P);
                partials[2 * task] = dw;
            }
            if (needBias) {
                float[] db = new float[C];
                for (int t = t0; t < t1; t++) {
                    addRow(dy, base + t * C, db, C);
                }
                partials[2 * task + 1] = db;
            }
        });
        return partials;
    }

    /** dw[k*C + c] += sum_{t in [t0,t1)} dy[t,c] * x[t+k-P,c], four dy rows held in registers. */
    private static void weightGradientRows(float[] x, float[] dy, float[] dw, int base, int t0, int t1, int T,
                                           int C, int K, int P) {
        int cv = S.loopBound(C);
        int t = t0;
        // Groups of four rows whose taps are all in range, then single rows with bounds.
        for (; t + 4 <= t1 && t - P >= 0 && t + 3 + K - 1 - P < T; t += 4) {
            int c = 0;
            for (; c < cv; c += L) {
                int d = base + t * C + c;
                FloatVector g0 = FloatVector.fromArray(S, dy, d);
                FloatVector g1 = FloatVector.fromArray(S, dy, d + C);
                FloatVector g2 = FloatVector.fromArray(S, dy, d + 2 * C);
                FloatVector g3 = FloatVector.fromArray(S, dy, d + 3 * C);
                int xr = base + (t - P) * C + c;
                for (int k = 0; k < K; k++, xr += C) {
                    FloatVector acc = FloatVector.fromArray(S, dw, k * C + c);
                    acc = FloatVector.fromArray(S, x, xr).fma(g0, acc);
                    acc = FloatVector.fromArray(S, x, xr + C).fma(g1, acc);
                    acc = FloatVector.fromArray(S, x, xr + 2 * C).fma(g2, acc);
                    acc = FloatVector.fromArray(S, x, xr + 3 * C).fma(g3, acc);
                    acc.intoArray(dw, k * C + c);
                }
            }
            for (; c < C; c++) {
                for (int i = 0; i < 4; i++) {
                    float g = dy[base + (t + i) * C + c];
                    for (int k = 0; k < K; k++) {
                        dw[k * C + c] = Math.fma(x[base + (t + i + k - P) * C + c], g, dw[k * C + c]);
                    }
                }
            }
        }
        for (; t < t1; t++) {
            int kLo = Math.max(0, P - t);
            int kHi = Math.min(K, T + P - t);
            int c = 0;
            for (; c < cv; c += L) {
                FloatVector g = FloatVector.fromArray(S, dy, base + t * C + c);
                for (int k = kLo; k < kHi; k++) {
                    FloatVector.fromArray(S, x, base + (t + k - P) * C + c)
                            .fma(g, FloatVector.fromArray(S, dw, k * C + c)).intoArray(dw, k * C + c);
                }
            }
            for (; c < C; c++) {
                float g = dy[base + t * C + c];
                for (int k = kLo; k < kHi; k++) {
                    dw[k * C + c] = Math.fma(x[base + (t + k - P) * C + c], g, dw[k * C + c]);
                }
            }
        }
    }

    /** acc[c] += v[from + c] for c in [0, C). */
    private static void addRow(float[] v, int from, float[] acc, int C) {
        int cv = S.loopBound(C);
        int c = 0;
        for (; c < cv; c += L) {
            FloatVector.fromArray(S, v, from + c).add(FloatVector.fromArray(S, acc, c)).intoArray(acc, c);
        }
        for (; c < C; c++) {
            acc[c] += v[from + c];
        }
    }

    // ------------------------------------------------------------------ DropConnect scope POSITION
    // Each (b, t, h, k) has its own mask bit, so the weights change from row to row: these paths
    // draw the row's H x K factors and run head by head, a scalar weight times a run of R channels.

    /** y = conv(x) with per-position DropConnect on the normalized weights wn[H*K]. */
    static void convolvePosition(float[] x, float[] wn, DropConnect drop, float[] bias, float[] y, int B, int T,
                                 int C, int H, int K, int P) {
        int R = C / H;
        int blocks = (T + TIME_BLOCK - 1) / TIME_BLOCK;
        CpuPool.parallelFor(B * blocks, task -> {
            int b = task / blocks;
            int t0 = (task % blocks) * TIME_BLOCK;
            int t1 = Math.min(T, t0 + TIME_BLOCK);
            for (int t = t0; t < t1; t++) {
                int yr = (b * T + t) * C;
                if (bias != null) {
                    System.arraycopy(bias, 0, y, yr, C);
                }
                for (int k = Math.max(0, P - t); k < Math.min(K, T + P - t); k++) {
                    int xr = (b * T + t + k - P) * C;
                    for (int h = 0; h < H; h++) {
                        float w = (float) (wn[h * K + k]
                                * drop.factor(DropConnect.positionIndex(b, t, h, k, T, H, K)));
                        axpy(w, x, xr + h * R, y, yr + h * R, R);
                    }
                }
            }
        });
    }

    /** dx[s] = sum_k wt[b, s-k+P, h, k] dy[s-k+P] (a gather, so tasks write only their own rows). */
    static void inputGradientPosition(float[] dy, float[] wn, DropConnect drop, float[] dx, int B, int T, int C,
                                      int H, int K, int P) {
        int R = C / H;
        int blocks = (T + TIME_BLOCK - 1) / TIME_BLOCK;
        CpuPool.parallelFor(B * blocks, task -> {
            int b = task / blocks;
            int s0 = (task % blocks) * TIME_BLOCK;
            int s1 = Math.min(T, s0 + TIME_BLOCK);
            for (int s = s0; s < s1; s++) {
                int dxr = (b * T + s) * C;
                for (int k = 0; k < K; k++) {
                    int t = s - k + P;
                    if (t < 0 || t >= T) {
                        continue;
                    }
                    int gr = (b * T + t) * C;
                    for (int h = 0; h < H; h++) {
                        float w = (float) (wn[h * K + k]
                                * drop.factor(DropConnect.positionIndex(b, t, h, k, T, H, K)));
                        axpy(w, dy, gr + h * R, dx, dxr + h * R, R);
                    }
                }
            }
        });
    }

    /**
     * Per-task partials of the gradient of the normalized weights through the POSITION mask:
     * {@code out[task][h*K+k] = sum_t factor(b,t,h,k) * sum_{c in h} dy[b,t,c] x[b,t+k-P,c]}, in
     * double, to be summed over tasks in order.
     */
    static double[][] weightGradientPosition(float[] x, float[] dy, DropConnect drop, int B, int T, int C, int H,
                                             int K, int P) {
        int R = C / H;
        int blocks = (T + TIME_BLOCK - 1) / TIME_BLOCK;
        double[][] partials = new double[B * blocks][];
        CpuPool.parallelFor(B * blocks, task -> {
            int b = task / blocks;
            int t0 = (task % blocks) * TIME_BLOCK;
            int t1 = Math.min(T, t0 + TIME_BLOCK);
            double[] dw = new double[H * K];
            for (int t = t0; t < t1; t++) {
                int gr = (b * T + t) * C;
                for (int k = Math.max(0, P - t); k < Math.min(K, T + P - t); k++) {
                    int xr = (b * T + t + k - P) * C;
                    for (int h = 0; h < H; h++) {
                        double f = drop.factor(DropConnect.positionIndex(b, t, h, k, T, H, K));
                        if (f != 0) {
                            dw[h * K + k] += f * dot(dy, gr + h * R, x, xr + h * R, R);
                        }
                    }
                }
            }
            partials[task] = dw;
        });
        return partials;
    }

    /** dst[dOff + i] += w * src[sOff + i] for i in [0, n). */
    private static void axpy(float w, float[] src, int sOff, float[] dst, int dOff, int n) {
        FloatVector wv = FloatVector.broadcast(S, w);
        int bound = S.loopBound(n);
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector.fromArray(S, src, sOff + i).fma(wv, FloatVector.fromArray(S, dst, dOff + i))
                    .intoArray(dst, dOff + i);
        }
        for (; i < n; i++) {
            dst[dOff + i] = Math.fma(w, src[sOff + i], dst[dOff + i]);
        }
    }

    /** sum_i a[aOff + i] * b[bOff + i] for i in [0, n), float lanes reduced at the end. */
    private static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        FloatVector acc = FloatVector.zero(S);
        int bound = S.loopBound(n);
        int i = 0;
        for (; i < bound; i += L) {
            acc = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), acc);
        }
        float s = acc.reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
        for (; i < n; i++) {
            s = Math.fma(a[aOff + i], b[bOff + i], s);
        }
        return s;
    }
}
