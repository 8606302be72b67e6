// attention_bf16.cu: a FlashAttention-2-style attention FORWARD on tensor cores, on bf16 device buffers
// (attnkit_attention_forward_bf16). Layout BTC: q [B,Tq,H*d], k and v [B,Tk,H*d], head h owning columns
// [h*d, (h+1)*d); head size d = 64 or 128. Semantics of attention.cu's forward: scores (q . k) / sqrt(d), key
// j allowed for query i unless mask[b,j] != 0 or (causal and j > i + Tk - Tq), a fully masked query outputs
// zeros and lse = +inf.
//
// Decomposition (FA2 forward, attn_fwd_bf16_mt): a CTA of WARPS warps owns M = 16 MT WARPS queries of one (b, h);
// a warp owns MT m16 tiles (16 MT consecutive queries). d = 64: 4 warps x 32 queries (MT = 2: 128 per CTA,
// __launch_bounds__ asking for 2 CTAs per SM); d = 128: 8 warps x 16 queries (MT = 1: 128 per CTA, 1 CTA per SM
// asked). The CTA's Q tile is copied to shared memory once and each warp keeps its 16 MT x d slice as mma A
// fragments in registers (ldmatrix). K and V stream through shared memory in tiles of KN = 64 keys, STAGES = 2
// cp.async stages: the copy of tile n+1 is in flight while the tensor cores work on tile n. Per tile and warp:
//   S = Q K^T   (16 x 64 fp32 per m16 tile in registers: 8 n8 accumulator tiles; K's rows are d-contiguous, which
//                is the "col" B operand: plain ldmatrix; with MT = 2 each K fragment feeds two mma)
//   online softmax on S in registers: running row max m and sum l (a row's 64 scores live in the 4 lanes of a
//                quad, so the row max is two xor-shuffles), the O accumulator rescaled by exp(m_old - m_new);
//                exponentials as exp2 of scores pre-multiplied by log2(e) / sqrt(d)
//   O += P V    (P rounded to bf16 in registers: the S accumulator layout of two adjacent n8 tiles IS the A
//                fragment of a k16 step; V's rows are d-contiguous, i.e. row-major k x n, so ldmatrix.trans
//                gives the col B fragment)
// Epilogue: l summed over the quad (fixed butterfly), O / l written as bf16 or fp32, lse = m + ln l (natural
// log, unscaled-score units like attention.cu) per row into lse [B*H, Tq]. No atomics, a fixed order of every
// sum: deterministic. Causal: key tiles after the CTA's last visible key are never loaded, and a warp skips the
// tiles after its own last visible key; masks are evaluated only on tiles that can hold a masked key (the
// diagonal tiles, the ragged last tile, or any tile under a key-padding mask). CTAs take their query tiles in
// reverse order so that the longest causal rows start first. Shared-memory rows are d + 8 halves: 144 (or 272)
// bytes, 4 banks apart modulo 128 bytes, so the 8 row addresses of every ldmatrix phase hit distinct banks.
// Index math and fragment layouts emulated on the host by bench/tools/attention_bf16_mt_sim.py.
//
// Ran on an H200 (2026-12-04): cuda/tools/bench_attention.cu against a double reference on 18 cases and the Java
// equivalence tests (CudaAttentionBf16EquivalenceTest) passed. B=8 H=16 T=4096:
// d = 64 1.751 ms (causal 0.968), d = 128 4.098 ms. It was variant 1 of six timed side by side there; the others
// lost and are in git history (last in commit 9d0ecd7): the first kernel, 4 warps x 16 queries (64 per CTA, d = 64
// 2.250 ms, causal 1.211; d = 128 4.244), and configurations with 3 stages, 256 queries per CTA, 32-key tiles or Q
// re-read from shared memory at each k16 step. Each served both head sizes: none was a fallback.
#include <cuda_bf16.h>

#include "common.cuh"
#include "launchers.h"
#include "mma_bf16.cuh"

