// attention.cu: flash-style multi-head attention (SPEC of org.attnkit.ops.attention.Attention), layout BTC,
// head h owning columns [h*dh, (h+1)*dh) of q and k and [h*dv, (h+1)*dv) of v and y.
//   forward, head sizes <= 64: attn_forward_tiled, a CTA of 4 warps per 64 queries, K/V tiles of 32 keys in
//   shared memory, 4x4 score and 4x8 output blocks per thread in registers, online softmax (running max and
//   sum, the accumulator rescaled when the max grows), causal tiles skipped.
//   forward, head sizes 65..128: attn_forward, one thread per query (templated; the 128 variant spills).
//   Neither writes a T x T matrix to global memory; both write each row's log-sum-exp (+inf for a fully
//   masked row, so its probabilities are exp(-inf) = 0).
//   backward (recomputing o and the lse with the forward above): delta_i = dy_i . y_i; then, head sizes <= 64:
//   attn_dq_tiled (a CTA per 64 queries over key tiles) and attn_dkdv_tiled (a CTA per 64 keys over query
//   tiles), register-blocked like the tiled forward; head sizes 65..128: one thread per query (dq) and per
//   key (dk, dv). No atomics: deterministic.
//   MAE (GatedAttention): the per-head weight alpha multiplies the forward's epilogue; the backward reads
//   alpha * dy, and dalpha = sum_i dy_i . o_i comes from the same row dot products as delta.
// Masks: key j is allowed for query i unless mask[b,j] != 0 or (causal and j > i + Tk - Tq).
// dh and dv are at most 128. Compiled and verified on an H200 (2026-12-04: the CUDA equivalence tests pass).
#include "common.cuh"
#include "launchers.h"

