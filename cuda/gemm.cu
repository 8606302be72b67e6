// gemm.cu: the fp32 GEMM behind Linear and MatMul on CUDA (no cuBLAS on these machines): batched
// Y[b] = epilogue(op(A[b]) op(B[b]) + bias[n]), op = identity or transpose of the stored row-major matrix.
// 128 x 128 output tiles, 16-deep double-buffered K slices in shared memory, 8 x 8 outputs per thread in
// registers, two blocks per SM (gemm_128x128 below); the K loop runs in a fixed order, so results are
// deterministic. SIMT fp32: the FP32 precision of attnkit_gemm_ex; the tensor-core TF32/BF16 kernels are in
// gemm_mma.cu. The 128 x 128 kernel replaced a 64 x 64 one (4 x 4 per thread, 12.6 TFLOP/s at 8192^3 on an H200).
// 37.3 TFLOP/s at 8192^3 on an H200 (2026-12-04), the fastest of the slice depths and occupancies timed side by
// side there (8-deep slices 31.1 TFLOP/s; one block per SM, 8- or 16-deep, 26.3 and 31.8); those variants and
// their tuning hook (gemm_set_variant) are in git history, last in commit 9d0ecd7. Checked there by
// cuda/tools/bench_gemm.cu and the Java equivalence tests.
#include "common.cuh"
#include "gemm_epilogue.cuh"
#include "launchers.h"

