// attention_bf16.cu: a FlashAttention-2-style attention FORWARD on tensor cores, on bf16 device buffers
// (attnkit_attention_forward_bf16). Layout BTC: q [B,Tq,H*d], k and v [B,Tk,H*d], head h owning columns
// [h*d, (h+1)*d); head size d = 64 or 128. Semantics of attention.cu's forward: scores (q . k) / sqrt(d), key
// j allowed for query i unless mask[b,j] != 0 or (causal and j > i + Tk - Tq), a fully masked query outputs
// zeros and lse = +inf.
//
// Decomposition (FA2 forward): a CTA of 4 warps owns 64 queries of one (b, h); warp w owns queries
// q0 + 16w .. q0 + 16w + 15. The CTA's Q tile is copied to shared memory once and each warp keeps its 16 x d
// slice as mma A fragments in registers (ldmatrix). K and V stream through shared memory in tiles of 64 keys,
// two stages: the cp.async copy of tile n+1 is in flight while the tensor cores work on tile n. Per tile and
// warp:
//   S = Q K^T   (16 x 64 fp32 in registers: 8 n8 accumulator tiles; K's rows are d-contiguous, which is the
//                "col" B operand: plain ldmatrix)
//   online softmax on S in registers: running row max m and sum l (a row's 64 scores live in the 4 lanes of a
//                quad, so the row max is two xor-shuffles), the O accumulator rescaled by exp(m_old - m_new);
//                exponentials as exp2 of scores pre-multiplied by log2(e) / sqrt(d)
//   O += P V    (P rounded to bf16 in registers: the S accumulator layout of two adjacent n8 tiles IS the A
//                fragment of a k16 step; V's rows are d-contiguous, i.e. row-major k x n, so ldmatrix.trans
//                gives the col B fragment)
// Epilogue: l summed over the quad (fixed butterfly), O / l written as bf16 or fp32, lse = m + ln l (natural
// log, unscaled-score units like attention.cu) per row into lse [B*H, Tq]. No atomics, a fixed order of every
// sum: deterministic. Causal: key tiles after the CTA's last visible key are never loaded; masks are evaluated
// only on tiles that can hold a masked key (the diagonal tiles, the ragged last tile, or any tile under a
// key-padding mask). CTAs take their query tiles in reverse order so that the longest causal rows start first.
// Shared-memory rows are d + 8 halves: 144 (or 272) bytes, 4 banks apart modulo 128 bytes, so the 8 row
// addresses of every ldmatrix phase hit distinct banks. Index math and fragment layouts emulated on the host
// by bench/tools/attention_bf16_sim.py. Compiled and verified on an H200 (2026-12-04: the CUDA equivalence tests
// pass).
//
// Variants (attention_bf16_set_variant in launchers.h, a tuning hook for cuda/tools/bench_attention.cu only; the
// default is kDefaultVariant below): 0 is the kernel above (attn_fwd_bf16). 1..5 run attn_fwd_bf16_mt, the same
// algorithm with MT m16 tiles per warp (MT = 2: each K/V fragment loaded by ldmatrix feeds two mma, half the
// shared-memory reads per FLOP of variant 0), WARPS warps per CTA, KN keys per tile and STAGES cp.async stages;
// with KN = 64 a row's arithmetic is variant 0's, step for step. Variants 1..5 (no spills but 8 bytes in
// variant 4 at d = 64) ran on an H200 (2026-12-04): cuda/tools/bench_attention.cu checks each against a double
// reference on 18 cases (all passed) and times them; variant 0 also passed the Java tests and sanitizers.
#include <cuda_bf16.h>

#include "common.cuh"
#include "launchers.h"
#include "mma_bf16.cuh"