namespace attnkit {
namespace {

constexpr int BQ = 64;  // queries (or keys) per block, one per thread
constexpr int BK = 32;  // keys (or queries) per shared-memory tile

struct AttnDims {
    int B, Tq, Tk, H, D, Dv, dh, dv, causal;
    float scale;
    // MAE per-head weight (GatedAttention): alpha[row * H + h] with row = b (alphaPerToken 0) or b * Tq + i
    // (alphaPerToken 1); null = plain attention (alpha 1).
    const float* alpha;
    int alphaPerToken;
};

__device__ __forceinline__ float alpha_of(const AttnDims& a, int b, int i, int h) {
    if (!a.alpha) return 1.f;
    long long row = a.alphaPerToken ? (long long)b * a.Tq + i : b;
    return a.alpha[row * a.H + h];
}

__device__ __forceinline__ bool allowed(const AttnDims& a, const float* mask, int b, int i, int j) {
    if (mask && mask[(long long)b * a.Tk + j] != 0.f) return false;
    return !a.causal || j <= i + (a.Tk - a.Tq);
}

template <int DM>
__global__ void __launch_bounds__(BQ) attn_forward(float* __restrict__ y, float* __restrict__ lse,
        const float* __restrict__ q, const float* __restrict__ k, const float* __restrict__ v,
        const float* __restrict__ mask, AttnDims a) {
    __shared__ float ks[BK][DM + 1];
    __shared__ float vs[BK][DM + 1];
    const int bh = blockIdx.y, b = bh / a.H, h = bh % a.H;
    const int i = blockIdx.x * BQ + threadIdx.x;
    const bool active = i < a.Tq;
    float qr[DM], acc[DM];
#pragma unroll
    for (int d = 0; d < DM; d++) {
        qr[d] = (active && d < a.dh) ? q[((long long)b * a.Tq + i) * a.D + h * a.dh + d] * a.scale : 0.f;
        acc[d] = 0.f;
    }
    float m = -INFINITY, l = 0.f;
    for (int j0 = 0; j0 < a.Tk; j0 += BK) {
        for (int e = threadIdx.x; e < BK * DM; e += BQ) {
            int jj = e / DM, d = e % DM, j = j0 + jj;
            bool in = j < a.Tk;
            ks[jj][d] = (in && d < a.dh) ? k[((long long)b * a.Tk + j) * a.D + h * a.dh + d] : 0.f;
            vs[jj][d] = (in && d < a.dv) ? v[((long long)b * a.Tk + j) * a.Dv + h * a.dv + d] : 0.f;
        }
        __syncthreads();
        if (active) {
            for (int jj = 0; jj < BK && j0 + jj < a.Tk; jj++) {
                if (!allowed(a, mask, b, i, j0 + jj)) continue;
                float s = 0.f;
#pragma unroll
                for (int d = 0; d < DM; d++) s = fmaf(qr[d], ks[jj][d], s);
                if (s > m) {
                    float corr = expf(m - s);  // 0 on the first allowed key (m = -inf)
                    l *= corr;
#pragma unroll
                    for (int d = 0; d < DM; d++) acc[d] *= corr;
                    m = s;
                }
                float p = expf(s - m);
                l += p;
#pragma unroll
                for (int d = 0; d < DM; d++) acc[d] = fmaf(p, vs[jj][d], acc[d]);
            }
        }
        __syncthreads();
    }
    if (!active) return;
    // A fully masked row outputs zeros; the MAE weight alpha is applied here, in the epilogue, for free.
    const float inv = l > 0.f ? alpha_of(a, b, i, h) / l : 0.f;
#pragma unroll
    for (int d = 0; d < DM; d++) {
        if (d < a.dv) y[((long long)b * a.Tq + i) * a.Dv + h * a.dv + d] = acc[d] * inv;
    }
    lse[(long long)bh * a.Tq + i] = l > 0.f ? m + logf(l) : INFINITY;
}

// The tiled forward for head sizes dh, dv <= 64: a CTA of 4 warps owns TM = 64 queries of one (b, h); Q is
// staged once in shared memory (pre-scaled), then K/V tiles of TN = 32 keys stream through shared memory.
// Each thread owns a 4 x 4 block of the 64 x 32 score tile (rows ty + 16r, keys tx + 8c: the 8 threads of a
// row group are 8 consecutive lanes, so row max and sum are 3 xor-shuffles) and a 4 x 8 block of the 64 x 64
// output (rows ty + 16r, columns 4tx..4tx+3 and 32+4tx..32+4tx+3). Online softmax per key tile in registers:
// the running max m and sum l per row, the accumulator rescaled by exp(m_old - m_new). Shared-memory strides
// are chosen for conflict-free float4 reads: QS = 68 puts the 8 key rows of a quarter warp 4 banks apart,
// PS = 40 makes the score stores 8ty + tx distinct. Causal: key tiles after the block's last visible key are
// skipped. Same masks, fully-masked-row zeros and row log-sum-exp as attn_forward.
namespace tiled {
constexpr int TM = 64;
constexpr int TN = 32;
constexpr int TD = 64;
constexpr int THREADS = 128;
constexpr int QS = TD + 4;
constexpr int PS = TN + 8;
}  // namespace tiled

__global__ void __launch_bounds__(tiled::THREADS) attn_forward_tiled(float* __restrict__ y, float* __restrict__ lse,
        const float* __restrict__ q, const float* __restrict__ k, const float* __restrict__ v,
        const float* __restrict__ mask, AttnDims a) {
    using namespace tiled;
    __shared__ __align__(16) float qs[TM][QS];
    __shared__ __align__(16) float ks[TN][QS];
    __shared__ __align__(16) float vs[TN][TD];
    __shared__ __align__(16) float ps[TM][PS];
    __shared__ float keyOk[TN];  // 1 when the key exists and is not padded
    const int bh = blockIdx.y, b = bh / a.H, h = bh % a.H;
    const int q0 = blockIdx.x * TM;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int tx = lane & 7, ty = warp * 4 + (lane >> 3);
    for (int e = threadIdx.x; e < TM * TD; e += THREADS) {
        int r = e / TD, d = e % TD, i = q0 + r;
        qs[r][d] = (i < a.Tq && d < a.dh) ? q[((long long)b * a.Tq + i) * a.D + h * a.dh + d] * a.scale : 0.f;
    }
    float acc[4][8], m[4], l[4];
#pragma unroll
    for (int r = 0; r < 4; r++) {
        m[r] = -INFINITY;
        l[r] = 0.f;
#pragma unroll
        for (int c = 0; c < 8; c++) acc[r][c] = 0.f;
    }
    int kEnd = a.Tk;
    if (a.causal) {  // the block's last query sees keys j <= i + Tk - Tq
        int last = min(a.Tq - 1, q0 + TM - 1) + a.Tk - a.Tq + 1;
        kEnd = max(0, min(kEnd, last));
    }
    for (int j0 = 0; j0 < kEnd; j0 += TN) {
        __syncthreads();  // the previous tile's readers are done (and qs is complete on the first pass)
        for (int e = threadIdx.x; e < TN * TD; e += THREADS) {
            int jj = e / TD, d = e % TD, j = j0 + jj;
            bool in = j < a.Tk;
            ks[jj][d] = (in && d < a.dh) ? k[((long long)b * a.Tk + j) * a.D + h * a.dh + d] : 0.f;
            vs[jj][d] = (in && d < a.dv) ? v[((long long)b * a.Tk + j) * a.Dv + h * a.dv + d] : 0.f;
        }
        if (threadIdx.x < TN) {
            int j = j0 + threadIdx.x;
            keyOk[threadIdx.x] = (j < a.Tk && !(mask && mask[(long long)b * a.Tk + j] != 0.f)) ? 1.f : 0.f;
        }
        __syncthreads();
        float s[4][4];
#pragma unroll
        for (int r = 0; r < 4; r++) {
#pragma unroll
            for (int c = 0; c < 4; c++) s[r][c] = 0.f;
        }
#pragma unroll 4
        for (int d = 0; d < TD; d += 4) {
            float4 qv[4], kv[4];
#pragma unroll
            for (int r = 0; r < 4; r++) qv[r] = *reinterpret_cast<const float4*>(&qs[ty + 16 * r][d]);
#pragma unroll
            for (int c = 0; c < 4; c++) kv[c] = *reinterpret_cast<const float4*>(&ks[tx + 8 * c][d]);
#pragma unroll
            for (int r = 0; r < 4; r++) {
#pragma unroll
                for (int c = 0; c < 4; c++) {
                    s[r][c] = fmaf(qv[r].x, kv[c].x, s[r][c]);
                    s[r][c] = fmaf(qv[r].y, kv[c].y, s[r][c]);
                    s[r][c] = fmaf(qv[r].z, kv[c].z, s[r][c]);
                    s[r][c] = fmaf(qv[r].w, kv[c].w, s[r][c]);
                }
            }
        }
#pragma unroll
        for (int r = 0; r < 4; r++) {
            const int i = q0 + ty + 16 * r;
            float mx = -INFINITY;
#pragma unroll
            for (int c = 0; c < 4; c++) {
                const int jj = tx + 8 * c;
                bool ok = keyOk[jj] != 0.f && (!a.causal || j0 + jj <= i + (a.Tk - a.Tq));
                if (!ok) s[r][c] = -INFINITY;
                mx = fmaxf(mx, s[r][c]);
            }
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 4));
            const float mNew = fmaxf(m[r], mx);
            // m[r] = -inf: nothing accumulated yet (and exp(-inf - -inf) would be NaN).
            const float corr = m[r] == -INFINITY ? 0.f : expf(m[r] - mNew);
            float sum = 0.f;
#pragma unroll
            for (int c = 0; c < 4; c++) {
                float p = s[r][c] == -INFINITY ? 0.f : expf(s[r][c] - mNew);
                s[r][c] = p;
                sum += p;
            }
            sum += __shfl_xor_sync(0xffffffffu, sum, 1);
            sum += __shfl_xor_sync(0xffffffffu, sum, 2);
            sum += __shfl_xor_sync(0xffffffffu, sum, 4);
            l[r] = l[r] * corr + sum;
            m[r] = mNew;
#pragma unroll
            for (int c = 0; c < 8; c++) acc[r][c] *= corr;
#pragma unroll
            for (int c = 0; c < 4; c++) ps[ty + 16 * r][tx + 8 * c] = s[r][c];
        }
        __syncthreads();
#pragma unroll 2
        for (int j = 0; j < TN; j += 4) {
            float4 pv[4];
#pragma unroll
            for (int r = 0; r < 4; r++) pv[r] = *reinterpret_cast<const float4*>(&ps[ty + 16 * r][j]);
#pragma unroll
            for (int jj = 0; jj < 4; jj++) {
                const float4 v0 = *reinterpret_cast<const float4*>(&vs[j + jj][4 * tx]);
                const float4 v1 = *reinterpret_cast<const float4*>(&vs[j + jj][32 + 4 * tx]);
#pragma unroll
                for (int r = 0; r < 4; r++) {
                    const float p = jj == 0 ? pv[r].x : jj == 1 ? pv[r].y : jj == 2 ? pv[r].z : pv[r].w;
                    acc[r][0] = fmaf(p, v0.x, acc[r][0]);
                    acc[r][1] = fmaf(p, v0.y, acc[r][1]);
                    acc[r][2] = fmaf(p, v0.z, acc[r][2]);
                    acc[r][3] = fmaf(p, v0.w, acc[r][3]);
                    acc[r][4] = fmaf(p, v1.x, acc[r][4]);
                    acc[r][5] = fmaf(p, v1.y, acc[r][5]);
                    acc[r][6] = fmaf(p, v1.z, acc[r][6]);
                    acc[r][7] = fmaf(p, v1.w, acc[r][7]);
                }
            }
        }
    }
#pragma unroll
    for (int r = 0; r < 4; r++) {
        const int i = q0 + ty + 16 * r;
        if (i >= a.Tq) continue;
        // A fully masked row (l = 0) outputs zeros; alpha (MAE) is applied here, in the epilogue.
        const float inv = l[r] > 0.f ? alpha_of(a, b, i, h) / l[r] : 0.f;
        float* yRow = y + ((long long)b * a.Tq + i) * a.Dv + h * a.dv;
#pragma unroll
        for (int c = 0; c < 8; c++) {
            const int col = c < 4 ? 4 * tx + c : 32 + 4 * tx + (c - 4);
            if (col < a.dv) yRow[col] = acc[r][c] * inv;
        }
        if (tx == 0) lse[(long long)bh * a.Tq + i] = l[r] > 0.f ? m[r] + logf(l[r]) : INFINITY;
    }
}

