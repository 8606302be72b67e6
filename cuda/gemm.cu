// gemm.cu: the fp32 GEMM behind Linear and MatMul on CUDA (no cuBLAS on these machines): batched
// C[b] = op(A[b]) op(B[b]) (+ bias[n]), op = identity or transpose of the stored row-major matrix.
// 64 x 64 output tiles, 16-deep K slices in shared memory, 4 x 4 outputs per thread in registers;
// the K loop runs in a fixed order, so results are deterministic. SIMT fp32 only (no TF32/bf16 yet).
// Compiled, NOT yet run on a GPU.
#include "common.cuh"
#include "launchers.h"

namespace attnkit {
namespace {

constexpr int BM = 64, BN = 64, BK = 16, THREADS = 256;

// A(m,k) = A[m*sam + k*sak], B(k,n) = B[k*sbk + n*sbn]; one batch index per blockIdx.z.
__global__ void __launch_bounds__(THREADS) gemm_64x64(float* __restrict__ C, const float* __restrict__ A,
        const float* __restrict__ Bm, const float* __restrict__ bias, int M, int N, int Kd, long long sam,
        long long sak, long long sbk, long long sbn, long long strideA, long long strideB, long long strideC) {
    __shared__ float as[BK][BM + 4];  // k-major so the inner loop reads a row of m
    __shared__ float bs[BK][BN + 4];
    const int b = blockIdx.z;
    A += b * strideA;
    Bm += b * strideB;
    C += b * strideC;
    const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN;
    const int tid = threadIdx.x, tx = tid % 16, ty = tid / 16;
    // Coalesce along whichever index is contiguous in memory (uniform branch per launch).
    const bool aKFast = sak == 1, bNFast = sbn == 1;
    float acc[4][4] = {};
    for (int k0 = 0; k0 < Kd; k0 += BK) {
#pragma unroll
        for (int l = 0; l < (BM * BK) / THREADS; l++) {
            int idx = tid + l * THREADS;
            int mm = aKFast ? idx / BK : idx % BM;
            int kk = aKFast ? idx % BK : idx / BM;
            int gm = m0 + mm, gk = k0 + kk;
            as[kk][mm] = (gm < M && gk < Kd) ? A[gm * sam + gk * sak] : 0.f;
        }
#pragma unroll
        for (int l = 0; l < (BN * BK) / THREADS; l++) {
            int idx = tid + l * THREADS;
            int nn = bNFast ? idx % BN : idx / BK;
            int kk = bNFast ? idx / BN : idx % BK;
            int gn = n0 + nn, gk = k0 + kk;
            bs[kk][nn] = (gn < N && gk < Kd) ? Bm[gk * sbk + gn * sbn] : 0.f;
        }
        __syncthreads();
#pragma unroll
        for (int k = 0; k < BK; k++) {
            float av[4], bv[4];
#pragma unroll
            for (int i = 0; i < 4; i++) av[i] = as[k][ty + 16 * i];
#pragma unroll
            for (int j = 0; j < 4; j++) bv[j] = bs[k][tx + 16 * j];
#pragma unroll
            for (int i = 0; i < 4; i++) {
#pragma unroll
                for (int j = 0; j < 4; j++) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
            }
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 4; i++) {
        int gm = m0 + ty + 16 * i;
        if (gm >= M) continue;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            int gn = n0 + tx + 16 * j;
            if (gn < N) C[(long long)gm * N + gn] = acc[i][j] + (bias ? bias[gn] : 0.f);
        }
    }
}

}  // namespace

cudaError_t gemm_batched(float* C, const float* A, const float* Bm, const float* bias, int batch, int M, int N,
        int Kd, bool transA, bool transB, bool shareB) {
    // Stored A: [M,K] (or [K,M] when transposed); stored B: [K,N] (or [N,K]).
    long long sam = transA ? 1 : Kd, sak = transA ? M : 1;
    long long sbk = transB ? 1 : N, sbn = transB ? Kd : 1;
    dim3 grid(ceil_div(N, BN), ceil_div(M, BM), batch);
    gemm_64x64<<<grid, THREADS>>>(C, A, Bm, bias, M, N, Kd, sam, sak, sbk, sbn, (long long)M * Kd,
            shareB ? 0LL : (long long)Kd * N, (long long)M * N);
    return cudaGetLastError();
}

cudaError_t column_sum_checked(float* out, const float* in, int rows, int cols) {
    column_sum(out, in, rows, cols);
    return cudaGetLastError();
}

}  // namespace attnkit
