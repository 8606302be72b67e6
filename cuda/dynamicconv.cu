// dynamicconv.cu: DynamicConv (SPEC 2) forward and backward, fp32, BTC layout.
//
// Kernel versions (compiled, NOT yet run on a GPU):
//   1. dynamicconv_fused_forward: one block per (time tile, head, batch). The block computes the kernel
//      logits of its tile (the tile's query rows times the head's K rows of the generating weight),
//      the softmax (optionally over the in-range taps only) and DropConnect in shared memory, then
//      streams the head's R channels through the convolution. The B x T x H x K weights never reach
//      global memory. The tile length is chosen so that TT x K floats fit in 32 KB: any K works.
//   2. dynamicconv_backward_kernels: the same prologue, then per (t, k) the in-block reduction over the
//      head's channels of dy x shifted x, the mask, the softmax backward; writes dG [B*T, H*K] and the
//      dropped weights wt [B,T,H,K] (scratch, backward only) for the dx gather.
//   3. dynamicconv_dx_gather: dx[b,s,c] = sum_k wt[b,s-k+P,h,k] dy[b,s-k+P,c].
//   Then the generator's gradients with the shared gemm and column_sum: dq = dG W, dW = dG^T q,
//   db = column sums of dG (dq added into dx when x generates the kernels).
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

__global__ void dynamicconv_dx_gather(float* dx, const float* dy, const float* wt, int B, int T, int C, int H,
        int K, int pad) {
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
    dx[i] = acc;
}

Dims make_dims(int T, int C, int Cq, int H, int K, int pad, bool softmax, bool renorm, int buffers) {
    Dims d;
    d.T = T; d.C = C; d.Cq = Cq; d.H = H; d.K = K; d.pad = pad; d.softmax = softmax; d.renorm = renorm;
    // buffers x TT x K floats within 36 KB of shared memory, at most 32 steps per block.
    int tt = (36 * 1024) / (buffers * K * (int)sizeof(float));
    d.TT = tt < 1 ? 1 : (tt > 32 ? 32 : tt);
    return d;
}

}  // namespace

cudaError_t dynamicconv_forward(float* y, const float* x, const float* query, const float* weight,
        const float* bias, int B, int T, int C, int Cq, int H, int K, int pad, bool softmax, bool renorm,
        DropArgs drop) {
    Dims d = make_dims(T, C, Cq, H, K, pad, softmax, renorm, 2);
    size_t shared = 2 * (size_t)d.TT * K * sizeof(float);
    if (shared > 48 * 1024) return cudaErrorInvalidValue;  // K > 6144 (checked on the host side too)
    dim3 grid(ceil_div(T, d.TT), H, B);
    dynamicconv_fused_forward<<<grid, THREADS, shared>>>(y, x, query ? query : x, weight, bias, d,
            make_drop(drop));
    return cudaGetLastError();
}

cudaError_t dynamicconv_backward(float* dx, float* dquery, float* dweight, float* dbias, const float* dy,
        const float* x, const float* query, const float* weight, const float* bias, int B, int T, int C, int Cq,
        int H, int K, int pad, bool softmax, bool renorm, DropArgs drop) {
    Dims d = make_dims(T, C, Cq, H, K, pad, softmax, renorm, 3);
    size_t shared = 3 * (size_t)d.TT * K * sizeof(float);
    if (shared > 48 * 1024) return cudaErrorInvalidValue;
    const long long N = (long long)B * T, HK = (long long)H * K;
    Scratch scratch(2 * (size_t)N * HK * sizeof(float));  // dG, wt: [B*T, H*K] each
    if (scratch.status != cudaSuccess) return scratch.status;
    float* dG = scratch.f();
    float* wt = dG + N * HK;
    const float* q = query ? query : x;
    dynamicconv_backward_kernels<<<dim3(ceil_div(T, d.TT), H, B), THREADS, shared>>>(dG, wt, dy, x, q, weight,
            bias, d, make_drop(drop));
    if (dx) {
        long long n = N * C;
        dynamicconv_dx_gather<<<ceil_div(n, 256), 256>>>(dx, dy, wt, B, T, C, H, K, pad);
        if (!query) {
            // dx += dG W: the generator's gradient reaches x when x generates the kernels.
            gemm(dx, dG, weight, (int)N, Cq, (int)HK, HK, 1, Cq, 1, 1.f, 1.f);
        }
    }
    if (dquery) gemm(dquery, dG, weight, (int)N, Cq, (int)HK, HK, 1, Cq, 1, 1.f, 0.f);
    if (dweight) gemm(dweight, dG, q, (int)HK, Cq, (int)N, 1, HK, Cq, 1, 1.f, 0.f);
    if (dbias) column_sum(dbias, dG, (int)N, (int)HK);
    return cudaGetLastError();
}

}  // namespace attnkit