// The tiled backward for head sizes dh, dv <= 64 (FlashAttention-2's split, fp32 SIMT, no atomics), with the
// forward's thread layout: 4 warps, thread (tx, ty) = (lane & 7, 4 warp + lane / 8) owns the rows ty + 16r and
// the columns tx + 8c of a 64 x 32 tile of scores, and the rows ty + 16r and the 8 columns 4tx.., 32+4tx.. of a
// 64 x 64 accumulator. Operands sit in shared memory with the conflict-free strides of the forward (dynamic
// shared memory: more than 48 KB).
//   attn_dkdv_tiled: a CTA per 64 keys; per tile of 32 queries: S^T = K Q^T, dP^T = V dO^T, P = exp(S - lse),
//   dS = P (dP - delta); dv += P^T dO, dk += dS^T Q (Q pre-scaled). Causal: query tiles wholly before the
//   block's first visible query are skipped.
//   attn_dq_tiled: a CTA per 64 queries; per tile of 32 keys the same S, dP, dS; dq += scale dS K. Causal: key
//   tiles after the block's last visible key are skipped.
// dO = alpha * dy (MAE) is formed where dy is staged.
namespace tiledb {
constexpr int TR = 64;   // rows owned by a CTA (keys for dk/dv, queries for dq)
constexpr int TC = 32;   // rows of the streamed tile
constexpr int TD = 64;
constexpr int THREADS = 128;
constexpr int RS = TD + 4;
constexpr int PS = TC + 8;
constexpr size_t DKDV_SMEM = sizeof(float) * ((2 * TR + 2 * TC) * RS + 2 * TR * PS + 2 * TC + TR);
constexpr size_t DQ_SMEM = sizeof(float) * ((2 * TR + 2 * TC) * RS + TR * PS + TC);
}  // namespace tiledb

// acc[r][c] += sum_d a[ar + 16r][d] * b[bc + 8c][d] over the 64 (padded) columns: the 4 x 4 score block.
__device__ __forceinline__ void block_dot(float (&acc)[4][4], const float (*a)[tiledb::RS], int ar,
        const float (*bm)[tiledb::RS], int bc) {
#pragma unroll 4
    for (int d = 0; d < tiledb::TD; d += 4) {
        float4 av[4], bv[4];
#pragma unroll
        for (int r = 0; r < 4; r++) av[r] = *reinterpret_cast<const float4*>(&a[ar + 16 * r][d]);
#pragma unroll
        for (int c = 0; c < 4; c++) bv[c] = *reinterpret_cast<const float4*>(&bm[bc + 8 * c][d]);
#pragma unroll
        for (int r = 0; r < 4; r++) {
#pragma unroll
            for (int c = 0; c < 4; c++) {
                acc[r][c] = fmaf(av[r].x, bv[c].x, acc[r][c]);
                acc[r][c] = fmaf(av[r].y, bv[c].y, acc[r][c]);
                acc[r][c] = fmaf(av[r].z, bv[c].z, acc[r][c]);
                acc[r][c] = fmaf(av[r].w, bv[c].w, acc[r][c]);
            }
        }
    }
}

