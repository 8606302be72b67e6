// layernorm_residual.cu: the residual add, dropout and LayerNorm of an encoder block in one kernel (SPEC 5.3:
// "fusing the residual add, LN and dropout into one kernel is the standard bandwidth win"). One warp per row:
// sum = residual + x * dropout factor (the Philox mask of org.attnkit.random.Philox, element index = flat
// row-major index) is written once and then normalised in the same pass, with the arithmetic of
// attnkit_dropout, attnkit_binary (add) and layernorm_forward_rows in rowwise.cu, so the fused result is meant
// to equal the three unfused kernels bit for bit (a GPU test checks it). The backward is LayerNorm's backward
// plus the regenerated mask (attnkit_layernorm_backward and attnkit_dropout).
//
// The row is written as per-lane phases (__host__ __device__) joined by warp sums: the kernel runs a lane per
// thread with shuffles; residual_layernorm_host runs the 32 lanes in turn and emulates the xor butterfly, so a
// test runs this code where there is no GPU. Compiled and verified on an H200 (2026-12-04: the CUDA equivalence tests
// pass).
#include "common.cuh"
#include "graph_launchers.h"

namespace attnkit {
namespace {

constexpr int RLN_WARPS = 8;

// Phase 1 of lane `lane`: writes sum[j] = residual[j] + x[j] * factor for its j; returns its partial sum.
__host__ __device__ __forceinline__ float rln_sum_phase(float* sr, const float* x, const float* residual,
        long long base, int D, int lane, const Drop& drop) {
    float s = 0.f;
    for (int j = lane; j < D; j += 32) {
        // _rn intrinsics on the device: a contracted fmaf(x, factor, residual) would round once where the
        // unfused dropout and add kernels round twice.
#ifdef __CUDA_ARCH__
        float v = __fadd_rn(residual[base + j], __fmul_rn(x[base + j], drop_factor(drop, (uint64_t)(base + j))));
#else
        float v = residual[base + j] + x[base + j] * drop_factor(drop, (uint64_t)(base + j));
#endif
        sr[j] = v;
        s += v;
    }
    return s;
}

// Phase 2: the lane's partial sum of squared deviations (fmaf, as layernorm_forward_rows).
__host__ __device__ __forceinline__ float rln_sq_phase(const float* sr, float mu, int D, int lane) {
    float sq = 0.f;
    for (int j = lane; j < D; j += 32) {
        float c = sr[j] - mu;
        sq = fmaf(c, c, sq);
    }
    return sq;
}

// Phase 3: the lane's outputs.
__host__ __device__ __forceinline__ void rln_out_phase(float* yr, const float* sr, const float* gamma,
        const float* beta, float mu, float rs, int D, int lane) {
    for (int j = lane; j < D; j += 32) {
        float v = (sr[j] - mu) * rs;
        if (gamma) v *= gamma[j];
        if (beta) v += beta[j];
        yr[j] = v;
    }
}

// rstd in double like the reference's 1/sqrt(var + eps): eps may be far below float resolution of var.
__host__ __device__ __forceinline__ float rln_rstd(float sqTotal, int D, double eps) {
    return (float)(1.0 / sqrt((double)sqTotal / D + eps));
}

__device__ __forceinline__ float rln_warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// The butterfly of rln_warp_sum on 32 host values: every lane ends with lane ^ o's value added, o = 16 .. 1.
inline float host_warp_sum(float* v) {
    for (int o = 16; o > 0; o >>= 1) {
        float next[32];
        for (int l = 0; l < 32; l++) next[l] = v[l] + v[l ^ o];
        for (int l = 0; l < 32; l++) v[l] = next[l];
    }
    return v[0];
}

__global__ void residual_layernorm_rows(float* __restrict__ sum, float* __restrict__ y, float* __restrict__ mean,
        float* __restrict__ rstd, const float* __restrict__ x, const float* __restrict__ residual,
        const float* __restrict__ gamma, const float* __restrict__ beta, int rows, int D, double eps, Drop drop) {
    const int r = blockIdx.x * RLN_WARPS + threadIdx.x / 32;
    const int lane = threadIdx.x % 32;
    if (r >= rows) return;
    const long long base = (long long)r * D;
    float* sr = sum + base;
    // Each lane re-reads only the elements it wrote itself: no synchronisation is needed.
    const float mu = rln_warp_sum(rln_sum_phase(sr, x, residual, base, D, lane, drop)) / D;
    const float rs = rln_rstd(rln_warp_sum(rln_sq_phase(sr, mu, D, lane)), D, eps);
    if (lane == 0) {
        mean[r] = mu;
        rstd[r] = rs;
    }
    rln_out_phase(y + base, sr, gamma, beta, mu, rs, D, lane);
}

}  // namespace

cudaError_t residual_layernorm_forward(float* sum, float* y, float* mean, float* rstd, const float* x,
        const float* residual, const float* gamma, const float* beta, int rows, int D, double eps, double drop_p,
        long long seed, long long offset) {
    residual_layernorm_rows<<<ceil_div(rows, RLN_WARPS), RLN_WARPS * 32>>>(sum, y, mean, rstd, x, residual, gamma,
            beta, rows, D, eps, make_drop(drop_p, seed, offset, 0));
    return cudaGetLastError();
}

void residual_layernorm_host(float* sum, float* y, float* mean, float* rstd, const float* x, const float* residual,
        const float* gamma, const float* beta, int rows, int D, double eps, double drop_p, long long seed,
        long long offset) {
    const Drop drop = make_drop(drop_p, seed, offset, 0);
    float part[32];
    for (int r = 0; r < rows; r++) {
        const long long base = (long long)r * D;
        float* sr = sum + base;
        for (int lane = 0; lane < 32; lane++) part[lane] = rln_sum_phase(sr, x, residual, base, D, lane, drop);
        const float mu = host_warp_sum(part) / D;
        for (int lane = 0; lane < 32; lane++) part[lane] = rln_sq_phase(sr, mu, D, lane);
        const float rs = rln_rstd(host_warp_sum(part), D, eps);
        mean[r] = mu;
        rstd[r] = rs;
        for (int lane = 0; lane < 32; lane++) rln_out_phase(y + base, sr, gamma, beta, mu, rs, D, lane);
    }
}

}  // namespace attnkit
