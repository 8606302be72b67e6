package org.attnkit.ops.attention;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.attnkit.backend.CpuPool;
import org.attnkit.backend.VectorMath;

/**
 * Flash-style Vector API kernels of {@link Attention} on raw BTC float arrays.
 *
 * <p>The inputs are first repacked per (batch, head) into contiguous, zero-padded matrices: queries
 * pre-scaled by 1/sqrt(d) {@code qs[Tqp][dhp]}, keys {@code k[Tkp][dhp]} and transposed by key block
 * {@code kt[Tkp/bk][dh][bk]}, values {@code v[Tkp][dvp]} and transposed {@code vt[Tkp/bk][dvh][bk]} (a key
 * block's transposed rows contiguous, bk floats apart: rows Tkp floats apart, a power of two, fell into a
 * few L1 sets and were read from L2 at every step of the score GEMM). The padding
 * (query rows to a whole query block, keys to a whole key block, head dims to a whole vector) is zero
 * and masked, so every product below is one small GEMM {@link #gemm} with no scalar tails: it
 * vectorizes over the OUTPUT COLUMNS with a 4-row x 4-vector register tile on AVX-512 (4 x 2 with
 * fewer registers). Hence the score tile
 * {@code S = qs kt} is vectorized over keys (kt rows are contiguous runs of keys), while
 * {@code O += P v}, {@code dq += dS k}, {@code dk += dS^T qs} and {@code dv += P^T dO} are vectorized
 * over the head dim.
 *
 * <p>Forward: one task per (batch, head, query block) walks the key blocks with an online softmax
 * (running max m and sum l per row, the output accumulator rescaled by exp(m_old - m_new)); the
 * Tq x Tk matrix never exists, only one bq x bk tile. Key blocks that are entirely causally masked or
 * entirely padded are skipped. Each row's log-sum-exp {@code m + log l} is kept (+inf for a row with
 * no allowed key, so that its recomputed probabilities are exactly 0).
 *
 * <p>Backward: first the statistics per (batch, head, query block), the log-sum-exp (read from the forward
 * when it kept it, else recomputed) and {@code delta = rowsum(dO * O)}; then the tiles, recomputing
 * P = exp(S - lse), {@code dP = dO v^T} and {@code dS = P * (dP - delta)}: with at least two (batch, head)
 * pairs per thread, one task per (batch, head) computes each tile once for dq, dk and dv (5 GEMMs a tile);
 * otherwise two passes with more tasks, dq per (batch, head, query block) and dk, dv per (batch, head,
 * key block) (7 GEMMs a tile). Outputs are exclusive to a task and each gradient row sums the same tiles in
 * the same order either way, so the bits depend neither on the thread count nor on the pass chosen.
 *
 * <p>Only plain lanewise arithmetic is used (exp is a polynomial, lane sums run in lane order), so a
 * call gives the same bits whether the Vector API code is interpreted or JIT-compiled.
 */
final class AttentionSimd {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Rows of a query block and keys of a key block, at most (tiles stay in L1/L2). */
    private static final int BLOCK = 64;
    private static final float NEG_INF = Float.NEGATIVE_INFINITY;
    /** Use the 4 x 4-vector GEMM tile: only with 512-bit vectors (32 registers on x86). */
    private static final boolean WIDE_TILE = S.vectorBitSize() >= 512;

    private AttentionSimd() {
    }

    /** Sizes, block sizes and the packed, padded per-(batch, head) operands of one call. */
    static final class Packed {
        final int b;
        final int heads;
        final int tq;
        final int tk;
        final int d;
        final int dv;
        final int dh;
        final int dvh;
        final boolean causal;
        final float scale;
        /** Query block rows: a multiple of 4 (the GEMM row tile). */
        final int bq;
        /** Key block length: a multiple of the vector length and of 4. */
        final int bk;
        final int tqp;
        final int tkp;
        final int dhp;
        final int dvp;
        final int nqb;
        final int nkb;
        float[] qs;      // [BH][tqp][dhp], q / sqrt(dh)
        float[] k;       // [BH][tkp][dhp]        (backward only)
        float[] kt;      // [BH][tkp/bk][dh][bk]
        float[] v;       // [BH][tkp][dvp]
        float[] vt;      // [BH][tkp/bk][dvh][bk] (backward only)
        float[] dout;    // [BH][tqp][dvp]        (backward only)
        float[] keyBias; // [B][tkp]: 0 for an allowed key, -inf for a padded (or padding) key
        boolean[] live;  // [B][nkb]: the key block has at least one unpadded key

        Packed(int b, int heads, int tq, int tk, int d, int dv, boolean causal) {
            this.b = b;
            this.heads = heads;
            this.tq = tq;
            this.tk = tk;
            this.d = d;
            this.dv = dv;
            this.dh = d / heads;
            this.dvh = dv / heads;
            this.causal = causal;
            this.scale = (float) (1.0 / Math.sqrt(dh));
            int lk = Math.max(L, 4);
            this.bq = Math.min(BLOCK, Math.max(4, roundUp(tq, 4)));
            this.bk = Math.min(roundUp(BLOCK, lk), Math.max(lk, roundUp(tk, lk)));
            this.tqp = roundUp(tq, bq);
            this.tkp = roundUp(tk, bk);
            this.dhp = roundUp(dh, L);
            this.dvp = roundUp(dvh, L);
            this.nqb = tqp / bq;
            this.nkb = tkp / bk;
        }