// acc[r][0..8) += sum_t w[wr + 16r][t] * m[t][cols of tx] over the TC streamed rows t.
__device__ __forceinline__ void block_axpy(float (&acc)[4][8], const float (*w)[tiledb::PS], int wr,
        const float (*m)[tiledb::RS], int tx) {
#pragma unroll 2
    for (int t = 0; t < tiledb::TC; t += 4) {
        float4 wv[4];
#pragma unroll
        for (int r = 0; r < 4; r++) wv[r] = *reinterpret_cast<const float4*>(&w[wr + 16 * r][t]);
#pragma unroll
        for (int tt = 0; tt < 4; tt++) {
            const float4 m0 = *reinterpret_cast<const float4*>(&m[t + tt][4 * tx]);
            const float4 m1 = *reinterpret_cast<const float4*>(&m[t + tt][32 + 4 * tx]);
#pragma unroll
            for (int r = 0; r < 4; r++) {
                const float x = tt == 0 ? wv[r].x : tt == 1 ? wv[r].y : tt == 2 ? wv[r].z : wv[r].w;
                acc[r][0] = fmaf(x, m0.x, acc[r][0]);
                acc[r][1] = fmaf(x, m0.y, acc[r][1]);
                acc[r][2] = fmaf(x, m0.z, acc[r][2]);
                acc[r][3] = fmaf(x, m0.w, acc[r][3]);
                acc[r][4] = fmaf(x, m1.x, acc[r][4]);
                acc[r][5] = fmaf(x, m1.y, acc[r][5]);
                acc[r][6] = fmaf(x, m1.z, acc[r][6]);
                acc[r][7] = fmaf(x, m1.w, acc[r][7]);
            }
        }
    }
}

__global__ void __launch_bounds__(tiledb::THREADS) attn_dkdv_tiled(float* __restrict__ dk, float* __restrict__ dv,
        const float* __restrict__ q, const float* __restrict__ k, const float* __restrict__ v,
        const float* __restrict__ mask, const float* __restrict__ lse, const float* __restrict__ delta,
        const float* __restrict__ dy, AttnDims a) {
    using namespace tiledb;
    extern __shared__ __align__(16) float smem[];
    float (*ks)[RS] = reinterpret_cast<float (*)[RS]>(smem);  // [TR][RS]
    float (*vs)[RS] = ks + TR;                                 // [TR][RS]
    float (*qs)[RS] = vs + TR;                                 // [TC][RS], pre-scaled
    float (*gs)[RS] = qs + TC;                                 // [TC][RS], alpha * dy
    float (*ps)[PS] = reinterpret_cast<float (*)[PS]>(gs + TC);  // [TR][PS]
    float (*dss)[PS] = ps + TR;                                // [TR][PS]
    float* ls = reinterpret_cast<float*>(dss + TR);            // [TC]
    float* dl = ls + TC;                                       // [TC]
    float* keyOk = dl + TC;                                    // [TR]
    const int bh = blockIdx.y, b = bh / a.H, h = bh % a.H;
    const int j0 = blockIdx.x * TR;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int tx = lane & 7, ty = warp * 4 + (lane >> 3);
    for (int e = threadIdx.x; e < TR * TD; e += THREADS) {
        int jj = e / TD, d = e % TD, j = j0 + jj;
        bool in = j < a.Tk;
        ks[jj][d] = (in && d < a.dh) ? k[((long long)b * a.Tk + j) * a.D + h * a.dh + d] : 0.f;
        vs[jj][d] = (in && d < a.dv) ? v[((long long)b * a.Tk + j) * a.Dv + h * a.dv + d] : 0.f;
    }
    if (threadIdx.x < TR) {
        int j = j0 + threadIdx.x;
        keyOk[threadIdx.x] = (j < a.Tk && !(mask && mask[(long long)b * a.Tk + j] != 0.f)) ? 1.f : 0.f;
    }
    float accK[4][8], accV[4][8];
#pragma unroll
    for (int r = 0; r < 4; r++) {
#pragma unroll
        for (int c = 0; c < 8; c++) accK[r][c] = accV[r][c] = 0.f;
    }
    int iStart = 0;
    if (a.causal) {  // query i sees key j0 only when i >= j0 - (Tk - Tq)
        iStart = max(0, j0 - (a.Tk - a.Tq));
        iStart -= iStart % TC;
    }
    for (int i0 = iStart; i0 < a.Tq; i0 += TC) {
        __syncthreads();  // the previous tile's readers are done (and ks, vs, keyOk complete on the first pass)
        for (int e = threadIdx.x; e < TC * TD; e += THREADS) {
            int ii = e / TD, d = e % TD, i = i0 + ii;
            bool in = i < a.Tq;
            qs[ii][d] = (in && d < a.dh) ? q[((long long)b * a.Tq + i) * a.D + h * a.dh + d] * a.scale : 0.f;
            gs[ii][d] = (in && d < a.dv) ? dy[((long long)b * a.Tq + i) * a.Dv + h * a.dv + d] * alpha_of(a, b, i, h)
                                         : 0.f;
        }
        if (threadIdx.x < TC) {
            int i = i0 + threadIdx.x;
            ls[threadIdx.x] = i < a.Tq ? lse[(long long)bh * a.Tq + i] : INFINITY;
            dl[threadIdx.x] = i < a.Tq ? delta[(long long)bh * a.Tq + i] : 0.f;
        }
        __syncthreads();
        float s[4][4], dp[4][4];
#pragma unroll
        for (int r = 0; r < 4; r++) {
#pragma unroll
            for (int c = 0; c < 4; c++) s[r][c] = dp[r][c] = 0.f;
        }
        block_dot(s, ks, ty, qs, tx);   // s[r][c] = k_{ty+16r} . q_{tx+8c} (scaled)
        block_dot(dp, vs, ty, gs, tx);  // dp[r][c] = v_{ty+16r} . dO_{tx+8c}
#pragma unroll
        for (int r = 0; r < 4; r++) {
            const int jj = ty + 16 * r, j = j0 + jj;
#pragma unroll
            for (int c = 0; c < 4; c++) {
                const int ii = tx + 8 * c, i = i0 + ii;
                // ls = +inf: a missing or fully masked query (no probability anywhere in its row).
                bool ok = keyOk[jj] != 0.f && ls[ii] != INFINITY && (!a.causal || j <= i + (a.Tk - a.Tq));
                float p = ok ? expf(s[r][c] - ls[ii]) : 0.f;
                ps[jj][ii] = p;
                dss[jj][ii] = p * (dp[r][c] - dl[ii]);
            }
        }
        __syncthreads();
        block_axpy(accV, ps, ty, gs, tx);   // dv_j += sum_i p_ij dO_i
        block_axpy(accK, dss, ty, qs, tx);  // dk_j += sum_i ds_ij q_i (q carries the scale)
    }
#pragma unroll
    for (int r = 0; r < 4; r++) {
        const int j = j0 + ty + 16 * r;
        if (j >= a.Tk) continue;
#pragma unroll
        for (int c = 0; c < 8; c++) {
            const int col = c < 4 ? 4 * tx + c : 32 + 4 * tx + (c - 4);
            if (dk && col < a.dh) dk[((long long)b * a.Tk + j) * a.D + h * a.dh + col] = accK[r][c];
            if (dv && col < a.dv) dv[((long long)b * a.Tk + j) * a.Dv + h * a.dv + col] = accV[r][c];
        }
    }
}

