package org.attnkit.ops.dynamicconv;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;
import org.attnkit.backend.CpuPool;
import org.attnkit.backend.VectorMath;
import org.attnkit.random.DropConnect;

/**
 * Vector API kernels of DynamicConv on raw row-major arrays (x, y, dy [B,T,C]; q [B,T,Cq];
 * generator weight [L,Cq] with L = H*K).
 *
 * <p>Work is split into (batch, time tile) tasks of {@value #TILE} rows, a partition fixed by the
 * shape. A task generates its tile's kernels as a blocked GEMM (q tile [n,Cq] times the transposed,
 * zero-padded generator weight [Cq,Lp] into a logits tile [n,Lp], Lp = L rounded up to two vectors),
 * normalizes them in place while the tile is in L1, and convolves from the tile: the forward pass never
 * holds more than one tile of weights per task.
 *
 * <p>Backward is two-phase. The input gradient is a gather over the weights of the K-1 neighbouring
 * time steps, so a tile needs its neighbours' weights; recomputing a K-1 row halo per tile would redo
 * (TILE+K-1)/TILE of the generator GEMM (about 1.6x at K = 31), which dominates the cost. Instead phase 1
 * recomputes each tile's weights once and writes the dropped weights wt and the logit gradient dG as
 * [B*T, L] float buffers (each the size of the generator's output, smaller than x when L < C); phase 2
 * gathers dx from wt and adds dq = dG . weight per tile; phase 3 computes dweight = dG^T q and dbias,
 * each task owning a block of the output and summing over all B*T rows in row order, so no partial
 * sums are needed and the bits do not depend on the thread count.
 */
final class DynamicConvSimd {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int V = S.length();
    /** Time steps per task; a multiple of the GEMM's row block {@link #MR}. */
    static final int TILE = 48;
    /** Rows of the GEMM's register block: 6 x 2 vectors, or 4 x 2 with 16 vector registers (see Gemm.MR). */
    private static final int MR = VectorMath.SIXTEEN_REGISTERS ? 4 : 6;
    /** Depth of one GEMM pass: a KC x 2V panel of B stays in L1 across the row blocks. */
    private static final int KC = 128;
    /**
     * Output block of the dweight GEMM: rows (taps) x columns (query channels). Each task streams all
     * B*T rows of q and dG, so blocks are large (few passes over q, packing amortized over 8 column
     * panels) yet give 2 x 3 = 6 tasks at H*K = 248, Cq = 512.
     */
    private static final int DW_ROWS = 96;
    private static final int DW_COLS = 256;
    /**
     * The lane sums of V vectors at once ({@link #tapSums16}, {@link #tapSums8}): PARTNERd maps lane i to
     * i ^ d, UPPERd marks the lanes with bit d set (null where d >= V). Constants, so that C2 sees their
     * exact classes.
     */
    private static final VectorShuffle<Float> PARTNER1 = V > 1 ? VectorShuffle.fromOp(S, i -> i ^ 1) : null;
    private static final VectorShuffle<Float> PARTNER2 = V > 2 ? VectorShuffle.fromOp(S, i -> i ^ 2) : null;
    private static final VectorShuffle<Float> PARTNER4 = V > 4 ? VectorShuffle.fromOp(S, i -> i ^ 4) : null;
    private static final VectorShuffle<Float> PARTNER8 = V > 8 ? VectorShuffle.fromOp(S, i -> i ^ 8) : null;
    private static final VectorMask<Float> UPPER1 = V > 1 ? upper(1) : null;
    private static final VectorMask<Float> UPPER2 = V > 2 ? upper(2) : null;
    private static final VectorMask<Float> UPPER4 = V > 4 ? upper(4) : null;
    private static final VectorMask<Float> UPPER8 = V > 8 ? upper(8) : null;

    private DynamicConvSimd() {
    }

    /** The lanes i with (i & d) != 0. */
    private static VectorMask<Float> upper(int d) {
        boolean[] bits = new boolean[V];
        for (int i = 0; i < V; i++) {
            bits[i] = (i & d) != 0;
        }
        return VectorMask.fromArray(S, bits, 0);
    }

    /** Sizes and options of one call. */
    record Geom(int batch, int time, int channels, int queryChannels, int heads, int kernelSize, int pad,
                boolean softmax, boolean renorm, DropConnect drop) {
        int perHead() {
            return channels / heads;
        }

        int taps() {
            return heads * kernelSize;
        }

        /** L rounded up to two vectors (the GEMM's column block): the row stride of a logits tile. */
        int paddedTaps() {
            return (taps() + 2 * V - 1) / (2 * V) * (2 * V);
        }

        int tiles() {
            return (time + TILE - 1) / TILE;
        }

        /** First in-range tap of output t. */
        int kLo(int t) {
            return Math.max(0, pad - t);
        }

        /** One past the last in-range tap of output t. */
        int kHi(int t) {
            return Math.min(kernelSize, time + pad - t);
        }

        boolean dropPosition() {
            return drop.active() && drop.scope() == DropConnect.Scope.POSITION;
        }
    }

    /**
     * The generator weight [L,Cq] transposed to [Cq,Lp] (the padding columns zero) and stored as Lp/2V
     * panels of [Cq, 2V], each the contiguous B operand of one GEMM column block.
     */
    static float[] transposedPanels(float[] wq, Geom g) {
        return panels(wq, g.queryChannels(), g.taps(), 1, g.queryChannels());
    }

    /**
     * The generator weight [L,Cq] as ceil(Cq/2V) panels of [L, 2V] (the columns past Cq zero): the B
     * operand of the dq GEMM, packed once per call rather than by every (batch, time tile) task.
     */
    static float[] columnPanels(float[] wq, Geom g) {
        return panels(wq, g.taps(), g.queryChannels(), g.queryChannels(), 1);
    }

    /**
     * The rows x cols matrix m[i][j] = a[i*rowStride + j*colStride] as ceil(cols/2V) column panels of
     * [rows, 2V], one after the other, the columns past cols zero. The inner loop walks a's unit stride.
     */
    private static float[] panels(float[] a, int rows, int cols, int rowStride, int colStride) {
        int pw = 2 * V;
        float[] t = new float[(cols + pw - 1) / pw * rows * pw];
        boolean rowMajor = colStride == 1;
        for (int outer = 0; outer < (rowMajor ? rows : cols); outer++) {
            for (int inner = 0; inner < (rowMajor ? cols : rows); inner++) {
                int i = rowMajor ? outer : inner;
                int j = rowMajor ? inner : outer;
                t[(j / pw * rows + i) * pw + j % pw] = a[i * rowStride + j * colStride];
            }
        }
        return t;
    }

    /** The bias padded to Lp (zeros without a bias): the initial value of every logits row. */
    static float[] paddedBias(float[] bias, Geom g) {
        float[] b = new float[g.paddedTaps()];
        if (bias != null) {
            System.arraycopy(bias, 0, b, 0, bias.length);
        }
        return b;
    }

    /** HEAD_KERNEL factors [L] (0 or 1/(1-p)), or null when that scope is not in use. */
    static float[] headKernelFactors(Geom g) {
        if (!g.drop().active() || g.drop().scope() != DropConnect.Scope.HEAD_KERNEL) {
            return null;
        }
        float[] f = new float[g.taps()];
        for (int h = 0; h < g.heads(); h++) {
            for (int k = 0; k < g.kernelSize(); k++) {
                f[h * g.kernelSize() + k] = (float) g.drop().factor(DropConnect.headKernelIndex(h, k, g.kernelSize()));
            }
        }
        return f;
    }

    // ------------------------------------------------------------------ forward

    static void forward(float[] x, float[] q, float[] wqT, float[] biasPad, float[] hkFactors, float[] y, Geom g) {
        int tiles = g.tiles();
        CpuPool.parallelFor(g.batch() * tiles, task -> {
            int b = task / tiles;
            int t0 = (task % tiles) * TILE;
            int n = Math.min(g.time(), t0 + TILE) - t0;
            int lp = g.paddedTaps();
            float[] w = new float[TILE * lp]; // [n, Lp] logits, then normalized, then dropped weights
            normalizedTile(q, wqT, biasPad, w, b, t0, n, g);
            if (g.drop().active()) {
                float[] f = new float[g.kernelSize()];
                for (int i = 0; i < n; i++) {
                    for (int h = 0; h < g.heads(); h++) {
                        factors(g, hkFactors, b, t0 + i, h, f);
                        int row = i * lp + h * g.kernelSize();
                        for (int k = 0; k < g.kernelSize(); k++) {
                            w[row + k] *= f[k];
                        }
                    }
                }
            }
            convolveRows(x, w, lp, y, b, t0, n, g);
        });
    }

    /**
     * Logits of rows [t0, t0+n) of batch b into w [n, Lp] (bias plus the GEMM), then the softmax (or
     * the renormPadding zeroing) in place: w holds the normalized weights wn afterwards.
     */
    static void normalizedTile(float[] q, float[] wqT, float[] biasPad, float[] w, int b, int t0, int n, Geom g) {
        int lp = g.paddedTaps();
        int cq = g.queryChannels();
        for (int i = 0; i < n; i++) {
            System.arraycopy(biasPad, 0, w, i * lp, lp);
        }
        int pw = 2 * V;
        for (int j = 0; j < lp; j += pw) {
            gemm(n, pw, cq, q, (b * g.time() + t0) * cq, cq, 1, wqT, j * cq, pw, w, j, lp);
        }
        normalizeRows(w, lp, t0, n, g);
    }

