// dynamicconv.cu: DynamicConv (SPEC 2) forward and backward, fp32, BTC layout.
//
// Version 2 (verified on an H200, 2026-12-04: cuda/tools/bench_dynamicconv.cu against double references, the
// Java equivalence tests, compute-sanitizer memcheck and racecheck): the generation is a register-tiled SGEMM inside the fused
// kernels.
//   dynamicconv_tiled_forward: one block of 256 threads per (head group, time tile of 64 steps, batch);
//     blockIdx.x = head group (fastest), so the blocks of one time tile run together and share its q rows
//     in L2. A head group is G = min(H, 128 / K) heads (G*K <= 128 generator rows; K > 128: G = 1 and
//     ceil(K/128) column chunks). Phase 1: 64 x 128 x Cq fp32 SGEMM per chunk (Cq in double-buffered
//     16-deep slices staged in shared memory, float4 loads when Cq % 4 == 0, each thread a 4 x 8 register
//     tile) writing logits + bias to shared memory as L[column][t]. Phase 2: per (t, head) softmax (expf,
//     optionally over the in-range taps only) and DropConnect in place. Phase 3: the convolution of the
//     group's G*R channels, 8 output steps per thread with the x values sliding through registers and
//     the weights read as float4 along t. The B x T x H x K weights never reach global memory.
//   dynamicconv_tiled_backward: the same phases 1-2 (normalized and dropped weights in two shared
//     buffers), then per (t, k) the reduction over the head's channels of dy x shifted x, the mask, the
//     softmax backward; writes dG [B*T, H*K] and the dropped weights wt [B,T,H,K] (scratch) for the gather.
//   dynamicconv_dx_gather_add: dx[b,s,c] = sum_k wt[b,s-k+P,h,k] dy[b,s-k+P,c] (+ dq when x is the query).
//   Generator gradients with gemm_batched (64 x 64 register-tiled SGEMM): dq = dG W; dW = dG^T q as S
//   slices of the B*T reduction into partials, summed in a fixed order by column_sum; db = column sums of
//   dG. No float atomics anywhere: deterministic.
// Version 1 (kept for kernels whose tiles exceed the device's shared memory, K > ~640 forward / ~320
// backward; correct on the H200): dynamicconv_fused_forward / dynamicconv_backward_kernels, one thread per
// (t, k) logit dot product straight from global memory.
#include "common.cuh"
#include "launchers.h"

