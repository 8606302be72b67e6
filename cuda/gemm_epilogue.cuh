// gemm_epilogue.cuh: what the fp32 SIMT GEMM (gemm.cu) and the tensor-core GEMMs (gemm_mma.cu) share: the
// epilogue codes of attnkit_gemm_ex, the activations applied to z = product + bias, and the column map that
// lets one thread see both halves of a GLU pair.
#pragma once
#include <cuda_runtime.h>

namespace attnkit {

// Epilogue codes (attnkit.h: ATTNKIT_EPILOGUE_*).
enum GemmEpilogue { EPI_NONE = 0, EPI_RELU = 1, EPI_GELU = 2, EPI_TANH = 3, EPI_SIGMOID = 4, EPI_GLU = 5 };

// Precision codes (attnkit.h: ATTNKIT_GEMM_*).
enum GemmPrecisionCode { PREC_FP32 = 0, PREC_TF32 = 1, PREC_BF16 = 2 };

__device__ __forceinline__ float epi_sigmoid(float x) {
    // exp of a non-positive number only: no overflow for large |x| (as SigmoidRef).
    float e = expf(-fabsf(x));
    float r = 1.f / (1.f + e);
    return x < 0.f ? e * r : r;
}

// y = act(z) for the elementwise epilogues (EPI_GLU is handled by the caller, which holds both halves).
template <int EPI>
__device__ __forceinline__ float epi_activate(float z) {
    if (EPI == EPI_RELU) return z > 0.f ? z : 0.f;
    // Exact GELU, x Phi(x) with Phi(x) = erfc(-x / sqrt 2) / 2: no cancellation in the negative tail.
    if (EPI == EPI_GELU) return z * 0.5f * erfcf(-z * 0.70710678118654752f);
    if (EPI == EPI_TANH) return tanhf(z);
    if (EPI == EPI_SIGMOID) return epi_sigmoid(z);
    return z;
}

// GLU pairs output column j (a_j, weight row j) with the gate g_j (weight row j + half). A block that owns
// `width` logical columns starting at logical block offset block_col0 maps them so that, inside every
// group of `group` logical columns, the first group/2 are a-columns and the last group/2 the matching
// g-columns of the same outputs. The thread that holds logical column l of the first half also holds
// l + group/2, so the epilogue needs no exchange. Without GLU the map is the identity.
//   physical column of logical local column l of block bx (block width BN):
//     GLU:  j = bx * BN/2 + (l / group) * group/2 + (l % group) % (group/2); a: j, g: half + j
//     else: bx * BN + l
// Returns -1 outside the matrix (the staging writes zeros there).
template <bool GLU>
__device__ __forceinline__ int epi_physical_col(int bx, int BN, int group, int l, int N) {
    if (!GLU) {
        int c = bx * BN + l;
        return c < N ? c : -1;
    }
    int half = N / 2, hg = group / 2;
    int j = bx * (BN / 2) + (l / group) * hg + (l % group) % hg;
    if (j >= half) return -1;
    return (l % group) < hg ? j : half + j;
}

}  // namespace attnkit