    /**
     * The softmax of every head's K logits in rows [0, n) of w (row stride lp; row i is time t0+i), or
     * the renormPadding zeroing, in place.
     */
    private static void normalizeRows(float[] w, int lp, int t0, int n, Geom g) {
        int kk = g.kernelSize();
        int taps = g.taps();
        for (int i = 0; i < n; i++) {
            int t = t0 + i;
            int kLo = g.kLo(t);
            int kHi = g.kHi(t);
            boolean edge = kLo > 0 || kHi < kk;
            int row = i * lp;
            if (!g.softmax()) {
                if (g.renorm() && edge) {
                    for (int h = 0; h < g.heads(); h++) {
                        zeroOutside(w, row + h * kk, kLo, kHi, kk);
                    }
                }
                continue;
            }
            int lo = g.renorm() ? kLo : 0;
            int hi = g.renorm() ? kHi : kk;
            if (lo == 0 && hi == kk && kk >= V && kk <= 2 * V) {
                softmaxTwoVectors(w, row, kk, g.heads(), taps);
                continue;
            }
            for (int h = 0; h < g.heads(); h++) {
                int base = row + h * kk;
                float max = Float.NEGATIVE_INFINITY;
                for (int k = lo; k < hi; k++) {
                    max = Math.max(max, w[base + k]);
                }
                for (int k = 0; k < kk; k++) {
                    // Taps left out by renormPadding could overflow exp; they are zeroed below.
                    w[base + k] = k >= lo && k < hi ? w[base + k] - max : 0f;
                }
            }
            expInPlace(w, row, taps);
            for (int h = 0; h < g.heads(); h++) {
                int base = row + h * kk;
                float sum = 0;
                for (int k = lo; k < hi; k++) {
                    sum += w[base + k];
                }
                float inv = 1f / sum;
                for (int k = 0; k < kk; k++) {
                    w[base + k] *= inv;
                }
                if (lo > 0 || hi < kk) {
                    zeroOutside(w, base, lo, hi, kk);
                }
            }
        }
    }

    /**
     * The softmax of each head's K taps in the row at w[row], for V <= K <= 2V: two vectors a head, the
     * second ending at the head's last tap; the 2V-K lanes they share count once in the sum. On one
     * thread, 8.5-8.9 us per 48-row tile of H=8 K=31 against 19.8-20.7 us tap by tap.
     */
    private static void softmaxTwoVectors(float[] w, int row, int kk, int heads, int taps) {
        int second = kk - V;
        VectorMask<Float> shared = S.indexInRange(0, 2 * V - kk);
        for (int h = 0; h < heads; h++) {
            int base = row + h * kk;
            FloatVector v0 = FloatVector.fromArray(S, w, base);
            FloatVector v1 = FloatVector.fromArray(S, w, base + second);
            float max = v0.max(v1).reduceLanes(VectorOperators.MAX);
            v0.sub(max).intoArray(w, base);
            v1.sub(max).intoArray(w, base + second);
        }
        expInPlace(w, row, taps);
        for (int h = 0; h < heads; h++) {
            int base = row + h * kk;
            FloatVector v0 = FloatVector.fromArray(S, w, base);
            FloatVector v1 = FloatVector.fromArray(S, w, base + second);
            float inv = 1f / VectorMath.sumLanes(v0.add(v1.blend(0f, shared)));
            v0.mul(inv).intoArray(w, base);
            v1.mul(inv).intoArray(w, base + second);
        }
    }

    private static void zeroOutside(float[] w, int base, int lo, int hi, int kk) {
        for (int k = 0; k < lo; k++) {
            w[base + k] = 0f;
        }
        for (int k = hi; k < kk; k++) {
            w[base + k] = 0f;
        }
    }

    /**
     * w[from + i] = exp(w[from + i]) for i < n, for arguments <= 0 (shifted logits). {@link VectorMath#exp} rather
     * than {@code lanewise(EXP)}: the latter's intrinsic and its interpreter fallback round differently,
     * so results would change as the JIT warms up; add, mul and fma give the same bits in every tier.
     */
    private static void expInPlace(float[] w, int from, int n) {
        int bound = S.loopBound(n);
        int i = 0;
        for (; i < bound; i += V) {
            VectorMath.exp(FloatVector.fromArray(S, w, from + i)).intoArray(w, from + i);
        }
        for (; i < n; i++) {
            w[from + i] = VectorMath.exp(w[from + i]);
        }
    }

    /** f[k] = DropConnect factor of (b, t, h, k): 1 without DropConnect. */
    private static void factors(Geom g, float[] hkFactors, int b, int t, int h, float[] f) {
        int kk = g.kernelSize();
        if (!g.drop().active()) {
            java.util.Arrays.fill(f, 1f);
        } else if (hkFactors != null) {
            System.arraycopy(hkFactors, h * kk, f, 0, kk);
        } else {
            for (int k = 0; k < kk; k++) {
                f[k] = (float) g.drop().factor(
                        DropConnect.positionIndex(b, t, h, k, g.time(), g.heads(), kk));
            }
        }
    }

    /**
     * y[b,t,c] = sum_{in-range k} w[(t-t0)*ws + h*K + k] x[b,t+k-P,c] for t in [t0, t0+n). Rows whose taps
     * are all in range go four at a time through {@link #convolveTile} (a head's channels in whole blocks
     * of four vectors, then one block of two through {@link #convolveTile2}, for K >= 3); the other rows,
     * and channels past those blocks, go row by row. All sum the taps of an output in increasing k, so the
     * path taken does not change the bits.
     */
    private static void convolveRows(float[] x, float[] w, int ws, float[] y, int b, int t0, int n, Geom g) {
        int C = g.channels();
        int R = g.perHead();
        int kk = g.kernelSize();
        int P = g.pad();
        int base = b * g.time() * C;
        int tiled = tiledChannels(R, kk);
        int tiled4 = fourVectorTiles(tiled); // of which in 4-vector tiles; the rest in 2-vector tiles
        int i = 0;
        while (i < n) {
            int t = t0 + i;
            if (tiled > 0 && i + 4 <= n && t - P >= 0 && t + 3 + kk - 1 - P < g.time()) {
                for (int h = 0; h < g.heads(); h++) {
                    int c = h * R;
                    for (; c < h * R + tiled4; c += 4 * V) {
                        convolveTile(x, w, i * ws + h * kk, ws, y, base + (t - P) * C + c, base + t * C + c, C,
                                kk);
                    }
                    for (; c < h * R + tiled; c += 2 * V) {
                        convolveTile2(x, w, i * ws + h * kk, ws, y, base + (t - P) * C + c, base + t * C + c, C,
                                kk);
                    }
                }
                for (int j = 0; j < 4; j++) {
                    convolveRow(x, w, ws, y, base, i + j, t + j, tiled, g);
                }
                i += 4;
            } else {
                convolveRow(x, w, ws, y, base, i, t, 0, g);
                i++;
            }
        }
    }

    /**
     * The leading channels of a head of R that the register tiles cover: whole blocks of 4 vectors, then one
     * of 2 vectors if that much is left (with 16 vector registers: whole blocks of 2 vectors); none for K < 3 (the tiles' first and last rows assume K >= 3).
     */
    private static int tiledChannels(int R, int kk) {
        if (kk < 3) {
            return 0;
        }
        if (VectorMath.SIXTEEN_REGISTERS) {
            return R / (2 * V) * (2 * V);
        }
        int four = R / (4 * V) * (4 * V);
        return R - four >= 2 * V ? four + 2 * V : four;
    }

    /**
     * Of the {@code tiled} channels, those in 4-vector tiles (16 accumulators): none with 16 vector registers,
     * where the 16 accumulators, 4 input vectors and the weight cannot all stay in registers; 2-vector tiles
     * (8 accumulators) take the rest.
     */
    private static int fourVectorTiles(int tiled) {
        return VectorMath.SIXTEEN_REGISTERS ? 0 : tiled / (4 * V) * (4 * V);
    }

    /**
     * Output row t (row i of the weight tile) for the channels of each head from its {@code skip}-th
     * on: one broadcast weight per tap times up to four channel vectors of the head.
     */
    private static void convolveRow(float[] x, float[] w, int ws, float[] y, int base, int i, int t, int skip,
                                    Geom g) {
        int C = g.channels();
        int R = g.perHead();
        int kk = g.kernelSize();
        int P = g.pad();
        int kLo = g.kLo(t);
        int kHi = g.kHi(t);
        int yr = base + t * C;
        for (int h = 0; h < g.heads(); h++) {
            int wr = i * ws + h * kk;
            int ce = (h + 1) * R;
            int c = h * R + skip;
            for (; c + 4 * V <= ce; c += 4 * V) {
                FloatVector a0 = FloatVector.zero(S);
                FloatVector a1 = a0;
                FloatVector a2 = a0;
                FloatVector a3 = a0;
                for (int k = kLo; k < kHi; k++) {
                    FloatVector wv = FloatVector.broadcast(S, w[wr + k]);
                    int xr = base + (t + k - P) * C + c;
                    a0 = FloatVector.fromArray(S, x, xr).fma(wv, a0);
                    a1 = FloatVector.fromArray(S, x, xr + V).fma(wv, a1);
                    a2 = FloatVector.fromArray(S, x, xr + 2 * V).fma(wv, a2);
                    a3 = FloatVector.fromArray(S, x, xr + 3 * V).fma(wv, a3);
                }
                a0.intoArray(y, yr + c);
                a1.intoArray(y, yr + c + V);
                a2.intoArray(y, yr + c + 2 * V);
                a3.intoArray(y, yr + c + 3 * V);
            }
            for (; c + V <= ce; c += V) {
                FloatVector a0 = FloatVector.zero(S);
                for (int k = kLo; k < kHi; k++) {
                    a0 = FloatVector.fromArray(S, x, base + (t + k - P) * C + c)
                            .fma(FloatVector.broadcast(S, w[wr + k]), a0);
                }
                a0.intoArray(y, yr + c);
            }
            for (; c < ce; c++) {
                float acc = 0f;
                for (int k = kLo; k < kHi; k++) {
                    acc = Math.fma(w[wr + k], x[base + (t + k - P) * C + c], acc);
                }
                y[yr + c] = acc;
            }
        }
    }

    // ------------------------------------------------------------------ backward