        int bh() {
            return b * heads;
        }

        /** The last key query row i may see (causal, end-aligned), or tk - 1. */
        int lastKey(int i) {
            return causal ? Math.min(tk - 1, i + tk - tq) : tk - 1;
        }
    }

    static int roundUp(int n, int m) {
        return (n + m - 1) / m * m;
    }

    // ------------------------------------------------------------------ packing

    /** Packs q (scaled), kt, v, and for backward k, vt and dy; builds the key mask. */
    static Packed pack(float[] q, float[] k, float[] v, float[] mask, float[] dy, int b, int heads, int tq,
            int tk, int d, int dv, boolean causal) {
        Packed p = new Packed(b, heads, tq, tk, d, dv, causal);
        int bh = p.bh();
        boolean backward = dy != null;
        p.qs = new float[bh * p.tqp * p.dhp];
        p.kt = new float[bh * p.dh * p.tkp];
        p.v = new float[bh * p.tkp * p.dvp];
        if (backward) {
            p.k = new float[bh * p.tkp * p.dhp];
            p.vt = new float[bh * p.dvh * p.tkp];
            p.dout = new float[bh * p.tqp * p.dvp];
        }
        p.keyBias = new float[b * p.tkp];
        p.live = new boolean[b * p.nkb];
        for (int bi = 0; bi < b; bi++) {
            for (int j = 0; j < p.tkp; j++) {
                // Mirrors the reference: a key is allowed only when its mask value == 0 (NaN pads).
                boolean allowed = j < tk && (mask == null || mask[bi * tk + j] == 0);
                p.keyBias[bi * p.tkp + j] = allowed ? 0f : NEG_INF;
                if (allowed) {
                    p.live[bi * p.nkb + j / p.bk] = true;
                }
            }
        }
        CpuPool.parallelFor(bh, t -> {
            int bi = t / heads;
            int h = t % heads;
            int whole = S.loopBound(p.dh);
            FloatVector scale = FloatVector.broadcast(S, p.scale);
            for (int i = 0; i < tq; i++) {
                int src = (bi * tq + i) * d + h * p.dh;
                int dst = (t * p.tqp + i) * p.dhp;
                int c = 0;
                for (; c < whole; c += L) {
                    FloatVector.fromArray(S, q, src + c).mul(scale).intoArray(p.qs, dst + c);
                }
                for (; c < p.dh; c++) {
                    p.qs[dst + c] = q[src + c] * p.scale;
                }
                if (backward) {
                    System.arraycopy(dy, (bi * tq + i) * dv + h * p.dvh, p.dout, (t * p.tqp + i) * p.dvp, p.dvh);
                }
            }
            for (int j = 0; j < tk; j++) {
                if (p.keyBias[bi * p.tkp + j] != 0f) {
                    continue; // padded keys stay zero, so their values (even inf/NaN) never reach a sum
                }
                if (backward) {
                    System.arraycopy(k, (bi * tk + j) * d + h * p.dh, p.k, (t * p.tkp + j) * p.dhp, p.dh);
                }
                System.arraycopy(v, (bi * tk + j) * dv + h * p.dvh, p.v, (t * p.tkp + j) * p.dvp, p.dvh);
            }
            transposeKeys(k, bi * tk * d + h * p.dh, d, p.dh, p.kt, t * p.dh * p.tkp, p.bk, p.keyBias,
                    bi * p.tkp, tk);
            if (backward) {
                transposeKeys(v, bi * tk * dv + h * p.dvh, dv, p.dvh, p.vt, t * p.dvh * p.tkp, p.bk, p.keyBias,
                        bi * p.tkp, tk);
            }
        });
        return p;
    }

    /**
     * The transpose by key block: dst[dOff + (j/bk)*width*bk + c*bk + j%bk] = src[sOff + j*lds + c] for
     * c < width and the allowed keys j < n (keyBias[bOff + j] == 0; the others stay zero), L keys at a time
     * by a gather (bk is a multiple of L), each destination row written a whole vector at a time. Key by key
     * into rows a power of two apart, the stores fell into two L1 sets and evicted each other: packing the
     * forward's operands of B=8 T=512 C=512 H=8 took 7.9 ms of its 31.5 (3.5 ms with 16-key blocks of
     * scalar copies, 3.1 this way).
     */
    private static void transposeKeys(float[] src, int sOff, int lds, int width, float[] dst, int dOff, int bk,
                                      float[] keyBias, int bOff, int n) {
        int[] rows = new int[L];
        for (int j = 0; j < L; j++) {
            rows[j] = j * lds;
        }
        FloatVector zero = FloatVector.zero(S);
        int whole = S.loopBound(n);
        for (int j0 = 0; j0 < whole; j0 += L) {
            VectorMask<Float> allowed = FloatVector.fromArray(S, keyBias, bOff + j0).compare(VectorOperators.EQ, 0f);
            int from = sOff + j0 * lds;
            int to = dOff + j0 / bk * width * bk + j0 % bk;
            for (int c = 0; c < width; c++) {
                FloatVector keys = FloatVector.fromArray(S, src, from + c, rows, 0);
                zero.blend(keys, allowed).intoArray(dst, to + c * bk);
            }
        }
        for (int j = whole; j < n; j++) {
            if (keyBias[bOff + j] == 0f) {
                int to = dOff + j / bk * width * bk + j % bk;
                for (int c = 0; c < width; c++) {
                    dst[to + c * bk] = src[sOff + j * lds + c];
                }
            }
        }
    }