namespace attnkit {
namespace {

using namespace mma;

constexpr int FA_M = 64;        // queries per CTA
constexpr int FA_N = 64;        // keys per K/V tile
constexpr int FA_THREADS = 128;  // 4 warps x 16 queries

template <int HD>
struct FaSmem {
    static constexpr int LD = HD + 8;           // halves per shared row
    static constexpr int TILE = FA_M * LD;      // halves per tile (FA_M == FA_N)
    static constexpr int BYTES = 5 * TILE * 2;  // Q, K[2], V[2]
    static_assert(FA_M == FA_N, "one tile size for Q, K and V");
    static_assert((LD * 2) % 16 == 0, "cp.async and ldmatrix need 16-byte aligned rows");
};

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

// Rows row0 .. row0 + 63 of one head's d columns (src = the head's column 0 of row 0) into a shared tile; rows at
// or past `rows` are zero-filled (nothing is read).
template <int HD>
__device__ __forceinline__ void load_tile(__nv_bfloat16* dst, const __nv_bfloat16* src, int row0, int rows, int D) {
    constexpr int CPR = HD / 8;  // 16-byte chunks per row
    constexpr int PER_THREAD = FA_M * CPR / FA_THREADS;
    const int tid = threadIdx.x;
#pragma unroll
    for (int l = 0; l < PER_THREAD; l++) {
        int c = tid + l * FA_THREADS, r = c / CPR, col = (c % CPR) * 8;
        bool ok = row0 + r < rows;
        cp_async16(dst + r * FaSmem<HD>::LD + col, ok ? src + (long long)(row0 + r) * D + col : src, ok);
    }
}

// d = 64 on sm_90: at most 128 registers, so 4 CTAs (16 warps, 180 KB of shared memory) fit an SM. sm_80 has room
// for 3 such CTAs' shared memory (164 KB), and 128 registers spill there: ask for 3.
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 900
#define FA_MIN_CTAS_D64 3
#else
#define FA_MIN_CTAS_D64 4
#endif
template <int HD, typename TOut>
__global__ void __launch_bounds__(FA_THREADS, HD == 64 ? FA_MIN_CTAS_D64 : 2) attn_fwd_bf16(FaArgs a) {
    using S = FaSmem<HD>;
    constexpr int LD = S::LD;
    constexpr int KSTEPS = HD / 16;  // k16 steps of S = Q K^T
    constexpr int DTILES = HD / 8;   // n8 tiles of O
    constexpr int NTILES = FA_N / 8;  // n8 tiles of S
    extern __shared__ __align__(128) unsigned char fa_smem[];
    __nv_bfloat16* qs = reinterpret_cast<__nv_bfloat16*>(fa_smem);  // [FA_M][LD]
    __nv_bfloat16* ks = qs + S::TILE;                                // [2][FA_N][LD]
    __nv_bfloat16* vs = ks + 2 * S::TILE;                            // [2][FA_N][LD]

    const int bh = blockIdx.y, b = bh / a.H, h = bh % a.H;
    const int q0 = (gridDim.x - 1 - blockIdx.x) * FA_M;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int g = lane >> 2, t = lane & 3;
    const int mi = lane >> 3, mr = lane & 7;  // ldmatrix: this lane addresses row mr of matrix mi
    const int shift = a.Tk - a.Tq;            // causal: key j visible to query i iff j <= i + shift

    int kEnd = a.Tk;
    if (a.causal) {
        int lastRow = min(q0 + FA_M, a.Tq) - 1;
        kEnd = max(0, min(a.Tk, lastRow + shift + 1));
    }
    const int nTiles = (kEnd + FA_N - 1) / FA_N;

    const __nv_bfloat16* qg = a.q + (long long)b * a.Tq * a.D + h * HD;
    const __nv_bfloat16* kg = a.k + (long long)b * a.Tk * a.D + h * HD;
    const __nv_bfloat16* vg = a.v + (long long)b * a.Tk * a.D + h * HD;

    // Groups: {Q}, {K0, V0}; waiting for all but one lands Q.
    load_tile<HD>(qs, qg, q0, a.Tq, a.D);
    cp_async_commit();
    if (nTiles > 0) {
        load_tile<HD>(ks, kg, 0, a.Tk, a.D);
        load_tile<HD>(vs, vg, 0, a.Tk, a.D);
    }
    cp_async_commit();
    cp_async_wait<1>();
    __syncthreads();

    // A fragments of this warp's 16 queries: matrices (rows +0, k +0), (rows +8, k +0), (rows +0, k +8),
    // (rows +8, k +8) = a0..a3.
    uint32_t qf[KSTEPS][4];
#pragma unroll
    for (int kk = 0; kk < KSTEPS; kk++) {
        ldmatrix_x4(qf[kk], qs + (warp * 16 + mr + 8 * (mi & 1)) * LD + kk * 16 + 8 * (mi >> 1));
    }

    float o[DTILES][4];
#pragma unroll
    for (int j = 0; j < DTILES; j++)
#pragma unroll
        for (int e = 0; e < 4; e++) o[j][e] = 0.f;
    // Rows g and g + 8 of the warp's 16: running max (in raw score units) and this thread's part of the sum.
    float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.f, 0.f};
    const int rowBase = q0 + warp * 16 + g;