    /**
     * Phase 1: per tile, recompute wn; write wt = wn * mask into {@code wtAll} [B*T, L] when non-null,
     * and dG (through the mask and the softmax) into {@code dGAll} [B*T, L] when non-null.
     */
    static void weightsAndLogitGradient(float[] x, float[] q, float[] dy, float[] wqT, float[] biasPad,
                                        float[] hkFactors, float[] wtAll, float[] dGAll, Geom g) {
        int tiles = g.tiles();
        CpuPool.parallelFor(g.batch() * tiles, task -> {
            int b = task / tiles;
            int t0 = (task % tiles) * TILE;
            int n = Math.min(g.time(), t0 + TILE) - t0;
            int lp = g.paddedTaps();
            int kk = g.kernelSize();
            int taps = g.taps();
            float[] wn = new float[TILE * lp]; // [n, Lp]
            normalizedTile(q, wqT, biasPad, wn, b, t0, n, g);
            float[] dwt = dGAll == null ? null : tapGradient(x, dy, b, t0, n, g); // [n, L]
            float[] f = new float[kk]; // mask factors of one (t, h)
            float[] dwn = new float[kk]; // gradient of the normalized weights of one (t, h)
            for (int i = 0; i < n; i++) {
                int t = t0 + i;
                int out = (b * g.time() + t) * taps;
                for (int h = 0; h < g.heads(); h++) {
                    int wr = i * lp + h * kk;
                    factors(g, hkFactors, b, t, h, f);
                    if (wtAll != null) {
                        for (int k = 0; k < kk; k++) {
                            wtAll[out + h * kk + k] = wn[wr + k] * f[k];
                        }
                    }
                    if (dwt == null) {
                        continue;
                    }
                    for (int k = 0; k < kk; k++) {
                        dwn[k] = f[k] * dwt[i * taps + h * kk + k]; // 0 for taps reading the zero padding
                    }
                    int gr = out + h * kk;
                    if (g.softmax()) {
                        // Taps zeroed by renormPadding have wn = 0 and get dG = 0, as the reference.
                        double d = 0;
                        for (int k = 0; k < kk; k++) {
                            d += (double) wn[wr + k] * dwn[k];
                        }
                        float dotf = (float) d;
                        for (int k = 0; k < kk; k++) {
                            dGAll[gr + k] = wn[wr + k] * (dwn[k] - dotf);
                        }
                    } else {
                        System.arraycopy(dwn, 0, dGAll, gr, kk);
                    }
                }
            }
        });
    }

    /**
     * dwt[i*L + h*K + k] = sum_{c in head h} dy[b,t0+i,c] x[b,t0+i+k-P,c] for i < n, 0 for taps reading
     * outside [0,T): per (row, head, tap) a dot product along the head's channels, vector FMAs and one
     * fixed-order lane sum ({@link VectorMath#sumLanes}); with 16 or 8 lanes, as many taps at a time through
     * {@link #tapSums16} or {@link #tapSums8} (rows whose taps all read inside [0, T)). Transposing the tile
     * to put time along the lanes (every product a vertical FMA, no lane sums) cost more in the two scalar
     * transposes than it saved: 120-124 us per 48-row tile of B=8 T=512 C=512 H=8 K=31 against 80-84 us for
     * the butterflies, on one thread.
     */
    private static float[] tapGradient(float[] x, float[] dy, int b, int t0, int n, Geom g) {
        int C = g.channels();
        int R = g.perHead();
        int kk = g.kernelSize();
        int taps = g.taps();
        int P = g.pad();
        int T = g.time();
        int base = b * T * C;
        int whole = R / V * V; // channels of a head in whole vectors
        float[] dwt = new float[n * taps];
        // Rows whose taps, rounded up to whole groups of V, all read rows inside [0, T), with heads of whole
        // vectors, take V taps at a time through tapSums16 or tapSums8. Head by head: the x rows one head of
        // the tile reads (n + 31 rows, 20 KB at n = 48, R = 64) fit L1 (row by row measured the same).
        int groups = (kk + V - 1) / V;
        boolean byGroups = (V == 16 || V == 8) && R == whole;
        for (int h = 0; h < g.heads(); h++) {
            int c0 = h * R;
            for (int i = 0; i < n; i++) {
                int t = t0 + i;
                int gr = base + t * C;
                if (byGroups && t - P >= 0 && t - P + groups * V <= T) {
                    for (int k0 = 0; k0 < kk; k0 += V) {
                        int xr = base + (t + k0 - P) * C + c0;
                        if (V == 16) {
                            tapSums16(dy, gr + c0, x, xr, C, R, dwt, i * taps + h * kk + k0, Math.min(16, kk - k0));
                        } else {
                            tapSums8(dy, gr + c0, x, xr, C, R, dwt, i * taps + h * kk + k0, Math.min(8, kk - k0));
                        }
                    }
                    continue;
                }
                int kHi = g.kHi(t);
                for (int k = g.kLo(t); k < kHi; k++) {
                    int xr = base + (t + k - P) * C;
                    FloatVector acc = FloatVector.zero(S);
                    int c = c0;
                    for (; c < c0 + whole; c += V) {
                        acc = FloatVector.fromArray(S, dy, gr + c).fma(FloatVector.fromArray(S, x, xr + c), acc);
                    }
                    float sum = VectorMath.sumLanes(acc);
                    for (; c < c0 + R; c++) {
                        sum = Math.fma(dy[gr + c], x[xr + c], sum);
                    }
                    dwt[i * taps + h * kk + k] = sum;
                }
            }
        }
        return dwt;
    }

    /**
     * Phase 2: when dx is non-null, dx[b,s,c] = sum_k wt[b,s-k+P,h,k] dy[b,s-k+P,c] (a gather, each
     * task writes its own rows); then, when dq is non-null, dq rows += dG rows . weight (a GEMM per
     * tile, the weight as {@link #columnPanels}; dq may be dx itself when x generates the kernels).
     */
    static void inputGradients(float[] dy, float[] wtAll, float[] dGAll, float[] wqPanels, float[] dx, float[] dq,
                               Geom g) {
        int tiles = g.tiles();
        CpuPool.parallelFor(g.batch() * tiles, task -> {
            int b = task / tiles;
            int t0 = (task % tiles) * TILE;
            int n = Math.min(g.time(), t0 + TILE) - t0;
            if (dx != null) {
                gatherRows(dy, wtAll, dx, b, t0, n, g);
            }
            if (dq != null) {
                int taps = g.taps();
                int cq = g.queryChannels();
                int row0 = b * g.time() + t0;
                int pw = 2 * V;
                for (int j = 0; j < cq; j += pw) {
                    gemm(n, Math.min(pw, cq - j), taps, dGAll, row0 * taps, taps, 1, wqPanels, j * taps, pw, dq,
                            row0 * cq + j, cq);
                }
            }
        });
    }

    /**
     * dx rows [s0, s0+n) of batch b: rows all of whose K source rows are in range go four at a time
     * through {@link #gatherTile} (a head's channels in whole blocks of four vectors, then one block of two
     * through {@link #gatherTile2}, for K >= 3), the others, and channels past those blocks, row by row. All
     * sum the taps of an output in increasing k.
     */
    private static void gatherRows(float[] dy, float[] wt, float[] dx, int b, int s0, int n, Geom g) {
        int C = g.channels();
        int R = g.perHead();
        int kk = g.kernelSize();
        int taps = g.taps();
        int P = g.pad();
        int base = b * g.time() * C;
        int wBase = b * g.time() * taps;
        int tiled = tiledChannels(R, kk);
        int tiled4 = fourVectorTiles(tiled); // of which in 4-vector tiles; the rest in 2-vector tiles
        int i = 0;
        while (i < n) {
            int s = s0 + i;
            int first = s + P - kk + 1; // the source row of output s's last tap
            if (tiled > 0 && i + 4 <= n && first >= 0 && s + 3 + P < g.time()) {
                for (int h = 0; h < g.heads(); h++) {
                    int c = h * R;
                    for (; c < h * R + tiled4; c += 4 * V) {
                        gatherTile(dy, wt, dx, base + first * C + c, wBase + first * taps + h * kk, base + s * C + c,
                                C, taps, kk);
                    }
                    for (; c < h * R + tiled; c += 2 * V) {
                        gatherTile2(dy, wt, dx, base + first * C + c, wBase + first * taps + h * kk,
                                base + s * C + c, C, taps, kk);
                    }
                }
                for (int j = 0; j < 4; j++) {
                    gatherRow(dy, wt, dx, base, wBase, s + j, tiled, g);
                }
                i += 4;
            } else {
                gatherRow(dy, wt, dx, base, wBase, s, 0, g);
                i++;
            }
        }
    }

    /** dx row s for the channels of each head from its {@code skip}-th on. */
    private static void gatherRow(float[] dy, float[] wt, float[] dx, int base, int wBase, int s, int skip,
                                  Geom g) {
        int C = g.channels();
        int R = g.perHead();
        int kk = g.kernelSize();
        int taps = g.taps();
        int T = g.time();
        int P = g.pad();
        // t = s - k + P in [0, T)
        int kLo = Math.max(0, s + P - T + 1);
        int kHi = Math.min(kk, s + P + 1);
        int dr = base + s * C;
        for (int h = 0; h < g.heads(); h++) {
            int ce = (h + 1) * R;
            int c = h * R + skip;
            int wh = wBase + h * kk;
            for (; c + 4 * V <= ce; c += 4 * V) {
                FloatVector a0 = FloatVector.zero(S);
                FloatVector a1 = a0;
                FloatVector a2 = a0;
                FloatVector a3 = a0;
                for (int k = kLo; k < kHi; k++) {
                    int t = s - k + P;
                    FloatVector wv = FloatVector.broadcast(S, wt[wh + t * taps + k]);
                    int gr = base + t * C + c;
                    a0 = FloatVector.fromArray(S, dy, gr).fma(wv, a0);
                    a1 = FloatVector.fromArray(S, dy, gr + V).fma(wv, a1);
                    a2 = FloatVector.fromArray(S, dy, gr + 2 * V).fma(wv, a2);
                    a3 = FloatVector.fromArray(S, dy, gr + 3 * V).fma(wv, a3);
                }
                a0.intoArray(dx, dr + c);
                a1.intoArray(dx, dr + c + V);
                a2.intoArray(dx, dr + c + 2 * V);
                a3.intoArray(dx, dr + c + 3 * V);
            }
            for (; c + V <= ce; c += V) {
                FloatVector a0 = FloatVector.zero(S);
                for (int k = kLo; k < kHi; k++) {
                    int t = s - k + P;
                    a0 = FloatVector.fromArray(S, dy, base + t * C + c)
                            .fma(FloatVector.broadcast(S, wt[wh + t * taps + k]), a0);
                }
                a0.intoArray(dx, dr + c);
            }
            for (; c < ce; c++) {
                float acc = 0f;
                for (int k = kLo; k < kHi; k++) {
                    int t = s - k + P;
                    acc = Math.fma(wt[wh + t * taps + k], dy[base + t * C + c], acc);
                }
                dx[dr + c] = acc;
            }
        }
    }