    // ------------------------------------------------------------------ forward

    /** y[B,Tq,Dv]; fills lse[BH][tqp] when it is not null. */
    static float[] forward(Packed p, float[] lse) {
        float[] y = new float[p.b * p.tq * p.dv];
        CpuPool.parallelFor(p.bh() * p.nqb, task -> {
            int t = task / p.nqb;
            int i0 = (task % p.nqb) * p.bq;
            float[] o = new float[p.bq * p.dvp];
            float[] rowLse = new float[p.bq];
            forwardBlock(p, t, i0, o, rowLse, new float[p.bq * p.bk]);
            writeRows(p, o, p.dvp, p.dvh, p.dv, y, t, i0, 1f);
            if (lse != null) {
                System.arraycopy(rowLse, 0, lse, t * p.tqp + i0, p.bq);
            }
        });
        return y;
    }

    /**
     * The normalized output rows o[bq][dvp] and the log-sum-exp of query block i0 of (batch, head) t,
     * by an online softmax over the key blocks. {@code s} is a bq x bk scratch tile.
     */
    private static void forwardBlock(Packed p, int t, int i0, float[] o, float[] lse, float[] s) {
        int bq = p.bq;
        int bk = p.bk;
        float[] m = new float[bq];
        float[] l = new float[bq];
        Arrays.fill(m, NEG_INF);
        int kbEnd = keyBlockEnd(p, i0);
        int bi = t / p.heads;
        for (int kb = 0; kb < kbEnd; kb++) {
            if (!p.live[bi * p.nkb + kb]) {
                continue;
            }
            int j0 = kb * bk;
            gemm(p.qs, (t * p.tqp + i0) * p.dhp, p.dhp, p.kt, (t * p.tkp + j0) * p.dh, bk, s, 0, bk, bq, bk, p.dh,
                    false);
            mask(p, bi, i0, j0, s);
            for (int r = 0; r < bq; r++) {
                int row = r * bk;
                FloatVector mx = FloatVector.broadcast(S, NEG_INF);
                for (int j = 0; j < bk; j += L) {
                    mx = mx.max(FloatVector.fromArray(S, s, row + j));
                }
                float mNew = Math.max(m[r], mx.reduceLanes(VectorOperators.MAX));
                if (mNew == NEG_INF) {
                    Arrays.fill(s, row, row + bk, 0f); // nothing allowed yet in this row
                    continue;
                }
                FloatVector shift = FloatVector.broadcast(S, mNew);
                FloatVector sum = FloatVector.zero(S);
                for (int j = 0; j < bk; j += L) {
                    FloatVector e = VectorMath.exp(FloatVector.fromArray(S, s, row + j).sub(shift));
                    e.intoArray(s, row + j);
                    sum = sum.add(e);
                }
                float alpha = (float) Math.exp(m[r] - mNew); // 0 when the row had no allowed key yet
                l[r] = l[r] * alpha + VectorMath.sumLanes(sum);
                m[r] = mNew;
                if (alpha != 1f) {
                    scaleRow(o, r * p.dvp, p.dvp, alpha);
                }
            }
            gemm(s, 0, bk, p.v, (t * p.tkp + j0) * p.dvp, p.dvp, o, 0, p.dvp, bq, p.dvp, bk, true);
        }
        for (int r = 0; r < bq; r++) {
            if (l[r] == 0f) {
                lse[r] = Float.POSITIVE_INFINITY; // no allowed key: output zeros, probabilities zero
                Arrays.fill(o, r * p.dvp, (r + 1) * p.dvp, 0f);
            } else {
                lse[r] = m[r] + (float) Math.log(l[r]);
                scaleRow(o, r * p.dvp, p.dvp, 1f / l[r]);
            }
        }
    }

    /** One past the last key block any row of the query block at i0 can see. */
    private static int keyBlockEnd(Packed p, int i0) {
        if (!p.causal) {
            return p.nkb;
        }
        int last = p.lastKey(Math.min(i0 + p.bq, p.tq) - 1);
        return last < 0 ? 0 : last / p.bk + 1;
    }