__global__ void __launch_bounds__(tiledb::THREADS) attn_dq_tiled(float* __restrict__ dq, const float* __restrict__ q,
        const float* __restrict__ k, const float* __restrict__ v, const float* __restrict__ mask,
        const float* __restrict__ lse, const float* __restrict__ delta, const float* __restrict__ dy, AttnDims a) {
    using namespace tiledb;
    extern __shared__ __align__(16) float smem[];
    float (*qs)[RS] = reinterpret_cast<float (*)[RS]>(smem);  // [TR][RS], pre-scaled
    float (*gs)[RS] = qs + TR;                                 // [TR][RS], alpha * dy
    float (*ks)[RS] = gs + TR;                                 // [TC][RS]
    float (*vs)[RS] = ks + TC;                                 // [TC][RS]
    float (*dss)[PS] = reinterpret_cast<float (*)[PS]>(vs + TC);  // [TR][PS]
    float* keyOk = reinterpret_cast<float*>(dss + TR);         // [TC]
    const int bh = blockIdx.y, b = bh / a.H, h = bh % a.H;
    const int q0 = blockIdx.x * TR;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int tx = lane & 7, ty = warp * 4 + (lane >> 3);
    for (int e = threadIdx.x; e < TR * TD; e += THREADS) {
        int ii = e / TD, d = e % TD, i = q0 + ii;
        bool in = i < a.Tq;
        qs[ii][d] = (in && d < a.dh) ? q[((long long)b * a.Tq + i) * a.D + h * a.dh + d] * a.scale : 0.f;
        gs[ii][d] = (in && d < a.dv) ? dy[((long long)b * a.Tq + i) * a.Dv + h * a.dv + d] * alpha_of(a, b, i, h)
                                     : 0.f;
    }
    float L[4], Dl[4], acc[4][8];
#pragma unroll
    for (int r = 0; r < 4; r++) {
        const int i = q0 + ty + 16 * r;
        L[r] = i < a.Tq ? lse[(long long)bh * a.Tq + i] : INFINITY;
        Dl[r] = i < a.Tq ? delta[(long long)bh * a.Tq + i] : 0.f;
#pragma unroll
        for (int c = 0; c < 8; c++) acc[r][c] = 0.f;
    }
    int kEnd = a.Tk;
    if (a.causal) {
        int last = min(a.Tq - 1, q0 + TR - 1) + a.Tk - a.Tq + 1;
        kEnd = max(0, min(kEnd, last));
    }
    for (int j0 = 0; j0 < kEnd; j0 += TC) {
        __syncthreads();
        for (int e = threadIdx.x; e < TC * TD; e += THREADS) {
            int jj = e / TD, d = e % TD, j = j0 + jj;
            bool in = j < a.Tk;
            ks[jj][d] = (in && d < a.dh) ? k[((long long)b * a.Tk + j) * a.D + h * a.dh + d] : 0.f;
            vs[jj][d] = (in && d < a.dv) ? v[((long long)b * a.Tk + j) * a.Dv + h * a.dv + d] : 0.f;
        }
        if (threadIdx.x < TC) {
            int j = j0 + threadIdx.x;
            keyOk[threadIdx.x] = (j < a.Tk && !(mask && mask[(long long)b * a.Tk + j] != 0.f)) ? 1.f : 0.f;
        }
        __syncthreads();
        float s[4][4], dp[4][4];
#pragma unroll
        for (int r = 0; r < 4; r++) {
#pragma unroll
            for (int c = 0; c < 4; c++) s[r][c] = dp[r][c] = 0.f;
        }
        block_dot(s, qs, ty, ks, tx);   // s[r][c] = q_{ty+16r} (scaled) . k_{tx+8c}
        block_dot(dp, gs, ty, vs, tx);  // dp[r][c] = dO_{ty+16r} . v_{tx+8c}
#pragma unroll
        for (int r = 0; r < 4; r++) {
            const int ii = ty + 16 * r, i = q0 + ii;
#pragma unroll
            for (int c = 0; c < 4; c++) {
                const int jj = tx + 8 * c, j = j0 + jj;
                bool ok = keyOk[jj] != 0.f && L[r] != INFINITY && (!a.causal || j <= i + (a.Tk - a.Tq));
                dss[ii][jj] = ok ? expf(s[r][c] - L[r]) * (dp[r][c] - Dl[r]) * a.scale : 0.f;
            }
        }
        __syncthreads();
        block_axpy(acc, dss, ty, ks, tx);  // dq_i += sum_j ds_ij k_j
    }
#pragma unroll
    for (int r = 0; r < 4; r++) {
        const int i = q0 + ty + 16 * r;
        if (i >= a.Tq) continue;
#pragma unroll
        for (int c = 0; c < 8; c++) {
            const int col = c < 4 ? 4 * tx + c : 32 + 4 * tx + (c - 4);
            if (col < a.dh) dq[((long long)b * a.Tq + i) * a.D + h * a.dh + col] = acc[r][c];
        }
    }
}