    /**
     * Phase 3: dw [L,Cq] = dG^T q (when non-null) and db [L] = column sums of dG (when non-null). Each
     * task owns a block of dw (and of db) and sums over all B*T rows in row order.
     */
    static void generatorGradients(float[] q, float[] dGAll, float[] dw, float[] db, Geom g) {
        int taps = g.taps();
        int cq = g.queryChannels();
        int rows = g.batch() * g.time();
        int rowBlocks = (taps + DW_ROWS - 1) / DW_ROWS;
        int colBlocks = dw == null ? 1 : (cq + DW_COLS - 1) / DW_COLS;
        CpuPool.parallelFor(rowBlocks * colBlocks, task -> {
            int j0 = (task / colBlocks) * DW_ROWS;
            int jn = Math.min(taps, j0 + DW_ROWS) - j0;
            int c0 = (task % colBlocks) * DW_COLS;
            if (dw != null) {
                int cn = Math.min(cq, c0 + DW_COLS) - c0;
                gemm(jn, cn, rows, dGAll, j0, 1, taps, q, c0, cq, dw, j0 * cq + c0, cq);
            }
            if (db != null && c0 == 0) {
                double[] acc = new double[jn];
                for (int r = 0; r < rows; r++) {
                    int o = r * taps + j0;
                    for (int j = 0; j < jn; j++) {
                        acc[j] += dGAll[o + j];
                    }
                }
                for (int j = 0; j < jn; j++) {
                    db[j0 + j] = (float) acc[j];
                }
            }
        });
    }

    // ---- generated by tools/gen_dynamicconv_tiles.py: edit the generator, not these methods ----

    /**
     * Four output rows t..t+3 x four channel vectors [c, c+4V) of one head, where every tap of the four
     * rows is in range and K >= 3: input row t-P+u feeds output row j through tap k = u-j, so each input
     * vector is loaded once for up to four outputs, into 16 independent FMA chains (the row-by-row path
     * loads it once per output, and its 4 chains wait on the FMA latency).
     * The weights of output row j are w[w0 + j*ws + k]; xr0 is the index of x[t-P, c], yr0 that of y[t, c].
     */
    private static void convolveTile(float[] x, float[] w, int w0, int ws, float[] y, int xr0, int yr0, int C,
                                     int kk) {
        FloatVector a00 = FloatVector.zero(S);
        FloatVector a01 = FloatVector.zero(S);
        FloatVector a02 = FloatVector.zero(S);
        FloatVector a03 = FloatVector.zero(S);
        FloatVector a10 = FloatVector.zero(S);
        FloatVector a11 = FloatVector.zero(S);
        FloatVector a12 = FloatVector.zero(S);
        FloatVector a13 = FloatVector.zero(S);
        FloatVector a20 = FloatVector.zero(S);
        FloatVector a21 = FloatVector.zero(S);
        FloatVector a22 = FloatVector.zero(S);
        FloatVector a23 = FloatVector.zero(S);
        FloatVector a30 = FloatVector.zero(S);
        FloatVector a31 = FloatVector.zero(S);
        FloatVector a32 = FloatVector.zero(S);
        FloatVector a33 = FloatVector.zero(S);
        FloatVector x0;
        FloatVector x1;
        FloatVector x2;
        FloatVector x3;
        FloatVector wv;
        int xr;
        // input row 0: outputs 0..0
        xr = xr0;
        x0 = FloatVector.fromArray(S, x, xr);
        x1 = FloatVector.fromArray(S, x, xr + V);
        x2 = FloatVector.fromArray(S, x, xr + 2 * V);
        x3 = FloatVector.fromArray(S, x, xr + 3 * V);
        wv = FloatVector.broadcast(S, w[w0 + 0]);
        a00 = x0.fma(wv, a00);
        a01 = x1.fma(wv, a01);
        a02 = x2.fma(wv, a02);
        a03 = x3.fma(wv, a03);
        // input row 1: outputs 0..1
        xr = xr0 + C;
        x0 = FloatVector.fromArray(S, x, xr);
        x1 = FloatVector.fromArray(S, x, xr + V);
        x2 = FloatVector.fromArray(S, x, xr + 2 * V);
        x3 = FloatVector.fromArray(S, x, xr + 3 * V);
        wv = FloatVector.broadcast(S, w[w0 + 1]);
        a00 = x0.fma(wv, a00);
        a01 = x1.fma(wv, a01);
        a02 = x2.fma(wv, a02);
        a03 = x3.fma(wv, a03);
        wv = FloatVector.broadcast(S, w[w0 + ws + 0]);
        a10 = x0.fma(wv, a10);
        a11 = x1.fma(wv, a11);
        a12 = x2.fma(wv, a12);
        a13 = x3.fma(wv, a13);
        // input row 2: outputs 0..2
        xr = xr0 + 2 * C;
        x0 = FloatVector.fromArray(S, x, xr);
        x1 = FloatVector.fromArray(S, x, xr + V);
        x2 = FloatVector.fromArray(S, x, xr + 2 * V);
        x3 = FloatVector.fromArray(S, x, xr + 3 * V);
        wv = FloatVector.broadcast(S, w[w0 + 2]);
        a00 = x0.fma(wv, a00);
        a01 = x1.fma(wv, a01);
        a02 = x2.fma(wv, a02);
        a03 = x3.fma(wv, a03);
        wv = FloatVector.broadcast(S, w[w0 + ws + 1]);
        a10 = x0.fma(wv, a10);
        a11 = x1.fma(wv, a11);
        a12 = x2.fma(wv, a12);
        a13 = x3.fma(wv, a13);
        wv = FloatVector.broadcast(S, w[w0 + 2 * ws + 0]);
        a20 = x0.fma(wv, a20);
        a21 = x1.fma(wv, a21);
        a22 = x2.fma(wv, a22);
        a23 = x3.fma(wv, a23);
        for (int u = 3; u < kk; u++) { // every output reads this row
            xr = xr0 + u * C;
            x0 = FloatVector.fromArray(S, x, xr);
            x1 = FloatVector.fromArray(S, x, xr + V);
            x2 = FloatVector.fromArray(S, x, xr + 2 * V);
            x3 = FloatVector.fromArray(S, x, xr + 3 * V);
            wv = FloatVector.broadcast(S, w[w0 + u]);
            a00 = x0.fma(wv, a00);
            a01 = x1.fma(wv, a01);
            a02 = x2.fma(wv, a02);
            a03 = x3.fma(wv, a03);
            wv = FloatVector.broadcast(S, w[w0 + ws + u - 1]);
            a10 = x0.fma(wv, a10);
            a11 = x1.fma(wv, a11);
            a12 = x2.fma(wv, a12);
            a13 = x3.fma(wv, a13);
            wv = FloatVector.broadcast(S, w[w0 + 2 * ws + u - 2]);
            a20 = x0.fma(wv, a20);
            a21 = x1.fma(wv, a21);
            a22 = x2.fma(wv, a22);
            a23 = x3.fma(wv, a23);
            wv = FloatVector.broadcast(S, w[w0 + 3 * ws + u - 3]);
            a30 = x0.fma(wv, a30);
            a31 = x1.fma(wv, a31);
            a32 = x2.fma(wv, a32);
            a33 = x3.fma(wv, a33);
        }
        // input row K: outputs 1..3
        xr = xr0 + kk * C;
        x0 = FloatVector.fromArray(S, x, xr);
        x1 = FloatVector.fromArray(S, x, xr + V);
        x2 = FloatVector.fromArray(S, x, xr + 2 * V);
        x3 = FloatVector.fromArray(S, x, xr + 3 * V);
        wv = FloatVector.broadcast(S, w[w0 + ws + kk - 1]);
        a10 = x0.fma(wv, a10);
        a11 = x1.fma(wv, a11);
        a12 = x2.fma(wv, a12);
        a13 = x3.fma(wv, a13);
        wv = FloatVector.broadcast(S, w[w0 + 2 * ws + kk - 2]);
        a20 = x0.fma(wv, a20);
        a21 = x1.fma(wv, a21);
        a22 = x2.fma(wv, a22);
        a23 = x3.fma(wv, a23);
        wv = FloatVector.broadcast(S, w[w0 + 3 * ws + kk - 3]);
        a30 = x0.fma(wv, a30);
        a31 = x1.fma(wv, a31);
        a32 = x2.fma(wv, a32);
        a33 = x3.fma(wv, a33);
        // input row K + 1: outputs 2..3
        xr = xr0 + (kk + 1) * C;
        x0 = FloatVector.fromArray(S, x, xr);
        x1 = FloatVector.fromArray(S, x, xr + V);
        x2 = FloatVector.fromArray(S, x, xr + 2 * V);
        x3 = FloatVector.fromArray(S, x, xr + 3 * V);
        wv = FloatVector.broadcast(S, w[w0 + 2 * ws + kk - 1]);
        a20 = x0.fma(wv, a20);
        a21 = x1.fma(wv, a21);
        a22 = x2.fma(wv, a22);
        a23 = x3.fma(wv, a23);
        wv = FloatVector.broadcast(S, w[w0 + 3 * ws + kk - 2]);
        a30 = x0.fma(wv, a30);
        a31 = x1.fma(wv, a31);
        a32 = x2.fma(wv, a32);
        a33 = x3.fma(wv, a33);
        // input row K + 2: outputs 3..3
        xr = xr0 + (kk + 2) * C;
        x0 = FloatVector.fromArray(S, x, xr);
        x1 = FloatVector.fromArray(S, x, xr + V);
        x2 = FloatVector.fromArray(S, x, xr + 2 * V);
        x3 = FloatVector.fromArray(S, x, xr + 3 * V);
        wv = FloatVector.broadcast(S, w[w0 + 3 * ws + kk - 1]);
        a30 = x0.fma(wv, a30);
        a31 = x1.fma(wv, a31);
        a32 = x2.fma(wv, a32);
        a33 = x3.fma(wv, a33);
        a00.intoArray(y, yr0);
        a01.intoArray(y, yr0 + V);
        a02.intoArray(y, yr0 + 2 * V);
        a03.intoArray(y, yr0 + 3 * V);
        a10.intoArray(y, yr0 + C);
        a11.intoArray(y, yr0 + C + V);
        a12.intoArray(y, yr0 + C + 2 * V);
        a13.intoArray(y, yr0 + C + 3 * V);
        a20.intoArray(y, yr0 + 2 * C);
        a21.intoArray(y, yr0 + 2 * C + V);
        a22.intoArray(y, yr0 + 2 * C + 2 * V);
        a23.intoArray(y, yr0 + 2 * C + 3 * V);
        a30.intoArray(y, yr0 + 3 * C);
        a31.intoArray(y, yr0 + 3 * C + V);
        a32.intoArray(y, yr0 + 3 * C + 2 * V);
        a33.intoArray(y, yr0 + 3 * C + 3 * V);
    }