namespace attnkit {
namespace {

using namespace mma;

struct FaArgs {
    void* y;
    float* lse;  // [B*H, Tq] or null
    const __nv_bfloat16* q;
    const __nv_bfloat16* k;
    const __nv_bfloat16* v;
    const float* mask;  // [B, Tk] or null
    int B, Tq, Tk, H, D;
    int causal;
    float scaleLog2;  // log2(e) / sqrt(d)
    float scale;      // 1 / sqrt(d)
};

__device__ __forceinline__ float ex2(float x) {
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
    return y;
}

__device__ __forceinline__ void store_pair(__nv_bfloat16* p, float a, float b) {
    *reinterpret_cast<__nv_bfloat162*>(p) = __floats2bfloat162_rn(a, b);
}

__device__ __forceinline__ void store_pair(float* p, float a, float b) { *reinterpret_cast<float2*>(p) = make_float2(a, b); }

// ---- the kernel ----
// A warp owns MT m16 tiles (16 MT queries), a CTA of WARPS warps owns M = 16 MT WARPS queries, K/V tiles of KN
// keys stream through STAGES shared stages. Key tiles past a warp's last visible key (causal) are skipped per warp;
// a tile that is fully masked for a row would contribute exactly 0 to it anyway.
template <int HD, int MT, int WARPS, int KN, int STAGES>
struct Fa2Cfg {
    static constexpr int M = 16 * MT * WARPS;   // queries per CTA
    static constexpr int THREADS = 32 * WARPS;
    static constexpr int LD = HD + 8;           // halves per shared row (conflict-free ldmatrix)
    static constexpr int QTILE = M * LD;        // halves
    static constexpr int KTILE = KN * LD;       // halves
    static constexpr int BYTES = (QTILE + 2 * STAGES * KTILE) * 2;  // Q, K[STAGES], V[STAGES]
    static_assert(KN % 16 == 0 && HD % 16 == 0, "k16 steps");
    static_assert((M * (HD / 8)) % THREADS == 0 && (KN * (HD / 8)) % THREADS == 0, "whole 16-byte chunks per thread");
    static_assert(STAGES >= 2, "at least double buffering");
};

// Rows row0 .. row0 + ROWS - 1 of one head's d columns into a shared tile (row stride LD); rows at or past
// `rows` are zero-filled.
template <int HD, int ROWS, int THREADS>
__device__ __forceinline__ void load_rows(__nv_bfloat16* dst, const __nv_bfloat16* src, int row0, int rows, int D) {
    constexpr int CPR = HD / 8;
    constexpr int LD = HD + 8;
    constexpr int PER_THREAD = ROWS * CPR / THREADS;
    const int tid = threadIdx.x;
#pragma unroll
    for (int l = 0; l < PER_THREAD; l++) {
        int c = tid + l * THREADS, r = c / CPR, col = (c % CPR) * 8;
        bool ok = row0 + r < rows;
        cp_async16(dst + r * LD + col, ok ? src + (long long)(row0 + r) * D + col : src, ok);
    }
}

// MINB: the CTAs per SM __launch_bounds__ asks for. Q's A fragments live in registers for the whole kernel.
template <int HD, int MT, int WARPS, int KN, int STAGES, int MINB, typename TOut>
__global__ void __launch_bounds__(32 * WARPS, MINB) attn_fwd_bf16_mt(FaArgs a) {
    using C = Fa2Cfg<HD, MT, WARPS, KN, STAGES>;
    constexpr int M = C::M;
    constexpr int THREADS = C::THREADS;
    constexpr int LD = C::LD;
    constexpr int KSTEPS = HD / 16;   // k16 steps of S = Q K^T
    constexpr int DTILES = HD / 8;    // n8 tiles of O
    constexpr int NTILES = KN / 8;    // n8 tiles of S
    extern __shared__ __align__(128) unsigned char fa_smem[];
    __nv_bfloat16* qs = reinterpret_cast<__nv_bfloat16*>(fa_smem);  // [M][LD]
    __nv_bfloat16* ks = qs + C::QTILE;                               // [STAGES][KN][LD]
    __nv_bfloat16* vs = ks + STAGES * C::KTILE;                      // [STAGES][KN][LD]

    const int bh = blockIdx.y, b = bh / a.H, h = bh % a.H;
    const int q0 = (gridDim.x - 1 - blockIdx.x) * M;  // longest causal rows first
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int g = lane >> 2, t = lane & 3;
    const int mi = lane >> 3, mr = lane & 7;
    const int shift = a.Tk - a.Tq;
    const int warpRow0 = q0 + warp * 16 * MT;          // this warp's first query
    const int warpLastRow = warpRow0 + 16 * MT - 1;     // and last (maybe past Tq: only ever skips less)

    int kEnd = a.Tk;
    if (a.causal) {
        int lastRow = min(q0 + M, a.Tq) - 1;
        kEnd = max(0, min(a.Tk, lastRow + shift + 1));
    }
    const int nTiles = (kEnd + KN - 1) / KN;

    const __nv_bfloat16* qg = a.q + (long long)b * a.Tq * a.D + h * HD;
    const __nv_bfloat16* kg = a.k + (long long)b * a.Tk * a.D + h * HD;
    const __nv_bfloat16* vg = a.v + (long long)b * a.Tk * a.D + h * HD;

    // Groups: {Q}, {K0, V0}, ..., {K_{STAGES-2}, V_{STAGES-2}} (some maybe empty); waiting for all but
    // STAGES - 1 lands Q.
    load_rows<HD, M, THREADS>(qs, qg, q0, a.Tq, a.D);
    cp_async_commit();
#pragma unroll
    for (int s = 0; s < STAGES - 1; s++) {
        if (s < nTiles) {
            load_rows<HD, KN, THREADS>(ks + s * C::KTILE, kg, s * KN, a.Tk, a.D);
            load_rows<HD, KN, THREADS>(vs + s * C::KTILE, vg, s * KN, a.Tk, a.D);
        }
        cp_async_commit();
    }
    cp_async_wait<STAGES - 1>();
    __syncthreads();

    // A fragments of m tile mt, k16 step kk: matrices (rows +0, k +0), (rows +8, k +0), (rows +0, k +8),
    // (rows +8, k +8) = a0..a3.
    const __nv_bfloat16* qw = qs + (warp * 16 * MT + mr + 8 * (mi & 1)) * LD + 8 * (mi >> 1);
    uint32_t qf[MT][KSTEPS][4];
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int kk = 0; kk < KSTEPS; kk++) ldmatrix_x4(qf[mt][kk], qw + mt * 16 * LD + kk * 16);