// delta[bh, i] = alpha * (dy_i . y_i) over the head's dv columns (y unscaled: the backward sees alpha * dy);
// dot[bh, i] = dy_i . y_i itself when dot is given (the per-row terms of dalpha).
__global__ void attn_delta(float* __restrict__ delta, float* __restrict__ dot, const float* __restrict__ y,
        const float* __restrict__ dy, AttnDims a) {
    const long long n = (long long)a.B * a.H * a.Tq;
    for (long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x; t < n; t += (long long)gridDim.x * blockDim.x) {
        int i = (int)(t % a.Tq);
        int bh = (int)(t / a.Tq), b = bh / a.H, h = bh % a.H;
        const long long base = ((long long)b * a.Tq + i) * a.Dv + h * a.dv;
        float s = 0.f;
        for (int d = 0; d < a.dv; d++) s = fmaf(dy[base + d], y[base + d], s);
        delta[t] = alpha_of(a, b, i, h) * s;
        if (dot) dot[t] = s;
    }
}

// dq_i = scale * sum_j p_ij (dy_i . v_j - delta_i) k_j, one thread per query.
template <int DM>
__global__ void __launch_bounds__(BQ) attn_dq(float* __restrict__ dq, const float* __restrict__ q,
        const float* __restrict__ k, const float* __restrict__ v, const float* __restrict__ mask,
        const float* __restrict__ lse, const float* __restrict__ delta, const float* __restrict__ dy, AttnDims a) {
    __shared__ float ks[BK][DM + 1];
    __shared__ float vs[BK][DM + 1];
    const int bh = blockIdx.y, b = bh / a.H, h = bh % a.H;
    const int i = blockIdx.x * BQ + threadIdx.x;
    const bool active = i < a.Tq;
    float qr[DM], g[DM], acc[DM];
    const float alpha_i = active ? alpha_of(a, b, i, h) : 0.f;  // the gradient of o is alpha * dy
#pragma unroll
    for (int d = 0; d < DM; d++) {
        qr[d] = (active && d < a.dh) ? q[((long long)b * a.Tq + i) * a.D + h * a.dh + d] * a.scale : 0.f;
        g[d] = (active && d < a.dv) ? dy[((long long)b * a.Tq + i) * a.Dv + h * a.dv + d] * alpha_i : 0.f;
        acc[d] = 0.f;
    }
    const float L = active ? lse[(long long)bh * a.Tq + i] : INFINITY;
    const float D = active ? delta[(long long)bh * a.Tq + i] : 0.f;
    for (int j0 = 0; j0 < a.Tk; j0 += BK) {
        for (int e = threadIdx.x; e < BK * DM; e += BQ) {
            int jj = e / DM, d = e % DM, j = j0 + jj;
            bool in = j < a.Tk;
            ks[jj][d] = (in && d < a.dh) ? k[((long long)b * a.Tk + j) * a.D + h * a.dh + d] : 0.f;
            vs[jj][d] = (in && d < a.dv) ? v[((long long)b * a.Tk + j) * a.Dv + h * a.dv + d] : 0.f;
        }
        __syncthreads();
        if (active && L != INFINITY) {
            for (int jj = 0; jj < BK && j0 + jj < a.Tk; jj++) {
                if (!allowed(a, mask, b, i, j0 + jj)) continue;
                float s = 0.f, dp = 0.f;
#pragma unroll
                for (int d = 0; d < DM; d++) {
                    s = fmaf(qr[d], ks[jj][d], s);
                    dp = fmaf(g[d], vs[jj][d], dp);
                }
                float ds = expf(s - L) * (dp - D) * a.scale;
#pragma unroll
                for (int d = 0; d < DM; d++) acc[d] = fmaf(ds, ks[jj][d], acc[d]);
            }
        }
        __syncthreads();
    }
    if (!active) return;
#pragma unroll
    for (int d = 0; d < DM; d++) {
        if (d < a.dh) dq[((long long)b * a.Tq + i) * a.D + h * a.dh + d] = acc[d];
    }
}

// dv_j = sum_i p_ij dy_i, dk_j = scale * sum_i p_ij (dy_i . v_j - delta_i) q_i, one thread per key.
template <int DM>
__global__ void __launch_bounds__(BQ) attn_dkdv(float* __restrict__ dk, float* __restrict__ dv,
        const float* __restrict__ q, const float* __restrict__ k, const float* __restrict__ v,
        const float* __restrict__ mask, const float* __restrict__ lse, const float* __restrict__ delta,
        const float* __restrict__ dy, AttnDims a) {
    __shared__ float qs[BK][DM + 1];
    __shared__ float gs[BK][DM + 1];
    __shared__ float ls[BK], ds_[BK];
    const int bh = blockIdx.y, b = bh / a.H, h = bh % a.H;
    const int j = blockIdx.x * BQ + threadIdx.x;
    const bool active = j < a.Tk;
    float kr[DM], vr[DM], accK[DM], accV[DM];
#pragma unroll
    for (int d = 0; d < DM; d++) {
        kr[d] = (active && d < a.dh) ? k[((long long)b * a.Tk + j) * a.D + h * a.dh + d] : 0.f;
        vr[d] = (active && d < a.dv) ? v[((long long)b * a.Tk + j) * a.Dv + h * a.dv + d] : 0.f;
        accK[d] = 0.f;
        accV[d] = 0.f;
    }
    for (int i0 = 0; i0 < a.Tq; i0 += BK) {
        for (int e = threadIdx.x; e < BK * DM; e += BQ) {
            int ii = e / DM, d = e % DM, i = i0 + ii;
            bool in = i < a.Tq;
            qs[ii][d] = (in && d < a.dh) ? q[((long long)b * a.Tq + i) * a.D + h * a.dh + d] * a.scale : 0.f;
            gs[ii][d] = (in && d < a.dv) ? dy[((long long)b * a.Tq + i) * a.Dv + h * a.dv + d] * alpha_of(a, b, i, h)
                                         : 0.f;
        }
        for (int ii = threadIdx.x; ii < BK; ii += BQ) {
            int i = i0 + ii;
            ls[ii] = i < a.Tq ? lse[(long long)bh * a.Tq + i] : INFINITY;
            ds_[ii] = i < a.Tq ? delta[(long long)bh * a.Tq + i] : 0.f;
        }
        __syncthreads();
        if (active) {
            for (int ii = 0; ii < BK && i0 + ii < a.Tq; ii++) {
                if (ls[ii] == INFINITY || !allowed(a, mask, b, i0 + ii, j)) continue;
                float s = 0.f, dp = 0.f;
#pragma unroll
                for (int d = 0; d < DM; d++) {
                    s = fmaf(qs[ii][d], kr[d], s);
                    dp = fmaf(gs[ii][d], vr[d], dp);
                }
                float p = expf(s - ls[ii]);
                float dsv = p * (dp - ds_[ii]);  // qs already carries the scale
#pragma unroll
                for (int d = 0; d < DM; d++) {
                    accV[d] = fmaf(p, gs[ii][d], accV[d]);
                    accK[d] = fmaf(dsv, qs[ii][d], accK[d]);
                }
            }
        }
        __syncthreads();
    }
    if (!active) return;
#pragma unroll
    for (int d = 0; d < DM; d++) {
        if (dk && d < a.dh) dk[((long long)b * a.Tk + j) * a.D + h * a.dh + d] = accK[d];
        if (dv && d < a.dv) dv[((long long)b * a.Tk + j) * a.Dv + h * a.dv + d] = accV[d];
    }
}