    /**
     * dx rows s..s+3 x four channel vectors [c, c+4V) of one head, where every source row of the four is
     * in range and K >= 3: dy row q (from s+P-K+1) feeds output row j through tap k = j+K-1-q with the
     * weight wt[row q][k], so each dy vector is loaded once for up to four outputs (16 FMA chains). The rows
     * go from the last to the first, so that every output sums its taps in increasing k. gr0 is the index
     * of dy[row 0, c], wr0 that of wt[row 0, h, 0], dr0 that of dx[s, c].
     */
    private static void gatherTile(float[] dy, float[] wt, float[] dx, int gr0, int wr0, int dr0, int C, int taps,
                                   int kk) {
        FloatVector a00 = FloatVector.zero(S);
        FloatVector a01 = FloatVector.zero(S);
        FloatVector a02 = FloatVector.zero(S);
        FloatVector a03 = FloatVector.zero(S);
        FloatVector a10 = FloatVector.zero(S);
        FloatVector a11 = FloatVector.zero(S);
        FloatVector a12 = FloatVector.zero(S);
        FloatVector a13 = FloatVector.zero(S);
        FloatVector a20 = FloatVector.zero(S);
        FloatVector a21 = FloatVector.zero(S);
        FloatVector a22 = FloatVector.zero(S);
        FloatVector a23 = FloatVector.zero(S);
        FloatVector a30 = FloatVector.zero(S);
        FloatVector a31 = FloatVector.zero(S);
        FloatVector a32 = FloatVector.zero(S);
        FloatVector a33 = FloatVector.zero(S);
        FloatVector g0;
        FloatVector g1;
        FloatVector g2;
        FloatVector g3;
        FloatVector wv;
        int gr;
        int wr;
        // dy row K + 2: outputs 3..3
        gr = gr0 + (kk + 2) * C;
        wr = wr0 + (kk + 2) * taps;
        g0 = FloatVector.fromArray(S, dy, gr);
        g1 = FloatVector.fromArray(S, dy, gr + V);
        g2 = FloatVector.fromArray(S, dy, gr + 2 * V);
        g3 = FloatVector.fromArray(S, dy, gr + 3 * V);
        wv = FloatVector.broadcast(S, wt[wr + 0]);
        a30 = g0.fma(wv, a30);
        a31 = g1.fma(wv, a31);
        a32 = g2.fma(wv, a32);
        a33 = g3.fma(wv, a33);
        // dy row K + 1: outputs 2..3
        gr = gr0 + (kk + 1) * C;
        wr = wr0 + (kk + 1) * taps;
        g0 = FloatVector.fromArray(S, dy, gr);
        g1 = FloatVector.fromArray(S, dy, gr + V);
        g2 = FloatVector.fromArray(S, dy, gr + 2 * V);
        g3 = FloatVector.fromArray(S, dy, gr + 3 * V);
        wv = FloatVector.broadcast(S, wt[wr + 0]);
        a20 = g0.fma(wv, a20);
        a21 = g1.fma(wv, a21);
        a22 = g2.fma(wv, a22);
        a23 = g3.fma(wv, a23);
        wv = FloatVector.broadcast(S, wt[wr + 1]);
        a30 = g0.fma(wv, a30);
        a31 = g1.fma(wv, a31);
        a32 = g2.fma(wv, a32);
        a33 = g3.fma(wv, a33);
        // dy row K: outputs 1..3
        gr = gr0 + kk * C;
        wr = wr0 + kk * taps;
        g0 = FloatVector.fromArray(S, dy, gr);
        g1 = FloatVector.fromArray(S, dy, gr + V);
        g2 = FloatVector.fromArray(S, dy, gr + 2 * V);
        g3 = FloatVector.fromArray(S, dy, gr + 3 * V);
        wv = FloatVector.broadcast(S, wt[wr + 0]);
        a10 = g0.fma(wv, a10);
        a11 = g1.fma(wv, a11);
        a12 = g2.fma(wv, a12);
        a13 = g3.fma(wv, a13);
        wv = FloatVector.broadcast(S, wt[wr + 1]);
        a20 = g0.fma(wv, a20);
        a21 = g1.fma(wv, a21);
        a22 = g2.fma(wv, a22);
        a23 = g3.fma(wv, a23);
        wv = FloatVector.broadcast(S, wt[wr + 2]);
        a30 = g0.fma(wv, a30);
        a31 = g1.fma(wv, a31);
        a32 = g2.fma(wv, a32);
        a33 = g3.fma(wv, a33);
        for (int q = kk - 1; q >= 3; q--) { // every output reads this row
            gr = gr0 + q * C;
            wr = wr0 + q * taps;
            g0 = FloatVector.fromArray(S, dy, gr);
            g1 = FloatVector.fromArray(S, dy, gr + V);
            g2 = FloatVector.fromArray(S, dy, gr + 2 * V);
            g3 = FloatVector.fromArray(S, dy, gr + 3 * V);
            wv = FloatVector.broadcast(S, wt[wr + kk - 1 - q]);
            a00 = g0.fma(wv, a00);
            a01 = g1.fma(wv, a01);
            a02 = g2.fma(wv, a02);
            a03 = g3.fma(wv, a03);
            wv = FloatVector.broadcast(S, wt[wr + kk - q]);
            a10 = g0.fma(wv, a10);
            a11 = g1.fma(wv, a11);
            a12 = g2.fma(wv, a12);
            a13 = g3.fma(wv, a13);
            wv = FloatVector.broadcast(S, wt[wr + kk + 1 - q]);
            a20 = g0.fma(wv, a20);
            a21 = g1.fma(wv, a21);
            a22 = g2.fma(wv, a22);
            a23 = g3.fma(wv, a23);
            wv = FloatVector.broadcast(S, wt[wr + kk + 2 - q]);
            a30 = g0.fma(wv, a30);
            a31 = g1.fma(wv, a31);
            a32 = g2.fma(wv, a32);
            a33 = g3.fma(wv, a33);
        }
        // dy row 2: outputs 0..2
        gr = gr0 + 2 * C;
        wr = wr0 + 2 * taps;
        g0 = FloatVector.fromArray(S, dy, gr);
        g1 = FloatVector.fromArray(S, dy, gr + V);
        g2 = FloatVector.fromArray(S, dy, gr + 2 * V);
        g3 = FloatVector.fromArray(S, dy, gr + 3 * V);
        wv = FloatVector.broadcast(S, wt[wr + kk - 3]);
        a00 = g0.fma(wv, a00);
        a01 = g1.fma(wv, a01);
        a02 = g2.fma(wv, a02);
        a03 = g3.fma(wv, a03);
        wv = FloatVector.broadcast(S, wt[wr + kk - 2]);
        a10 = g0.fma(wv, a10);
        a11 = g1.fma(wv, a11);
        a12 = g2.fma(wv, a12);
        a13 = g3.fma(wv, a13);
        wv = FloatVector.broadcast(S, wt[wr + kk - 1]);
        a20 = g0.fma(wv, a20);
        a21 = g1.fma(wv, a21);
        a22 = g2.fma(wv, a22);
        a23 = g3.fma(wv, a23);
        // dy row 1: outputs 0..1
        gr = gr0 + 1 * C;
        wr = wr0 + 1 * taps;
        g0 = FloatVector.fromArray(S, dy, gr);
        g1 = FloatVector.fromArray(S, dy, gr + V);
        g2 = FloatVector.fromArray(S, dy, gr + 2 * V);
        g3 = FloatVector.fromArray(S, dy, gr + 3 * V);
        wv = FloatVector.broadcast(S, wt[wr + kk - 2]);
        a00 = g0.fma(wv, a00);
        a01 = g1.fma(wv, a01);
        a02 = g2.fma(wv, a02);
        a03 = g3.fma(wv, a03);
        wv = FloatVector.broadcast(S, wt[wr + kk - 1]);
        a10 = g0.fma(wv, a10);
        a11 = g1.fma(wv, a11);
        a12 = g2.fma(wv, a12);
        a13 = g3.fma(wv, a13);
        // dy row 0: outputs 0..0
        gr = gr0 + 0 * C;
        wr = wr0 + 0 * taps;
        g0 = FloatVector.fromArray(S, dy, gr);
        g1 = FloatVector.fromArray(S, dy, gr + V);
        g2 = FloatVector.fromArray(S, dy, gr + 2 * V);
        g3 = FloatVector.fromArray(S, dy, gr + 3 * V);
        wv = FloatVector.broadcast(S, wt[wr + kk - 1]);
        a00 = g0.fma(wv, a00);
        a01 = g1.fma(wv, a01);
        a02 = g2.fma(wv, a02);
        a03 = g3.fma(wv, a03);
        a00.intoArray(dx, dr0);
        a01.intoArray(dx, dr0 + V);
        a02.intoArray(dx, dr0 + 2 * V);
        a03.intoArray(dx, dr0 + 3 * V);
        a10.intoArray(dx, dr0 + C);
        a11.intoArray(dx, dr0 + C + V);
        a12.intoArray(dx, dr0 + C + 2 * V);
        a13.intoArray(dx, dr0 + C + 3 * V);
        a20.intoArray(dx, dr0 + 2 * C);
        a21.intoArray(dx, dr0 + 2 * C + V);
        a22.intoArray(dx, dr0 + 2 * C + 2 * V);
        a23.intoArray(dx, dr0 + 2 * C + 3 * V);
        a30.intoArray(dx, dr0 + 3 * C);
        a31.intoArray(dx, dr0 + 3 * C + V);
        a32.intoArray(dx, dr0 + 3 * C + 2 * V);
        a33.intoArray(dx, dr0 + 3 * C + 3 * V);
    }