    float o[MT][DTILES][4];
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int j = 0; j < DTILES; j++)
#pragma unroll
            for (int e = 0; e < 4; e++) o[mt][j][e] = 0.f;
    float m[MT][2], l[MT][2];
#pragma unroll
    for (int mt = 0; mt < MT; mt++) {
        m[mt][0] = m[mt][1] = -INFINITY;
        l[mt][0] = l[mt][1] = 0.f;
    }

    int rdStage = 0, wrStage = STAGES - 1;
    for (int n = 0; n < nTiles; n++) {
        // Stage wrStage (= the stage of tile n - 1) was last read in iteration n - 1, which every thread has left.
        if (n + STAGES - 1 < nTiles) {
            load_rows<HD, KN, THREADS>(ks + wrStage * C::KTILE, kg, (n + STAGES - 1) * KN, a.Tk, a.D);
            load_rows<HD, KN, THREADS>(vs + wrStage * C::KTILE, vg, (n + STAGES - 1) * KN, a.Tk, a.D);
        }
        cp_async_commit();             // maybe empty: one group per iteration
        cp_async_wait<STAGES - 1>();   // this thread's copies of tile n have landed ...
        __syncthreads();               // ... and everyone's
        const __nv_bfloat16* kt = ks + rdStage * C::KTILE;
        const __nv_bfloat16* vt = vs + rdStage * C::KTILE;
        const int kv0 = n * KN;

        // Causal: a tile wholly after this warp's last visible key adds exactly nothing to its rows: skip it
        // (warp-uniform; the warp still takes part in the loads and barriers).
        if (!a.causal || kv0 <= warpLastRow + shift) {
            float s[MT][NTILES][4];
#pragma unroll
            for (int mt = 0; mt < MT; mt++)
#pragma unroll
                for (int j = 0; j < NTILES; j++)
#pragma unroll
                    for (int e = 0; e < 4; e++) s[mt][j][e] = 0.f;
#pragma unroll
            for (int kk = 0; kk < KSTEPS; kk++) {
#pragma unroll
                for (int jp = 0; jp < NTILES / 2; jp++) {
                    uint32_t r[4];
                    ldmatrix_x4(r, kt + (jp * 16 + mr + 8 * (mi >> 1)) * LD + kk * 16 + 8 * (mi & 1));
#pragma unroll
                    for (int mt = 0; mt < MT; mt++) {
                        mma_bf16(s[mt][2 * jp], qf[mt][kk], r);
                        mma_bf16(s[mt][2 * jp + 1], qf[mt][kk], r + 2);
                    }
                }
            }

            // Element e of key tile j of m tile mt: query warpRow0 + 16 mt + g + 8 (e / 2), key kv0 + 8j + 2t + e % 2.
            const bool edge = a.mask != nullptr || kv0 + KN > a.Tk || (a.causal && kv0 + KN - 1 > warpRow0 + shift);
            if (edge) {
#pragma unroll
                for (int j = 0; j < NTILES; j++) {
#pragma unroll
                    for (int c = 0; c < 2; c++) {
                        const int key = kv0 + 8 * j + 2 * t + c;
                        const bool keyOk = key < a.Tk && (a.mask == nullptr || a.mask[(long long)b * a.Tk + key] == 0.f);
#pragma unroll
                        for (int mt = 0; mt < MT; mt++)
#pragma unroll
                            for (int r = 0; r < 2; r++) {
                                const int row = warpRow0 + 16 * mt + g + 8 * r;
                                if (!keyOk || (a.causal && key > row + shift)) s[mt][j][2 * r + c] = -INFINITY;
                            }
                    }
                }
            }

#pragma unroll
            for (int mt = 0; mt < MT; mt++)
#pragma unroll
                for (int r = 0; r < 2; r++) {
                    float mx = m[mt][r];
#pragma unroll
                    for (int j = 0; j < NTILES; j++) mx = fmaxf(mx, fmaxf(s[mt][j][2 * r], s[mt][j][2 * r + 1]));
                    mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
                    mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
                    const float mUse = mx == -INFINITY ? 0.f : mx;
                    const float mScaled = mUse * a.scaleLog2;
                    const float corr = ex2((m[mt][r] - mUse) * a.scaleLog2);
                    m[mt][r] = mx;
                    l[mt][r] *= corr;
#pragma unroll
                    for (int j = 0; j < DTILES; j++) {
                        o[mt][j][2 * r] *= corr;
                        o[mt][j][2 * r + 1] *= corr;
                    }
#pragma unroll
                    for (int j = 0; j < NTILES; j++) {
                        s[mt][j][2 * r] = ex2(fmaf(s[mt][j][2 * r], a.scaleLog2, -mScaled));
                        s[mt][j][2 * r + 1] = ex2(fmaf(s[mt][j][2 * r + 1], a.scaleLog2, -mScaled));
                        l[mt][r] += s[mt][j][2 * r] + s[mt][j][2 * r + 1];
                    }
                }

#pragma unroll
            for (int kk = 0; kk < KN / 16; kk++) {
                uint32_t pa[MT][4];
#pragma unroll
                for (int mt = 0; mt < MT; mt++) {
                    pa[mt][0] = pack_bf16(s[mt][2 * kk][0], s[mt][2 * kk][1]);
                    pa[mt][1] = pack_bf16(s[mt][2 * kk][2], s[mt][2 * kk][3]);
                    pa[mt][2] = pack_bf16(s[mt][2 * kk + 1][0], s[mt][2 * kk + 1][1]);
                    pa[mt][3] = pack_bf16(s[mt][2 * kk + 1][2], s[mt][2 * kk + 1][3]);
                }
#pragma unroll
                for (int dp = 0; dp < DTILES / 2; dp++) {
                    uint32_t r[4];
                    ldmatrix_x4_trans(r, vt + (kk * 16 + mr + 8 * (mi & 1)) * LD + dp * 16 + 8 * (mi >> 1));
#pragma unroll
                    for (int mt = 0; mt < MT; mt++) {
                        mma_bf16(o[mt][2 * dp], pa[mt], r);
                        mma_bf16(o[mt][2 * dp + 1], pa[mt], r + 2);
                    }
                }
            }
        }
        __syncthreads();
        rdStage = rdStage + 1 == STAGES ? 0 : rdStage + 1;
        wrStage = wrStage + 1 == STAGES ? 0 : wrStage + 1;
    }
    cp_async_wait<0>();  // nothing is left in flight at exit (all groups past the last tile are empty)