namespace attnkit {
namespace {

constexpr int THREADS = 128;

Drop make_drop(DropArgs a) {
    return attnkit::make_drop(a.p, a.seed, a.offset, a.position);
}

struct Dims {
    int T, C, Cq, H, K, pad, TT;
    bool softmax, renorm;
};

// Fills wn[TT*K] (normalized) and wt[TT*K] (normalized times the DropConnect factor) for the block's
// (b, h, time tile). Out-of-range rows (t >= T) are left unspecified and never read.
__device__ void generate(float* wn, float* wt, const float* q, const float* weight, const float* bias, int b,
        int h, int t0, const Dims& d, const Drop& drop) {
    const int K = d.K;
    for (int i = threadIdx.x; i < d.TT * K; i += blockDim.x) {
        int tl = i / K, k = i % K, t = t0 + tl;
        if (t >= d.T) continue;
        const float* qrow = q + ((long long)b * d.T + t) * d.Cq;
        const float* wrow = weight + ((long long)h * K + k) * d.Cq;
        float acc = bias ? bias[h * K + k] : 0.f;
        for (int c = 0; c < d.Cq; c++) acc = fmaf(wrow[c], qrow[c], acc);
        wn[i] = acc;
    }
    __syncthreads();
    for (int tl = threadIdx.x; tl < d.TT; tl += blockDim.x) {
        int t = t0 + tl;
        if (t >= d.T) continue;
        float* row = wn + tl * K;
        if (d.softmax) {
            float mx = -INFINITY;
            for (int k = 0; k < K; k++) {
                int src = t + k - d.pad;
                if (!d.renorm || (src >= 0 && src < d.T)) mx = fmaxf(mx, row[k]);
            }
            float sum = 0.f;
            for (int k = 0; k < K; k++) {
                int src = t + k - d.pad;
                float e = (!d.renorm || (src >= 0 && src < d.T)) ? __expf(row[k] - mx) : 0.f;
                row[k] = e;
                sum += e;
            }
            float inv = 1.f / sum;
            for (int k = 0; k < K; k++) row[k] *= inv;
        } else if (d.renorm) {
            for (int k = 0; k < K; k++) {
                int src = t + k - d.pad;
                if (src < 0 || src >= d.T) row[k] = 0.f;
            }
        }
        for (int k = 0; k < K; k++) {
            uint64_t idx = drop.position ? position_index(b, t, h, k, d.T, d.H, K) : head_kernel_index(h, k, K);
            wt[tl * K + k] = row[k] * drop_factor(drop, idx);
        }
    }
    __syncthreads();
}

__global__ void dynamicconv_fused_forward(float* y, const float* x, const float* q, const float* weight,
        const float* bias, Dims d, Drop drop) {
    extern __shared__ float smem[];
    float* wn = smem;               // [TT*K]
    float* wt = smem + d.TT * d.K;  // [TT*K]
    const int t0 = blockIdx.x * d.TT, h = blockIdx.y, b = blockIdx.z;
    generate(wn, wt, q, weight, bias, b, h, t0, d, drop);
    const int R = d.C / d.H;
    const long long base = (long long)b * d.T * d.C;
    for (int i = threadIdx.x; i < d.TT * R; i += blockDim.x) {
        int tl = i / R, c = h * R + i % R, t = t0 + tl;
        if (t >= d.T) continue;
        float acc = 0.f;
        for (int k = 0; k < d.K; k++) {
            int src = t + k - d.pad;
            if (src >= 0 && src < d.T) acc = fmaf(wt[tl * d.K + k], x[base + (long long)src * d.C + c], acc);
        }
        y[base + (long long)t * d.C + c] = acc;
    }
}

// dG[(b*T+t)*H*K + h*K + k] and wtOut[same] for the block's tile.
__global__ void dynamicconv_backward_kernels(float* dG, float* wtOut, const float* dy, const float* x,
        const float* q, const float* weight, const float* bias, Dims d, Drop drop) {
    extern __shared__ float smem[];
    float* wn = smem;                   // [TT*K]
    float* wt = smem + d.TT * d.K;      // [TT*K]
    float* dwn = smem + 2 * d.TT * d.K; // [TT*K]
    const int t0 = blockIdx.x * d.TT, h = blockIdx.y, b = blockIdx.z;
    const int K = d.K, R = d.C / d.H;
    generate(wn, wt, q, weight, bias, b, h, t0, d, drop);
    const long long base = (long long)b * d.T * d.C;
    for (int i = threadIdx.x; i < d.TT * K; i += blockDim.x) {
        int tl = i / K, k = i % K, t = t0 + tl;
        if (t >= d.T) continue;
        int src = t + k - d.pad;
        float acc = 0.f;
        if (src >= 0 && src < d.T) {
            const float* dyRow = dy + base + (long long)t * d.C + h * R;
            const float* xRow = x + base + (long long)src * d.C + h * R;
            for (int r = 0; r < R; r++) acc = fmaf(dyRow[r], xRow[r], acc);
            uint64_t idx = drop.position ? position_index(b, t, h, k, d.T, d.H, K) : head_kernel_index(h, k, K);
            acc *= drop_factor(drop, idx);
        }
        dwn[i] = acc;
        wtOut[(((long long)b * d.T + t) * d.H + h) * K + k] = wt[i];
    }
    __syncthreads();
    for (int tl = threadIdx.x; tl < d.TT; tl += blockDim.x) {
        int t = t0 + tl;
        if (t >= d.T) continue;
        float* out = dG + (((long long)b * d.T + t) * d.H + h) * K;
        if (d.softmax) {
            float dot = 0.f;
            for (int k = 0; k < K; k++) dot += wn[tl * K + k] * dwn[tl * K + k];
            for (int k = 0; k < K; k++) out[k] = wn[tl * K + k] * (dwn[tl * K + k] - dot);
        } else {
            for (int k = 0; k < K; k++) out[k] = dwn[tl * K + k];
        }
    }
}

Dims make_dims(int T, int C, int Cq, int H, int K, int pad, bool softmax, bool renorm, int buffers) {
    Dims d;
    d.T = T; d.C = C; d.Cq = Cq; d.H = H; d.K = K; d.pad = pad; d.softmax = softmax; d.renorm = renorm;
    // buffers x TT x K floats within 36 KB of shared memory, at most 32 steps per block.
    int tt = (36 * 1024) / (buffers * K * (int)sizeof(float));
    d.TT = tt < 1 ? 1 : (tt > 32 ? 32 : tt);
    return d;
}

// ---------------------------------------------------------------------------------------------------------
// Tiled generation (version 2). One block of GT threads per (head group, time tile of TT steps, batch); a
// head group is G consecutive heads whose G*K generator rows form the block's columns (G*K <= NT when
// K <= NT, else G = 1 and the columns run over ceil(K/NT) chunks of NT).
// ---------------------------------------------------------------------------------------------------------
constexpr int TT = 64;         // time steps per block (GEMM rows)
constexpr int NT = 128;        // GEMM columns per chunk
constexpr int BK = 16;         // Cq slice per shared-memory stage
constexpr int GT = 256;        // threads per block
constexpr int LDT = TT + 4;    // row stride of the logits buffer L[col][t] (float4-aligned, fewer conflicts)
constexpr int LDA = TT + 4;    // stage A: q slice, [BK][LDA] (k-major)
constexpr int LDB = NT + 4;    // stage B: generator slice, [BK][LDB]
constexpr int STAGE_FLOATS = 2 * BK * LDA + 2 * BK * LDB;  // double buffered
constexpr int CONV_TB = 8;     // output steps per thread in the convolution
constexpr size_t TILED_SMEM_LIMIT = 200 * 1024;

struct Tiling {
    int G;        // heads per block
    int groups;   // ceil(H / G)
    int chunks;   // column chunks of NT
    size_t smem;  // dynamic shared memory bytes
    bool ok;      // fits: else the version-1 kernels run
};

// The opt-in shared memory per block of the current device (227 KB on sm_90, 163 KB on sm_80).
size_t smem_optin() {
    int dev = 0, v = 0;
    if (cudaGetDevice(&dev) != cudaSuccess ||
            cudaDeviceGetAttribute(&v, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev) != cudaSuccess) {
        return 48 * 1024;
    }
    return (size_t)v;
}

Tiling make_tiling(int H, int K, int T, int buffers) {
    Tiling t;
    t.G = K <= NT ? (NT / K < H ? NT / K : H) : 1;
    t.groups = (H + t.G - 1) / t.G;
    t.chunks = (t.G * K + NT - 1) / NT;
    t.smem = ((size_t)buffers * t.chunks * NT * LDT + STAGE_FLOATS) * sizeof(float);
    const size_t limit = smem_optin() < TILED_SMEM_LIMIT ? smem_optin() : TILED_SMEM_LIMIT;
    t.ok = t.smem <= limit && ceil_div(T, TT) <= 65535;  // time tiles on grid.y
    return t;
}

template <bool VEC>
__device__ __forceinline__ float4 load4(const float* row, int c, int n, bool rowOk) {
    float4 v = make_float4(0.f, 0.f, 0.f, 0.f);
    if (!rowOk) return v;
    if (VEC) {
        if (c < n) v = __ldg(reinterpret_cast<const float4*>(row + c));
    } else {
        if (c < n) v.x = __ldg(row + c);
        if (c + 1 < n) v.y = __ldg(row + c + 1);
        if (c + 2 < n) v.z = __ldg(row + c + 2);
        if (c + 3 < n) v.w = __ldg(row + c + 3);
    }
    return v;
}

__device__ __forceinline__ void store_t(float* s, int ld, int col, int row, float4 v) {
    s[(col + 0) * ld + row] = v.x;
    s[(col + 1) * ld + row] = v.y;
    s[(col + 2) * ld + row] = v.z;
    s[(col + 3) * ld + row] = v.w;
}

// L[col * LDT + tl] = bias[rowBase + col] + sum_c weight[rowBase + col, c] q[b, t0 + tl, c] for col < chunks*NT
// (columns >= ncols and rows t >= T hold zeros plus nothing: unused). Register-tiled fp32 SGEMM: TT x NT per
// chunk, each thread a 4 (t) x 8 (col) sub-tile, Cq in double-buffered BK slices. VEC: Cq % 4 == 0 and q,
// weight 16-byte aligned. Ends with a __syncthreads().
template <bool VEC>
__device__ void tiled_logits(float* L, float* stage, const float* __restrict__ q, const float* __restrict__ weight,
        const float* __restrict__ bias, int b, int t0, int rowBase, int ncols, int chunks, int T, int Cq) {
    float* As = stage;                 // [2][BK][LDA]
    float* Bs = stage + 2 * BK * LDA;  // [2][BK][LDB]
    const int tid = threadIdx.x, ty = tid / 16, tx = tid % 16;
    const int lr = tid / 4, lc = (tid % 4) * 4;  // loader: row 0..63 (+64 for B), column lc..lc+3 of the slice
    const bool qok = t0 + lr < T;
    const float* qrow = q + ((long long)b * T + (qok ? t0 + lr : 0)) * Cq;
    const int nk = (Cq + BK - 1) / BK;
    for (int ch = 0; ch < chunks; ch++) {
        const int n0 = ch * NT;
        const bool w0ok = n0 + lr < ncols, w1ok = n0 + lr + 64 < ncols;
        const float* w0 = weight + (long long)(rowBase + (w0ok ? n0 + lr : 0)) * Cq;
        const float* w1 = weight + (long long)(rowBase + (w1ok ? n0 + lr + 64 : 0)) * Cq;
        float acc[4][8];
#pragma unroll
        for (int i = 0; i < 4; i++)
#pragma unroll
            for (int j = 0; j < 8; j++) acc[i][j] = 0.f;
        float4 ra = load4<VEC>(qrow, lc, Cq, qok);
        float4 rb0 = load4<VEC>(w0, lc, Cq, w0ok);
        float4 rb1 = load4<VEC>(w1, lc, Cq, w1ok);
        store_t(As, LDA, lc, lr, ra);
        store_t(Bs, LDB, lc, lr, rb0);
        store_t(Bs, LDB, lc, lr + 64, rb1);
        __syncthreads();
        for (int kt = 0; kt < nk; kt++) {
            const int cur = kt & 1;
            const bool more = kt + 1 < nk;
            if (more) {
                const int c = (kt + 1) * BK + lc;
                ra = load4<VEC>(qrow, c, Cq, qok);
                rb0 = load4<VEC>(w0, c, Cq, w0ok);
                rb1 = load4<VEC>(w1, c, Cq, w1ok);
            }
            const float* A = As + cur * BK * LDA;
            const float* Bp = Bs + cur * BK * LDB;
#pragma unroll
            for (int kk = 0; kk < BK; kk++) {
                const float4 a = *reinterpret_cast<const float4*>(A + kk * LDA + ty * 4);
                const float4 p = *reinterpret_cast<const float4*>(Bp + kk * LDB + tx * 4);
                const float4 r = *reinterpret_cast<const float4*>(Bp + kk * LDB + 64 + tx * 4);
                const float av[4] = {a.x, a.y, a.z, a.w};
                const float bv[8] = {p.x, p.y, p.z, p.w, r.x, r.y, r.z, r.w};
#pragma unroll
                for (int i = 0; i < 4; i++)
#pragma unroll
                    for (int j = 0; j < 8; j++) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
            }
            if (more) {
                float* An = As + (cur ^ 1) * BK * LDA;
                float* Bn = Bs + (cur ^ 1) * BK * LDB;
                store_t(An, LDA, lc, lr, ra);
                store_t(Bn, LDB, lc, lr, rb0);
                store_t(Bn, LDB, lc, lr + 64, rb1);
            }
            __syncthreads();
        }
#pragma unroll
        for (int j = 0; j < 8; j++) {
            const int col = n0 + (j < 4 ? tx * 4 + j : 64 + tx * 4 + j - 4);
            const float bv = (bias && col < ncols) ? __ldg(bias + rowBase + col) : 0.f;
            *reinterpret_cast<float4*>(L + col * LDT + ty * 4) =
                    make_float4(acc[0][j] + bv, acc[1][j] + bv, acc[2][j] + bv, acc[3][j] + bv);
        }
    }
    __syncthreads();
}

// Per (t, head of the group): softmax over k (optionally over the in-range taps only) in place in L
// (column hl*K + k, stride LDT), then the DropConnect factor: wt (may be L itself) = normalized x factor.
// Rows t >= T are left as they are (never stored). Ends with a __syncthreads().
__device__ void tiled_normalize(float* L, float* wt, int b, int t0, int h0, int nh, const Dims& d,
        const Drop& drop) {
    const int K = d.K;
    for (int r = threadIdx.x; r < TT * nh; r += blockDim.x) {
        const int tl = r % TT, hl = r / TT, t = t0 + tl, h = h0 + hl;
        if (t >= d.T) continue;
        float* row = L + hl * K * LDT + tl;
        float* out = wt + hl * K * LDT + tl;
        // in-range taps: src = t + k - pad in [0, T) <=> k in [klo, khi)
        const int klo = d.renorm ? max(0, d.pad - t) : 0;
        const int khi = d.renorm ? min(K, d.T + d.pad - t) : K;
        if (d.softmax) {
            float mx = -INFINITY;
            for (int k = klo; k < khi; k++) mx = fmaxf(mx, row[k * LDT]);
            float sum = 0.f;
            for (int k = 0; k < K; k++) {
                const float e = (k >= klo && k < khi) ? expf(row[k * LDT] - mx) : 0.f;
                row[k * LDT] = e;
                sum += e;
            }
            const float inv = 1.f / sum;
            for (int k = 0; k < K; k++) row[k * LDT] *= inv;
        } else if (d.renorm) {
            for (int k = 0; k < K; k++)
                if (k < klo || k >= khi) row[k * LDT] = 0.f;
        }
        if (drop.threshold) {
            for (int k = 0; k < K; k++) {
                const uint64_t idx = drop.position ? position_index(b, t, h, k, d.T, d.H, K) : head_kernel_index(h, k, K);
                out[k * LDT] = row[k * LDT] * drop_factor(drop, idx);
            }
        } else if (out != row) {
            for (int k = 0; k < K; k++) out[k * LDT] = row[k * LDT];
        }
    }
    __syncthreads();
}

__device__ __forceinline__ float x_at(const float* __restrict__ xc, int s, int T, int C) {
    return (unsigned)s < (unsigned)T ? __ldg(xc + (long long)s * C) : 0.f;
}

template <bool VEC>
__global__ void __launch_bounds__(GT) dynamicconv_tiled_forward(float* __restrict__ y, const float* __restrict__ x,
        const float* __restrict__ q, const float* __restrict__ weight, const float* __restrict__ bias, Dims d,
        Drop drop, int G, int chunks) {
    extern __shared__ __align__(16) float smem[];
    float* L = smem;                          // [chunks*NT][LDT]
    float* stage = smem + chunks * NT * LDT;  // STAGE_FLOATS
    const int g = blockIdx.x, t0 = blockIdx.y * TT, b = blockIdx.z;
    const int K = d.K, h0 = g * G, nh = min(G, d.H - h0);
    tiled_logits<VEC>(L, stage, q, weight, bias, b, t0, h0 * K, nh * K, chunks, d.T, d.Cq);
    tiled_normalize(L, L, b, t0, h0, nh, d, drop);
    // Convolution: item = (channel of the group, CONV_TB output steps); consecutive threads, consecutive
    // channels (coalesced x and y rows). x values slide through registers: xw holds sources s0+k0 ..
    // s0+k0+TB-1, nx the next TB.
    const int R = d.C / d.H, nc = nh * R, cbase = h0 * R, C = d.C, T = d.T;
    const long long base = (long long)b * T * C;
    const int items = nc * (TT / CONV_TB);
    for (int it = threadIdx.x; it < items; it += blockDim.x) {
        const int cl = it % nc, tb0 = (it / nc) * CONV_TB;
        if (t0 + tb0 >= T) continue;
        const int hl = cl / R;
        const float* xc = x + base + cbase + cl;
        const float* wrow = L + hl * K * LDT + tb0;
        const int s0 = t0 + tb0 - d.pad;
        float xw[CONV_TB], acc[CONV_TB];
#pragma unroll
        for (int i = 0; i < CONV_TB; i++) {
            xw[i] = x_at(xc, s0 + i, T, C);
            acc[i] = 0.f;
        }
        int k0 = 0;
        for (; k0 + CONV_TB <= K; k0 += CONV_TB) {
            float nx[CONV_TB];
#pragma unroll
            for (int i = 0; i < CONV_TB; i++) nx[i] = x_at(xc, s0 + k0 + CONV_TB + i, T, C);
#pragma unroll
            for (int j = 0; j < CONV_TB; j++) {
                const float4 wa = *reinterpret_cast<const float4*>(wrow + (k0 + j) * LDT);
                const float4 wb = *reinterpret_cast<const float4*>(wrow + (k0 + j) * LDT + 4);
                const float wv[8] = {wa.x, wa.y, wa.z, wa.w, wb.x, wb.y, wb.z, wb.w};
#pragma unroll
                for (int tb = 0; tb < CONV_TB; tb++) {
                    const float xv = (j + tb < CONV_TB) ? xw[j + tb] : nx[j + tb - CONV_TB];
                    acc[tb] = fmaf(wv[tb], xv, acc[tb]);
                }
            }
#pragma unroll
            for (int i = 0; i < CONV_TB; i++) xw[i] = nx[i];
        }
        if (k0 < K) {
            float nx[CONV_TB];
#pragma unroll
            for (int i = 0; i < CONV_TB; i++) nx[i] = x_at(xc, s0 + k0 + CONV_TB + i, T, C);
#pragma unroll
            for (int j = 0; j < CONV_TB; j++) {
                if (k0 + j < K) {
                    const float4 wa = *reinterpret_cast<const float4*>(wrow + (k0 + j) * LDT);
                    const float4 wb = *reinterpret_cast<const float4*>(wrow + (k0 + j) * LDT + 4);
                    const float wv[8] = {wa.x, wa.y, wa.z, wa.w, wb.x, wb.y, wb.z, wb.w};
#pragma unroll
                    for (int tb = 0; tb < CONV_TB; tb++) {
                        const float xv = (j + tb < CONV_TB) ? xw[j + tb] : nx[j + tb - CONV_TB];
                        acc[tb] = fmaf(wv[tb], xv, acc[tb]);
                    }
                }
            }
        }
        float* yc = y + base + cbase + cl;
#pragma unroll
        for (int tb = 0; tb < CONV_TB; tb++) {
            const int t = t0 + tb0 + tb;
            if (t < T) yc[(long long)t * C] = acc[tb];
        }
    }
}

// Backward prologue on the tiled generation: dG [B*T, H*K] and the dropped weights wtOut [B,T,H,K].
template <bool VEC>
__global__ void __launch_bounds__(GT) dynamicconv_tiled_backward(float* __restrict__ dG, float* __restrict__ wtOut,
        const float* __restrict__ dy, const float* __restrict__ x, const float* __restrict__ q,
        const float* __restrict__ weight, const float* __restrict__ bias, Dims d, Drop drop, int G, int chunks,
        bool vecR) {
    extern __shared__ __align__(16) float smem[];
    float* L = smem;                              // normalized weights wn [chunks*NT][LDT]
    float* W2 = smem + chunks * NT * LDT;         // dropped weights wt, then dwn [chunks*NT][LDT]
    float* stage = smem + 2 * chunks * NT * LDT;  // STAGE_FLOATS
    const int g = blockIdx.x, t0 = blockIdx.y * TT, b = blockIdx.z;
    const int K = d.K, h0 = g * G, nh = min(G, d.H - h0), T = d.T, C = d.C, H = d.H, R = C / H;
    tiled_logits<VEC>(L, stage, q, weight, bias, b, t0, h0 * K, nh * K, chunks, T, d.Cq);
    tiled_normalize(L, W2, b, t0, h0, nh, d, drop);
    const long long base = (long long)b * T * C;
    for (int i = threadIdx.x; i < TT * nh * K; i += blockDim.x) {
        const int tl = i % TT, col = i / TT, hl = col / K, k = col % K, t = t0 + tl, h = h0 + hl;
        if (t >= T) continue;
        const int src = t + k - d.pad;
        float acc = 0.f;
        if (src >= 0 && src < T) {
            const float* dyRow = dy + base + (long long)t * C + h * R;
            const float* xRow = x + base + (long long)src * C + h * R;
            if (vecR) {
                for (int r = 0; r < R; r += 4) {
                    const float4 a = __ldg(reinterpret_cast<const float4*>(dyRow + r));
                    const float4 v = __ldg(reinterpret_cast<const float4*>(xRow + r));
                    acc = fmaf(a.x, v.x, acc);
                    acc = fmaf(a.y, v.y, acc);
                    acc = fmaf(a.z, v.z, acc);
                    acc = fmaf(a.w, v.w, acc);
                }
            } else {
                for (int r = 0; r < R; r++) acc = fmaf(__ldg(dyRow + r), __ldg(xRow + r), acc);
            }
            const uint64_t idx = drop.position ? position_index(b, t, h, k, T, H, K) : head_kernel_index(h, k, K);
            acc *= drop_factor(drop, idx);
        }
        wtOut[(((long long)b * T + t) * H + h) * K + k] = W2[col * LDT + tl];
        W2[col * LDT + tl] = acc;  // dwn, in place (same thread, same element)
    }
    __syncthreads();
    for (int r = threadIdx.x; r < TT * nh; r += blockDim.x) {
        const int tl = r % TT, hl = r / TT, t = t0 + tl, h = h0 + hl;
        if (t >= T) continue;
        float* out = dG + (((long long)b * T + t) * H + h) * K;
        const float* wn = L + hl * K * LDT + tl;
        const float* dwn = W2 + hl * K * LDT + tl;
        if (d.softmax) {
            float dot = 0.f;
            for (int k = 0; k < K; k++) dot += wn[k * LDT] * dwn[k * LDT];
            for (int k = 0; k < K; k++) out[k] = wn[k * LDT] * (dwn[k * LDT] - dot);
        } else {
            for (int k = 0; k < K; k++) out[k] = dwn[k * LDT];
        }
    }
}

__global__ void dynamicconv_dx_gather_add(float* dx, const float* dy, const float* wt, const float* addend, int B,
        int T, int C, int H, int K, int pad) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    long long n = (long long)B * T * C;
    if (i >= n) return;
    int c = (int)(i % C);
    long long bs = i / C;
    int s = (int)(bs % T), b = (int)(bs / T);
    int h = c / (C / H);
    float acc = 0.f;
    for (int k = 0; k < K; k++) {
        int t = s - k + pad;
        if (t < 0 || t >= T) continue;
        long long row = (long long)b * T + t;
        acc = fmaf(wt[(row * H + h) * K + k], dy[row * C + c], acc);
    }
    dx[i] = addend ? acc + addend[i] : acc;
}

bool aligned16(const void* p) { return ((uintptr_t)p & 15) == 0; }

}  // namespace