AttnDims dims(int B, int Tq, int Tk, int H, int D, int Dv, bool causal) {
    AttnDims a;
    a.B = B; a.Tq = Tq; a.Tk = Tk; a.H = H; a.D = D; a.Dv = Dv;
    a.dh = D / H; a.dv = Dv / H; a.causal = causal ? 1 : 0;
    a.scale = (float)(1.0 / sqrt((double)a.dh));
    a.alpha = nullptr;
    a.alphaPerToken = 0;
    return a;
}

// dalpha[row, h] from dot[bh, i] = dy_i . o_i: per query (per_token, row = b * Tq + i) a copy; per sequence
// (row = b) the sum over the queries, one block per (b, h) in a fixed order (strided, then a tree).
__global__ void gated_dalpha(float* __restrict__ dalpha, const float* __restrict__ dot, int B, int H, int Tq,
        int perToken) {
    if (perToken) {
        const long long n = (long long)B * H * Tq;
        for (long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x; t < n;
                t += (long long)gridDim.x * blockDim.x) {
            int i = (int)(t % Tq);
            int bh = (int)(t / Tq), b = bh / H, h = bh % H;
            dalpha[((long long)b * Tq + i) * H + h] = dot[t];
        }
        return;
    }
    __shared__ float red[256];
    const int bh = blockIdx.x;
    float acc = 0.f;
    for (int i = threadIdx.x; i < Tq; i += blockDim.x) acc += dot[(long long)bh * Tq + i];
    red[threadIdx.x] = acc;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) red[threadIdx.x] += red[threadIdx.x + s];
        __syncthreads();
    }
    if (threadIdx.x == 0) dalpha[bh] = red[0];  // bh = b * H + h: the [B, H] layout of dalpha
}

template <int DM>
cudaError_t forward_t(float* y, float* lse, const float* q, const float* k, const float* v, const float* mask,
        const AttnDims& a) {
    dim3 grid(ceil_div(a.Tq, BQ), a.B * a.H);
    attn_forward<DM><<<grid, BQ>>>(y, lse, q, k, v, mask, a);
    return cudaGetLastError();
}

// Head sizes <= 64 take the tiled kernel; larger ones (<= 128) the one-thread-per-query kernel.
cudaError_t forward_any(float* y, float* lse, const float* q, const float* k, const float* v, const float* mask,
        const AttnDims& a) {
    if (a.dh <= tiled::TD && a.dv <= tiled::TD) {
        dim3 grid(ceil_div(a.Tq, tiled::TM), a.B * a.H);
        attn_forward_tiled<<<grid, tiled::THREADS>>>(y, lse, q, k, v, mask, a);
        return cudaGetLastError();
    }
    return forward_t<128>(y, lse, q, k, v, mask, a);
}

// The attention backward of alpha * dy (a.alpha null: alpha 1); dot, when given, gets dy_i . o_i per (bh, i).
// Synchronizes before returning (its scratch is freed).
template <int DM>
cudaError_t backward_t(float* dq, float* dk, float* dv, float* dot, const float* q, const float* k, const float* v,
        const float* mask, const float* dy, const AttnDims& a) {
    const long long rows = (long long)a.B * a.H * a.Tq;
    const long long yElems = (long long)a.B * a.Tq * a.Dv;
    Scratch scratch((size_t)(2 * rows + yElems) * sizeof(float));  // lse, delta, y
    if (scratch.status != cudaSuccess) return scratch.status;
    float* lse = scratch.f();
    float* delta = lse + rows;
    float* y = delta + rows;
    AttnDims plain = a;  // recompute the unscaled o: dalpha needs it, and delta scales it by alpha itself
    plain.alpha = nullptr;
    dim3 gq(ceil_div(a.Tq, BQ), a.B * a.H);
    cudaError_t fwd = forward_any(y, lse, q, k, v, mask, plain);
    if (fwd != cudaSuccess) return fwd;
    long long blocks = (rows + 255) / 256;
    attn_delta<<<(int)(blocks > 65535 * 8 ? 65535 * 8 : blocks), 256>>>(delta, dot, y, dy, a);
    cudaError_t err = cudaSuccess;
    if (a.dh <= tiledb::TD && a.dv <= tiledb::TD) {
        // More than the default 48 KB of dynamic shared memory must be asked for (sm_80: 163 KB, sm_90: 227 KB).
        err = cudaFuncSetAttribute(attn_dq_tiled, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)tiledb::DQ_SMEM);
        if (err == cudaSuccess) {
            err = cudaFuncSetAttribute(attn_dkdv_tiled, cudaFuncAttributeMaxDynamicSharedMemorySize,
                    (int)tiledb::DKDV_SMEM);
        }
        if (err == cudaSuccess && dq) {
            dim3 grid(ceil_div(a.Tq, tiledb::TR), a.B * a.H);
            attn_dq_tiled<<<grid, tiledb::THREADS, tiledb::DQ_SMEM>>>(dq, q, k, v, mask, lse, delta, dy, a);
        }
        if (err == cudaSuccess && (dk || dv)) {
            dim3 grid(ceil_div(a.Tk, tiledb::TR), a.B * a.H);
            attn_dkdv_tiled<<<grid, tiledb::THREADS, tiledb::DKDV_SMEM>>>(dk, dv, q, k, v, mask, lse, delta, dy, a);
        }
    } else {
        if (dq) attn_dq<DM><<<gq, BQ>>>(dq, q, k, v, mask, lse, delta, dy, a);
        if (dk || dv) {
            dim3 gk(ceil_div(a.Tk, BQ), a.B * a.H);
            attn_dkdv<DM><<<gk, BQ>>>(dk, dv, q, k, v, mask, lse, delta, dy, a);
        }
    }
    if (err == cudaSuccess) err = cudaGetLastError();
    // The scratch is freed on return: wait for the kernels that read it.
    cudaError_t sync = cudaDeviceSynchronize();
    return err != cudaSuccess ? err : sync;
}