namespace attnkit {
namespace {

constexpr int THREADS = 256;

// ---- 128 x 128 tiles (the main fp32 path): 256 threads, each owning an 8 x 8 register tile made of 2 x 2
// blocks of 4 x 4 (rows ty*4 + [0,4) and 64 + ty*4 + [0,4), columns tx*4 + [0,4) and 64 + tx*4 + [0,4)) so
// that every shared-memory read is a float4 that a quarter warp takes without bank conflicts. 16-deep K
// slices, both operands stored k-major in shared memory (A transposed while staging),
// double-buffered: the next slice is read from global memory into registers before the FMAs of the current one
// and written to the other buffer after them, one barrier per slice. 64 FMAs per 4 float4 shared reads; at most
// 128 registers with MINB = 2 (two blocks, 16 warps per SM). Any strides, transposes, edges, K = 0; GLU pairs logical columns l and
// l + 64 of a block (epi_physical_col with group 128), which one thread owns. Verified on an H200 (2026-12-04).
// LBK: K slice depth; MINB: the blocks per SM __launch_bounds__ asks for (2: at most 128 registers).
constexpr int LBM = 128, LBN = 128, LBK = 16, LPAD = 4, MINB = 2;

template <int EPI, bool aKFast, bool bKFast>
__global__ void __launch_bounds__(THREADS, MINB) gemm_128x128(float* __restrict__ Y, float* __restrict__ Z,
        const float* __restrict__ A, const float* __restrict__ Bm, const float* __restrict__ bias, int M, int N,
        int Kd, long long sam, long long sak, long long sbk, long long sbn, long long strideA, long long strideB,
        long long strideY, long long strideZ, bool vec4) {
    constexpr bool GLU = EPI == EPI_GLU;
    __shared__ __align__(16) float as[2][LBK][LBM + LPAD];  // as[buf][k][m]
    __shared__ __align__(16) float bs[2][LBK][LBN + LPAD];  // bs[buf][k][logical n]
    const int b = blockIdx.z;
    A += b * strideA;
    Bm += b * strideB;
    Y += b * strideY;
    if (Z) Z += b * strideZ;
    const int m0 = blockIdx.y * LBM;
    const int tid = threadIdx.x, tx = tid % 16, ty = tid / 16;

    // Staging: LD = LBK / 2 elements of each operand per thread and slice, coalesced along the contiguous index:
    //   k-fast operand: row tid / LBK + (256 / LBK) l, k tid % LBK;  else: row tid % 128, k tid / 128 + 2 l.
    // aKFast: A stored [M,K] (sak == 1); bKFast: B stored [N,K] (sbk == 1): compile-time, so the staging
    // indices are constants and the 128-register budget goes to the accumulators.
    constexpr int LD = LBK / 2;
    const int aRow0 = aKFast ? tid / LBK : tid % 128, aK0 = aKFast ? tid % LBK : tid / 128;
    const int aDr = aKFast ? THREADS / LBK : 0, aDk = aKFast ? 0 : 2;
    const int bRow0 = bKFast ? tid / LBK : tid % 128, bK0 = bKFast ? tid % LBK : tid / 128;
    const int bDr = bKFast ? THREADS / LBK : 0, bDk = bKFast ? 0 : 2;
    int bCol[LD];  // physical column of B behind each staged logical column (-1: outside)
#pragma unroll
    for (int l = 0; l < LD; l++) bCol[l] = epi_physical_col<GLU>(blockIdx.x, LBN, LBN, bRow0 + l * bDr, N);

    float ra[LD], rb[LD];
    auto load = [&](int k0) {
#pragma unroll
        for (int l = 0; l < LD; l++) {
            int gm = m0 + aRow0 + l * aDr, gk = k0 + aK0 + l * aDk;
            ra[l] = (gm < M && gk < Kd) ? A[gm * sam + gk * sak] : 0.f;
            int gn = bCol[l], gkb = k0 + bK0 + l * bDk;
            rb[l] = (gn >= 0 && gkb < Kd) ? Bm[gkb * sbk + gn * sbn] : 0.f;
        }
    };
    auto store = [&](int buf) {
#pragma unroll
        for (int l = 0; l < LD; l++) {
            as[buf][aK0 + l * aDk][aRow0 + l * aDr] = ra[l];
            bs[buf][bK0 + l * bDk][bRow0 + l * bDr] = rb[l];
        }
    };

    float acc[8][8];
#pragma unroll
    for (int i = 0; i < 8; i++)
#pragma unroll
        for (int j = 0; j < 8; j++) acc[i][j] = 0.f;

    const int slices = (Kd + LBK - 1) / LBK;
    load(0);
    store(0);
    __syncthreads();
    for (int kt = 0; kt < slices; kt++) {
        const int buf = kt & 1;
        const bool more = kt + 1 < slices;
        if (more) load((kt + 1) * LBK);  // global loads in flight during the FMAs below
#pragma unroll
        for (int k = 0; k < LBK; k++) {
            float av[8], bv[8];
            *reinterpret_cast<float4*>(&av[0]) = *reinterpret_cast<const float4*>(&as[buf][k][ty * 4]);
            *reinterpret_cast<float4*>(&av[4]) = *reinterpret_cast<const float4*>(&as[buf][k][64 + ty * 4]);
            *reinterpret_cast<float4*>(&bv[0]) = *reinterpret_cast<const float4*>(&bs[buf][k][tx * 4]);
            *reinterpret_cast<float4*>(&bv[4]) = *reinterpret_cast<const float4*>(&bs[buf][k][64 + tx * 4]);
#pragma unroll
            for (int i = 0; i < 8; i++)
#pragma unroll
                for (int j = 0; j < 8; j++) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
        }
        if (more) store(buf ^ 1);  // buf ^ 1 was last read in slice kt - 1, before the barrier below it
        __syncthreads();
    }

#pragma unroll
    for (int i = 0; i < 8; i++) {
        const long long gm = m0 + (i / 4) * 64 + ty * 4 + i % 4;
        if (gm >= M) continue;
        if (GLU) {
            const int half = N / 2;
#pragma unroll
            for (int j = 0; j < 4; j++) {
                int oj = blockIdx.x * (LBN / 2) + tx * 4 + j;
                if (oj >= half) continue;
                float a = acc[i][j] + (bias ? bias[oj] : 0.f);
                float g = acc[i][j + 4] + (bias ? bias[half + oj] : 0.f);
                Y[gm * half + oj] = a * epi_sigmoid(g);
                if (Z) {
                    Z[gm * N + oj] = a;
                    Z[gm * N + half + oj] = g;
                }
            }
        } else {
#pragma unroll
            for (int h = 0; h < 2; h++) {
                const int gn0 = blockIdx.x * LBN + h * 64 + tx * 4;
                float z[4], y[4];
#pragma unroll
                for (int j = 0; j < 4; j++) {
                    z[j] = acc[i][h * 4 + j] + ((bias && gn0 + j < N) ? bias[gn0 + j] : 0.f);
                    y[j] = epi_activate<EPI>(z[j]);
                }
                if (vec4 && gn0 + 3 < N) {
                    if (Z) *reinterpret_cast<float4*>(&Z[gm * N + gn0]) = make_float4(z[0], z[1], z[2], z[3]);
                    *reinterpret_cast<float4*>(&Y[gm * N + gn0]) = make_float4(y[0], y[1], y[2], y[3]);
                } else {
#pragma unroll
                    for (int j = 0; j < 4; j++) {
                        if (gn0 + j >= N) continue;
                        if (Z) Z[gm * N + gn0 + j] = z[j];
                        Y[gm * N + gn0 + j] = y[j];
                    }
                }
            }
        }
    }
}

template <int EPI>
auto pick(bool transA, bool transB) {
    return transA ? (transB ? gemm_128x128<EPI, false, true> : gemm_128x128<EPI, false, false>)
                  : (transB ? gemm_128x128<EPI, true, true> : gemm_128x128<EPI, true, false>);
}

template <int EPI>
void launch_simt(float* Y, float* Z, const float* A, const float* Bm, const float* bias, int batch, int M, int N,
        int Kd, bool transA, bool transB, bool shareB) {
    // Stored A: [M,K] (or [K,M] when transposed); stored B: [K,N] (or [N,K]).
    long long sam = transA ? 1 : Kd, sak = transA ? M : 1;
    long long sbk = transB ? 1 : N, sbn = transB ? Kd : 1;
    long long nOut = EPI == EPI_GLU ? N / 2 : N;
    // float4 stores: rows of Y (and Z) 16-byte aligned.
    bool vec4 = N % 4 == 0 && (reinterpret_cast<uintptr_t>(Y) & 15) == 0 &&
            (reinterpret_cast<uintptr_t>(Z) & 15) == 0;
    dim3 grid(ceil_div(N, LBN), ceil_div(M, LBM), batch);
    auto kernel = pick<EPI>(transA, transB);
    kernel<<<grid, THREADS>>>(Y, Z, A, Bm, bias, M, N, Kd, sam, sak, sbk, sbn, (long long)M * Kd,
            shareB ? 0LL : (long long)Kd * N, (long long)M * nOut, (long long)M * N, vec4);
}

}  // namespace

cudaError_t gemm_batched(float* C, const float* A, const float* Bm, const float* bias, int batch, int M, int N,
        int Kd, bool transA, bool transB, bool shareB) {
    if (batch <= 0 || M <= 0 || N <= 0) return cudaSuccess;  // empty output: nothing to launch (never 0 blocks)
    launch_simt<EPI_NONE>(C, nullptr, A, Bm, bias, batch, M, N, Kd, transA, transB, shareB);
    return cudaGetLastError();
}

cudaError_t gemm_simt_epilogue(float* Y, float* Z, const float* A, const float* Bm, const float* bias, int batch,
        int M, int N, int Kd, bool transA, bool transB, bool shareB, int epilogue) {
    if (batch <= 0 || M <= 0 || N <= 0) return cudaSuccess;
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
    if (cols <= 0) return cudaSuccess;
    column_sum(out, in, rows, cols);
    return cudaGetLastError();
}

}  // namespace attnkit
