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
 * result does not depend on the thread count. Inside a task the channels go a group of
 * {@value #GROUP} vectors (L channels each) at a time, through panels: the block's input rows for
 * those channels, with the K-1 halo rows and zeros outside [0, T), are copied into one contiguous panel
 * per vector (rows L floats apart), read row by row from memory. Read in place, rows C floats apart (a
 * power of two, typically) fall into a few L1 sets and evict each other; the panel stays in L1, and its
 * zero rows make sequence edges, T < K and P >= T need no special path. Outputs are computed in register
 * tiles of {@link #TILE} rows by the generated {@link #convolveTiles16} (or {@link #convolveTiles16By4}
 * when the padded taps are 4 mod 8) or {@link #convolveTiles8}, with the weights of each channel vector in a
 * panel ({@link #weightPanels}: the taps padded with zeros to a multiple of 4), and written back row by row. On B=8 T=512 C=512 K=31, one thread, the forward went
 * from 3.3 ms (in place, 8-row tiles) to 2.7 ms (panels of one vector, 16-row tiles, one sweep of the
 * tiles per 8 taps) to 1.7-2.0 ms (panels of 8 vectors read and written row by row, all taps of a tile at
 * once, 256-row blocks).
 */
final class LightConvSimd {
    static final VectorSpecies<Float> S = VectorMath.S;
    private static final int L = S.length();
    /**
     * Rows per register tile of the convolution: 16 ({@link #convolveTiles16}) where there are 32 vector
     * registers, 8 ({@link #convolveTiles8}) where there are 16 ({@link VectorMath#SIXTEEN_REGISTERS}).
     */
    static final int TILE = VectorMath.SIXTEEN_REGISTERS ? 8 : 16;
    /** Rows per register tile of the weight gradient. */
    private static final int TILE_G = 8; // divides every time block: only the last block ends inside a tile
    /**
     * Most rows per task (the panels' capacity). Convolution of B=8 T=512 C=512 K=31 on 2 threads, fastest
     * of 60 calls: 0.90-1.01 ms with 64-row blocks, 0.89-1.05 with 128, 0.78-0.79 with 256 (the K-1 halo
     * rows are read and packed once per block).
     */
    private static final int TIME_BLOCK = 256;
    /** Tasks {@link #timeBlock} keeps for many-core machines before it settles for longer blocks. */
    private static final int MIN_TASKS = 16;
    /** Channel vectors packed together: input and output rows move in runs of up to 512 bytes. */
    private static final int GROUP = 8;

    private LightConvSimd() {
    }

    /**
     * Rows per (batch, time block) task for B sequences of T steps: the longest of 256, 128 and 64 that
     * still makes {@value #MIN_TASKS} tasks (64 when none does), so that a short batch still spreads over
     * many cores. A function of the shape alone: the partition, and with it the order of the weight
     * gradient's partial sums, does not depend on the machine.
     */
    static int timeBlock(int B, int T) {
        for (int rows = TIME_BLOCK; rows > 64; rows /= 2) {
            if ((long) B * ((T + rows - 1) / rows) >= MIN_TASKS) {
                return rows;
            }
        }
        return 64;
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
        int rowsPerTask = timeBlock(B, T);
        int blocks = (T + rowsPerTask - 1) / rowsPerTask;
        float[] biasPanel = bias == null ? null : padded(bias, channelVectors(C) * L);
        CpuPool.parallelFor(B * blocks, task -> {
            int b = task / blocks;
            int t0 = (task % blocks) * rowsPerTask;
            Panels p = Panels.of(K);
            for (int v0 = 0; v0 < channelVectors(C); v0 += GROUP) {
                int v1 = Math.min(channelVectors(C), v0 + GROUP);
                convolveBlock(x, wp, biasPanel, y, p, b, t0, Math.min(T, t0 + rowsPerTask), T, C, K, P, v0, v1);
            }
        });
    }

    /**
     * A worker thread's scratch: the panels of a group of {@value #GROUP} channel vectors, one after
     * the other (vector v of the group at (v - v0) * rows * L), ~400 KB. Kept per thread and reused (a
     * task writes every row it reads before reading it), so tasks do not allocate and zero them.
     */
    private static final class Panels {
        private static final ThreadLocal<Panels> OF_THREAD = new ThreadLocal<>();
        final int xRows; // input rows per channel vector (the panels' stride): at least TIME_BLOCK + Kp - 1
        final float[] xp; // [GROUP][xRows, L]: input rows t0-P .. t0-P+xRows-1 (dy rows in the backward)
        final float[] yp; // [GROUP][TIME_BLOCK, L]
        final float[] xg; // [GROUP][xRows, L]: x rows t0-P .., for the weight gradient

        private Panels(int xRows) {
            this.xRows = xRows;
            xp = new float[GROUP * xRows * L];
            yp = new float[GROUP * TIME_BLOCK * L];
            xg = new float[GROUP * xRows * L];
        }

        /**
         * This thread's panels, for kernels of up to K taps: kept when they are large enough (layers of
         * several kernel sizes then share one set), grown otherwise.
         */
        static Panels of(int K) {
            int xRows = TIME_BLOCK + paddedTaps(K) - 1;
            Panels p = OF_THREAD.get();
            if (p == null || p.xRows < xRows) {
                p = new Panels(xRows);
                OF_THREAD.set(p);
            }
            return p;
        }
    }

    /**
     * Rows [t0, t1) of channel vectors [v0, v1): pack, convolve in tiles, unpack. With 16 vector registers the
     * whole 8-row tiles of whole vectors are stored straight into the output rows and only the last partial
     * tile goes through the output panel: B=8 T=512 C=512 K=31 on an AVX2 Zen 3, fastest of 10 calls in 30
     * alternating rounds, 1.41-1.48 vs 1.48-1.50 ms through the panel. (With 32 registers and 16-row tiles
     * the direct stores were slower: 1.21-1.63 vs 0.84-1.29 ms, an earlier session's AVX-512 measurement.)
     */
    private static void convolveBlock(float[] x, float[] wp, float[] biasPanel, float[] y, Panels p, int b, int t0,
                                      int t1, int T, int C, int K, int P, int v0, int v1) {
        int kp = paddedTaps(K);
        int tiles = (t1 - t0 + TILE - 1) / TILE;
        pack(x, p.xp, p.xRows, b, t0 - P, tiles * TILE + kp - 1, T, C, v0, v1);
        // Tiles written straight into y: whole tiles, when all vectors of the group are whole.
        int direct = TILE == 8 && v1 * L <= C ? (t1 - t0) / TILE : 0;
        int done = direct * TILE; // rows written straight into y
        for (int v = v0; v < v1; v++) {
            int xOff = (v - v0) * p.xRows * L;
            int yOff = (v - v0) * TIME_BLOCK * L;
            if (TILE == 16 && kp % 8 == 0) {
                convolveTiles16(p.xp, xOff, wp, v * kp * L, kp, p.yp, yOff, L, tiles, biasPanel, v * L);
            } else if (TILE == 16) {
                convolveTiles16By4(p.xp, xOff, wp, v * kp * L, kp, p.yp, yOff, L, tiles, biasPanel, v * L);
            } else {
                convolveTiles8(p.xp, xOff, wp, v * kp * L, kp, y, (b * T + t0) * C + v * L, C, direct, biasPanel,
                        v * L);
                convolveTiles8(p.xp, xOff + done * L, wp, v * kp * L, kp, p.yp, yOff + done * L, L, tiles - direct,
                        biasPanel, v * L);
            }
        }
        unpack(p.yp, TIME_BLOCK, done, y, b, t0 + done, t1 - t0 - done, T, C, v0, v1);
    }

    /**
     * panel[(v - v0)*stride*L + r*L + lane] = src[b, first + r, v*L + lane] for r < rows and v in
     * [v0, v1), and 0 where the time falls outside [0, T) or the channel outside [0, C). Row by row,
     * so that memory is read in runs of (v1 - v0) * L floats rather than one 64-byte piece every C
     * floats down the rows.
     */
    private static void pack(float[] src, float[] panel, int stride, int b, int first, int rows, int T, int C,
                             int v0, int v1) {
        if (v1 - v0 == 8 && v1 * L <= C) {
            packEight(src, panel, stride, b, first, rows, T, C, v0);
            return;
        }
        for (int r = 0; r < rows; r++) {
            int t = first + r;
            for (int v = v0; v < v1; v++) {
                int at = ((v - v0) * stride + r) * L;
                int c0 = v * L;
                int width = Math.min(L, C - c0);
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
    }

    /**
     * {@link #pack} of a full group of 8 whole channel vectors, unrolled: each of the 8 loads steps by
     * exactly one row (C floats) from one row to the next instead of one load stepping 64 bytes 7 times
     * and then to the next row. Measured on B=8 T=512 C=512 K=31: fwd+bwd fastest 3.48-3.72 vs 3.67-3.91
     * ms in 6 alternating pairs, the forward alone unchanged (within the noise).
     */
    private static void packEight(float[] src, float[] panel, int stride, int b, int first, int rows, int T, int C,
                                  int v0) {
        int s = stride * L;
        for (int r = 0; r < rows; r++) {
            int t = first + r;
            int at = r * L;
            if (t < 0 || t >= T) {
                for (int v = 0; v < 8; v++) {
                    java.util.Arrays.fill(panel, at + v * s, at + v * s + L, 0f);
                }
                continue;
            }
            int from = (b * T + t) * C + v0 * L;
            FloatVector.fromArray(S, src, from).intoArray(panel, at);
            FloatVector.fromArray(S, src, from + L).intoArray(panel, at + s);
            FloatVector.fromArray(S, src, from + 2 * L).intoArray(panel, at + 2 * s);
            FloatVector.fromArray(S, src, from + 3 * L).intoArray(panel, at + 3 * s);
            FloatVector.fromArray(S, src, from + 4 * L).intoArray(panel, at + 4 * s);
            FloatVector.fromArray(S, src, from + 5 * L).intoArray(panel, at + 5 * s);
            FloatVector.fromArray(S, src, from + 6 * L).intoArray(panel, at + 6 * s);
            FloatVector.fromArray(S, src, from + 7 * L).intoArray(panel, at + 7 * s);
        }
    }

    /**
     * dst[b, t0 + r, v*L + lane] = panel[(v - v0)*stride*L + (first + r)*L + lane] for r < rows, v in
     * [v0, v1) and channels inside [0, C); row by row, as {@link #pack}.
     */
    private static void unpack(float[] panel, int stride, int first, float[] dst, int b, int t0, int rows, int T,
                               int C, int v0, int v1) {
        if (v1 - v0 == 8 && v1 * L <= C) {
            unpackEight(panel, stride, first, dst, b, t0, rows, T, C, v0);
            return;
        }
        for (int r = 0; r < rows; r++) {
            int row = (b * T + t0 + r) * C;
            for (int v = v0; v < v1; v++) {
                int at = ((v - v0) * stride + first + r) * L;
                int c0 = v * L;
                int width = Math.min(L, C - c0);
                if (width == L) {
                    FloatVector.fromArray(S, panel, at).intoArray(dst, row + c0);
                } else {
                    System.arraycopy(panel, at, dst, row + c0, width);
                }
            }
        }
    }

    /**
     * {@link #unpack} of a full group of 8 whole channel vectors, unrolled as {@link #packEight}: B=8 T=512
     * C=512 K=31 fwd medians 1.60-1.91 vs 1.69-1.94 ms, fwd+bwd 4.30-4.45 vs 4.73-4.96 ms (3 alternating pairs).
     */
    private static void unpackEight(float[] panel, int stride, int first, float[] dst, int b, int t0, int rows,
                                    int T, int C, int v0) {
        int s = stride * L;
        for (int r = 0; r < rows; r++) {
            int at = (first + r) * L;
            int to = (b * T + t0 + r) * C + v0 * L;
            FloatVector.fromArray(S, panel, at).intoArray(dst, to);
            FloatVector.fromArray(S, panel, at + s).intoArray(dst, to + L);
            FloatVector.fromArray(S, panel, at + 2 * s).intoArray(dst, to + 2 * L);
            FloatVector.fromArray(S, panel, at + 3 * s).intoArray(dst, to + 3 * L);
            FloatVector.fromArray(S, panel, at + 4 * s).intoArray(dst, to + 4 * L);
            FloatVector.fromArray(S, panel, at + 5 * s).intoArray(dst, to + 5 * L);
            FloatVector.fromArray(S, panel, at + 6 * s).intoArray(dst, to + 6 * L);
            FloatVector.fromArray(S, panel, at + 7 * s).intoArray(dst, to + 7 * L);
        }
    }

    private static float[] padded(float[] v, int n) {
        float[] p = new float[n];
        System.arraycopy(v, 0, p, 0, v.length);
        return p;
    }

    /**
     * One task's partial sums of the backward: {@code weight[h*K + k]} = sum over the channels c of head h,
     * in increasing c and in double, of the float sums over the task's rows {@code sum_t dy[b,t,c] *
     * x[b,t+k-P,c]} (null when not asked for); {@code bias[c] = sum_t dy[b,t,c]} (null when not asked for).
     */
    record Partials(double[] weight, float[] bias) {
    }

    /**
     * Backward over (batch, time block) tasks: the dx of the task's rows (when {@code dx} is non-null,
     * with {@code wpReversed} = weight panels of {@link #reversedWeights}), and each task's {@link Partials}
     * over its rows, to be reduced over tasks in task order by the caller: the result does not depend on the
     * thread count. The sums over rows are float within a task (at most {@value #TIME_BLOCK} rows).
     */
    static Partials[] backwardBlocks(float[] x, float[] dy, float[] wpReversed, float[] dx, boolean needWeight,
                                     boolean needBias, int B, int T, int C, int H, int K, int P) {
        int rowsPerTask = timeBlock(B, T);
        int blocks = (T + rowsPerTask - 1) / rowsPerTask;
        int tasks = B * blocks;
        int kp = paddedTaps(K);
        Partials[] partials = new Partials[tasks];
        CpuPool.parallelFor(tasks, task -> {
            int b = task / blocks;
            int t0 = (task % blocks) * rowsPerTask;
            int t1 = Math.min(T, t0 + rowsPerTask);
            int rows = t1 - t0;
            int tiles = (rows + TILE_G - 1) / TILE_G;
            Panels p = Panels.of(K);
            double[] dw = needWeight ? new double[H * K] : null;
            float[] db = needBias ? new float[C] : null;
            float[] dwp = new float[kp * L];
            for (int v0 = 0; v0 < channelVectors(C); v0 += GROUP) {
                int v1 = Math.min(channelVectors(C), v0 + GROUP);
                // The weight and bias gradients read the dy rows t0 .. t0 + tiles*TILE_G - 1 from p.xp,
                // from its row dyRow: rows past t1 are past T (zeros) since only the last block is short.
                int dyRow;
                if (dx != null) { // the dx convolution packs dy rows t0-(K-1-P) .. into p.xp: reuse them
                    convolveBlock(dy, wpReversed, null, dx, p, b, t0, t1, T, C, K, K - 1 - P, v0, v1);
                    dyRow = K - 1 - P;
                } else if (needWeight || needBias) {
                    pack(dy, p.xp, p.xRows, b, t0, tiles * TILE_G, T, C, v0, v1);
                    dyRow = 0;
                } else {
                    continue;
                }
                if (needWeight) { // the input rows t0-P .. that the taps of those dy rows read
                    pack(x, p.xg, p.xRows, b, t0 - P, tiles * TILE_G + kp - 1, T, C, v0, v1);
                }
                for (int v = v0; v < v1; v++) {
                    int gOff = ((v - v0) * p.xRows + dyRow) * L;
                    if (needWeight) {
                        int xOff = (v - v0) * p.xRows * L;
                        java.util.Arrays.fill(dwp, 0f);
                        for (int k0 = 0; k0 < kp; ) {
                            // n taps need n + TILE_G + 1 registers: 16 at a time where there are 32 (one
                            // AVX-512 core: 212 GFLOP/s against 176 in chunks of 8), 4 where there are 16.
                            if (kp - k0 >= 16 && !VectorMath.SIXTEEN_REGISTERS) {
                                tapGradient16(p.xg, xOff, p.xp, gOff, dwp, k0, tiles);
                                k0 += 16;
                            } else if (kp - k0 >= 8 && !VectorMath.SIXTEEN_REGISTERS) {
                                tapGradient8(p.xg, xOff, p.xp, gOff, dwp, k0, tiles);
                                k0 += 8;
                            } else {
                                tapGradient4(p.xg, xOff, p.xp, gOff, dwp, k0, tiles);
                                k0 += 4;
                            }
                        }
                        addHeadSums(dwp, dw, K, C, C / H, v);
                    }
                    if (needBias) {
                        FloatVector s = FloatVector.zero(S);
                        for (int r = 0; r < rows; r++) {
                            s = s.add(FloatVector.fromArray(S, p.xp, gOff + r * L));
                        }
                        int width = Math.min(L, C - v * L);
                        for (int lane = 0; lane < width; lane++) {
                            db[v * L + lane] = s.lane(lane);
                        }
                    }
                }
            }
            partials[task] = new Partials(dw, db);
        });
        return partials;
    }

    /**
     * dw[h(c)*K + k] += dwp[k*L + lane] for k < K and the channels c = v*L + lane of vector v inside [0, C),
     * in increasing c (vectors come in increasing v): each (head, tap) sums its channels in channel order,
     * the K taps of a channel as independent additions. Done by the task, so that a task hands back H x K
     * doubles instead of K x C floats for the caller to reduce on its own thread: the same bits, and B=8
     * T=512 C=512 K=31's backward (outside a CpuScope, fastest of 300 calls, two alternating pairs) 1.99-2.00
     * -> 1.96-1.98 ms.
     */
    private static void addHeadSums(float[] dwp, double[] dw, int K, int C, int R, int v) {
        int width = Math.min(L, C - v * L);
        for (int lane = 0; lane < width; lane++) {
            int hk = (v * L + lane) / R * K;
            for (int k = 0; k < K; k++) {
                dw[hk + k] += dwp[k * L + lane];
            }
        }
    }

    // ---- generated by tools/gen_lightconv_taps.py: edit the generator, not these methods ----

    /**
     * All kp taps (a multiple of 8) of 16-row tiles of one channel vector, on panels (the input panel
     * from xp[xOff], rows L floats apart; the weights from wp[wOff]) into output rows ys floats apart from
     * yp[yOff] (an output panel, ys = L, or the output itself, ys = C): output row r reads panel rows
     * r .. r+kp-1. Each tile keeps its 16 accumulators in registers
     * through all the taps, 8 at a time with their weight vectors loaded from L1, and stores
     * them once. Sweeping all tiles once per chunk of 8 taps instead (weights in registers, partial
     * sums stored and reloaded at every chunk) took 1.7 ms for the taps of B=8 T=512 C=512 K=31 on one
     * thread with 64-row blocks and 1.0 ms with 512-row blocks; this takes 0.72-0.88 ms with any of
     * 64 to 512 (AVX-512).
     * The tile starts from the bias vector at bias[biasOff] (zero when bias is null). (No
     * FloatVector parameters: a vector whose exact class C2 cannot see is not intrinsified, and every
     * operation on it would box.)
     */
    private static void convolveTiles16(float[] xp, int xOff, float[] wp, int wOff, int kp, float[] yp,
                                        int yOff, int ys, int tiles, float[] bias, int biasOff) {
        FloatVector init = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, biasOff);
        for (int tile = 0; tile < tiles; tile++) {
            FloatVector a0 = init;
            FloatVector a1 = init;
            FloatVector a2 = init;
            FloatVector a3 = init;
            FloatVector a4 = init;
            FloatVector a5 = init;
            FloatVector a6 = init;
            FloatVector a7 = init;
            FloatVector a8 = init;
            FloatVector a9 = init;
            FloatVector a10 = init;
            FloatVector a11 = init;
            FloatVector a12 = init;
            FloatVector a13 = init;
            FloatVector a14 = init;
            FloatVector a15 = init;
            for (int k0 = 0; k0 < kp; k0 += 8) {
                FloatVector w0 = FloatVector.fromArray(S, wp, wOff + (k0 + 0) * L);
                FloatVector w1 = FloatVector.fromArray(S, wp, wOff + (k0 + 1) * L);
                FloatVector w2 = FloatVector.fromArray(S, wp, wOff + (k0 + 2) * L);
                FloatVector w3 = FloatVector.fromArray(S, wp, wOff + (k0 + 3) * L);
                FloatVector w4 = FloatVector.fromArray(S, wp, wOff + (k0 + 4) * L);
                FloatVector w5 = FloatVector.fromArray(S, wp, wOff + (k0 + 5) * L);
                FloatVector w6 = FloatVector.fromArray(S, wp, wOff + (k0 + 6) * L);
                FloatVector w7 = FloatVector.fromArray(S, wp, wOff + (k0 + 7) * L);
                int xr = xOff + (tile * 16 + k0) * L;
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
            }
            int yr = yOff + tile * 16 * ys;
            a0.intoArray(yp, yr + 0 * ys);
            a1.intoArray(yp, yr + 1 * ys);
            a2.intoArray(yp, yr + 2 * ys);
            a3.intoArray(yp, yr + 3 * ys);
            a4.intoArray(yp, yr + 4 * ys);
            a5.intoArray(yp, yr + 5 * ys);
            a6.intoArray(yp, yr + 6 * ys);
            a7.intoArray(yp, yr + 7 * ys);
            a8.intoArray(yp, yr + 8 * ys);
            a9.intoArray(yp, yr + 9 * ys);
            a10.intoArray(yp, yr + 10 * ys);
            a11.intoArray(yp, yr + 11 * ys);
            a12.intoArray(yp, yr + 12 * ys);
            a13.intoArray(yp, yr + 13 * ys);
            a14.intoArray(yp, yr + 14 * ys);
            a15.intoArray(yp, yr + 15 * ys);
        }
    }

    /**
     * All kp taps (a multiple of 4) of 16-row tiles of one channel vector, on panels (the input panel
     * from xp[xOff], rows L floats apart; the weights from wp[wOff]) into output rows ys floats apart from
     * yp[yOff] (an output panel, ys = L, or the output itself, ys = C): output row r reads panel rows
     * r .. r+kp-1. Each tile keeps its 16 accumulators in registers
     * through all the taps, 4 at a time with their weight vectors loaded from L1, and stores
     * them once. For kp = 4 mod 8 ({@link #convolveTiles16} takes chunks of 8 only): the
     * taps of B=8 T=512 C=512 K=31 ran at 176-178 GFLOP/s on one AVX-512 core in chunks of 4, 192-199 in
     * chunks of 8.
     * The tile starts from the bias vector at bias[biasOff] (zero when bias is null). (No
     * FloatVector parameters: a vector whose exact class C2 cannot see is not intrinsified, and every
     * operation on it would box.)
     */
    private static void convolveTiles16By4(float[] xp, int xOff, float[] wp, int wOff, int kp, float[] yp,
                                        int yOff, int ys, int tiles, float[] bias, int biasOff) {
        FloatVector init = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, biasOff);
        for (int tile = 0; tile < tiles; tile++) {
            FloatVector a0 = init;
            FloatVector a1 = init;
            FloatVector a2 = init;
            FloatVector a3 = init;
            FloatVector a4 = init;
            FloatVector a5 = init;
            FloatVector a6 = init;
            FloatVector a7 = init;
            FloatVector a8 = init;
            FloatVector a9 = init;
            FloatVector a10 = init;
            FloatVector a11 = init;
            FloatVector a12 = init;
            FloatVector a13 = init;
            FloatVector a14 = init;
            FloatVector a15 = init;
            for (int k0 = 0; k0 < kp; k0 += 4) {
                FloatVector w0 = FloatVector.fromArray(S, wp, wOff + (k0 + 0) * L);
                FloatVector w1 = FloatVector.fromArray(S, wp, wOff + (k0 + 1) * L);
                FloatVector w2 = FloatVector.fromArray(S, wp, wOff + (k0 + 2) * L);
                FloatVector w3 = FloatVector.fromArray(S, wp, wOff + (k0 + 3) * L);
                int xr = xOff + (tile * 16 + k0) * L;
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
            }
            int yr = yOff + tile * 16 * ys;
            a0.intoArray(yp, yr + 0 * ys);
            a1.intoArray(yp, yr + 1 * ys);
            a2.intoArray(yp, yr + 2 * ys);
            a3.intoArray(yp, yr + 3 * ys);
            a4.intoArray(yp, yr + 4 * ys);
            a5.intoArray(yp, yr + 5 * ys);
            a6.intoArray(yp, yr + 6 * ys);
            a7.intoArray(yp, yr + 7 * ys);
            a8.intoArray(yp, yr + 8 * ys);
            a9.intoArray(yp, yr + 9 * ys);
            a10.intoArray(yp, yr + 10 * ys);
            a11.intoArray(yp, yr + 11 * ys);
            a12.intoArray(yp, yr + 12 * ys);
            a13.intoArray(yp, yr + 13 * ys);
            a14.intoArray(yp, yr + 14 * ys);
            a15.intoArray(yp, yr + 15 * ys);
        }
    }

    /**
     * All kp taps (a multiple of 2) of 8-row tiles of one channel vector, on panels (the input panel
     * from xp[xOff], rows L floats apart; the weights from wp[wOff]) into output rows ys floats apart from
     * yp[yOff] (an output panel, ys = L, or the output itself, ys = C): output row r reads panel rows
     * r .. r+kp-1. Each tile keeps its 8 accumulators in registers
     * through all the taps, 2 at a time with their weight vectors loaded from L1, and stores
     * them once. For 16 vector registers (AVX2), where the 16-row tile spills: 8 accumulators, 2 weights and
     * the input rows. Chunks of 2 taps rather than 4 (whose 4 weights left C2 too few registers for the
     * input rows it loads ahead, so it spilled two accumulators): B=8 T=512 C=512 K=31 on an AVX2 Zen 3,
     * fastest of 10 calls in 20-30 alternating rounds, 1.46-1.50 vs 1.51-1.66 ms on two threads, 2.72 vs
     * 3.03 on one.
     * The tile starts from the bias vector at bias[biasOff] (zero when bias is null). (No
     * FloatVector parameters: a vector whose exact class C2 cannot see is not intrinsified, and every
     * operation on it would box.)
     */
    private static void convolveTiles8(float[] xp, int xOff, float[] wp, int wOff, int kp, float[] yp,
                                        int yOff, int ys, int tiles, float[] bias, int biasOff) {
        FloatVector init = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, biasOff);
        for (int tile = 0; tile < tiles; tile++) {
            FloatVector a0 = init;
            FloatVector a1 = init;
            FloatVector a2 = init;
            FloatVector a3 = init;
            FloatVector a4 = init;
            FloatVector a5 = init;
            FloatVector a6 = init;
            FloatVector a7 = init;
            for (int k0 = 0; k0 < kp; k0 += 2) {
                FloatVector w0 = FloatVector.fromArray(S, wp, wOff + (k0 + 0) * L);
                FloatVector w1 = FloatVector.fromArray(S, wp, wOff + (k0 + 1) * L);
                int xr = xOff + (tile * 8 + k0) * L;
                FloatVector xv;
                xv = FloatVector.fromArray(S, xp, xr + 0 * L);
                a0 = xv.fma(w0, a0);
                xv = FloatVector.fromArray(S, xp, xr + 1 * L);
                a0 = xv.fma(w1, a0);
                a1 = xv.fma(w0, a1);
                xv = FloatVector.fromArray(S, xp, xr + 2 * L);
                a1 = xv.fma(w1, a1);
                a2 = xv.fma(w0, a2);
                xv = FloatVector.fromArray(S, xp, xr + 3 * L);
                a2 = xv.fma(w1, a2);
                a3 = xv.fma(w0, a3);
                xv = FloatVector.fromArray(S, xp, xr + 4 * L);
                a3 = xv.fma(w1, a3);
                a4 = xv.fma(w0, a4);
                xv = FloatVector.fromArray(S, xp, xr + 5 * L);
                a4 = xv.fma(w1, a4);
                a5 = xv.fma(w0, a5);
                xv = FloatVector.fromArray(S, xp, xr + 6 * L);
                a5 = xv.fma(w1, a5);
                a6 = xv.fma(w0, a6);
                xv = FloatVector.fromArray(S, xp, xr + 7 * L);
                a6 = xv.fma(w1, a6);
                a7 = xv.fma(w0, a7);
                xv = FloatVector.fromArray(S, xp, xr + 8 * L);
                a7 = xv.fma(w1, a7);
            }
            int yr = yOff + tile * 8 * ys;
            a0.intoArray(yp, yr + 0 * ys);
            a1.intoArray(yp, yr + 1 * ys);
            a2.intoArray(yp, yr + 2 * ys);
            a3.intoArray(yp, yr + 3 * ys);
            a4.intoArray(yp, yr + 4 * ys);
            a5.intoArray(yp, yr + 5 * ys);
            a6.intoArray(yp, yr + 6 * ys);
            a7.intoArray(yp, yr + 7 * ys);
        }
    }

    /**
     * dwp[(k0 + k)*L + lane] += sum over the rows r of the tiles of
     * gp[gOff + r*L + lane] * xp[xOff + (r + k0 + k)*L + lane], k < 16: the 16 partial sums stay in
     * registers across the tiles of 8 rows; each tile loads its dy rows and each of its input rows once.
     */
    private static void tapGradient16(float[] xp, int xOff, float[] gp, int gOff, float[] dwp, int k0, int tiles) {
        FloatVector d0 = FloatVector.fromArray(S, dwp, (k0 + 0) * L);
        FloatVector d1 = FloatVector.fromArray(S, dwp, (k0 + 1) * L);
        FloatVector d2 = FloatVector.fromArray(S, dwp, (k0 + 2) * L);
        FloatVector d3 = FloatVector.fromArray(S, dwp, (k0 + 3) * L);
        FloatVector d4 = FloatVector.fromArray(S, dwp, (k0 + 4) * L);
        FloatVector d5 = FloatVector.fromArray(S, dwp, (k0 + 5) * L);
        FloatVector d6 = FloatVector.fromArray(S, dwp, (k0 + 6) * L);
        FloatVector d7 = FloatVector.fromArray(S, dwp, (k0 + 7) * L);
        FloatVector d8 = FloatVector.fromArray(S, dwp, (k0 + 8) * L);
        FloatVector d9 = FloatVector.fromArray(S, dwp, (k0 + 9) * L);
        FloatVector d10 = FloatVector.fromArray(S, dwp, (k0 + 10) * L);
        FloatVector d11 = FloatVector.fromArray(S, dwp, (k0 + 11) * L);
        FloatVector d12 = FloatVector.fromArray(S, dwp, (k0 + 12) * L);
        FloatVector d13 = FloatVector.fromArray(S, dwp, (k0 + 13) * L);
        FloatVector d14 = FloatVector.fromArray(S, dwp, (k0 + 14) * L);
        FloatVector d15 = FloatVector.fromArray(S, dwp, (k0 + 15) * L);
        for (int tile = 0; tile < tiles; tile++) {
            int gr = gOff + tile * 8 * L;
            FloatVector g0 = FloatVector.fromArray(S, gp, gr + 0 * L);
            FloatVector g1 = FloatVector.fromArray(S, gp, gr + 1 * L);
            FloatVector g2 = FloatVector.fromArray(S, gp, gr + 2 * L);
            FloatVector g3 = FloatVector.fromArray(S, gp, gr + 3 * L);
            FloatVector g4 = FloatVector.fromArray(S, gp, gr + 4 * L);
            FloatVector g5 = FloatVector.fromArray(S, gp, gr + 5 * L);
            FloatVector g6 = FloatVector.fromArray(S, gp, gr + 6 * L);
            FloatVector g7 = FloatVector.fromArray(S, gp, gr + 7 * L);
            int xr = xOff + (tile * 8 + k0) * L;
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
            d8 = xv.fma(g0, d8);
            xv = FloatVector.fromArray(S, xp, xr + 9 * L);
            d2 = xv.fma(g7, d2);
            d3 = xv.fma(g6, d3);
            d4 = xv.fma(g5, d4);
            d5 = xv.fma(g4, d5);
            d6 = xv.fma(g3, d6);
            d7 = xv.fma(g2, d7);
            d8 = xv.fma(g1, d8);
            d9 = xv.fma(g0, d9);
            xv = FloatVector.fromArray(S, xp, xr + 10 * L);
            d3 = xv.fma(g7, d3);
            d4 = xv.fma(g6, d4);
            d5 = xv.fma(g5, d5);
            d6 = xv.fma(g4, d6);
            d7 = xv.fma(g3, d7);
            d8 = xv.fma(g2, d8);
            d9 = xv.fma(g1, d9);
            d10 = xv.fma(g0, d10);
            xv = FloatVector.fromArray(S, xp, xr + 11 * L);
            d4 = xv.fma(g7, d4);
            d5 = xv.fma(g6, d5);
            d6 = xv.fma(g5, d6);
            d7 = xv.fma(g4, d7);
            d8 = xv.fma(g3, d8);
            d9 = xv.fma(g2, d9);
            d10 = xv.fma(g1, d10);
            d11 = xv.fma(g0, d11);
            xv = FloatVector.fromArray(S, xp, xr + 12 * L);
            d5 = xv.fma(g7, d5);
            d6 = xv.fma(g6, d6);
            d7 = xv.fma(g5, d7);
            d8 = xv.fma(g4, d8);
            d9 = xv.fma(g3, d9);
            d10 = xv.fma(g2, d10);
            d11 = xv.fma(g1, d11);
            d12 = xv.fma(g0, d12);
            xv = FloatVector.fromArray(S, xp, xr + 13 * L);
            d6 = xv.fma(g7, d6);
            d7 = xv.fma(g6, d7);
            d8 = xv.fma(g5, d8);
            d9 = xv.fma(g4, d9);
            d10 = xv.fma(g3, d10);
            d11 = xv.fma(g2, d11);
            d12 = xv.fma(g1, d12);
            d13 = xv.fma(g0, d13);
            xv = FloatVector.fromArray(S, xp, xr + 14 * L);
            d7 = xv.fma(g7, d7);
            d8 = xv.fma(g6, d8);
            d9 = xv.fma(g5, d9);
            d10 = xv.fma(g4, d10);
            d11 = xv.fma(g3, d11);
            d12 = xv.fma(g2, d12);
            d13 = xv.fma(g1, d13);
            d14 = xv.fma(g0, d14);
            xv = FloatVector.fromArray(S, xp, xr + 15 * L);
            d8 = xv.fma(g7, d8);
            d9 = xv.fma(g6, d9);
            d10 = xv.fma(g5, d10);
            d11 = xv.fma(g4, d11);
            d12 = xv.fma(g3, d12);
            d13 = xv.fma(g2, d13);
            d14 = xv.fma(g1, d14);
            d15 = xv.fma(g0, d15);
            xv = FloatVector.fromArray(S, xp, xr + 16 * L);
            d9 = xv.fma(g7, d9);
            d10 = xv.fma(g6, d10);
            d11 = xv.fma(g5, d11);
            d12 = xv.fma(g4, d12);
            d13 = xv.fma(g3, d13);
            d14 = xv.fma(g2, d14);
            d15 = xv.fma(g1, d15);
            xv = FloatVector.fromArray(S, xp, xr + 17 * L);
            d10 = xv.fma(g7, d10);
            d11 = xv.fma(g6, d11);
            d12 = xv.fma(g5, d12);
            d13 = xv.fma(g4, d13);
            d14 = xv.fma(g3, d14);
            d15 = xv.fma(g2, d15);
            xv = FloatVector.fromArray(S, xp, xr + 18 * L);
            d11 = xv.fma(g7, d11);
            d12 = xv.fma(g6, d12);
            d13 = xv.fma(g5, d13);
            d14 = xv.fma(g4, d14);
            d15 = xv.fma(g3, d15);
            xv = FloatVector.fromArray(S, xp, xr + 19 * L);
            d12 = xv.fma(g7, d12);
            d13 = xv.fma(g6, d13);
            d14 = xv.fma(g5, d14);
            d15 = xv.fma(g4, d15);
            xv = FloatVector.fromArray(S, xp, xr + 20 * L);
            d13 = xv.fma(g7, d13);
            d14 = xv.fma(g6, d14);
            d15 = xv.fma(g5, d15);
            xv = FloatVector.fromArray(S, xp, xr + 21 * L);
            d14 = xv.fma(g7, d14);
            d15 = xv.fma(g6, d15);
            xv = FloatVector.fromArray(S, xp, xr + 22 * L);
            d15 = xv.fma(g7, d15);
        }
        d0.intoArray(dwp, (k0 + 0) * L);
        d1.intoArray(dwp, (k0 + 1) * L);
        d2.intoArray(dwp, (k0 + 2) * L);
        d3.intoArray(dwp, (k0 + 3) * L);
        d4.intoArray(dwp, (k0 + 4) * L);
        d5.intoArray(dwp, (k0 + 5) * L);
        d6.intoArray(dwp, (k0 + 6) * L);
        d7.intoArray(dwp, (k0 + 7) * L);
        d8.intoArray(dwp, (k0 + 8) * L);
        d9.intoArray(dwp, (k0 + 9) * L);
        d10.intoArray(dwp, (k0 + 10) * L);
        d11.intoArray(dwp, (k0 + 11) * L);
        d12.intoArray(dwp, (k0 + 12) * L);
        d13.intoArray(dwp, (k0 + 13) * L);
        d14.intoArray(dwp, (k0 + 14) * L);
        d15.intoArray(dwp, (k0 + 15) * L);
    }

    /**
     * dwp[(k0 + k)*L + lane] += sum over the rows r of the tiles of
     * gp[gOff + r*L + lane] * xp[xOff + (r + k0 + k)*L + lane], k < 8: the 8 partial sums stay in
     * registers across the tiles of 8 rows; each tile loads its dy rows and each of its input rows once.
     */
    private static void tapGradient8(float[] xp, int xOff, float[] gp, int gOff, float[] dwp, int k0, int tiles) {
        FloatVector d0 = FloatVector.fromArray(S, dwp, (k0 + 0) * L);
        FloatVector d1 = FloatVector.fromArray(S, dwp, (k0 + 1) * L);
        FloatVector d2 = FloatVector.fromArray(S, dwp, (k0 + 2) * L);
        FloatVector d3 = FloatVector.fromArray(S, dwp, (k0 + 3) * L);
        FloatVector d4 = FloatVector.fromArray(S, dwp, (k0 + 4) * L);
        FloatVector d5 = FloatVector.fromArray(S, dwp, (k0 + 5) * L);
        FloatVector d6 = FloatVector.fromArray(S, dwp, (k0 + 6) * L);
        FloatVector d7 = FloatVector.fromArray(S, dwp, (k0 + 7) * L);
        for (int tile = 0; tile < tiles; tile++) {
            int gr = gOff + tile * 8 * L;
            FloatVector g0 = FloatVector.fromArray(S, gp, gr + 0 * L);
            FloatVector g1 = FloatVector.fromArray(S, gp, gr + 1 * L);
            FloatVector g2 = FloatVector.fromArray(S, gp, gr + 2 * L);
            FloatVector g3 = FloatVector.fromArray(S, gp, gr + 3 * L);
            FloatVector g4 = FloatVector.fromArray(S, gp, gr + 4 * L);
            FloatVector g5 = FloatVector.fromArray(S, gp, gr + 5 * L);
            FloatVector g6 = FloatVector.fromArray(S, gp, gr + 6 * L);
            FloatVector g7 = FloatVector.fromArray(S, gp, gr + 7 * L);
            int xr = xOff + (tile * 8 + k0) * L;
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
     * dwp[(k0 + k)*L + lane] += sum over the rows r of the tiles of
     * gp[gOff + r*L + lane] * xp[xOff + (r + k0 + k)*L + lane], k < 4: the 4 partial sums stay in
     * registers across the tiles of 8 rows; each tile loads its dy rows and each of its input rows once.
     */
    private static void tapGradient4(float[] xp, int xOff, float[] gp, int gOff, float[] dwp, int k0, int tiles) {
        FloatVector d0 = FloatVector.fromArray(S, dwp, (k0 + 0) * L);
        FloatVector d1 = FloatVector.fromArray(S, dwp, (k0 + 1) * L);
        FloatVector d2 = FloatVector.fromArray(S, dwp, (k0 + 2) * L);
        FloatVector d3 = FloatVector.fromArray(S, dwp, (k0 + 3) * L);
        for (int tile = 0; tile < tiles; tile++) {
            int gr = gOff + tile * 8 * L;
            FloatVector g0 = FloatVector.fromArray(S, gp, gr + 0 * L);
            FloatVector g1 = FloatVector.fromArray(S, gp, gr + 1 * L);
            FloatVector g2 = FloatVector.fromArray(S, gp, gr + 2 * L);
            FloatVector g3 = FloatVector.fromArray(S, gp, gr + 3 * L);
            FloatVector g4 = FloatVector.fromArray(S, gp, gr + 4 * L);
            FloatVector g5 = FloatVector.fromArray(S, gp, gr + 5 * L);
            FloatVector g6 = FloatVector.fromArray(S, gp, gr + 6 * L);
            FloatVector g7 = FloatVector.fromArray(S, gp, gr + 7 * L);
            int xr = xOff + (tile * 8 + k0) * L;
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
        int rowsPerTask = timeBlock(B, T);
        int blocks = (T + rowsPerTask - 1) / rowsPerTask;
        CpuPool.parallelFor(B * blocks, task -> {
            int b = task / blocks;
            int t0 = (task % blocks) * rowsPerTask;
            int t1 = Math.min(T, t0 + rowsPerTask);
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
        int rowsPerTask = timeBlock(B, T);
        int blocks = (T + rowsPerTask - 1) / rowsPerTask;
        CpuPool.parallelFor(B * blocks, task -> {
            int b = task / blocks;
            int s0 = (task % blocks) * rowsPerTask;
            int s1 = Math.min(T, s0 + rowsPerTask);
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
        int rowsPerTask = timeBlock(B, T);
        int blocks = (T + rowsPerTask - 1) / rowsPerTask;
        double[][] partials = new double[B * blocks][];
        CpuPool.parallelFor(B * blocks, task -> {
            int b = task / blocks;
            int t0 = (task % blocks) * rowsPerTask;
            int t1 = Math.min(T, t0 + rowsPerTask);
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