cudaError_t dynamicconv_forward(float* y, const float* x, const float* query, const float* weight,
        const float* bias, int B, int T, int C, int Cq, int H, int K, int pad, bool softmax, bool renorm,
        DropArgs drop) {
    const float* q = query ? query : x;
    Tiling tl = make_tiling(H, K, T, 1);
    if (tl.ok) {
        Dims d = make_dims(T, C, Cq, H, K, pad, softmax, renorm, 2);
        dim3 grid(tl.groups, ceil_div(T, TT), B);
        const bool vec = Cq % 4 == 0 && aligned16(q) && aligned16(weight);
        if (vec) {
            cudaFuncSetAttribute(dynamicconv_tiled_forward<true>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                    (int)tl.smem);
            dynamicconv_tiled_forward<true><<<grid, GT, tl.smem>>>(y, x, q, weight, bias, d, make_drop(drop), tl.G,
                    tl.chunks);
        } else {
            cudaFuncSetAttribute(dynamicconv_tiled_forward<false>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                    (int)tl.smem);
            dynamicconv_tiled_forward<false><<<grid, GT, tl.smem>>>(y, x, q, weight, bias, d, make_drop(drop),
                    tl.G, tl.chunks);
        }
        return cudaGetLastError();
    }
    // Very long kernels (K > ~640): version 1.
    Dims d = make_dims(T, C, Cq, H, K, pad, softmax, renorm, 2);
    size_t shared = 2 * (size_t)d.TT * K * sizeof(float);
    if (shared > 48 * 1024) return cudaErrorInvalidValue;  // K > 6144 (checked on the host side too)
    dim3 grid(ceil_div(T, d.TT), H, B);
    dynamicconv_fused_forward<<<grid, THREADS, shared>>>(y, x, q, weight, bias, d, make_drop(drop));
    return cudaGetLastError();
}