    TOut* y = static_cast<TOut*>(a.y);
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int r = 0; r < 2; r++) {
            float sum = l[mt][r];
            sum += __shfl_xor_sync(0xffffffffu, sum, 1);
            sum += __shfl_xor_sync(0xffffffffu, sum, 2);
            const int row = warpRow0 + 16 * mt + g + 8 * r;
            if (row >= a.Tq) continue;
            const float inv = sum > 0.f ? 1.f / sum : 0.f;
            TOut* yr = y + ((long long)b * a.Tq + row) * a.D + h * HD + 2 * t;
#pragma unroll
            for (int j = 0; j < DTILES; j++) store_pair(yr + 8 * j, o[mt][j][2 * r] * inv, o[mt][j][2 * r + 1] * inv);
            if (a.lse && t == 0) {
                a.lse[(long long)bh * a.Tq + row] = sum > 0.f ? m[mt][r] * a.scale + logf(sum) : INFINITY;
            }
        }
}

template <int HD, int MT, int WARPS, int KN, int STAGES, int MINB, typename TOut>
cudaError_t launch_fa_mt(const FaArgs& a) {
    using C = Fa2Cfg<HD, MT, WARPS, KN, STAGES>;
    constexpr int smem = C::BYTES;
    auto kernel = attn_fwd_bf16_mt<HD, MT, WARPS, KN, STAGES, MINB, TOut>;
    if (smem > 48 * 1024) {
        cudaError_t err = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
        if (err != cudaSuccess) return err;
    }
    // All of the unified L1/shared storage as shared memory: the kernel reads global memory only through cp.async
    // (which bypasses L1) and the optional mask.
    cudaError_t err = cudaFuncSetAttribute(kernel, cudaFuncAttributePreferredSharedMemoryCarveout,
            cudaSharedmemCarveoutMaxShared);
    if (err != cudaSuccess) return err;
    dim3 grid(ceil_div(a.Tq, C::M), a.B * a.H);
    kernel<<<grid, C::THREADS, smem>>>(a);
    return cudaGetLastError();
}

