// rowwise.cu: the per-line operators of the graph on CUDA: softmax and log-softmax (any axis, seen as
// [outer, n, inner]), LayerNorm over the last dim (forward, backward with deterministic dgamma/dbeta)
// and GLU. One warp per line, warp shuffles in a fixed butterfly order, so results never depend on
// scheduling. Float32 throughout with accurate expf/logf (no fast math). Compiled and verified on an H200
// (2026-12-04: the CUDA equivalence tests pass).
#include "common.cuh"
#include "launchers.h"

namespace attnkit {
namespace {

constexpr int WARPS = 8;  // warps per 256-thread block

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// kind 0 softmax(x), 1 log_softmax(x), 2 softmax backward (v = y, g = dy), 3 log-softmax backward.
__global__ void softmax_lines_kernel(float* __restrict__ out, const float* __restrict__ v, const float* __restrict__ g,
        long long lines, int n, int inner, int kind) {
    const long long line = (long long)blockIdx.x * WARPS + threadIdx.x / 32;
    const int lane = threadIdx.x % 32;
    if (line >= lines) return;
    const long long o = line / inner, i = line % inner;
    const long long base = o * n * (long long)inner + i;
    const long long step = inner;
    if (kind <= 1) {
        float mx = -INFINITY;
        for (int j = lane; j < n; j += 32) mx = fmaxf(mx, v[base + j * step]);
        mx = warp_max(mx);
        float s = 0.f;
        for (int j = lane; j < n; j += 32) s += expf(v[base + j * step] - mx);
        s = warp_sum(s);
        if (kind == 0) {
            float inv = 1.f / s;
            for (int j = lane; j < n; j += 32) out[base + j * step] = expf(v[base + j * step] - mx) * inv;
        } else {
            float ls = logf(s);
            for (int j = lane; j < n; j += 32) out[base + j * step] = (v[base + j * step] - mx) - ls;
        }
    } else if (kind == 2) {
        float dot = 0.f;
        for (int j = lane; j < n; j += 32) dot = fmaf(g[base + j * step], v[base + j * step], dot);
        dot = warp_sum(dot);
        for (int j = lane; j < n; j += 32) out[base + j * step] = v[base + j * step] * (g[base + j * step] - dot);
    } else {
        float s = 0.f;
        for (int j = lane; j < n; j += 32) s += g[base + j * step];
        s = warp_sum(s);
        for (int j = lane; j < n; j += 32) out[base + j * step] = g[base + j * step] - expf(v[base + j * step]) * s;
    }
}

__global__ void layernorm_forward_rows(float* __restrict__ y, float* __restrict__ mean, float* __restrict__ rstd,
        const float* __restrict__ x, const float* __restrict__ gamma, const float* __restrict__ beta, int rows, int D,
        double eps) {
    const int r = blockIdx.x * WARPS + threadIdx.x / 32;
    const int lane = threadIdx.x % 32;
    if (r >= rows) return;
    const float* xr = x + (long long)r * D;
    float s = 0.f;
    for (int j = lane; j < D; j += 32) s += xr[j];
    const float mu = warp_sum(s) / D;
    float sq = 0.f;
    for (int j = lane; j < D; j += 32) {
        float c = xr[j] - mu;
        sq = fmaf(c, c, sq);
    }
    // rstd in double like the reference's 1/sqrt(var + eps): eps may be far below float resolution of var.
    const float rs = (float)(1.0 / sqrt((double)warp_sum(sq) / D + eps));
    if (lane == 0) {
        mean[r] = mu;
        rstd[r] = rs;
    }
    float* yr = y + (long long)r * D;
    for (int j = lane; j < D; j += 32) {
        float v = (xr[j] - mu) * rs;
        if (gamma) v *= gamma[j];
        if (beta) v += beta[j];
        yr[j] = v;
    }
}

__global__ void layernorm_backward_rows(float* __restrict__ dx, const float* __restrict__ x,
        const float* __restrict__ gamma, const float* __restrict__ mean, const float* __restrict__ rstd,
        const float* __restrict__ dy, int rows, int D) {
    const int r = blockIdx.x * WARPS + threadIdx.x / 32;
    const int lane = threadIdx.x % 32;
    if (r >= rows) return;
    const float* xr = x + (long long)r * D;
    const float* gr = dy + (long long)r * D;
    const float m = mean[r], s = rstd[r];
    float sg = 0.f, sgx = 0.f;
    for (int j = lane; j < D; j += 32) {
        float xhat = (xr[j] - m) * s;
        float gh = gamma ? gamma[j] * gr[j] : gr[j];
        sg += gh;
        sgx = fmaf(gh, xhat, sgx);
    }
    const float meanG = warp_sum(sg) / D, meanGx = warp_sum(sgx) / D;
    float* dr = dx + (long long)r * D;
    for (int j = lane; j < D; j += 32) {
        float xhat = (xr[j] - m) * s;
        float gh = gamma ? gamma[j] * gr[j] : gr[j];
        dr[j] = s * (gh - meanG - xhat * meanGx);
    }
}

// dgamma[j] = sum_r dy[r,j] xhat[r,j], dbeta[j] = sum_r dy[r,j]: 32 columns x 8 row strides per block,
// each thread's rows in order, then the 8 partials in order (no atomics: deterministic).
__global__ void layernorm_param_grads(float* __restrict__ dgamma, float* __restrict__ dbeta,
        const float* __restrict__ x, const float* __restrict__ mean, const float* __restrict__ rstd,
        const float* __restrict__ dy, int rows, int D) {
    __shared__ float pg[8][33], pb[8][33];
    const int col = blockIdx.x * 32 + threadIdx.x;
    float ag = 0.f, ab = 0.f;
    if (col < D) {
        for (int r = threadIdx.y; r < rows; r += 8) {
            long long i = (long long)r * D + col;
            ag = fmaf(dy[i], (x[i] - mean[r]) * rstd[r], ag);
            ab += dy[i];
        }
    }
    pg[threadIdx.y][threadIdx.x] = ag;
    pb[threadIdx.y][threadIdx.x] = ab;
    __syncthreads();
    if (threadIdx.y == 0 && col < D) {
        float sg = 0.f, sb = 0.f;
        for (int k = 0; k < 8; k++) {
            sg += pg[k][threadIdx.x];
            sb += pb[k][threadIdx.x];
        }
        if (dgamma) dgamma[col] = sg;
        if (dbeta) dbeta[col] = sb;
    }
}

// sigmoid(x) and 1 - sigmoid(x) = sigmoid(-x), each without cancellation and without overflow.
__device__ __forceinline__ float sigmoidf(float x) {
    float e = expf(-fabsf(x));
    float r = 1.f / (1.f + e);
    return x < 0.f ? e * r : r;
}

// x [outer, 2, m] (a then g), y [outer, m].
__global__ void glu_forward_kernel(float* __restrict__ y, const float* __restrict__ x, long long outer, long long m) {
    const long long n = outer * m;
    for (long long p = (long long)blockIdx.x * blockDim.x + threadIdx.x; p < n; p += (long long)gridDim.x * blockDim.x) {
        long long o = p / m, j = p % m;
        const float* xo = x + o * 2 * m;
        y[p] = xo[j] * sigmoidf(xo[m + j]);
    }
}

__global__ void glu_backward_kernel(float* __restrict__ dx, const float* __restrict__ x, const float* __restrict__ dy,
        long long outer, long long m) {
    const long long n = outer * m;
    for (long long p = (long long)blockIdx.x * blockDim.x + threadIdx.x; p < n; p += (long long)gridDim.x * blockDim.x) {
        long long o = p / m, j = p % m;
        const float* xo = x + o * 2 * m;
        float* d = dx + o * 2 * m;
        float gate = xo[m + j];
        float da = dy[p] * sigmoidf(gate);
        d[j] = da;
        d[m + j] = da * xo[j] * sigmoidf(-gate);
    }
}

// Cross-entropy rows: targets as floats (exact below 2^24 classes), negative = ignored row.
// loss[n] = lse[n] - logits[n, t] (0 when ignored), lse[n] = max + log(sum exp(x - max)).
__global__ void cross_entropy_forward_rows(float* __restrict__ loss, float* __restrict__ lse,
        const float* __restrict__ logits, const float* __restrict__ targets, int rows, int C) {
    const int r = blockIdx.x * WARPS + threadIdx.x / 32;
    const int lane = threadIdx.x % 32;
    if (r >= rows) return;
    const float* xr = logits + (long long)r * C;
    float mx = -INFINITY;
    for (int c = lane; c < C; c += 32) mx = fmaxf(mx, xr[c]);
    mx = warp_max(mx);
    float s = 0.f;
    for (int c = lane; c < C; c += 32) s += expf(xr[c] - mx);
    s = warp_sum(s);
    if (lane == 0) {
        float l = mx + logf(s);
        int t = (int)targets[r];
        lse[r] = l;
        loss[r] = t < 0 ? 0.f : l - xr[t];
    }
}

// dlogits[n, c] = w (exp(x - lse) - [c == t]), w = scale * (perRow ? dloss[n] : dloss[0]), 0 on ignored rows.
__global__ void cross_entropy_backward_rows(float* __restrict__ dx, const float* __restrict__ logits,
        const float* __restrict__ lse, const float* __restrict__ targets, const float* __restrict__ dloss, int rows,
        int C, bool perRow, float scale) {
    const int r = blockIdx.x * WARPS + threadIdx.x / 32;
    const int lane = threadIdx.x % 32;
    if (r >= rows) return;
    const int t = (int)targets[r];
    const float w = t < 0 ? 0.f : scale * (perRow ? dloss[r] : dloss[0]);
    const float l = lse[r];
    const float* xr = logits + (long long)r * C;
    float* dr = dx + (long long)r * C;
    for (int c = lane; c < C; c += 32) dr[c] = t < 0 ? 0.f : w * expf(xr[c] - l) - (c == t ? w : 0.f);
}

int grid_for(long long n) {
    long long blocks = (n + 255) / 256;
    return (int)(blocks < 1 ? 1 : blocks > 65535 * 8 ? 65535 * 8 : blocks);
}

}  // namespace

cudaError_t softmax_lines(float* out, const float* v, const float* g, int outer, int n, int inner, int kind) {
    long long lines = (long long)outer * inner;
    softmax_lines_kernel<<<(unsigned)((lines + WARPS - 1) / WARPS), WARPS * 32>>>(out, v, g, lines, n, inner, kind);
    return cudaGetLastError();
}

cudaError_t layernorm_forward(float* y, float* mean, float* rstd, const float* x, const float* gamma,
        const float* beta, int rows, int D, double eps) {
    layernorm_forward_rows<<<ceil_div(rows, WARPS), WARPS * 32>>>(y, mean, rstd, x, gamma, beta, rows, D, eps);
    return cudaGetLastError();
}

cudaError_t layernorm_backward(float* dx, float* dgamma, float* dbeta, const float* x, const float* gamma,
        const float* mean, const float* rstd, const float* dy, int rows, int D) {
    if (dx) layernorm_backward_rows<<<ceil_div(rows, WARPS), WARPS * 32>>>(dx, x, gamma, mean, rstd, dy, rows, D);
    if (dgamma || dbeta) {
        layernorm_param_grads<<<ceil_div(D, 32), dim3(32, 8)>>>(dgamma, dbeta, x, mean, rstd, dy, rows, D);
    }
    return cudaGetLastError();
}

cudaError_t glu_forward(float* y, const float* x, long long outer, long long m) {
    glu_forward_kernel<<<grid_for(outer * m), 256>>>(y, x, outer, m);
    return cudaGetLastError();
}

cudaError_t glu_backward(float* dx, const float* x, const float* dy, long long outer, long long m) {
    glu_backward_kernel<<<grid_for(outer * m), 256>>>(dx, x, dy, outer, m);
    return cudaGetLastError();
}

cudaError_t cross_entropy_forward(float* loss, float* lse, const float* logits, const float* targets, int rows, int C) {
    cross_entropy_forward_rows<<<ceil_div(rows, WARPS), WARPS * 32>>>(loss, lse, logits, targets, rows, C);
    return cudaGetLastError();
}

cudaError_t cross_entropy_backward(float* dx, const float* logits, const float* lse, const float* targets,
        const float* dloss, int rows, int C, bool perRow, float scale) {
    cross_entropy_backward_rows<<<ceil_div(rows, WARPS), WARPS * 32>>>(dx, logits, lse, targets, dloss, rows, C,
            perRow, scale);
    return cudaGetLastError();
}

}  // namespace attnkit