    /** The first query block whose rows can see some key of the key block at j0. */
    private static int queryBlockStart(Packed p, int j0) {
        if (!p.causal) {
            return 0;
        }
        // Row i sees j0 when i + tk - tq >= j0.
        return Math.max(0, j0 - p.tk + p.tq) / p.bq;
    }

    /** Sets the masked scores of the tile (query rows i0.., keys j0..) to -inf. */
    private static void mask(Packed p, int bi, int i0, int j0, float[] s) {
        int bq = p.bq;
        int bk = p.bk;
        int biasOff = bi * p.tkp + j0;
        for (int r = 0; r < bq; r++) {
            int row = r * bk;
            int i = i0 + r;
            if (i >= p.tq) {
                Arrays.fill(s, row, row + bk, NEG_INF); // padding row
                continue;
            }
            for (int j = 0; j < bk; j += L) {
                FloatVector.fromArray(S, s, row + j).add(FloatVector.fromArray(S, p.keyBias, biasOff + j))
                        .intoArray(s, row + j);
            }
            if (p.causal) {
                int first = Math.max(0, p.lastKey(i) + 1 - j0);
                if (first < bk) {
                    Arrays.fill(s, row + first, row + bk, NEG_INF);
                }
            }
        }
    }

    /** P = exp(S - lse) in place for a masked tile (masked entries and +inf lse rows give exactly 0). */
    private static void probabilities(Packed p, float[] s, float[] lse, int lseOff) {
        for (int r = 0; r < p.bq; r++) {
            int row = r * p.bk;
            float rowLse = lse[lseOff + r];
            if (rowLse == Float.POSITIVE_INFINITY) {
                Arrays.fill(s, row, row + p.bk, 0f);
                continue;
            }
            FloatVector shift = FloatVector.broadcast(S, rowLse);
            for (int j = 0; j < p.bk; j += L) {
                VectorMath.exp(FloatVector.fromArray(S, s, row + j).sub(shift)).intoArray(s, row + j);
            }
        }
    }

    /** dS = P * (dP - delta) in place in dp. */
    private static void scoreGradient(Packed p, float[] prob, float[] dp, float[] delta, int deltaOff) {
        for (int r = 0; r < p.bq; r++) {
            int row = r * p.bk;
            FloatVector dl = FloatVector.broadcast(S, delta[deltaOff + r]);
            for (int j = 0; j < p.bk; j += L) {
                FloatVector pv = FloatVector.fromArray(S, prob, row + j);
                pv.mul(FloatVector.fromArray(S, dp, row + j).sub(dl)).intoArray(dp, row + j);
            }
        }
    }

    private static void scaleRow(float[] a, int off, int n, float f) {
        FloatVector fv = FloatVector.broadcast(S, f);
        for (int c = 0; c < n; c += L) {
            FloatVector.fromArray(S, a, off + c).mul(fv).intoArray(a, off + c);
        }
    }

    /** out[b, i0+r, h*width + c] = f * rows[r*ld + c] for the real rows of the block. */
    private static void writeRows(Packed p, float[] rows, int ld, int width, int outWidth, float[] out, int t,
            int i0, float f) {
        int bi = t / p.heads;
        int h = t % p.heads;
        int n = Math.min(p.bq, p.tq - i0);
        for (int r = 0; r < n; r++) {
            int dst = (bi * p.tq + i0 + r) * outWidth + h * width;
            for (int c = 0; c < width; c++) {
                out[dst + c] = f * rows[r * ld + c];
            }
        }
    }

    // ------------------------------------------------------------------ backward

    /** {dq, dk, dv} as flat arrays in the input layouts (null where not needed). */
    static float[][] backward(Packed p, boolean needQ, boolean needK, boolean needV) {
        return backward(p, needQ, needK, needV, null, null);
    }

    /**
     * {dq, dk, dv} as {@link #backward(Packed, boolean, boolean, boolean)}, reusing the forward's
     * log-sum-exp {@code savedLse} ({@link #forward}'s, [BH][tqp]) and output {@code y} [B,Tq,Dv] instead of
     * recomputing them, when both are non-null: the same values, so the same bits, without the forward pass
     * the first pass would otherwise redo.
     */
    static float[][] backward(Packed p, boolean needQ, boolean needK, boolean needV, float[] savedLse, float[] y) {
        return backward(p, needQ, needK, needV, savedLse, y, p.bh() >= 2 * CpuPool.threads());
    }

