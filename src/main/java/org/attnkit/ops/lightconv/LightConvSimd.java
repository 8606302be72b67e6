package org.attnkit.ops.lightconv;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.attnkit.backend.CpuPool;
import org.attnkit.backend.VectorMath;
import org.attnkit.random.DropConnect;

/**
 * Vector API kernels of LightConv on raw BTC arrays.
 *
 * <p>Work is split over (batch, time block) tasks, a partition that depends only on the shape, so the
 * result does not depend on the thread count. Inside a task the channels go one vector (L channels)
 * at a time, through panels: the block's input rows for those channels, with the K-1 halo rows and
 * zeros outside [0, T), are copied into a contiguous panel (rows L floats apart). Read in place, rows
 * C floats apart (a power of two, typically) fall into a few L1 sets and evict each other; the panel
 * stays in L1, and its zero rows make sequence edges, T < K and P >= T need no special path. Outputs
 * are computed in register tiles of {@value #TILE} rows by the generated {@code taps} methods, with
 * the weights of a chunk of 8 (or 4) taps held in registers ({@link #weightPanels}: per channel
 * vector, the taps padded with zeros to a multiple of 4). On B=8 T=512 C=512 K=31, one thread, the
 * forward went from 3.3 ms (in place, 8-row tiles) to 2.7 ms (panels, 16-row tiles).
 */
final class LightConvSimd {
    static final VectorSpecies<Float> S = VectorMath.S;
    private static final int L = S.length();
    static final int TILE = 16;
    /** Rows per register tile of the weight gradient. */
    private static final int TILE_G = 8;
    private static final int TIME_BLOCK = 64;

    private LightConvSimd() {
    }

    /** Taps of a weight panel: K rounded up to a multiple of 4 (the smallest register chunk). */
    static int paddedTaps(int K) {
        return (K + 3) / 4 * 4;
    }

    /** Number of channel vectors covering C channels (the last one zero-padded). */
    static int channelVectors(int C) {
        return (C + L - 1) / L;
    }

    /**
     * Weight panels: wp[(v*Kp + k)*L + lane] = w[h(c)*K + k] for channel c = v*L + lane, with zeros
     * for padding taps (k >= K) and padding channels (c >= C). w is [H*K], head-major.
     */
    static float[] weightPanels(float[] w, int C, int H, int K) {
        int R = C / H;
        int kp = paddedTaps(K);
        float[] wp = new float[channelVectors(C) * kp * L];
        for (int c = 0; c < C; c++) {
            int v = c / L;
            int lane = c % L;
            for (int k = 0; k < K; k++) {
                wp[(v * kp + k) * L + lane] = w[(c / R) * K + k];
            }
        }
        return wp;
    }

    /** The per-head weights with each kernel reversed (k -> K-1-k): dx is the convolution of dy with them. */
    static float[] reversedWeights(float[] w, int H, int K) {
        float[] r = new float[w.length];
        for (int h = 0; h < H; h++) {
            for (int k = 0; k < K; k++) {
                r[h * K + k] = w[h * K + K - 1 - k];
            }
        }
        return r;
    }

    /**
     * y[b,t,c] = bias[c] + sum_k w[h(c),k] * x[b, t+k-P, c] (zero outside [0,T)), for all b, t, c,
     * with the weights as {@link #weightPanels}. {@code bias} may be null.
     */
    static void convolve(float[] x, float[] wp, float[] bias, float[] y, int B, int T, int C, int K, int P) {
        int blocks = (T + TIME_BLOCK - 1) / TIME_BLOCK;
        float[] biasPanel = bias == null ? null : padded(bias, channelVectors(C) * L);
        CpuPool.parallelFor(B * blocks, task -> {
            int b = task / blocks;
            int t0 = (task % blocks) * TIME_BLOCK;
            Panels p = new Panels(K);
            for (int v = 0; v < channelVectors(C); v++) {
                convolveBlock(x, wp, biasPanel, y, p, b, t0, Math.min(T, t0 + TIME_BLOCK), T, C, K, P, v);
            }
        });
    }

    /** Per-task scratch: the input panel and the output panel of one channel vector. */
    private static final class Panels {
        final float[] xp; // [TIME_BLOCK + Kp - 1, L]: input rows t0-P .. t0-P+TIME_BLOCK+Kp-2
        final float[] yp; // [TIME_BLOCK, L]
        final float[] gp; // [TIME_BLOCK, L]: dy rows, for the weight gradient

        Panels(int K) {
            xp = new float[(TIME_BLOCK + paddedTaps(K) - 1) * L];
            yp = new float[TIME_BLOCK * L];
            gp = new float[TIME_BLOCK * L];
        }
    }

    /** Rows [t0, t1) of channel vector v: pack, convolve in tiles, unpack. */
    private static void convolveBlock(float[] x, float[] wp, float[] biasPanel, float[] y, Panels p, int b, int t0,
                                      int t1, int T, int C, int K, int P, int v) {
        int kp = paddedTaps(K);
        int tiles = (t1 - t0 + TILE - 1) / TILE;
        pack(x, p.xp, b, t0 - P, tiles * TILE + kp - 1, T, C, v);
        for (int k0 = 0; k0 < kp; ) {
            int n = kp - k0 >= 8 ? 8 : 4;
            int wOff = (v * kp + k0) * L;
            if (n == 8) {
                taps8(p.xp, wp, wOff, k0, p.yp, tiles, biasPanel, v * L, k0 == 0);
            } else {
                taps4(p.xp, wp, wOff, k0, p.yp, tiles, biasPanel, v * L, k0 == 0);
            }
            k0 += n;
        }
        unpack(p.yp, y, b, t0, t1 - t0, T, C, v);
    }