cudaError_t dynamicconv_backward(float* dx, float* dquery, float* dweight, float* dbias, const float* dy,
        const float* x, const float* query, const float* weight, const float* bias, int B, int T, int C, int Cq,
        int H, int K, int pad, bool softmax, bool renorm, DropArgs drop) {
    const long long N = (long long)B * T, HK = (long long)H * K;
    const float* q = query ? query : x;
    const bool dqIntoDx = dx && !query;  // the generator's gradient reaches x when x generates the kernels
    // dW = dG^T q reduces over all B*T rows: split that reduction into S equal slices (a batched GEMM into
    // partials [S, HK, Cq]) and sum the partials in a fixed order (column_sum): deterministic, and enough
    // blocks to fill the GPU where HK x Cq alone gives ~100 tiles.
    int S = 1;
    while (dweight && S < 32 && N % (2 * S) == 0 && N / (2 * S) >= 512) S *= 2;
    // dG, wt: [B*T, H*K] each; dq (when it is added into dx): [B*T, Cq]; dW partials when S > 1.
    const size_t partials = S > 1 ? (size_t)S * HK * Cq : 0;
    Scratch scratch((2 * (size_t)N * HK + (dqIntoDx ? (size_t)N * Cq : 0) + partials) * sizeof(float));
    if (scratch.status != cudaSuccess) return scratch.status;
    float* dG = scratch.f();
    float* wt = dG + N * HK;
    float* dqScratch = dqIntoDx ? wt + N * HK : nullptr;
    float* dwPartials = wt + N * HK + (dqIntoDx ? N * Cq : 0);
    Tiling tl = make_tiling(H, K, T, 2);
    if (tl.ok) {
        Dims d = make_dims(T, C, Cq, H, K, pad, softmax, renorm, 3);
        dim3 grid(tl.groups, ceil_div(T, TT), B);
        const bool vec = Cq % 4 == 0 && aligned16(q) && aligned16(weight);
        const bool vecR = (C / H) % 4 == 0 && aligned16(x) && aligned16(dy);
        if (vec) {
            cudaFuncSetAttribute(dynamicconv_tiled_backward<true>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                    (int)tl.smem);
            dynamicconv_tiled_backward<true><<<grid, GT, tl.smem>>>(dG, wt, dy, x, q, weight, bias, d,
                    make_drop(drop), tl.G, tl.chunks, vecR);
        } else {
            cudaFuncSetAttribute(dynamicconv_tiled_backward<false>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                    (int)tl.smem);
            dynamicconv_tiled_backward<false><<<grid, GT, tl.smem>>>(dG, wt, dy, x, q, weight, bias, d,
                    make_drop(drop), tl.G, tl.chunks, vecR);
        }
    } else {
        Dims d = make_dims(T, C, Cq, H, K, pad, softmax, renorm, 3);
        size_t shared = 3 * (size_t)d.TT * K * sizeof(float);
        if (shared > 48 * 1024) return cudaErrorInvalidValue;
        dynamicconv_backward_kernels<<<dim3(ceil_div(T, d.TT), H, B), THREADS, shared>>>(dG, wt, dy, x, q, weight,
                bias, d, make_drop(drop));
    }
    // Generator gradients with the 64 x 64 register-tiled SGEMM (deterministic): dq = dG W [N, Cq],
    // dW = dG^T q [HK, Cq], db = column sums of dG.
    if (dqIntoDx) gemm_batched(dqScratch, dG, weight, nullptr, 1, (int)N, Cq, (int)HK, false, false, false);
    if (dx) {
        long long n = N * C;
        dynamicconv_dx_gather_add<<<ceil_div(n, 256), 256>>>(dx, dy, wt, dqScratch, B, T, C, H, K, pad);
    }
    if (dquery) gemm_batched(dquery, dG, weight, nullptr, 1, (int)N, Cq, (int)HK, false, false, false);
    if (dweight) {
        if (S > 1) {
            // slice z: rows [z*N/S, (z+1)*N/S) of dG (stored [N, HK], transposed operand) and of q.
            gemm_batched(dwPartials, dG, q, nullptr, S, (int)HK, Cq, (int)(N / S), true, false, false);
            column_sum(dweight, dwPartials, S, (int)(HK * Cq));
        } else {
            gemm_batched(dweight, dG, q, nullptr, 1, (int)HK, Cq, (int)N, true, false, false);
        }
    }
    if (dbias) column_sum(dbias, dG, (int)N, (int)HK);
    return cudaGetLastError();
}

}  // namespace attnkit