    for (int n = 0; n < nTiles; n++) {
        const int st = n & 1;
        // Stage st ^ 1 was last read in iteration n - 1, which every thread has left (its final barrier).
        if (n + 1 < nTiles) {
            load_tile<HD>(ks + (st ^ 1) * S::TILE, kg, (n + 1) * FA_N, a.Tk, a.D);
            load_tile<HD>(vs + (st ^ 1) * S::TILE, vg, (n + 1) * FA_N, a.Tk, a.D);
        }
        cp_async_commit();    // maybe empty: one group per iteration keeps the count simple
        cp_async_wait<1>();   // this thread's copies of tile n have landed ...
        __syncthreads();      // ... and everyone's
        const __nv_bfloat16* kt = ks + st * S::TILE;
        const __nv_bfloat16* vt = vs + st * S::TILE;

        float s[NTILES][4];
#pragma unroll
        for (int j = 0; j < NTILES; j++)
#pragma unroll
            for (int e = 0; e < 4; e++) s[j][e] = 0.f;
#pragma unroll
        for (int kk = 0; kk < KSTEPS; kk++) {
#pragma unroll
            for (int jp = 0; jp < NTILES / 2; jp++) {
                // matrices (keys +0, d +0), (keys +0, d +8), (keys +8, d +0), (keys +8, d +8): b0, b1 of key
                // tiles 2jp and 2jp + 1
                uint32_t r[4];
                ldmatrix_x4(r, kt + (jp * 16 + mr + 8 * (mi >> 1)) * LD + kk * 16 + 8 * (mi & 1));
                mma_bf16(s[2 * jp], qf[kk], r);
                mma_bf16(s[2 * jp + 1], qf[kk], r + 2);
            }
        }

        // Element e of key tile j: query rowBase + 8 (e / 2), key kv0 + 8j + 2t + e % 2.
        const int kv0 = n * FA_N;
        const bool edge = a.mask != nullptr || kv0 + FA_N > a.Tk || (a.causal && kv0 + FA_N - 1 > q0 + shift);
        if (edge) {
#pragma unroll
            for (int j = 0; j < NTILES; j++) {
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    int key = kv0 + 8 * j + 2 * t + (e & 1), row = rowBase + 8 * (e >> 1);
                    bool ok = key < a.Tk && (!a.causal || key <= row + shift)
                            && (a.mask == nullptr || a.mask[(long long)b * a.Tk + key] == 0.f);
                    if (!ok) s[j][e] = -INFINITY;
                }
            }
        }

#pragma unroll
        for (int r = 0; r < 2; r++) {
            float mx = m[r];
#pragma unroll
            for (int j = 0; j < NTILES; j++) mx = fmaxf(mx, fmaxf(s[j][2 * r], s[j][2 * r + 1]));
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
            // Nothing allowed yet in this row: subtract 0, so masked scores give exp2(-inf) = 0 and not NaN.
            const float mUse = mx == -INFINITY ? 0.f : mx;
            const float mScaled = mUse * a.scaleLog2;
            const float corr = ex2((m[r] - mUse) * a.scaleLog2);  // 0 when m[r] = -inf (then l, o are 0)
            m[r] = mx;
            l[r] *= corr;
#pragma unroll
            for (int j = 0; j < DTILES; j++) {
                o[j][2 * r] *= corr;
                o[j][2 * r + 1] *= corr;
            }
#pragma unroll
            for (int j = 0; j < NTILES; j++) {
                s[j][2 * r] = ex2(fmaf(s[j][2 * r], a.scaleLog2, -mScaled));
                s[j][2 * r + 1] = ex2(fmaf(s[j][2 * r + 1], a.scaleLog2, -mScaled));
                l[r] += s[j][2 * r] + s[j][2 * r + 1];
            }
        }

#pragma unroll
        for (int kk = 0; kk < FA_N / 16; kk++) {
            // P's k16 step kk = key tiles 2kk (k 0..7) and 2kk + 1 (k 8..15) of S: a0..a3.
            uint32_t pa[4] = {pack_bf16(s[2 * kk][0], s[2 * kk][1]), pack_bf16(s[2 * kk][2], s[2 * kk][3]),
                    pack_bf16(s[2 * kk + 1][0], s[2 * kk + 1][1]), pack_bf16(s[2 * kk + 1][2], s[2 * kk + 1][3])};
#pragma unroll
            for (int dp = 0; dp < DTILES / 2; dp++) {
                // transposed matrices (keys +0, d +0), (keys +8, d +0), (keys +0, d +8), (keys +8, d +8): b0, b1
                // of d tiles 2dp and 2dp + 1
                uint32_t r[4];
                ldmatrix_x4_trans(r, vt + (kk * 16 + mr + 8 * (mi & 1)) * LD + dp * 16 + 8 * (mi >> 1));
                mma_bf16(o[2 * dp], pa, r);
                mma_bf16(o[2 * dp + 1], pa, r + 2);
            }
        }
        __syncthreads();
    }