    /**
     * panel[r*L + lane] = src[b, first + r, v*L + lane] for r < rows, and 0 where the time falls outside
     * [0, T) or the channel outside [0, C).
     */
    private static void pack(float[] src, float[] panel, int b, int first, int rows, int T, int C, int v) {
        int c0 = v * L;
        int width = Math.min(L, C - c0);
        for (int r = 0; r < rows; r++) {
            int t = first + r;
            int at = r * L;
            if (t < 0 || t >= T) {
                java.util.Arrays.fill(panel, at, at + L, 0f);
            } else if (width == L) {
                FloatVector.fromArray(S, src, (b * T + t) * C + c0).intoArray(panel, at);
            } else {
                System.arraycopy(src, (b * T + t) * C + c0, panel, at, width);
                java.util.Arrays.fill(panel, at + width, at + L, 0f);
            }
        }
    }

    /** dst[b, t0 + r, v*L + lane] = panel[r*L + lane] for r < rows and channels inside [0, C). */
    private static void unpack(float[] panel, float[] dst, int b, int t0, int rows, int T, int C, int v) {
        int c0 = v * L;
        int width = Math.min(L, C - c0);
        for (int r = 0; r < rows; r++) {
            int at = (b * T + t0 + r) * C + c0;
            if (width == L) {
                FloatVector.fromArray(S, panel, r * L).intoArray(dst, at);
            } else {
                System.arraycopy(panel, r * L, dst, at, width);
            }
        }
    }

    private static float[] padded(float[] v, int n) {
        float[] p = new float[n];
        System.arraycopy(v, 0, p, 0, v.length);
        return p;
    }

    /**
     * Backward over (batch, time block) tasks: the dx of the task's rows (when {@code dx} is non-null,
     * with {@code wpReversed} = weight panels of {@link #reversedWeights}), and per-task partial sums
     * {@code dwc[task][k*C + c] = sum_t dy[b,t,c] * x[b,t+k-P,c]} and {@code dbc[task][c] = sum_t dy[b,t,c]}
     * over its rows, returned as {@code partials[2*task]} and {@code partials[2*task + 1]}. Partial sums
     * are float within a task (at most {@value #TIME_BLOCK} rows) and are reduced over tasks in task
     * order, in double, by the caller: the result does not depend on the thread count.
     */
    static float[][] backwardBlocks(float[] x, float[] dy, float[] wpReversed, float[] dx, boolean needWeight,
                                    boolean needBias, int B, int T, int C, int K, int P) {
        int blocks = (T + TIME_BLOCK - 1) / TIME_BLOCK;
        int tasks = B * blocks;
        float[][] partials = new float[2 * tasks][];
        CpuPool.parallelFor(tasks, task -> {
            int b = task / blocks;
            int t0 = (task % blocks) * TIME_BLOCK;
            int t1 = Math.min(T, t0 + TIME_BLOCK);
            Panels p = new Panels(K);
            float[] dw = needWeight ? new float[K * C] : null;
            float[] db = needBias ? new float[C] : null;
            float[] dwp = new float[paddedTaps(K) * L];
            for (int v = 0; v < channelVectors(C); v++) {
                if (dx != null) {
                    convolveBlock(dy, wpReversed, null, dx, p, b, t0, t1, T, C, K, K - 1 - P, v);
                }
                int rows = t1 - t0;
                int tiles = (rows + TILE_G - 1) / TILE_G;
                if (needWeight || needBias) {
                    // dy rows t0 .. t1-1 as a panel; rows past the block are zero so that whole tiles
                    // add nothing for them.
                    pack(dy, p.gp, b, t0, rows, T, C, v);
                    java.util.Arrays.fill(p.gp, rows * L, tiles * TILE_G * L, 0f);
                }
                if (needWeight) { // the input rows t0-P .. that the taps of those dy rows read
                    pack(x, p.xp, b, t0 - P, tiles * TILE_G + paddedTaps(K) - 1, T, C, v);
                }
                if (needWeight) {
                    java.util.Arrays.fill(dwp, 0f);
                    for (int k0 = 0; k0 < paddedTaps(K); ) {
                        if (paddedTaps(K) - k0 >= 8) {
                            tapGradient8(p.xp, p.gp, dwp, k0, tiles);
                            k0 += 8;
                        } else {
                            tapGradient4(p.xp, p.gp, dwp, k0, tiles);
                            k0 += 4;
                        }
                    }
                    scatterTaps(dwp, dw, K, C, v);
                }
                if (needBias) {
                    FloatVector s = FloatVector.zero(S);
                    for (int r = 0; r < rows; r++) {
                        s = s.add(FloatVector.fromArray(S, p.gp, r * L));
                    }
                    int width = Math.min(L, C - v * L);
                    for (int lane = 0; lane < width; lane++) {
                        db[v * L + lane] = s.lane(lane);
                    }
                }
            }
            partials[2 * task] = dw;
            partials[2 * task + 1] = db;
        });
        return partials;
    }