    /**
     * Four output rows t..t+3 x two channel vectors [c, c+2V) of one head, where every tap of the four
     * rows is in range and K >= 3: input row t-P+u feeds output row j through tap k = u-j, so each input
     * vector is loaded once for up to four outputs, into 8 independent FMA chains (the row-by-row path
     * loads it once per output, one vector at a time, whose single chain would wait on the FMA latency).
     * The weights of output row j are w[w0 + j*ws + k]; xr0 is the index of x[t-P, c], yr0 that of y[t, c].
     */
    private static void convolveTile2(float[] x, float[] w, int w0, int ws, float[] y, int xr0, int yr0, int C,
                                      int kk) {
        FloatVector a00 = FloatVector.zero(S);
        FloatVector a01 = FloatVector.zero(S);
        FloatVector a10 = FloatVector.zero(S);
        FloatVector a11 = FloatVector.zero(S);
        FloatVector a20 = FloatVector.zero(S);
        FloatVector a21 = FloatVector.zero(S);
        FloatVector a30 = FloatVector.zero(S);
        FloatVector a31 = FloatVector.zero(S);
        FloatVector x0;
        FloatVector x1;
        FloatVector wv;
        int xr;
        // input row 0: outputs 0..0
        xr = xr0;
        x0 = FloatVector.fromArray(S, x, xr);
        x1 = FloatVector.fromArray(S, x, xr + V);
        wv = FloatVector.broadcast(S, w[w0 + 0]);
        a00 = x0.fma(wv, a00);
        a01 = x1.fma(wv, a01);
        // input row 1: outputs 0..1
        xr = xr0 + C;
        x0 = FloatVector.fromArray(S, x, xr);
        x1 = FloatVector.fromArray(S, x, xr + V);
        wv = FloatVector.broadcast(S, w[w0 + 1]);
        a00 = x0.fma(wv, a00);
        a01 = x1.fma(wv, a01);
        wv = FloatVector.broadcast(S, w[w0 + ws + 0]);
        a10 = x0.fma(wv, a10);
        a11 = x1.fma(wv, a11);
        // input row 2: outputs 0..2
        xr = xr0 + 2 * C;
        x0 = FloatVector.fromArray(S, x, xr);
        x1 = FloatVector.fromArray(S, x, xr + V);
        wv = FloatVector.broadcast(S, w[w0 + 2]);
        a00 = x0.fma(wv, a00);
        a01 = x1.fma(wv, a01);
        wv = FloatVector.broadcast(S, w[w0 + ws + 1]);
        a10 = x0.fma(wv, a10);
        a11 = x1.fma(wv, a11);
        wv = FloatVector.broadcast(S, w[w0 + 2 * ws + 0]);
        a20 = x0.fma(wv, a20);
        a21 = x1.fma(wv, a21);
        for (int u = 3; u < kk; u++) { // every output reads this row
            xr = xr0 + u * C;
            x0 = FloatVector.fromArray(S, x, xr);
            x1 = FloatVector.fromArray(S, x, xr + V);
            wv = FloatVector.broadcast(S, w[w0 + u]);
            a00 = x0.fma(wv, a00);
            a01 = x1.fma(wv, a01);
            wv = FloatVector.broadcast(S, w[w0 + ws + u - 1]);
            a10 = x0.fma(wv, a10);
            a11 = x1.fma(wv, a11);
            wv = FloatVector.broadcast(S, w[w0 + 2 * ws + u - 2]);
            a20 = x0.fma(wv, a20);
            a21 = x1.fma(wv, a21);
            wv = FloatVector.broadcast(S, w[w0 + 3 * ws + u - 3]);
            a30 = x0.fma(wv, a30);
            a31 = x1.fma(wv, a31);
        }
        // input row K: outputs 1..3
        xr = xr0 + kk * C;
        x0 = FloatVector.fromArray(S, x, xr);
        x1 = FloatVector.fromArray(S, x, xr + V);
        wv = FloatVector.broadcast(S, w[w0 + ws + kk - 1]);
        a10 = x0.fma(wv, a10);
        a11 = x1.fma(wv, a11);
        wv = FloatVector.broadcast(S, w[w0 + 2 * ws + kk - 2]);
        a20 = x0.fma(wv, a20);
        a21 = x1.fma(wv, a21);
        wv = FloatVector.broadcast(S, w[w0 + 3 * ws + kk - 3]);
        a30 = x0.fma(wv, a30);
        a31 = x1.fma(wv, a31);
        // input row K + 1: outputs 2..3
        xr = xr0 + (kk + 1) * C;
        x0 = FloatVector.fromArray(S, x, xr);
        x1 = FloatVector.fromArray(S, x, xr + V);
        wv = FloatVector.broadcast(S, w[w0 + 2 * ws + kk - 1]);
        a20 = x0.fma(wv, a20);
        a21 = x1.fma(wv, a21);
        wv = FloatVector.broadcast(S, w[w0 + 3 * ws + kk - 2]);
        a30 = x0.fma(wv, a30);
        a31 = x1.fma(wv, a31);
        // input row K + 2: outputs 3..3
        xr = xr0 + (kk + 2) * C;
        x0 = FloatVector.fromArray(S, x, xr);
        x1 = FloatVector.fromArray(S, x, xr + V);
        wv = FloatVector.broadcast(S, w[w0 + 3 * ws + kk - 1]);
        a30 = x0.fma(wv, a30);
        a31 = x1.fma(wv, a31);
        a00.intoArray(y, yr0);
        a01.intoArray(y, yr0 + V);
        a10.intoArray(y, yr0 + C);
        a11.intoArray(y, yr0 + C + V);
        a20.intoArray(y, yr0 + 2 * C);
        a21.intoArray(y, yr0 + 2 * C + V);
        a30.intoArray(y, yr0 + 3 * C);
        a31.intoArray(y, yr0 + 3 * C + V);
    }

    /**
     * dx rows s..s+3 x two channel vectors [c, c+2V) of one head, where every source row of the four is
     * in range and K >= 3: dy row q (from s+P-K+1) feeds output row j through tap k = j+K-1-q with the
     * weight wt[row q][k], so each dy vector is loaded once for up to four outputs (8 FMA chains). The rows
     * go from the last to the first, so that every output sums its taps in increasing k. gr0 is the index
     * of dy[row 0, c], wr0 that of wt[row 0, h, 0], dr0 that of dx[s, c].
     */
    private static void gatherTile2(float[] dy, float[] wt, float[] dx, int gr0, int wr0, int dr0, int C, int taps,
                                    int kk) {
        FloatVector a00 = FloatVector.zero(S);
        FloatVector a01 = FloatVector.zero(S);
        FloatVector a10 = FloatVector.zero(S);
        FloatVector a11 = FloatVector.zero(S);
        FloatVector a20 = FloatVector.zero(S);
        FloatVector a21 = FloatVector.zero(S);
        FloatVector a30 = FloatVector.zero(S);
        FloatVector a31 = FloatVector.zero(S);
        FloatVector g0;
        FloatVector g1;
        FloatVector wv;
        int gr;
        int wr;
        // dy row K + 2: outputs 3..3
        gr = gr0 + (kk + 2) * C;
        wr = wr0 + (kk + 2) * taps;
        g0 = FloatVector.fromArray(S, dy, gr);
        g1 = FloatVector.fromArray(S, dy, gr + V);
        wv = FloatVector.broadcast(S, wt[wr + 0]);
        a30 = g0.fma(wv, a30);
        a31 = g1.fma(wv, a31);
        // dy row K + 1: outputs 2..3
        gr = gr0 + (kk + 1) * C;
        wr = wr0 + (kk + 1) * taps;
        g0 = FloatVector.fromArray(S, dy, gr);
        g1 = FloatVector.fromArray(S, dy, gr + V);
        wv = FloatVector.broadcast(S, wt[wr + 0]);
        a20 = g0.fma(wv, a20);
        a21 = g1.fma(wv, a21);
        wv = FloatVector.broadcast(S, wt[wr + 1]);
        a30 = g0.fma(wv, a30);
        a31 = g1.fma(wv, a31);
        // dy row K: outputs 1..3
        gr = gr0 + kk * C;
        wr = wr0 + kk * taps;
        g0 = FloatVector.fromArray(S, dy, gr);
        g1 = FloatVector.fromArray(S, dy, gr + V);
        wv = FloatVector.broadcast(S, wt[wr + 0]);
        a10 = g0.fma(wv, a10);
        a11 = g1.fma(wv, a11);
        wv = FloatVector.broadcast(S, wt[wr + 1]);
        a20 = g0.fma(wv, a20);
        a21 = g1.fma(wv, a21);
        wv = FloatVector.broadcast(S, wt[wr + 2]);
        a30 = g0.fma(wv, a30);
        a31 = g1.fma(wv, a31);
        for (int q = kk - 1; q >= 3; q--) { // every output reads this row
            gr = gr0 + q * C;
            wr = wr0 + q * taps;
            g0 = FloatVector.fromArray(S, dy, gr);
            g1 = FloatVector.fromArray(S, dy, gr + V);
            wv = FloatVector.broadcast(S, wt[wr + kk - 1 - q]);
            a00 = g0.fma(wv, a00);
            a01 = g1.fma(wv, a01);
            wv = FloatVector.broadcast(S, wt[wr + kk - q]);
            a10 = g0.fma(wv, a10);
            a11 = g1.fma(wv, a11);
            wv = FloatVector.broadcast(S, wt[wr + kk + 1 - q]);
            a20 = g0.fma(wv, a20);
            a21 = g1.fma(wv, a21);
            wv = FloatVector.broadcast(S, wt[wr + kk + 2 - q]);
            a30 = g0.fma(wv, a30);
            a31 = g1.fma(wv, a31);
        }
        // dy row 2: outputs 0..2
        gr = gr0 + 2 * C;
        wr = wr0 + 2 * taps;
        g0 = FloatVector.fromArray(S, dy, gr);
        g1 = FloatVector.fromArray(S, dy, gr + V);
        wv = FloatVector.broadcast(S, wt[wr + kk - 3]);
        a00 = g0.fma(wv, a00);
        a01 = g1.fma(wv, a01);
        wv = FloatVector.broadcast(S, wt[wr + kk - 2]);
        a10 = g0.fma(wv, a10);
        a11 = g1.fma(wv, a11);
        wv = FloatVector.broadcast(S, wt[wr + kk - 1]);
        a20 = g0.fma(wv, a20);
        a21 = g1.fma(wv, a21);
        // dy row 1: outputs 0..1
        gr = gr0 + 1 * C;
        wr = wr0 + 1 * taps;
        g0 = FloatVector.fromArray(S, dy, gr);
        g1 = FloatVector.fromArray(S, dy, gr + V);
        wv = FloatVector.broadcast(S, wt[wr + kk - 2]);
        a00 = g0.fma(wv, a00);
        a01 = g1.fma(wv, a01);
        wv = FloatVector.broadcast(S, wt[wr + kk - 1]);
        a10 = g0.fma(wv, a10);
        a11 = g1.fma(wv, a11);
        // dy row 0: outputs 0..0
        gr = gr0 + 0 * C;
        wr = wr0 + 0 * taps;
        g0 = FloatVector.fromArray(S, dy, gr);
        g1 = FloatVector.fromArray(S, dy, gr + V);
        wv = FloatVector.broadcast(S, wt[wr + kk - 1]);
        a00 = g0.fma(wv, a00);
        a01 = g1.fma(wv, a01);
        a00.intoArray(dx, dr0);
        a01.intoArray(dx, dr0 + V);
        a10.intoArray(dx, dr0 + C);
        a11.intoArray(dx, dr0 + C + V);
        a20.intoArray(dx, dr0 + 2 * C);
        a21.intoArray(dx, dr0 + 2 * C + V);
        a30.intoArray(dx, dr0 + 3 * C);
        a31.intoArray(dx, dr0 + 3 * C + V);
    }