    TOut* y = static_cast<TOut*>(a.y);
#pragma unroll
    for (int r = 0; r < 2; r++) {
        float sum = l[r];
        sum += __shfl_xor_sync(0xffffffffu, sum, 1);
        sum += __shfl_xor_sync(0xffffffffu, sum, 2);
        const int row = rowBase + 8 * r;
        if (row >= a.Tq) continue;
        const float inv = sum > 0.f ? 1.f / sum : 0.f;  // a fully masked row outputs zeros
        TOut* yr = y + ((long long)b * a.Tq + row) * a.D + h * HD + 2 * t;
#pragma unroll
        for (int j = 0; j < DTILES; j++) store_pair(yr + 8 * j, o[j][2 * r] * inv, o[j][2 * r + 1] * inv);
        if (a.lse && t == 0) {
            a.lse[(long long)bh * a.Tq + row] = sum > 0.f ? m[r] * a.scale + logf(sum) : INFINITY;
        }
    }
}

template <int HD, typename TOut>
cudaError_t launch_fa(const FaArgs& a) {
    constexpr int smem = FaSmem<HD>::BYTES;
    auto kernel = attn_fwd_bf16<HD, TOut>;
    if (smem > 48 * 1024) {
        cudaError_t err = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
        if (err != cudaSuccess) return err;
    }
    // All of the unified L1/shared storage as shared memory: the kernel reads global memory only through cp.async
    // (which bypasses L1) and the optional mask, and the occupancy (4 CTAs of 45 KB at d = 64) needs the space.
    cudaError_t err = cudaFuncSetAttribute(kernel, cudaFuncAttributePreferredSharedMemoryCarveout,
            cudaSharedmemCarveoutMaxShared);
    if (err != cudaSuccess) return err;
    dim3 grid(ceil_div(a.Tq, FA_M), a.B * a.H);
    kernel<<<grid, FA_THREADS, smem>>>(a);
    return cudaGetLastError();
}