// Head sizes <= 64 take the tiled kernels inside backward_t; the template is then only the fallback's.
cudaError_t backward_any(float* dq, float* dk, float* dv, float* dot, const float* q, const float* k,
        const float* v, const float* mask, const float* dy, const AttnDims& a) {
    return backward_t<128>(dq, dk, dv, dot, q, k, v, mask, dy, a);
}

}  // namespace

// cuda/mae.cu: alpha[row, h] = scale * sum_e gate[row, e] M[e, h], and dgate[row, e] = scale * sum_h M[e, h]
// dalpha[row, h], the head mixture's own kernels (one definition of alpha for both ops).
cudaError_t mixture_alpha(float* alpha, const float* gate, const float* membership, int rows, int E, int H,
        float scale);
cudaError_t mixture_dgate(float* dgate, const float* dalpha, const float* membership, int rows, int E, int H,
        float scale);

cudaError_t attention_forward(float* y, const float* q, const float* k, const float* v, const float* mask, int B,
        int Tq, int Tk, int H, int D, int Dv, bool causal) {
    AttnDims a = dims(B, Tq, Tk, H, D, Dv, causal);
    Scratch lse((size_t)B * H * Tq * sizeof(float));
    if (lse.status != cudaSuccess) return lse.status;
    cudaError_t err = forward_any(y, lse.f(), q, k, v, mask, a);
    cudaError_t sync = cudaDeviceSynchronize();
    return err != cudaSuccess ? err : sync;
}

cudaError_t attention_backward(float* dq, float* dk, float* dv, const float* q, const float* k, const float* v,
        const float* mask, const float* dy, int B, int Tq, int Tk, int H, int D, int Dv, bool causal) {
    AttnDims a = dims(B, Tq, Tk, H, D, Dv, causal);
    return backward_any(dq, dk, dv, nullptr, q, k, v, mask, dy, a);
}

cudaError_t gated_attention_forward(float* y, const float* q, const float* k, const float* v, const float* mask,
        const float* gate, const float* membership, int B, int Tq, int Tk, int H, int D, int Dv, int E, int m,
        bool perToken, bool causal) {
    AttnDims a = dims(B, Tq, Tk, H, D, Dv, causal);
    const long long rows = perToken ? (long long)B * Tq : B;
    Scratch scratch((size_t)(rows * H + (long long)B * H * Tq) * sizeof(float));  // alpha, lse
    if (scratch.status != cudaSuccess) return scratch.status;
    float* alpha = scratch.f();
    float* lse = alpha + rows * H;
    cudaError_t err = mixture_alpha(alpha, gate, membership, (int)rows, E, H, (float)H / m);
    a.alpha = alpha;
    a.alphaPerToken = perToken ? 1 : 0;
    if (err == cudaSuccess) err = forward_any(y, lse, q, k, v, mask, a);
    cudaError_t sync = cudaDeviceSynchronize();
    return err != cudaSuccess ? err : sync;
}

cudaError_t gated_attention_backward(float* dq, float* dk, float* dv, float* dgate, const float* q, const float* k,
        const float* v, const float* mask, const float* gate, const float* membership, const float* dy, int B,
        int Tq, int Tk, int H, int D, int Dv, int E, int m, bool perToken, bool causal) {
    AttnDims a = dims(B, Tq, Tk, H, D, Dv, causal);
    const long long rows = perToken ? (long long)B * Tq : B;
    const long long dots = (long long)B * H * Tq;
    Scratch scratch((size_t)(2 * rows * H + dots) * sizeof(float));  // alpha, dalpha, dot
    if (scratch.status != cudaSuccess) return scratch.status;
    float* alpha = scratch.f();
    float* dalpha = alpha + rows * H;
    float* dot = dalpha + rows * H;
    const float scale = (float)H / m;
    cudaError_t err = mixture_alpha(alpha, gate, membership, (int)rows, E, H, scale);
    a.alpha = alpha;
    a.alphaPerToken = perToken ? 1 : 0;
    if (err == cudaSuccess) err = backward_any(dq, dk, dv, dgate ? dot : nullptr, q, k, v, mask, dy, a);
    if (err == cudaSuccess && dgate) {
        if (perToken) {
            long long blocks = (dots + 255) / 256;
            gated_dalpha<<<(int)(blocks > 65535 * 8 ? 65535 * 8 : blocks), 256>>>(dalpha, dot, B, H, Tq, 1);
        } else {
            gated_dalpha<<<B * H, 256>>>(dalpha, dot, B, H, Tq, 0);
        }
        err = cudaGetLastError();
        if (err == cudaSuccess) err = mixture_dgate(dgate, dalpha, membership, (int)rows, E, H, scale);
    }
    cudaError_t sync = cudaDeviceSynchronize();
    return err != cudaSuccess ? err : sync;
}

}  // namespace attnkit