    /**
     * out[outOff + j] = sum_{c < R} dy[dyOff + c] x[xOff + j*C + c] for the first {@code count} of 16 taps
     * j (the other lanes computed, not stored): 16 accumulators along the head's channels, then their lane
     * sums all at once and one vector store. The accumulators are combined pairwise: lane i of a level-d
     * result is a[i] + a[i ^ d] where i & d is 0 and b[i] + b[i ^ d] where it is not (two blends, a shuffle,
     * an add); after d = 1, 2, 4, 8, lane j holds the sum of the lanes of accumulator j. 60 operations for
     * the 16 sums, in a fixed order, instead of a butterfly, a lane extract and a scalar store for each.
     * B=8 T=512 C=512 H=8 K=31, two threads, fastest of 10 calls: the tap gradient of all rows 3.25-3.48
     * ms with a butterfly per tap, 2.76 ms this way; phase 1 of the backward, old and new classes
     * alternating 3 times, 7.22-7.52 -> 6.20-6.72 ms.
     */
    private static void tapSums16(float[] dy, int dyOff, float[] x, int xOff, int C, int R, float[] out, int outOff,
                                  int count) {
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = FloatVector.zero(S);
        FloatVector a2 = FloatVector.zero(S);
        FloatVector a3 = FloatVector.zero(S);
        FloatVector a4 = FloatVector.zero(S);
        FloatVector a5 = FloatVector.zero(S);
        FloatVector a6 = FloatVector.zero(S);
        FloatVector a7 = FloatVector.zero(S);
        FloatVector a8 = FloatVector.zero(S);
        FloatVector a9 = FloatVector.zero(S);
        FloatVector a10 = FloatVector.zero(S);
        FloatVector a11 = FloatVector.zero(S);
        FloatVector a12 = FloatVector.zero(S);
        FloatVector a13 = FloatVector.zero(S);
        FloatVector a14 = FloatVector.zero(S);
        FloatVector a15 = FloatVector.zero(S);
        for (int c = 0; c < R; c += 16) {
            FloatVector d = FloatVector.fromArray(S, dy, dyOff + c);
            int xr = xOff + c;
            a0 = d.fma(FloatVector.fromArray(S, x, xr + 0 * C), a0);
            a1 = d.fma(FloatVector.fromArray(S, x, xr + 1 * C), a1);
            a2 = d.fma(FloatVector.fromArray(S, x, xr + 2 * C), a2);
            a3 = d.fma(FloatVector.fromArray(S, x, xr + 3 * C), a3);
            a4 = d.fma(FloatVector.fromArray(S, x, xr + 4 * C), a4);
            a5 = d.fma(FloatVector.fromArray(S, x, xr + 5 * C), a5);
            a6 = d.fma(FloatVector.fromArray(S, x, xr + 6 * C), a6);
            a7 = d.fma(FloatVector.fromArray(S, x, xr + 7 * C), a7);
            a8 = d.fma(FloatVector.fromArray(S, x, xr + 8 * C), a8);
            a9 = d.fma(FloatVector.fromArray(S, x, xr + 9 * C), a9);
            a10 = d.fma(FloatVector.fromArray(S, x, xr + 10 * C), a10);
            a11 = d.fma(FloatVector.fromArray(S, x, xr + 11 * C), a11);
            a12 = d.fma(FloatVector.fromArray(S, x, xr + 12 * C), a12);
            a13 = d.fma(FloatVector.fromArray(S, x, xr + 13 * C), a13);
            a14 = d.fma(FloatVector.fromArray(S, x, xr + 14 * C), a14);
            a15 = d.fma(FloatVector.fromArray(S, x, xr + 15 * C), a15);
        }
        FloatVector p0 = a0.blend(a1, UPPER1).add(a1.blend(a0, UPPER1).rearrange(PARTNER1));
        FloatVector p1 = a2.blend(a3, UPPER1).add(a3.blend(a2, UPPER1).rearrange(PARTNER1));
        FloatVector p2 = a4.blend(a5, UPPER1).add(a5.blend(a4, UPPER1).rearrange(PARTNER1));
        FloatVector p3 = a6.blend(a7, UPPER1).add(a7.blend(a6, UPPER1).rearrange(PARTNER1));
        FloatVector p4 = a8.blend(a9, UPPER1).add(a9.blend(a8, UPPER1).rearrange(PARTNER1));
        FloatVector p5 = a10.blend(a11, UPPER1).add(a11.blend(a10, UPPER1).rearrange(PARTNER1));
        FloatVector p6 = a12.blend(a13, UPPER1).add(a13.blend(a12, UPPER1).rearrange(PARTNER1));
        FloatVector p7 = a14.blend(a15, UPPER1).add(a15.blend(a14, UPPER1).rearrange(PARTNER1));
        FloatVector q0 = p0.blend(p1, UPPER2).add(p1.blend(p0, UPPER2).rearrange(PARTNER2));
        FloatVector q1 = p2.blend(p3, UPPER2).add(p3.blend(p2, UPPER2).rearrange(PARTNER2));
        FloatVector q2 = p4.blend(p5, UPPER2).add(p5.blend(p4, UPPER2).rearrange(PARTNER2));
        FloatVector q3 = p6.blend(p7, UPPER2).add(p7.blend(p6, UPPER2).rearrange(PARTNER2));
        FloatVector r0 = q0.blend(q1, UPPER4).add(q1.blend(q0, UPPER4).rearrange(PARTNER4));
        FloatVector r1 = q2.blend(q3, UPPER4).add(q3.blend(q2, UPPER4).rearrange(PARTNER4));
        FloatVector sums = r0.blend(r1, UPPER8).add(r1.blend(r0, UPPER8).rearrange(PARTNER8));
        if (count == 16) {
            sums.intoArray(out, outOff);
        } else { // the mask made here, not passed in: C2 intrinsifies only what it sees the exact class of
            sums.intoArray(out, outOff, S.indexInRange(0, count));
        }
    }

    /** {@link #tapSums16} with 8 lanes (AVX2): 8 taps at a time, levels d = 1, 2, 4. */
    private static void tapSums8(float[] dy, int dyOff, float[] x, int xOff, int C, int R, float[] out, int outOff,
                                 int count) {
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = FloatVector.zero(S);
        FloatVector a2 = FloatVector.zero(S);
        FloatVector a3 = FloatVector.zero(S);
        FloatVector a4 = FloatVector.zero(S);
        FloatVector a5 = FloatVector.zero(S);
        FloatVector a6 = FloatVector.zero(S);
        FloatVector a7 = FloatVector.zero(S);
        for (int c = 0; c < R; c += 8) {
            FloatVector d = FloatVector.fromArray(S, dy, dyOff + c);
            int xr = xOff + c;
            a0 = d.fma(FloatVector.fromArray(S, x, xr + 0 * C), a0);
            a1 = d.fma(FloatVector.fromArray(S, x, xr + 1 * C), a1);
            a2 = d.fma(FloatVector.fromArray(S, x, xr + 2 * C), a2);
            a3 = d.fma(FloatVector.fromArray(S, x, xr + 3 * C), a3);
            a4 = d.fma(FloatVector.fromArray(S, x, xr + 4 * C), a4);
            a5 = d.fma(FloatVector.fromArray(S, x, xr + 5 * C), a5);
            a6 = d.fma(FloatVector.fromArray(S, x, xr + 6 * C), a6);
            a7 = d.fma(FloatVector.fromArray(S, x, xr + 7 * C), a7);
        }
        FloatVector p0 = a0.blend(a1, UPPER1).add(a1.blend(a0, UPPER1).rearrange(PARTNER1));
        FloatVector p1 = a2.blend(a3, UPPER1).add(a3.blend(a2, UPPER1).rearrange(PARTNER1));
        FloatVector p2 = a4.blend(a5, UPPER1).add(a5.blend(a4, UPPER1).rearrange(PARTNER1));
        FloatVector p3 = a6.blend(a7, UPPER1).add(a7.blend(a6, UPPER1).rearrange(PARTNER1));
        FloatVector q0 = p0.blend(p1, UPPER2).add(p1.blend(p0, UPPER2).rearrange(PARTNER2));
        FloatVector q1 = p2.blend(p3, UPPER2).add(p3.blend(p2, UPPER2).rearrange(PARTNER2));
        FloatVector sums = q0.blend(q1, UPPER4).add(q1.blend(q0, UPPER4).rearrange(PARTNER4));
        if (count == 8) {
            sums.intoArray(out, outOff);
        } else { // the mask made here, not passed in: C2 intrinsifies only what it sees the exact class of
            sums.intoArray(out, outOff, S.indexInRange(0, count));
        }
    }

    // ---- end of generated methods ----

    // ------------------------------------------------------------------ GEMM