// ---- variants 1..3 (attention_bf16_set_variant): more queries per CTA ----
// The same FA2 forward and the same per-row arithmetic, generalised: a warp owns MT m16 tiles (16 MT queries),
// a CTA of WARPS warps owns M = 16 MT WARPS queries, K/V tiles of KN keys stream through STAGES shared stages.
// With MT = 2 every K and V fragment read from shared memory (ldmatrix) feeds two mma instead of one, which
// halves the shared-memory traffic per FLOP (variant 0 spends one ldmatrix.x4 per two mma); a larger M also
// divides the global/L2 -> shared traffic of K and V by M / 64. Per row the operations are variant 0's in the
// same order when KN = 64 (same tile boundaries, same mma k order, same softmax updates), so the results equal
// variant 0's bit for bit on finite inputs: the only extra work, key tiles past a row's last visible key (causal,
// larger M), is skipped per warp, and a tile that is fully masked for a row contributes exactly 0 to it anyway.
template <int HD, int MT, int WARPS, int KN, int STAGES>
struct Fa2Cfg {
    static constexpr int M = 16 * MT * WARPS;   // queries per CTA
    static constexpr int THREADS = 32 * WARPS;
    static constexpr int LD = HD + 8;           // halves per shared row (as variant 0: conflict-free ldmatrix)
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

// QREG: Q's A fragments live in registers for the whole kernel (as variant 0); false: read again from the shared
// Q tile at every k16 step of S = Q K^T (d = 128 with MT = 2 has no registers left for 64 more).
template <int HD, int MT, int WARPS, int KN, int STAGES, int MINB, bool QREG, typename TOut>
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
    uint32_t qf[QREG ? MT : 1][QREG ? KSTEPS : 1][4];
    if (QREG) {
#pragma unroll
        for (int mt = 0; mt < MT; mt++)
#pragma unroll
            for (int kk = 0; kk < KSTEPS; kk++) ldmatrix_x4(qf[QREG ? mt : 0][QREG ? kk : 0], qw + mt * 16 * LD + kk * 16);
    }

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
                uint32_t qa[QREG ? 1 : MT][4];
                if (!QREG) {
#pragma unroll
                    for (int mt = 0; mt < MT; mt++) ldmatrix_x4(qa[QREG ? 0 : mt], qw + mt * 16 * LD + kk * 16);
                }
#pragma unroll
                for (int jp = 0; jp < NTILES / 2; jp++) {
                    uint32_t r[4];
                    ldmatrix_x4(r, kt + (jp * 16 + mr + 8 * (mi >> 1)) * LD + kk * 16 + 8 * (mi & 1));
#pragma unroll
                    for (int mt = 0; mt < MT; mt++) {
                        const uint32_t* af = QREG ? qf[QREG ? mt : 0][QREG ? kk : 0] : qa[QREG ? 0 : mt];
                        mma_bf16(s[mt][2 * jp], af, r);
                        mma_bf16(s[mt][2 * jp + 1], af, r + 2);
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

template <int HD, int MT, int WARPS, int KN, int STAGES, int MINB, bool QREG, typename TOut>
cudaError_t launch_fa_mt(const FaArgs& a) {
    using C = Fa2Cfg<HD, MT, WARPS, KN, STAGES>;
    constexpr int smem = C::BYTES;
    auto kernel = attn_fwd_bf16_mt<HD, MT, WARPS, KN, STAGES, MINB, QREG, TOut>;
    if (smem > 48 * 1024) {
        cudaError_t err = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
        if (err != cudaSuccess) return err;
    }
    cudaError_t err = cudaFuncSetAttribute(kernel, cudaFuncAttributePreferredSharedMemoryCarveout,
            cudaSharedmemCarveoutMaxShared);
    if (err != cudaSuccess) return err;
    dim3 grid(ceil_div(a.Tq, C::M), a.B * a.H);
    kernel<<<grid, C::THREADS, smem>>>(a);
    return cudaGetLastError();
}

template <int HD, int MT, int WARPS, int KN, int STAGES, int MINB, bool QREG = true>
cudaError_t launch_fa_mt(const FaArgs& a, bool yBf16) {
    return yBf16 ? launch_fa_mt<HD, MT, WARPS, KN, STAGES, MINB, QREG, __nv_bfloat16>(a)
                 : launch_fa_mt<HD, MT, WARPS, KN, STAGES, MINB, QREG, float>(a);
}

// The variant attention_forward_bf16 runs (attention_bf16_set_variant). Switching the default is this line.
// Variant 1 on the H200 (2026-12-04, bench_attention, B=8 H=16 T=4096): d=64 1.751 ms against 2.250 for
// variant 0 (causal 0.968 / 1.211), d=128 4.098 / 4.244; every variant passed the same checks.
constexpr int kDefaultVariant = 1;
int g_variant = kDefaultVariant;

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
    // Variants (see attention_bf16_set_variant): <HD, MT (m16 tiles per warp), WARPS, KN (keys per tile), STAGES,
    // min CTAs per SM>.
    switch (g_variant) {
    case 1:
        if (hd == 64) return launch_fa_mt<64, 2, 4, 64, 2, 2>(a, yBf16);
        return launch_fa_mt<128, 1, 8, 64, 2, 1>(a, yBf16);
    case 2:
        if (hd == 64) return launch_fa_mt<64, 2, 4, 64, 3, 2>(a, yBf16);
        return launch_fa_mt<128, 1, 8, 64, 3, 1>(a, yBf16);
    case 3:
        if (hd == 64) return launch_fa_mt<64, 2, 8, 64, 2, 1>(a, yBf16);
        return launch_fa_mt<128, 1, 8, 64, 2, 1>(a, yBf16);
    case 4:
        if (hd == 64) return launch_fa_mt<64, 2, 4, 32, 2, 3>(a, yBf16);
        return launch_fa_mt<128, 2, 4, 32, 2, 2, false>(a, yBf16);
    case 5:
        if (hd == 64) return launch_fa_mt<64, 2, 4, 32, 2, 3, false>(a, yBf16);
        return launch_fa_mt<128, 2, 4, 32, 3, 2, false>(a, yBf16);
    default:
        break;
    }
    if (hd == 64) return yBf16 ? launch_fa<64, __nv_bfloat16>(a) : launch_fa<64, float>(a);
    return yBf16 ? launch_fa<128, __nv_bfloat16>(a) : launch_fa<128, float>(a);
}

int attention_bf16_set_variant(int variant) {
    int previous = g_variant;
    g_variant = variant >= 0 && variant < kAttentionBf16Variants ? variant : kDefaultVariant;
    return previous;
}

}  // namespace attnkit