    /**
     * The backward with the tile pass chosen by {@code fused}: one task per (batch, head) that walks the key
     * blocks and, for each, the query blocks, computing S, P, dP and dS once per tile for dq, dk and dv
     * together (5 small GEMMs per tile); or two passes, dq per (batch, head, query block) then dk and dv per
     * (batch, head, key block), each recomputing the tile (7 GEMMs per tile) but with more, smaller tasks.
     * Each gradient row sums the same tiles in the same order either way, so the bits are the same; the
     * caller fuses when there are at least two (batch, head) tasks per thread.
     */
    static float[][] backward(Packed p, boolean needQ, boolean needK, boolean needV, float[] savedLse, float[] y,
            boolean fused) {
        boolean reuse = savedLse != null && y != null;
        int bh = p.bh();
        float[] lse = reuse ? savedLse : new float[bh * p.tqp];
        float[] delta = new float[bh * p.tqp];
        int bq = p.bq;
        // Statistics per (batch, head, query block): the log-sum-exp, unless saved, and delta = rowsum(dO * O).
        CpuPool.parallelFor(bh * p.nqb, task -> {
            int t = task / p.nqb;
            int i0 = (task % p.nqb) * bq;
            int bi = t / p.heads;
            float[] o = new float[bq * p.dvp];
            int statOff = t * p.tqp + i0;
            if (reuse) {
                // The block's output rows as forwardBlock leaves them: y's values, zero past the real rows
                // and columns (y = o exactly: writeRows scales by 1).
                int h = t % p.heads;
                for (int r = 0; r < Math.min(bq, p.tq - i0); r++) {
                    System.arraycopy(y, (bi * p.tq + i0 + r) * p.dv + h * p.dvh, o, r * p.dvp, p.dvh);
                }
            } else {
                float[] rowLse = new float[bq];
                forwardBlock(p, t, i0, o, rowLse, new float[bq * p.bk]);
                System.arraycopy(rowLse, 0, lse, statOff, bq);
            }
            int dOff = (t * p.tqp + i0) * p.dvp;
            for (int r = 0; r < bq; r++) {
                FloatVector acc = FloatVector.zero(S);
                for (int c = 0; c < p.dvp; c += L) {
                    acc = FloatVector.fromArray(S, p.dout, dOff + r * p.dvp + c)
                            .fma(FloatVector.fromArray(S, o, r * p.dvp + c), acc);
                }
                delta[statOff + r] = VectorMath.sumLanes(acc);
            }
        });
        float[] dq = needQ ? new float[p.b * p.tq * p.d] : null;
        float[] dk = needK ? new float[p.b * p.tk * p.d] : null;
        float[] dv = needV ? new float[p.b * p.tk * p.dv] : null;
        if (fused) {
            CpuPool.parallelFor(bh, t -> headGradients(p, t, lse, delta, dq, dk, dv));
        } else {
            if (needQ) {
                CpuPool.parallelFor(bh * p.nqb, task -> queryBlockGradient(p, task / p.nqb,
                        (task % p.nqb) * bq, lse, delta, dq));
            }
            if (needK || needV) {
                CpuPool.parallelFor(bh * p.nkb, task -> keyBlockGradients(p, task / p.nkb,
                        (task % p.nkb) * p.bk, lse, delta, dk, dv));
            }
        }
        return new float[][] {dq, dk, dv};
    }

    /** Scratch tiles of one backward task. */
    private static final class Tiles {
        final float[] s; // bq x bk: scores, then probabilities P
        final float[] dp; // bq x bk: dP, then dS
        final float[] tr; // bk x bq: P^T or dS^T

        Tiles(Packed p) {
            s = new float[p.bq * p.bk];
            dp = new float[p.bq * p.bk];
            tr = new float[p.bk * p.bq];
        }
    }

    /** P = exp(S - lse) of the tile (query block i0, key block j0) of (batch, head) t, into tiles.s. */
    private static void probabilityTile(Packed p, int t, int i0, int j0, float[] lse, Tiles w) {
        gemm(p.qs, (t * p.tqp + i0) * p.dhp, p.dhp, p.kt, (t * p.tkp + j0) * p.dh, p.bk, w.s, 0, p.bk, p.bq, p.bk,
                p.dh, false);
        mask(p, t / p.heads, i0, j0, w.s);
        probabilities(p, w.s, lse, t * p.tqp + i0);
    }

    /** dS = P * (dO v^T - delta) of the tile, into tiles.dp (tiles.s holds P). */
    private static void scoreGradientTile(Packed p, int t, int i0, int j0, float[] delta, Tiles w) {
        gemm(p.dout, (t * p.tqp + i0) * p.dvp, p.dvp, p.vt, (t * p.tkp + j0) * p.dvh, p.bk, w.dp, 0, p.bk, p.bq,
                p.bk, p.dvh, false);
        scoreGradient(p, w.s, w.dp, delta, t * p.tqp + i0);
    }

    /** dv += P^T dO over the tile (tiles.s holds P). */
    private static void valueGradientTile(Packed p, int t, int i0, Tiles w, float[] dvAcc) {
        transpose(w.s, p.bq, p.bk, w.tr);
        gemm(w.tr, 0, p.bq, p.dout, (t * p.tqp + i0) * p.dvp, p.dvp, dvAcc, 0, p.dvp, p.bk, p.dvp, p.bq, true);
    }

    /** dk += dS^T qs over the tile (tiles.dp holds dS). */
    private static void keyGradientTile(Packed p, int t, int i0, Tiles w, float[] dkAcc) {
        transpose(w.dp, p.bq, p.bk, w.tr);
        gemm(w.tr, 0, p.bq, p.qs, (t * p.tqp + i0) * p.dhp, p.dhp, dkAcc, 0, p.dhp, p.bk, p.dhp, p.bq, true);
    }

