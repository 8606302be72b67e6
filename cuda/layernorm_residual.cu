// layernorm_residual.cu: the residual add, dropout and LayerNorm of an encoder block in one kernel (SPEC 5.3:
// "fusing the residual add, LN and dropout into one kernel is the standard bandwidth win"). One warp per row:
// sum = residual + x * dropout factor (the Philox mask of org.attnkit.random.Philox, element index = flat
// row-major index) is written once and then normalised in the same pass, with exactly the arithmetic of
// attnkit_dropout, attnkit_binary (add) and layernorm_forward_rows in rowwise.cu, so the fused result equals
// the three unfused kernels bit for bit. The backward is LayerNorm's backward plus the regenerated mask
// (attnkit_layernorm_backward and attnkit_dropout). Compiled, NOT yet run on a GPU.
#include "common.cuh"
#include "graph_launchers.h"

namespace attnkit {
namespace {

constexpr int RLN_WARPS = 8;

__device__ __forceinline__ float rln_warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__global__ void residual_layernorm_rows(float* __restrict__ sum, float* __restrict__ y, float* __restrict__ mean,
        float* __restrict__ rstd, const float* __restrict__ x, const float* __restrict__ residual,
        const float* __restrict__ gamma, const float* __restrict__ beta, int rows, int D, double eps, Drop drop) {
    const int r = blockIdx.x * RLN_WARPS + threadIdx.x / 32;
    const int lane = threadIdx.x % 32;
    if (r >= rows) return;
    const long long base = (long long)r * D;
    float* sr = sum + base;
    float s = 0.f;
    for (int j = lane; j < D; j += 32) {
        // _rn intrinsics: a contracted fmaf(x, factor, residual) would round once where the unfused dropout
        // and add kernels round twice.
        float v = __fadd_rn(residual[base + j], __fmul_rn(x[base + j], drop_factor(drop, (uint64_t)(base + j))));
        sr[j] = v;
        s += v;
    }
    // Each lane re-reads only the elements it wrote itself: no synchronisation is needed.
    const float mu = rln_warp_sum(s) / D;
    float sq = 0.f;
    for (int j = lane; j < D; j += 32) {
        float c = sr[j] - mu;
        sq = fmaf(c, c, sq);
    }
    const float rs = (float)(1.0 / sqrt((double)rln_warp_sum(sq) / D + eps));
    if (lane == 0) {
        mean[r] = mu;
        rstd[r] = rs;
    }
    float* yr = y + base;
    for (int j = lane; j < D; j += 32) {
        float v = (sr[j] - mu) * rs;
        if (gamma) v *= gamma[j];
        if (beta) v += beta[j];
        yr[j] = v;
    }
}

}  // namespace

cudaError_t residual_layernorm_forward(float* sum, float* y, float* mean, float* rstd, const float* x,
        const float* residual, const float* gamma, const float* beta, int rows, int D, double eps, double drop_p,
        long long seed, long long offset) {
    residual_layernorm_rows<<<ceil_div(rows, RLN_WARPS), RLN_WARPS * 32>>>(sum, y, mean, rstd, x, residual, gamma,
            beta, rows, D, eps, make_drop(drop_p, seed, offset, 0));
    return cudaGetLastError();
}

}  // namespace attnkit
