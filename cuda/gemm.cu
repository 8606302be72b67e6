// gemm.cu: the fp32 GEMM behind Linear and MatMul on CUDA (no cuBLAS on these machines): batched
// Y[b] = epilogue(op(A[b]) op(B[b]) + bias[n]), op = identity or transpose of the stored row-major matrix.
// 64 x 64 output tiles, 16-deep K slices in shared memory, 4 x 4 outputs per thread in registers;
// the K loop runs in a fixed order, so results are deterministic. SIMT fp32: the FP32 precision of
// attnkit_gemm_ex; the tensor-core TF32/BF16 kernels are in gemm_mma.cu.
// Compiled, NOT yet run on a GPU.
#include "common.cuh"
#include "gemm_epilogue.cuh"
#include "launchers.h"

namespace attnkit {
namespace {

constexpr int BM = 64, BN = 64, BK = 16, THREADS = 256;

// A(m,k) = A[m*sam + k*sak], B(k,n) = B[k*sbk + n*sbn]; one batch index per blockIdx.z. Y is [M, Nout]
// (Nout = N/2 for GLU, else N); Z (or null) receives the pre-activation z [M, N].
// A thread owns logical columns tx + 16 j (j < 4); under GLU, j and j + 2 are the a and g halves of one
// output (epi_physical_col with group BN).
template <int EPI>
__global__ void __launch_bounds__(THREADS) gemm_64x64(float* __restrict__ Y, float* __restrict__ Z,
        const float* __restrict__ A, const float* __restrict__ Bm, const float* __restrict__ bias, int M, int N,
        int Kd, long long sam, long long sak, long long sbk, long long sbn, long long strideA, long long strideB,
        long long strideY, long long strideZ) {
    constexpr bool GLU = EPI == EPI_GLU;
    __shared__ float as[BK][BM + 4];  // k-major so the inner loop reads a row of m
    __shared__ float bs[BK][BN + 4];
    const int b = blockIdx.z;
    A += b * strideA;
    Bm += b * strideB;
    Y += b * strideY;
    if (Z) Z += b * strideZ;
    const int m0 = blockIdx.y * BM;
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
            int gn = epi_physical_col<GLU>(blockIdx.x, BN, BN, nn, N), gk = k0 + kk;
            bs[kk][nn] = (gn >= 0 && gk < Kd) ? Bm[gk * sbk + gn * sbn] : 0.f;
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
        long long gm = m0 + ty + 16 * i;
        if (gm >= M) continue;
        if (GLU) {
            const int half = N / 2;
#pragma unroll
            for (int j = 0; j < 2; j++) {
                int oj = blockIdx.x * (BN / 2) + tx + 16 * j;
                if (oj >= half) continue;
                float a = acc[i][j] + (bias ? bias[oj] : 0.f);
                float g = acc[i][j + 2] + (bias ? bias[half + oj] : 0.f);
                Y[gm * half + oj] = a * epi_sigmoid(g);
                if (Z) {
                    Z[gm * N + oj] = a;
                    Z[gm * N + half + oj] = g;
                }
            }
        } else {
#pragma unroll
            for (int j = 0; j < 4; j++) {
                int gn = blockIdx.x * BN + tx + 16 * j;
                if (gn >= N) continue;
                float z = acc[i][j] + (bias ? bias[gn] : 0.f);
                if (Z) Z[gm * N + gn] = z;
                Y[gm * N + gn] = epi_activate<EPI>(z);
            }
        }
    }
}

template <int EPI>
void launch_simt(float* Y, float* Z, const float* A, const float* Bm, const float* bias, int batch, int M, int N,
        int Kd, bool transA, bool transB, bool shareB) {
    // Stored A: [M,K] (or [K,M] when transposed); stored B: [K,N] (or [N,K]).
    long long sam = transA ? 1 : Kd, sak = transA ? M : 1;
    long long sbk = transB ? 1 : N, sbn = transB ? Kd : 1;
    long long nOut = EPI == EPI_GLU ? N / 2 : N;
    dim3 grid(ceil_div(N, BN), ceil_div(M, BM), batch);
    gemm_64x64<EPI><<<grid, THREADS>>>(Y, Z, A, Bm, bias, M, N, Kd, sam, sak, sbk, sbn, (long long)M * Kd,
            shareB ? 0LL : (long long)Kd * N, (long long)M * nOut, (long long)M * N);
}

}  // namespace

cudaError_t gemm_batched(float* C, const float* A, const float* Bm, const float* bias, int batch, int M, int N,
        int Kd, bool transA, bool transB, bool shareB) {
    launch_simt<EPI_NONE>(C, nullptr, A, Bm, bias, batch, M, N, Kd, transA, transB, shareB);
    return cudaGetLastError();
}

cudaError_t gemm_simt_epilogue(float* Y, float* Z, const float* A, const float* Bm, const float* bias, int batch,
        int M, int N, int Kd, bool transA, bool transB, bool shareB, int epilogue) {
    switch (epilogue) {
        case EPI_NONE: launch_simt<EPI_NONE>(Y, Z, A, Bm, bias, batch, M, N, Kd, transA, transB, shareB); break;
        case EPI_RELU: launch_simt<EPI_RELU>(Y, Z, A, Bm, bias, batch, M, N, Kd, transA, transB, shareB); break;
        case EPI_GELU: launch_simt<EPI_GELU>(Y, Z, A, Bm, bias, batch, M, N, Kd, transA, transB, shareB); break;
        case EPI_TANH: launch_simt<EPI_TANH>(Y, Z, A, Bm, bias, batch, M, N, Kd, transA, transB, shareB); break;
        case EPI_SIGMOID:
            launch_simt<EPI_SIGMOID>(Y, Z, A, Bm, bias, batch, M, N, Kd, transA, transB, shareB);
            break;
        default: launch_simt<EPI_GLU>(Y, Z, A, Bm, bias, batch, M, N, Kd, transA, transB, shareB); break;
    }
    return cudaGetLastError();
}

cudaError_t column_sum_checked(float* out, const float* in, int rows, int cols) {
    column_sum(out, in, rows, cols);
    return cudaGetLastError();
}

}  // namespace attnkit