template <int HD, int MT, int WARPS, int KN, int STAGES, int MINB>
cudaError_t launch_fa_mt(const FaArgs& a, bool yBf16) {
    return yBf16 ? launch_fa_mt<HD, MT, WARPS, KN, STAGES, MINB, __nv_bfloat16>(a)
                 : launch_fa_mt<HD, MT, WARPS, KN, STAGES, MINB, float>(a);
}

}  // namespace

// The host side (attnkit.cpp) has checked: d = D / H is 64 or 128, B*H <= 65535, q, k, v, y 16-byte aligned.
cudaError_t attention_forward_bf16(void* y, float* lse, const void* q, const void* k, const void* v,
        const float* mask, int B, int Tq, int Tk, int H, int D, bool causal, bool yBf16) {
    const int hd = D / H;
    FaArgs a;
    a.y = y;
    a.lse = lse;
    a.q = static_cast<const __nv_bfloat16*>(q);
    a.k = static_cast<const __nv_bfloat16*>(k);
    a.v = static_cast<const __nv_bfloat16*>(v);
    a.mask = mask;
    a.B = B;
    a.Tq = Tq;
    a.Tk = Tk;
    a.H = H;
    a.D = D;
    a.causal = causal ? 1 : 0;
    a.scale = (float)(1.0 / sqrt((double)hd));
    a.scaleLog2 = (float)(1.4426950408889634 / sqrt((double)hd));
    // <HD, MT (m16 tiles per warp), WARPS, KN (keys per tile), STAGES, min CTAs per SM>.
    if (hd == 64) return launch_fa_mt<64, 2, 4, 64, 2, 2>(a, yBf16);
    return launch_fa_mt<128, 1, 8, 64, 2, 1>(a, yBf16);
}

}  // namespace attnkit