    /** dq += dS k over the tile (tiles.dp holds dS). */
    private static void queryGradientTile(Packed p, int t, int j0, Tiles w, float[] dqAcc) {
        gemm(w.dp, 0, p.bk, p.k, (t * p.tkp + j0) * p.dhp, p.dhp, dqAcc, 0, p.dhp, p.bq, p.dhp, p.bk, true);
    }

    /** Pass 1 of the two-pass backward: dq of query block i0 of (batch, head) t, over its key blocks. */
    private static void queryBlockGradient(Packed p, int t, int i0, float[] lse, float[] delta, float[] dq) {
        Tiles w = new Tiles(p);
        float[] dqAcc = new float[p.bq * p.dhp];
        int bi = t / p.heads;
        int kbEnd = keyBlockEnd(p, i0);
        for (int kb = 0; kb < kbEnd; kb++) {
            if (!p.live[bi * p.nkb + kb]) {
                continue;
            }
            int j0 = kb * p.bk;
            probabilityTile(p, t, i0, j0, lse, w);
            scoreGradientTile(p, t, i0, j0, delta, w);
            queryGradientTile(p, t, j0, w, dqAcc);
        }
        writeRows(p, dqAcc, p.dhp, p.dh, p.d, dq, t, i0, p.scale);
    }

    /** Pass 2 of the two-pass backward: dk and dv of key block j0 of (batch, head) t, over its query blocks. */
    private static void keyBlockGradients(Packed p, int t, int j0, float[] lse, float[] delta, float[] dk,
            float[] dv) {
        if (!p.live[(t / p.heads) * p.nkb + j0 / p.bk]) {
            return; // all keys padded: zero gradient
        }
        Tiles w = new Tiles(p);
        float[] dkAcc = dk != null ? new float[p.bk * p.dhp] : null;
        float[] dvAcc = dv != null ? new float[p.bk * p.dvp] : null;
        for (int qb = queryBlockStart(p, j0); qb < p.nqb; qb++) {
            int i0 = qb * p.bq;
            probabilityTile(p, t, i0, j0, lse, w);
            if (dv != null) {
                valueGradientTile(p, t, i0, w, dvAcc);
            }
            if (dk != null) {
                scoreGradientTile(p, t, i0, j0, delta, w);
                keyGradientTile(p, t, i0, w, dkAcc);
            }
        }
        writeKeyRows(p, t, j0, dkAcc, dk, dvAcc, dv);
    }

    /**
     * The fused backward of (batch, head) t: for each key block, each query block that either pass visits
     * (pass 1: the key block is before keyBlockEnd of the query block; pass 2: the query block is at or after
     * queryBlockStart of the key block), one tile for whichever of dq, dk, dv it feeds.
     */
    private static void headGradients(Packed p, int t, float[] lse, float[] delta, float[] dq, float[] dk,
            float[] dv) {
        Tiles w = new Tiles(p);
        float[][] dqAcc = dq != null ? new float[p.nqb][p.bq * p.dhp] : null;
        float[] dkAcc = dk != null ? new float[p.bk * p.dhp] : null;
        float[] dvAcc = dv != null ? new float[p.bk * p.dvp] : null;
        int bi = t / p.heads;
        for (int kb = 0; kb < p.nkb; kb++) {
            if (!p.live[bi * p.nkb + kb]) {
                continue;
            }
            int j0 = kb * p.bk;
            if (dkAcc != null) {
                Arrays.fill(dkAcc, 0f);
            }
            if (dvAcc != null) {
                Arrays.fill(dvAcc, 0f);
            }
            int firstForKeys = queryBlockStart(p, j0);
            for (int qb = 0; qb < p.nqb; qb++) {
                int i0 = qb * p.bq;
                boolean forQuery = dq != null && kb < keyBlockEnd(p, i0);
                boolean forKeys = (dk != null || dv != null) && qb >= firstForKeys;
                if (!forQuery && !forKeys) {
                    continue;
                }
                probabilityTile(p, t, i0, j0, lse, w);
                if (forKeys && dv != null) {
                    valueGradientTile(p, t, i0, w, dvAcc);
                }
                if (forQuery || dk != null) {
                    scoreGradientTile(p, t, i0, j0, delta, w);
                }
                if (forKeys && dk != null) {
                    keyGradientTile(p, t, i0, w, dkAcc);
                }
                if (forQuery) {
                    queryGradientTile(p, t, j0, w, dqAcc[qb]);
                }
            }
            writeKeyRows(p, t, j0, dkAcc, dk, dvAcc, dv);
        }
        if (dq != null) {
            for (int qb = 0; qb < p.nqb; qb++) {
                writeRows(p, dqAcc[qb], p.dhp, p.dh, p.d, dq, t, qb * p.bq, p.scale);
            }
        }
    }