    /**
     * c[cOff + i*ldc + j] += sum_p a[aOff + i*ars + p*acs] * b[bOff + p*ldb + j] for i < M, j < N,
     * p < depth. A is read by scalar broadcasts through its two strides (so A^T costs nothing), B by
     * vectors along its contiguous rows. Register block: {@link #MR} rows x 2 vectors.
     * The depth goes in passes of {@value #KC}, and each KC x 2V slice of B is first copied to a
     * contiguous panel: read in place, rows a power-of-two stride apart (ldb = 512 floats, say) fall
     * into a few L1 sets and evict each other, so the panel would come from L2 for every row block.
     */
    static void gemm(int M, int N, int depth, float[] a0, int aOff, int ars, int acs, float[] b, int bOff, int ldb,
                     float[] c, int cOff, int ldc) {
        int n2 = N / (2 * V) * (2 * V);
        int n1 = S.loopBound(N);
        // ldb = 2V: B is already one packed panel.
        float[] panel = n2 > 0 && M > 1 && ldb != 2 * V ? new float[KC * 2 * V] : null;
        // A read across its rows (A^T of a row-major array): one p step jumps a whole row, so a row
        // block's KC steps touch KC cache lines; pack the M x KC block row-major once per depth pass.
        // (The micro-kernel also relies on it: it reads A with unit column stride.)
        float[] aPack = acs != 1 && M >= MR && n2 > 0 ? new float[M * KC] : null;
        int rs = ars;
        int cs = acs;
        for (int p0 = 0; p0 < depth; p0 += KC) {
            int kc = Math.min(KC, depth - p0);
            int ap = aOff + p0 * acs;
            int bp = bOff + p0 * ldb;
            float[] a = a0;
            if (aPack != null) {
                for (int p = 0; p < kc; p++) {
                    for (int i = 0; i < M; i++) {
                        aPack[i * kc + p] = a0[ap + p * acs + i * ars];
                    }
                }
                a = aPack;
                ap = 0;
                rs = kc;
                cs = 1;
            }
            for (int j = 0; j < n2; j += 2 * V) {
                float[] pb = b;
                int po = bp + j;
                int pl = ldb;
                if (panel != null) {
                    for (int p = 0; p < kc; p++) {
                        int from = bp + p * ldb + j;
                        FloatVector.fromArray(S, b, from).intoArray(panel, p * 2 * V);
                        FloatVector.fromArray(S, b, from + V).intoArray(panel, p * 2 * V + V);
                    }
                    pb = panel;
                    po = 0;
                    pl = 2 * V;
                }
                int i = 0;
                for (; i + MR <= M; i += MR) { // here cs = 1 and pl = 2V, the strides micro6x2 assumes
                    if (MR == 6) {
                        micro6x2(kc, a, ap + i * rs, rs, pb, po, c, cOff + i * ldc + j, ldc);
                    } else {
                        micro4x2(kc, a, ap + i * rs, rs, pb, po, c, cOff + i * ldc + j, ldc);
                    }
                }
                for (; i < M; i++) {
                    micro1x2(kc, a, ap + i * rs, cs, pb, po, pl, c, cOff + i * ldc + j);
                }
            }
            for (int j = n2; j < n1; j += V) {
                for (int i = 0; i < M; i++) {
                    int ai = ap + i * rs;
                    int ci = cOff + i * ldc + j;
                    FloatVector acc = FloatVector.fromArray(S, c, ci);
                    for (int p = 0; p < kc; p++) {
                        acc = FloatVector.fromArray(S, b, bp + p * ldb + j)
                                .fma(FloatVector.broadcast(S, a[ai + p * cs]), acc);
                    }
                    acc.intoArray(c, ci);
                }
            }
            for (int j = n1; j < N; j++) {
                for (int i = 0; i < M; i++) {
                    int ai = ap + i * rs;
                    float acc = c[cOff + i * ldc + j];
                    for (int p = 0; p < kc; p++) {
                        acc = Math.fma(a[ai + p * cs], b[bp + p * ldb + j], acc);
                    }
                    c[cOff + i * ldc + j] = acc;
                }
            }
        }
    }

    /**
     * c[6 x 2V block at co] += a[6 rows ars apart, columns ao..ao+kc-1] * b[packed kc x 2V panel at bo].
     * The column stride of A (1) and the row stride of B (2V) are constants, not parameters: C2 can then
     * prove every index of the loop in range once, before it, instead of checking each of the 8 loads
     * of every step (JFR put 356 of ~780 samples of DynamicConv fwd+bwd on the checkIndex inside this
     * loop when the strides were parameters).
     */
    private static void micro6x2(int kc, float[] a, int ao, int ars, float[] b, int bo, float[] c, int co,
                                 int ldc) {
        FloatVector c00 = FloatVector.fromArray(S, c, co);
        FloatVector c01 = FloatVector.fromArray(S, c, co + V);
        FloatVector c10 = FloatVector.fromArray(S, c, co + ldc);
        FloatVector c11 = FloatVector.fromArray(S, c, co + ldc + V);
        FloatVector c20 = FloatVector.fromArray(S, c, co + 2 * ldc);
        FloatVector c21 = FloatVector.fromArray(S, c, co + 2 * ldc + V);
        FloatVector c30 = FloatVector.fromArray(S, c, co + 3 * ldc);
        FloatVector c31 = FloatVector.fromArray(S, c, co + 3 * ldc + V);
        FloatVector c40 = FloatVector.fromArray(S, c, co + 4 * ldc);
        FloatVector c41 = FloatVector.fromArray(S, c, co + 4 * ldc + V);
        FloatVector c50 = FloatVector.fromArray(S, c, co + 5 * ldc);
        FloatVector c51 = FloatVector.fromArray(S, c, co + 5 * ldc + V);
        int a1 = ars;
        int a2 = 2 * ars;
        int a3 = 3 * ars;
        int a4 = 4 * ars;
        int a5 = 5 * ars;
        for (int p = 0; p < kc; p++) {
            int bi = bo + p * (2 * V);
            int ai = ao + p;
            FloatVector b0 = FloatVector.fromArray(S, b, bi);
            FloatVector b1 = FloatVector.fromArray(S, b, bi + V);
            FloatVector av = FloatVector.broadcast(S, a[ai]);
            c00 = b0.fma(av, c00);
            c01 = b1.fma(av, c01);
            av = FloatVector.broadcast(S, a[ai + a1]);
            c10 = b0.fma(av, c10);
            c11 = b1.fma(av, c11);
            av = FloatVector.broadcast(S, a[ai + a2]);
            c20 = b0.fma(av, c20);
            c21 = b1.fma(av, c21);
            av = FloatVector.broadcast(S, a[ai + a3]);
            c30 = b0.fma(av, c30);
            c31 = b1.fma(av, c31);
            av = FloatVector.broadcast(S, a[ai + a4]);
            c40 = b0.fma(av, c40);
            c41 = b1.fma(av, c41);
            av = FloatVector.broadcast(S, a[ai + a5]);
            c50 = b0.fma(av, c50);
            c51 = b1.fma(av, c51);
        }
        c00.intoArray(c, co);
        c01.intoArray(c, co + V);
        c10.intoArray(c, co + ldc);
        c11.intoArray(c, co + ldc + V);
        c20.intoArray(c, co + 2 * ldc);
        c21.intoArray(c, co + 2 * ldc + V);
        c30.intoArray(c, co + 3 * ldc);
        c31.intoArray(c, co + 3 * ldc + V);
        c40.intoArray(c, co + 4 * ldc);
        c41.intoArray(c, co + 4 * ldc + V);
        c50.intoArray(c, co + 5 * ldc);
        c51.intoArray(c, co + 5 * ldc + V);
    }

    /** {@link #micro6x2} with 4 rows, for 16 vector registers. */
    private static void micro4x2(int kc, float[] a, int ao, int ars, float[] b, int bo, float[] c, int co,
                                 int ldc) {
        FloatVector c00 = FloatVector.fromArray(S, c, co);
        FloatVector c01 = FloatVector.fromArray(S, c, co + V);
        FloatVector c10 = FloatVector.fromArray(S, c, co + ldc);
        FloatVector c11 = FloatVector.fromArray(S, c, co + ldc + V);
        FloatVector c20 = FloatVector.fromArray(S, c, co + 2 * ldc);
        FloatVector c21 = FloatVector.fromArray(S, c, co + 2 * ldc + V);
        FloatVector c30 = FloatVector.fromArray(S, c, co + 3 * ldc);
        FloatVector c31 = FloatVector.fromArray(S, c, co + 3 * ldc + V);
        int a1 = ars;
        int a2 = 2 * ars;
        int a3 = 3 * ars;
        for (int p = 0; p < kc; p++) {
            int bi = bo + p * (2 * V);
            int ai = ao + p;
            FloatVector b0 = FloatVector.fromArray(S, b, bi);
            FloatVector b1 = FloatVector.fromArray(S, b, bi + V);
            FloatVector av = FloatVector.broadcast(S, a[ai]);
            c00 = b0.fma(av, c00);
            c01 = b1.fma(av, c01);
            av = FloatVector.broadcast(S, a[ai + a1]);
            c10 = b0.fma(av, c10);
            c11 = b1.fma(av, c11);
            av = FloatVector.broadcast(S, a[ai + a2]);
            c20 = b0.fma(av, c20);
            c21 = b1.fma(av, c21);
            av = FloatVector.broadcast(S, a[ai + a3]);
            c30 = b0.fma(av, c30);
            c31 = b1.fma(av, c31);
        }
        c00.intoArray(c, co);
        c01.intoArray(c, co + V);
        c10.intoArray(c, co + ldc);
        c11.intoArray(c, co + ldc + V);
        c20.intoArray(c, co + 2 * ldc);
        c21.intoArray(c, co + 2 * ldc + V);
        c30.intoArray(c, co + 3 * ldc);
        c31.intoArray(c, co + 3 * ldc + V);
    }

    private static void micro1x2(int kc, float[] a, int ao, int acs, float[] b, int bo, int ldb, float[] c,
                                 int co) {
        FloatVector c0 = FloatVector.fromArray(S, c, co);
        FloatVector c1 = FloatVector.fromArray(S, c, co + V);
        for (int p = 0; p < kc; p++) {
            int bi = bo + p * ldb;
            FloatVector av = FloatVector.broadcast(S, a[ao + p * acs]);
            c0 = FloatVector.fromArray(S, b, bi).fma(av, c0);
            c1 = FloatVector.fromArray(S, b, bi + V).fma(av, c1);
        }
        c0.intoArray(c, co);
        c1.intoArray(c, co + V);
    }
}