    /** dw[k*C + v*L + lane] = dwp[k*L + lane] for the channels of vector v inside [0, C). */
    private static void scatterTaps(float[] dwp, float[] dw, int K, int C, int v) {
        int width = Math.min(L, C - v * L);
        for (int k = 0; k < K; k++) {
            System.arraycopy(dwp, k * L, dw, k * C + v * L, width);
        }
    }

    // ---- generated by tools/gen_lightconv_taps.py: edit the generator, not these methods ----

    /**
     * Taps [k0, k0+8) of 16-row tiles of one channel vector, on panels (rows L floats apart): 8
     * weight vectors stay in registers across the tiles, each tile keeps 16 accumulators in
     * registers and loads each of its input rows once. Output row r reads panel rows r+k0 .. r+k0+7.
     * {@code first} starts from the bias vector at {@code bias[biasOff]} (zero when bias is null),
     * otherwise from the partial sums already in yp. (No FloatVector parameters: a vector whose exact
     * class C2 cannot see is not intrinsified, and every operation on it would box.)
     */
    private static void taps8(float[] xp, float[] wp, int wOff, int k0, float[] yp, int tiles, float[] bias,
                               int biasOff, boolean first) {
        FloatVector init = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, biasOff);
        FloatVector w0 = FloatVector.fromArray(S, wp, wOff + 0 * L);
        FloatVector w1 = FloatVector.fromArray(S, wp, wOff + 1 * L);
        FloatVector w2 = FloatVector.fromArray(S, wp, wOff + 2 * L);
        FloatVector w3 = FloatVector.fromArray(S, wp, wOff + 3 * L);
        FloatVector w4 = FloatVector.fromArray(S, wp, wOff + 4 * L);
        FloatVector w5 = FloatVector.fromArray(S, wp, wOff + 5 * L);
        FloatVector w6 = FloatVector.fromArray(S, wp, wOff + 6 * L);
        FloatVector w7 = FloatVector.fromArray(S, wp, wOff + 7 * L);
        for (int tile = 0; tile < tiles; tile++) {
            int yr = tile * 16 * L;
            FloatVector a0 = first ? init : FloatVector.fromArray(S, yp, yr + 0 * L);
            FloatVector a1 = first ? init : FloatVector.fromArray(S, yp, yr + 1 * L);
            FloatVector a2 = first ? init : FloatVector.fromArray(S, yp, yr + 2 * L);
            FloatVector a3 = first ? init : FloatVector.fromArray(S, yp, yr + 3 * L);
            FloatVector a4 = first ? init : FloatVector.fromArray(S, yp, yr + 4 * L);
            FloatVector a5 = first ? init : FloatVector.fromArray(S, yp, yr + 5 * L);
            FloatVector a6 = first ? init : FloatVector.fromArray(S, yp, yr + 6 * L);
            FloatVector a7 = first ? init : FloatVector.fromArray(S, yp, yr + 7 * L);
            FloatVector a8 = first ? init : FloatVector.fromArray(S, yp, yr + 8 * L);
            FloatVector a9 = first ? init : FloatVector.fromArray(S, yp, yr + 9 * L);
            FloatVector a10 = first ? init : FloatVector.fromArray(S, yp, yr + 10 * L);
            FloatVector a11 = first ? init : FloatVector.fromArray(S, yp, yr + 11 * L);
            FloatVector a12 = first ? init : FloatVector.fromArray(S, yp, yr + 12 * L);
            FloatVector a13 = first ? init : FloatVector.fromArray(S, yp, yr + 13 * L);
            FloatVector a14 = first ? init : FloatVector.fromArray(S, yp, yr + 14 * L);
            FloatVector a15 = first ? init : FloatVector.fromArray(S, yp, yr + 15 * L);
            int xr = (tile * 16 + k0) * L;
            FloatVector xv;
            xv = FloatVector.fromArray(S, xp, xr + 0 * L);
            a0 = xv.fma(w0, a0);
            xv = FloatVector.fromArray(S, xp, xr + 1 * L);
            a0 = xv.fma(w1, a0);
            a1 = xv.fma(w0, a1);
            xv = FloatVector.fromArray(S, xp, xr + 2 * L);
            a0 = xv.fma(w2, a0);
            a1 = xv.fma(w1, a1);
            a2 = xv.fma(w0, a2);
            xv = FloatVector.fromArray(S, xp, xr + 3 * L);
            a0 = xv.fma(w3, a0);
            a1 = xv.fma(w2, a1);
            a2 = xv.fma(w1, a2);
            a3 = xv.fma(w0, a3);
            xv = FloatVector.fromArray(S, xp, xr + 4 * L);
            a0 = xv.fma(w4, a0);
            a1 = xv.fma(w3, a1);
            a2 = xv.fma(w2, a2);
            a3 = xv.fma(w1, a3);
            a4 = xv.fma(w0, a4);
            xv = FloatVector.fromArray(S, xp, xr + 5 * L);
            a0 = xv.fma(w5, a0);
            a1 = xv.fma(w4, a1);
            a2 = xv.fma(w3, a2);
            a3 = xv.fma(w2, a3);
            a4 = xv.fma(w1, a4);
            a5 = xv.fma(w0, a5);
            xv = FloatVector.fromArray(S, xp, xr + 6 * L);
            a0 = xv.fma(w6, a0);
            a1 = xv.fma(w5, a1);
            a2 = xv.fma(w4, a2);
            a3 = xv.fma(w3, a3);
            a4 = xv.fma(w2, a4);
            a5 = xv.fma(w1, a5);
            a6 = xv.fma(w0, a6);
            xv = FloatVector.fromArray(S, xp, xr + 7 * L);
            a0 = xv.fma(w7, a0);
            a1 = xv.fma(w6, a1);
            a2 = xv.fma(w5, a2);
            a3 = xv.fma(w4, a3);
            a4 = xv.fma(w3, a4);
            a5 = xv.fma(w2, a5);
            a6 = xv.fma(w1, a6);
            a7 = xv.fma(w0, a7);
            xv = FloatVector.fromArray(S, xp, xr + 8 * L);
            a1 = xv.fma(w7, a1);
            a2 = xv.fma(w6, a2);
            a3 = xv.fma(w5, a3);
            a4 = xv.fma(w4, a4);
            a5 = xv.fma(w3, a5);
            a6 = xv.fma(w2, a6);
            a7 = xv.fma(w1, a7);
            a8 = xv.fma(w0, a8);
            xv = FloatVector.fromArray(S, xp, xr + 9 * L);
            a2 = xv.fma(w7, a2);
            a3 = xv.fma(w6, a3);
            a4 = xv.fma(w5, a4);
            a5 = xv.fma(w4, a5);
            a6 = xv.fma(w3, a6);
            a7 = xv.fma(w2, a7);
            a8 = xv.fma(w1, a8);
            a9 = xv.fma(w0, a9);
            xv = FloatVector.fromArray(S, xp, xr + 10 * L);
            a3 = xv.fma(w7, a3);
            a4 = xv.fma(w6, a4);
            a5 = xv.fma(w5, a5);
            a6 = xv.fma(w4, a6);
            a7 = xv.fma(w3, a7);
            a8 = xv.fma(w2, a8);
            a9 = xv.fma(w1, a9);
            a10 = xv.fma(w0, a10);
            xv = FloatVector.fromArray(S, xp, xr + 11 * L);
            a4 = xv.fma(w7, a4);
            a5 = xv.fma(w6, a5);
            a6 = xv.fma(w5, a6);
            a7 = xv.fma(w4, a7);
            a8 = xv.fma(w3, a8);
            a9 = xv.fma(w2, a9);
            a10 = xv.fma(w1, a10);
            a11 = xv.fma(w0, a11);
            xv = FloatVector.fromArray(S, xp, xr + 12 * L);
            a5 = xv.fma(w7, a5);
            a6 = xv.fma(w6, a6);
            a7 = xv.fma(w5, a7);
            a8 = xv.fma(w4, a8);
            a9 = xv.fma(w3, a9);
            a10 = xv.fma(w2, a10);
            a11 = xv.fma(w1, a11);
            a12 = xv.fma(w0, a12);
            xv = FloatVector.fromArray(S, xp, xr + 13 * L);
            a6 = xv.fma(w7, a6);
            a7 = xv.fma(w6, a7);
            a8 = xv.fma(w5, a8);
            a9 = xv.fma(w4, a9);
            a10 = xv.fma(w3, a10);
            a11 = xv.fma(w2, a11);
            a12 = xv.fma(w1, a12);
            a13 = xv.fma(w0, a13);
            xv = FloatVector.fromArray(S, xp, xr + 14 * L);
            a7 = xv.fma(w7, a7);
            a8 = xv.fma(w6, a8);
            a9 = xv.fma(w5, a9);
            a10 = xv.fma(w4, a10);
            a11 = xv.fma(w3, a11);
            a12 = xv.fma(w2, a12);
            a13 = xv.fma(w1, a13);
            a14 = xv.fma(w0, a14);
            xv = FloatVector.fromArray(S, xp, xr + 15 * L);
            a8 = xv.fma(w7, a8);
            a9 = xv.fma(w6, a9);
            a10 = xv.fma(w5, a10);
            a11 = xv.fma(w4, a11);
            a12 = xv.fma(w3, a12);
            a13 = xv.fma(w2, a13);
            a14 = xv.fma(w1, a14);
            a15 = xv.fma(w0, a15);
            xv = FloatVector.fromArray(S, xp, xr + 16 * L);
            a9 = xv.fma(w7, a9);
            a10 = xv.fma(w6, a10);
            a11 = xv.fma(w5, a11);
            a12 = xv.fma(w4, a12);
            a13 = xv.fma(w3, a13);
            a14 = xv.fma(w2, a14);
            a15 = xv.fma(w1, a15);
            xv = FloatVector.fromArray(S, xp, xr + 17 * L);
            a10 = xv.fma(w7, a10);
            a11 = xv.fma(w6, a11);
            a12 = xv.fma(w5, a12);
            a13 = xv.fma(w4, a13);
            a14 = xv.fma(w3, a14);
            a15 = xv.fma(w2, a15);
            xv = FloatVector.fromArray(S, xp, xr + 18 * L);
            a11 = xv.fma(w7, a11);
            a12 = xv.fma(w6, a12);
            a13 = xv.fma(w5, a13);
            a14 = xv.fma(w4, a14);
            a15 = xv.fma(w3, a15);
            xv = FloatVector.fromArray(S, xp, xr + 19 * L);
            a12 = xv.fma(w7, a12);
            a13 = xv.fma(w6, a13);
            a14 = xv.fma(w5, a14);
            a15 = xv.fma(w4, a15);
            xv = FloatVector.fromArray(S, xp, xr + 20 * L);
            a13 = xv.fma(w7, a13);
            a14 = xv.fma(w6, a14);
            a15 = xv.fma(w5, a15);
            xv = FloatVector.fromArray(S, xp, xr + 21 * L);
            a14 = xv.fma(w7, a14);
            a15 = xv.fma(w6, a15);
            xv = FloatVector.fromArray(S, xp, xr + 22 * L);
            a15 = xv.fma(w7, a15);
            a0.intoArray(yp, yr + 0 * L);
            a1.intoArray(yp, yr + 1 * L);
            a2.intoArray(yp, yr + 2 * L);
            a3.intoArray(yp, yr + 3 * L);
            a4.intoArray(yp, yr + 4 * L);
            a5.intoArray(yp, yr + 5 * L);
            a6.intoArray(yp, yr + 6 * L);
            a7.intoArray(yp, yr + 7 * L);
            a8.intoArray(yp, yr + 8 * L);
            a9.intoArray(yp, yr + 9 * L);
            a10.intoArray(yp, yr + 10 * L);
            a11.intoArray(yp, yr + 11 * L);
            a12.intoArray(yp, yr + 12 * L);
            a13.intoArray(yp, yr + 13 * L);
            a14.intoArray(yp, yr + 14 * L);
            a15.intoArray(yp, yr + 15 * L);
        }
    }

    /**
     * Taps [k0, k0+4) of 16-row tiles of one channel vector, on panels (rows L floats apart): 4
     * weight vectors stay in registers across the tiles, each tile keeps 16 accumulators in
     * registers and loads each of its input rows once. Output row r reads panel rows r+k0 .. r+k0+3.
     * {@code first} starts from the bias vector at {@code bias[biasOff]} (zero when bias is null),
     * otherwise from the partial sums already in yp. (No FloatVector parameters: a vector whose exact
     * class C2 cannot see is not intrinsified, and every operation on it would box.)
     */
    private static void taps4(float[] xp, float[] wp, int wOff, int k0, float[] yp, int tiles, float[] bias,
                               int biasOff, boolean first) {
        FloatVector init = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, biasOff);
        FloatVector w0 = FloatVector.fromArray(S, wp, wOff + 0 * L);
        FloatVector w1 = FloatVector.fromArray(S, wp, wOff + 1 * L);
        FloatVector w2 = FloatVector.fromArray(S, wp, wOff + 2 * L);
        FloatVector w3 = FloatVector.fromArray(S, wp, wOff + 3 * L);
        for (int tile = 0; tile < tiles; tile++) {
            int yr = tile * 16 * L;
            FloatVector a0 = first ? init : FloatVector.fromArray(S, yp, yr + 0 * L);
            FloatVector a1 = first ? init : FloatVector.fromArray(S, yp, yr + 1 * L);
            FloatVector a2 = first ? init : FloatVector.fromArray(S, yp, yr + 2 * L);
            FloatVector a3 = first ? init : FloatVector.fromArray(S, yp, yr + 3 * L);
            FloatVector a4 = first ? init : FloatVector.fromArray(S, yp, yr + 4 * L);
            FloatVector a5 = first ? init : FloatVector.fromArray(S, yp, yr + 5 * L);
            FloatVector a6 = first ? init : FloatVector.fromArray(S, yp, yr + 6 * L);
            FloatVector a7 = first ? init : FloatVector.fromArray(S, yp, yr + 7 * L);
            FloatVector a8 = first ? init : FloatVector.fromArray(S, yp, yr + 8 * L);
            FloatVector a9 = first ? init : FloatVector.fromArray(S, yp, yr + 9 * L);
            FloatVector a10 = first ? init : FloatVector.fromArray(S, yp, yr + 10 * L);
            FloatVector a11 = first ? init : FloatVector.fromArray(S, yp, yr + 11 * L);
            FloatVector a12 = first ? init : FloatVector.fromArray(S, yp, yr + 12 * L);
            FloatVector a13 = first ? init : FloatVector.fromArray(S, yp, yr + 13 * L);
            FloatVector a14 = first ? init : FloatVector.fromArray(S, yp, yr + 14 * L);
            FloatVector a15 = first ? init : FloatVector.fromArray(S, yp, yr + 15 * L);
            int xr = (tile * 16 + k0) * L;
            FloatVector xv;
            xv = FloatVector.fromArray(S, xp, xr + 0 * L);
            a0 = xv.fma(w0, a0);
            xv = FloatVector.fromArray(S, xp, xr + 1 * L);
            a0 = xv.fma(w1, a0);
            a1 = xv.fma(w0, a1);
            xv = FloatVector.fromArray(S, xp, xr + 2 * L);
            a0 = xv.fma(w2, a0);
            a1 = xv.fma(w1, a1);
            a2 = xv.fma(w0, a2);
            xv = FloatVector.fromArray(S, xp, xr + 3 * L);
            a0 = xv.fma(w3, a0);
            a1 = xv.fma(w2, a1);
            a2 = xv.fma(w1, a2);
            a3 = xv.fma(w0, a3);
            xv = FloatVector.fromArray(S, xp, xr + 4 * L);
            a1 = xv.fma(w3, a1);
            a2 = xv.fma(w2, a2);
            a3 = xv.fma(w1, a3);
            a4 = xv.fma(w0, a4);
            xv = FloatVector.fromArray(S, xp, xr + 5 * L);
            a2 = xv.fma(w3, a2);
            a3 = xv.fma(w2, a3);
            a4 = xv.fma(w1, a4);
            a5 = xv.fma(w0, a5);
            xv = FloatVector.fromArray(S, xp, xr + 6 * L);
            a3 = xv.fma(w3, a3);
            a4 = xv.fma(w2, a4);
            a5 = xv.fma(w1, a5);
            a6 = xv.fma(w0, a6);
            xv = FloatVector.fromArray(S, xp, xr + 7 * L);
            a4 = xv.fma(w3, a4);
            a5 = xv.fma(w2, a5);
            a6 = xv.fma(w1, a6);
            a7 = xv.fma(w0, a7);
            xv = FloatVector.fromArray(S, xp, xr + 8 * L);
            a5 = xv.fma(w3, a5);
            a6 = xv.fma(w2, a6);
            a7 = xv.fma(w1, a7);
            a8 = xv.fma(w0, a8);
            xv = FloatVector.fromArray(S, xp, xr + 9 * L);
            a6 = xv.fma(w3, a6);
            a7 = xv.fma(w2, a7);
            a8 = xv.fma(w1, a8);
            a9 = xv.fma(w0, a9);
            xv = FloatVector.fromArray(S, xp, xr + 10 * L);
            a7 = xv.fma(w3, a7);
            a8 = xv.fma(w2, a8);
            a9 = xv.fma(w1, a9);
            a10 = xv.fma(w0, a10);
            xv = FloatVector.fromArray(S, xp, xr + 11 * L);
            a8 = xv.fma(w3, a8);
            a9 = xv.fma(w2, a9);
            a10 = xv.fma(w1, a10);
            a11 = xv.fma(w0, a11);
            xv = FloatVector.fromArray(S, xp, xr + 12 * L);
            a9 = xv.fma(w3, a9);
            a10 = xv.fma(w2, a10);
            a11 = xv.fma(w1, a11);
            a12 = xv.fma(w0, a12);
            xv = FloatVector.fromArray(S, xp, xr + 13 * L);
            a10 = xv.fma(w3, a10);
            a11 = xv.fma(w2, a11);
            a12 = xv.fma(w1, a12);
            a13 = xv.fma(w0, a13);
            xv = FloatVector.fromArray(S, xp, xr + 14 * L);
            a11 = xv.fma(w3, a11);
            a12 = xv.fma(w2, a12);
            a13 = xv.fma(w1, a13);
            a14 = xv.fma(w0, a14);
            xv = FloatVector.fromArray(S, xp, xr + 15 * L);
            a12 = xv.fma(w3, a12);
            a13 = xv.fma(w2, a13);
            a14 = xv.fma(w1, a14);
            a15 = xv.fma(w0, a15);
            xv = FloatVector.fromArray(S, xp, xr + 16 * L);
            a13 = xv.fma(w3, a13);
            a14 = xv.fma(w2, a14);
            a15 = xv.fma(w1, a15);
            xv = FloatVector.fromArray(S, xp, xr + 17 * L);
            a14 = xv.fma(w3, a14);
            a15 = xv.fma(w2, a15);
            xv = FloatVector.fromArray(S, xp, xr + 18 * L);
            a15 = xv.fma(w3, a15);
            a0.intoArray(yp, yr + 0 * L);
            a1.intoArray(yp, yr + 1 * L);
            a2.intoArray(yp, yr + 2 * L);
            a3.intoArray(yp, yr + 3 * L);
            a4.intoArray(yp, yr + 4 * L);
            a5.intoArray(yp, yr + 5 * L);
            a6.intoArray(yp, yr + 6 * L);
            a7.intoArray(yp, yr + 7 * L);
            a8.intoArray(yp, yr + 8 * L);
            a9.intoArray(yp, yr + 9 * L);
            a10.intoArray(yp, yr + 10 * L);
            a11.intoArray(yp, yr + 11 * L);
            a12.intoArray(yp, yr + 12 * L);
            a13.intoArray(yp, yr + 13 * L);
            a14.intoArray(yp, yr + 14 * L);
            a15.intoArray(yp, yr + 15 * L);
        }
    }

    /**
     * dwp[(k0 + k)*L + lane] += sum over the rows r of the tiles of gp[r*L + lane] * xp[(r + k0 + k)*L + lane],
     * k < 8: the 8 partial sums stay in registers across the tiles of 8 rows; each tile loads its
     * dy rows and each of its input rows once.
     */
    private static void tapGradient8(float[] xp, float[] gp, float[] dwp, int k0, int tiles) {
        FloatVector d0 = FloatVector.fromArray(S, dwp, (k0 + 0) * L);
        FloatVector d1 = FloatVector.fromArray(S, dwp, (k0 + 1) * L);
        FloatVector d2 = FloatVector.fromArray(S, dwp, (k0 + 2) * L);
        FloatVector d3 = FloatVector.fromArray(S, dwp, (k0 + 3) * L);
        FloatVector d4 = FloatVector.fromArray(S, dwp, (k0 + 4) * L);
        FloatVector d5 = FloatVector.fromArray(S, dwp, (k0 + 5) * L);
        FloatVector d6 = FloatVector.fromArray(S, dwp, (k0 + 6) * L);
        FloatVector d7 = FloatVector.fromArray(S, dwp, (k0 + 7) * L);
        for (int tile = 0; tile < tiles; tile++) {
            int gr = tile * 8 * L;
            FloatVector g0 = FloatVector.fromArray(S, gp, gr + 0 * L);
            FloatVector g1 = FloatVector.fromArray(S, gp, gr + 1 * L);
            FloatVector g2 = FloatVector.fromArray(S, gp, gr + 2 * L);
            FloatVector g3 = FloatVector.fromArray(S, gp, gr + 3 * L);
            FloatVector g4 = FloatVector.fromArray(S, gp, gr + 4 * L);
            FloatVector g5 = FloatVector.fromArray(S, gp, gr + 5 * L);
            FloatVector g6 = FloatVector.fromArray(S, gp, gr + 6 * L);
            FloatVector g7 = FloatVector.fromArray(S, gp, gr + 7 * L);
            int xr = (tile * 8 + k0) * L;
            FloatVector xv;
            xv = FloatVector.fromArray(S, xp, xr + 0 * L);
            d0 = xv.fma(g0, d0);
            xv = FloatVector.fromArray(S, xp, xr + 1 * L);
            d0 = xv.fma(g1, d0);
            d1 = xv.fma(g0, d1);
            xv = FloatVector.fromArray(S, xp, xr + 2 * L);
            d0 = xv.fma(g2, d0);
            d1 = xv.fma(g1, d1);
            d2 = xv.fma(g0, d2);
            xv = FloatVector.fromArray(S, xp, xr + 3 * L);
            d0 = xv.fma(g3, d0);
            d1 = xv.fma(g2, d1);
            d2 = xv.fma(g1, d2);
            d3 = xv.fma(g0, d3);
            xv = FloatVector.fromArray(S, xp, xr + 4 * L);
            d0 = xv.fma(g4, d0);
            d1 = xv.fma(g3, d1);
            d2 = xv.fma(g2, d2);
            d3 = xv.fma(g1, d3);
            d4 = xv.fma(g0, d4);
            xv = FloatVector.fromArray(S, xp, xr + 5 * L);
            d0 = xv.fma(g5, d0);
            d1 = xv.fma(g4, d1);
            d2 = xv.fma(g3, d2);
            d3 = xv.fma(g2, d3);
            d4 = xv.fma(g1, d4);
            d5 = xv.fma(g0, d5);
            xv = FloatVector.fromArray(S, xp, xr + 6 * L);
            d0 = xv.fma(g6, d0);
            d1 = xv.fma(g5, d1);
            d2 = xv.fma(g4, d2);
            d3 = xv.fma(g3, d3);
            d4 = xv.fma(g2, d4);
            d5 = xv.fma(g1, d5);
            d6 = xv.fma(g0, d6);
            xv = FloatVector.fromArray(S, xp, xr + 7 * L);
            d0 = xv.fma(g7, d0);
            d1 = xv.fma(g6, d1);
            d2 = xv.fma(g5, d2);
            d3 = xv.fma(g4, d3);
            d4 = xv.fma(g3, d4);
            d5 = xv.fma(g2, d5);
            d6 = xv.fma(g1, d6);
            d7 = xv.fma(g0, d7);
            xv = FloatVector.fromArray(S, xp, xr + 8 * L);
            d1 = xv.fma(g7, d1);
            d2 = xv.fma(g6, d2);
            d3 = xv.fma(g5, d3);
            d4 = xv.fma(g4, d4);
            d5 = xv.fma(g3, d5);
            d6 = xv.fma(g2, d6);
            d7 = xv.fma(g1, d7);
            xv = FloatVector.fromArray(S, xp, xr + 9 * L);
            d2 = xv.fma(g7, d2);
            d3 = xv.fma(g6, d3);
            d4 = xv.fma(g5, d4);
            d5 = xv.fma(g4, d5);
            d6 = xv.fma(g3, d6);
            d7 = xv.fma(g2, d7);
            xv = FloatVector.fromArray(S, xp, xr + 10 * L);
            d3 = xv.fma(g7, d3);
            d4 = xv.fma(g6, d4);
            d5 = xv.fma(g5, d5);
            d6 = xv.fma(g4, d6);
            d7 = xv.fma(g3, d7);
            xv = FloatVector.fromArray(S, xp, xr + 11 * L);
            d4 = xv.fma(g7, d4);
            d5 = xv.fma(g6, d5);
            d6 = xv.fma(g5, d6);
            d7 = xv.fma(g4, d7);
            xv = FloatVector.fromArray(S, xp, xr + 12 * L);
            d5 = xv.fma(g7, d5);
            d6 = xv.fma(g6, d6);
            d7 = xv.fma(g5, d7);
            xv = FloatVector.fromArray(S, xp, xr + 13 * L);
            d6 = xv.fma(g7, d6);
            d7 = xv.fma(g6, d7);
            xv = FloatVector.fromArray(S, xp, xr + 14 * L);
            d7 = xv.fma(g7, d7);
        }
        d0.intoArray(dwp, (k0 + 0) * L);
        d1.intoArray(dwp, (k0 + 1) * L);
        d2.intoArray(dwp, (k0 + 2) * L);
        d3.intoArray(dwp, (k0 + 3) * L);
        d4.intoArray(dwp, (k0 + 4) * L);
        d5.intoArray(dwp, (k0 + 5) * L);
        d6.intoArray(dwp, (k0 + 6) * L);
        d7.intoArray(dwp, (k0 + 7) * L);
    }

    /**
     * dwp[(k0 + k)*L + lane] += sum over the rows r of the tiles of gp[r*L + lane] * xp[(r + k0 + k)*L + lane],
     * k < 4: the 4 partial sums stay in registers across the tiles of 8 rows; each tile loads its
     * dy rows and each of its input rows once.
     */
    private static void tapGradient4(float[] xp, float[] gp, float[] dwp, int k0, int tiles) {
        FloatVector d0 = FloatVector.fromArray(S, dwp, (k0 + 0) * L);
        FloatVector d1 = FloatVector.fromArray(S, dwp, (k0 + 1) * L);
        FloatVector d2 = FloatVector.fromArray(S, dwp, (k0 + 2) * L);
        FloatVector d3 = FloatVector.fromArray(S, dwp, (k0 + 3) * L);
        for (int tile = 0; tile < tiles; tile++) {
            int gr = tile * 8 * L;
            FloatVector g0 = FloatVector.fromArray(S, gp, gr + 0 * L);
            FloatVector g1 = FloatVector.fromArray(S, gp, gr + 1 * L);
            FloatVector g2 = FloatVector.fromArray(S, gp, gr + 2 * L);
            FloatVector g3 = FloatVector.fromArray(S, gp, gr + 3 * L);
            FloatVector g4 = FloatVector.fromArray(S, gp, gr + 4 * L);
            FloatVector g5 = FloatVector.fromArray(S, gp, gr + 5 * L);
            FloatVector g6 = FloatVector.fromArray(S, gp, gr + 6 * L);
            FloatVector g7 = FloatVector.fromArray(S, gp, gr + 7 * L);
            int xr = (tile * 8 + k0) * L;
            FloatVector xv;
            xv = FloatVector.fromArray(S, xp, xr + 0 * L);
            d0 = xv.fma(g0, d0);
            xv = FloatVector.fromArray(S, xp, xr + 1 * L);
            d0 = xv.fma(g1, d0);
            d1 = xv.fma(g0, d1);
            xv = FloatVector.fromArray(S, xp, xr + 2 * L);
            d0 = xv.fma(g2, d0);
            d1 = xv.fma(g1, d1);
            d2 = xv.fma(g0, d2);
            xv = FloatVector.fromArray(S, xp, xr + 3 * L);
            d0 = xv.fma(g3, d0);
            d1 = xv.fma(g2, d1);
            d2 = xv.fma(g1, d2);
            d3 = xv.fma(g0, d3);
            xv = FloatVector.fromArray(S, xp, xr + 4 * L);
            d0 = xv.fma(g4, d0);
            d1 = xv.fma(g3, d1);
            d2 = xv.fma(g2, d2);
            d3 = xv.fma(g1, d3);
            xv = FloatVector.fromArray(S, xp, xr + 5 * L);
            d0 = xv.fma(g5, d0);
            d1 = xv.fma(g4, d1);
            d2 = xv.fma(g3, d2);
            d3 = xv.fma(g2, d3);
            xv = FloatVector.fromArray(S, xp, xr + 6 * L);
            d0 = xv.fma(g6, d0);
            d1 = xv.fma(g5, d1);
            d2 = xv.fma(g4, d2);
            d3 = xv.fma(g3, d3);
            xv = FloatVector.fromArray(S, xp, xr + 7 * L);
            d0 = xv.fma(g7, d0);
            d1 = xv.fma(g6, d1);
            d2 = xv.fma(g5, d2);
            d3 = xv.fma(g4, d3);
            xv = FloatVector.fromArray(S, xp, xr + 8 * L);
            d1 = xv.fma(g7, d1);
            d2 = xv.fma(g6, d2);
            d3 = xv.fma(g5, d3);
            xv = FloatVector.fromArray(S, xp, xr + 9 * L);
            d2 = xv.fma(g7, d2);
            d3 = xv.fma(g6, d3);
            xv = FloatVector.fromArray(S, xp, xr + 10 * L);
            d3 = xv.fma(g7, d3);
        }
        d0.intoArray(dwp, (k0 + 0) * L);
        d1.intoArray(dwp, (k0 + 1) * L);
        d2.intoArray(dwp, (k0 + 2) * L);
        d3.intoArray(dwp, (k0 + 3) * L);
    }

    // ---- end of generated methods ----

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
        float s = VectorMath.sumLanes(acc);
        for (; i < n; i++) {
            s = Math.fma(a[aOff + i], b[bOff + i], s);
        }
        return s;
    }
}