    /** dk and dv rows of key block j0 of (batch, head) t from their block accumulators (null: not needed). */
    private static void writeKeyRows(Packed p, int t, int j0, float[] dkAcc, float[] dk, float[] dvAcc,
            float[] dv) {
        int bi = t / p.heads;
        int h = t % p.heads;
        int n = Math.min(p.bk, p.tk - j0);
        for (int r = 0; r < n; r++) {
            int j = j0 + r;
            if (dk != null) {
                System.arraycopy(dkAcc, r * p.dhp, dk, (bi * p.tk + j) * p.d + h * p.dh, p.dh);
            }
            if (dv != null) {
                System.arraycopy(dvAcc, r * p.dvp, dv, (bi * p.tk + j) * p.dv + h * p.dvh, p.dvh);
            }
        }
    }

    /** dst[c][r] = src[r][c] for a rows x cols matrix. */
    private static void transpose(float[] src, int rows, int cols, float[] dst) {
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                dst[c * rows + r] = src[r * cols + c];
            }
        }
    }

    // ------------------------------------------------------------------ GEMM

    /**
     * Four rows x four vectors of c: 16 accumulators plus 4 b vectors fit the 32 registers of
     * AVX-512 (with 16 registers, as on AVX2, they would spill, so narrower vectors skip this tile).
     */
    private static void tile4x4(float[] a, int a0, int lda, float[] b, int bp, int ldb, float[] c, int c0, int ldc,
            int kDim, boolean accumulate) {
        int a1 = a0 + lda;
        int a2 = a1 + lda;
        int a3 = a2 + lda;
        int c1 = c0 + ldc;
        int c2 = c1 + ldc;
        int c3 = c2 + ldc;
        FloatVector z = FloatVector.zero(S);
        FloatVector x00 = accumulate ? FloatVector.fromArray(S, c, c0) : z;
        FloatVector x01 = accumulate ? FloatVector.fromArray(S, c, c0 + L) : z;
        FloatVector x02 = accumulate ? FloatVector.fromArray(S, c, c0 + 2 * L) : z;
        FloatVector x03 = accumulate ? FloatVector.fromArray(S, c, c0 + 3 * L) : z;
        FloatVector x10 = accumulate ? FloatVector.fromArray(S, c, c1) : z;
        FloatVector x11 = accumulate ? FloatVector.fromArray(S, c, c1 + L) : z;
        FloatVector x12 = accumulate ? FloatVector.fromArray(S, c, c1 + 2 * L) : z;
        FloatVector x13 = accumulate ? FloatVector.fromArray(S, c, c1 + 3 * L) : z;
        FloatVector x20 = accumulate ? FloatVector.fromArray(S, c, c2) : z;
        FloatVector x21 = accumulate ? FloatVector.fromArray(S, c, c2 + L) : z;
        FloatVector x22 = accumulate ? FloatVector.fromArray(S, c, c2 + 2 * L) : z;
        FloatVector x23 = accumulate ? FloatVector.fromArray(S, c, c2 + 3 * L) : z;
        FloatVector x30 = accumulate ? FloatVector.fromArray(S, c, c3) : z;
        FloatVector x31 = accumulate ? FloatVector.fromArray(S, c, c3 + L) : z;
        FloatVector x32 = accumulate ? FloatVector.fromArray(S, c, c3 + 2 * L) : z;
        FloatVector x33 = accumulate ? FloatVector.fromArray(S, c, c3 + 3 * L) : z;
        for (int k = 0; k < kDim; k++, bp += ldb) {
            FloatVector b0 = FloatVector.fromArray(S, b, bp);
            FloatVector b1 = FloatVector.fromArray(S, b, bp + L);
            FloatVector b2 = FloatVector.fromArray(S, b, bp + 2 * L);
            FloatVector b3 = FloatVector.fromArray(S, b, bp + 3 * L);
            FloatVector av = FloatVector.broadcast(S, a[a0 + k]);
            x00 = av.fma(b0, x00);
            x01 = av.fma(b1, x01);
            x02 = av.fma(b2, x02);
            x03 = av.fma(b3, x03);
            av = FloatVector.broadcast(S, a[a1 + k]);
            x10 = av.fma(b0, x10);
            x11 = av.fma(b1, x11);
            x12 = av.fma(b2, x12);
            x13 = av.fma(b3, x13);
            av = FloatVector.broadcast(S, a[a2 + k]);
            x20 = av.fma(b0, x20);
            x21 = av.fma(b1, x21);
            x22 = av.fma(b2, x22);
            x23 = av.fma(b3, x23);
            av = FloatVector.broadcast(S, a[a3 + k]);
            x30 = av.fma(b0, x30);
            x31 = av.fma(b1, x31);
            x32 = av.fma(b2, x32);
            x33 = av.fma(b3, x33);
        }
        x00.intoArray(c, c0);
        x01.intoArray(c, c0 + L);
        x02.intoArray(c, c0 + 2 * L);
        x03.intoArray(c, c0 + 3 * L);
        x10.intoArray(c, c1);
        x11.intoArray(c, c1 + L);
        x12.intoArray(c, c1 + 2 * L);
        x13.intoArray(c, c1 + 3 * L);
        x20.intoArray(c, c2);
        x21.intoArray(c, c2 + L);
        x22.intoArray(c, c2 + 2 * L);
        x23.intoArray(c, c2 + 3 * L);
        x30.intoArray(c, c3);
        x31.intoArray(c, c3 + L);
        x32.intoArray(c, c3 + 2 * L);
        x33.intoArray(c, c3 + 3 * L);
    }

    /**
     * c[M][N] (+)= a[M][K] b[K][N] with leading dimensions lda, ldb, ldc. M must be a multiple of 4 and
     * N a multiple of the vector length (the callers pad). Vectorized over N with a 4 x 2-vector
     * register tile: per k, two b vectors and four broadcasts feed eight FMAs.
     */
    static void gemm(float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float[] c, int cOff, int ldc,
            int m, int n, int kDim, boolean accumulate) {
        for (int i = 0; i < m; i += 4) {
            int a0 = aOff + i * lda;
            int a1 = a0 + lda;
            int a2 = a1 + lda;
            int a3 = a2 + lda;
            int c0 = cOff + i * ldc;
            int c1 = c0 + ldc;
            int c2 = c1 + ldc;
            int c3 = c2 + ldc;
            int col = 0;
            if (WIDE_TILE) {
                for (; col + 4 * L <= n; col += 4 * L) {
                    tile4x4(a, a0, lda, b, bOff + col, ldb, c, c0 + col, ldc, kDim, accumulate);
                }
            }
            for (; col + 2 * L <= n; col += 2 * L) {
                FloatVector x00;
                FloatVector x01;
                FloatVector x10;
                FloatVector x11;
                FloatVector x20;
                FloatVector x21;
                FloatVector x30;
                FloatVector x31;
                if (accumulate) {
                    x00 = FloatVector.fromArray(S, c, c0 + col);
                    x01 = FloatVector.fromArray(S, c, c0 + col + L);
                    x10 = FloatVector.fromArray(S, c, c1 + col);
                    x11 = FloatVector.fromArray(S, c, c1 + col + L);
                    x20 = FloatVector.fromArray(S, c, c2 + col);
                    x21 = FloatVector.fromArray(S, c, c2 + col + L);
                    x30 = FloatVector.fromArray(S, c, c3 + col);
                    x31 = FloatVector.fromArray(S, c, c3 + col + L);
                } else {
                    x00 = FloatVector.zero(S);
                    x01 = x00;
                    x10 = x00;
                    x11 = x00;
                    x20 = x00;
                    x21 = x00;
                    x30 = x00;
                    x31 = x00;
                }
                int bp = bOff + col;
                for (int k = 0; k < kDim; k++, bp += ldb) {
                    FloatVector b0 = FloatVector.fromArray(S, b, bp);
                    FloatVector b1 = FloatVector.fromArray(S, b, bp + L);
                    FloatVector av = FloatVector.broadcast(S, a[a0 + k]);
                    x00 = av.fma(b0, x00);
                    x01 = av.fma(b1, x01);
                    av = FloatVector.broadcast(S, a[a1 + k]);
                    x10 = av.fma(b0, x10);
                    x11 = av.fma(b1, x11);
                    av = FloatVector.broadcast(S, a[a2 + k]);
                    x20 = av.fma(b0, x20);
                    x21 = av.fma(b1, x21);
                    av = FloatVector.broadcast(S, a[a3 + k]);
                    x30 = av.fma(b0, x30);
                    x31 = av.fma(b1, x31);
                }
                x00.intoArray(c, c0 + col);
                x01.intoArray(c, c0 + col + L);
                x10.intoArray(c, c1 + col);
                x11.intoArray(c, c1 + col + L);
                x20.intoArray(c, c2 + col);
                x21.intoArray(c, c2 + col + L);
                x30.intoArray(c, c3 + col);
                x31.intoArray(c, c3 + col + L);
            }
            for (; col < n; col += L) {
                FloatVector x0 = accumulate ? FloatVector.fromArray(S, c, c0 + col) : FloatVector.zero(S);
                FloatVector x1 = accumulate ? FloatVector.fromArray(S, c, c1 + col) : FloatVector.zero(S);
                FloatVector x2 = accumulate ? FloatVector.fromArray(S, c, c2 + col) : FloatVector.zero(S);
                FloatVector x3 = accumulate ? FloatVector.fromArray(S, c, c3 + col) : FloatVector.zero(S);
                int bp = bOff + col;
                for (int k = 0; k < kDim; k++, bp += ldb) {
                    FloatVector b0 = FloatVector.fromArray(S, b, bp);
                    x0 = FloatVector.broadcast(S, a[a0 + k]).fma(b0, x0);
                    x1 = FloatVector.broadcast(S, a[a1 + k]).fma(b0, x1);
                    x2 = FloatVector.broadcast(S, a[a2 + k]).fma(b0, x2);
                    x3 = FloatVector.broadcast(S, a[a3 + k]).fma(b0, x3);
                }
                x0.intoArray(c, c0 + col);
                x1.intoArray(c, c1 + col);
                x2.intoArray(c, c2 + col);
                x3.intoArray(c, c3 + col);
            }
        }
    }
}
