// gemm_mma.cu: the tensor-core GEMMs behind attnkit_gemm_ex (TF32, BF16) and attnkit_gemm_bf16, with the same
// semantics as the fp32 SIMT GEMM of gemm.cu: batched Y[b] = epilogue(op(A[b]) op(B[b]) + bias), transposed
// operands read in place, one B shared by every batch index, boundary tiles zero-padded.
//   TF32: fp32 operands rounded to tf32 (cvt.rna.tf32.f32) while staging, mma.sync m16n8k8, fp32 accumulation.
//   BF16: fp32 operands rounded to bf16 (round to nearest even) while staging, or bf16 operands as they are
//         (attnkit_gemm_bf16), mma.sync m16n8k16, fp32 accumulation.
// 128 x 128 output tiles per block of 8 warps (2 x 4, 64 x 32 outputs each), 32-deep K slices. The next
// slice is loaded into registers (and converted) while the tensor cores work on the current one in shared
// memory: a register-staged double buffer (cp.async cannot convert, and one code path for every operand
// type and layout is easier to get right by reading). Every output is summed by one thread in a fixed k
// order: deterministic. Compiled, NOT yet run on a GPU.
#include <cuda_bf16.h>

#include "common.cuh"
#include "gemm_epilogue.cuh"
#include "launchers.h"
#include "mma_bf16.cuh"

namespace attnkit {
namespace {

// mma_bf16, cp_async16, cp_async_commit, cp_async_wait, ldmatrix_x4: cuda/mma_bf16.cuh.
using namespace mma;

constexpr int BM = 128, BN = 128, BK = 32, THREADS = 256;
constexpr int WARP_N = 32;                 // logical columns per warp (4 n8 tiles); the GLU group
constexpr int LOADS = BM * BK / THREADS;   // elements of each operand a thread stages per K slice (16)
static_assert(BM == BN, "the staging loops assume square tiles");

// Shared-memory element and row padding per precision. Rows are k-contiguous for both operands, so every
// fragment load reads along k. TF32: 36-word rows put the 8 x 4 (g, t) fragment reads on 32 banks.
// BF16: 40-half (20-word) rows do the same for the 32-bit pair reads.
template <int PREC> struct Smem;
template <> struct Smem<PREC_TF32> {
    using T = uint32_t;
    static constexpr int PAD = 4;
};
template <> struct Smem<PREC_BF16> {
    using T = __nv_bfloat16;
    static constexpr int PAD = 8;
};

__device__ __forceinline__ uint32_t to_tf32(float x) {
    uint32_t r;
    asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(x));
    return r;
}

// Operand element -> shared-memory element of the precision.
template <int PREC> struct Stage;
template <> struct Stage<PREC_TF32> {
    __device__ __forceinline__ static uint32_t of(float x) { return to_tf32(x); }
    __device__ __forceinline__ static uint32_t zero() { return 0u; }
};
template <> struct Stage<PREC_BF16> {
    __device__ __forceinline__ static __nv_bfloat16 of(float x) { return __float2bfloat16_rn(x); }
    __device__ __forceinline__ static __nv_bfloat16 of(__nv_bfloat16 x) { return x; }
    __device__ __forceinline__ static __nv_bfloat16 zero() { return __float2bfloat16_rn(0.f); }
};

__device__ __forceinline__ void store_out(float* p, float v) { *p = v; }
__device__ __forceinline__ void store_out(__nv_bfloat16* p, float v) { *p = __float2bfloat16_rn(v); }

__device__ __forceinline__ uint32_t pair(const __nv_bfloat16* p) { return *reinterpret_cast<const uint32_t*>(p); }

// d += a b for one m16 x n8 tile and one k8 step (TF32; BF16's k16 twin is in mma_bf16.cuh); PTX ISA fragment layouts:
// g = lane / 4, t = lane % 4; a0 (g, k), a1 (g+8, k), a2 (g, k'), a3 (g+8, k'); b0 (k, n=g), b1 (k', n=g);
// d0 (g, 2t), d1 (g, 2t+1), d2 (g+8, 2t), d3 (g+8, 2t+1).
__device__ __forceinline__ void mma_tf32(float* d, const uint32_t* a, const uint32_t* b) {
    asm volatile(
            "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
            "{%0,%1,%2,%3};\n"
            : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
            : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// A(m,k) = A[m*sam + k*sak], B(k,n) = B[k*sbk + n*sbn]; blockIdx.z = batch index. Y [M, Nout] (Nout = N/2
// under GLU), Z [M, N] the pre-activation or null. Logical columns of a block map to B's columns through
// epi_physical_col with group WARP_N: a warp's n-tiles 0, 1 hold a-columns and 2, 3 the matching gates.
template <int PREC, typename TIn, typename TOut, int EPI>
__global__ void __launch_bounds__(THREADS) gemm_mma(TOut* __restrict__ Y, float* __restrict__ Z,
        const TIn* __restrict__ A, const TIn* __restrict__ Bm, const float* __restrict__ bias, int M, int N, int Kd,
        long long sam, long long sak, long long sbk, long long sbn, long long strideA, long long strideB,
        long long strideY, long long strideZ) {
    using S = typename Smem<PREC>::T;
    constexpr int LD = BK + Smem<PREC>::PAD;
    constexpr bool GLU = EPI == EPI_GLU;
    __shared__ __align__(16) S as[BM][LD];  // as[m][k]
    __shared__ __align__(16) S bs[BN][LD];  // bs[n][k]

    const int batch = blockIdx.z;
    A += batch * strideA;
    Bm += batch * strideB;
    Y += batch * strideY;
    if (Z) Z += batch * strideZ;
    const int m0 = blockIdx.y * BM;
    const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
    const int wm = warp / 4, wn = warp % 4;  // warp tile: rows wm*64 + [0,64), logical cols wn*32 + [0,32)
    const int g = lane / 4, t = lane % 4;
    // Coalesce the global reads along whichever index is contiguous (uniform per launch).
    const bool aKFast = sak == 1, bKFast = sbk == 1;

    // Where staged element l of this thread goes: (row, k) of as and bs. Recomputed per use (a few integer
    // ops) rather than kept in 80 registers.
    auto aRow = [&](int l) { int idx = tid + l * THREADS; return aKFast ? idx / BK : idx % BM; };
    auto aK = [&](int l) { int idx = tid + l * THREADS; return aKFast ? idx % BK : idx / BM; };
    auto bCol = [&](int l) { int idx = tid + l * THREADS; return bKFast ? idx / BK : idx % BN; };
    auto bK = [&](int l) { int idx = tid + l * THREADS; return bKFast ? idx % BK : idx / BN; };
    S ra[LOADS], rb[LOADS];
    auto load = [&](int k0) {
#pragma unroll
        for (int l = 0; l < LOADS; l++) {
            int gm = m0 + aRow(l), gk = k0 + aK(l);
            ra[l] = (gm < M && gk < Kd) ? Stage<PREC>::of(A[gm * sam + gk * sak]) : Stage<PREC>::zero();
            int gn = epi_physical_col<GLU>(blockIdx.x, BN, WARP_N, bCol(l), N), gkb = k0 + bK(l);
            rb[l] = (gn >= 0 && gkb < Kd) ? Stage<PREC>::of(Bm[gkb * sbk + gn * sbn]) : Stage<PREC>::zero();
        }
    };

    float acc[4][4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++)
#pragma unroll
            for (int e = 0; e < 4; e++) acc[i][j][e] = 0.f;

    load(0);
    for (int k0 = 0; k0 < Kd; k0 += BK) {
#pragma unroll
        for (int l = 0; l < LOADS; l++) {
            as[aRow(l)][aK(l)] = ra[l];
            bs[bCol(l)][bK(l)] = rb[l];
        }
        __syncthreads();
        if (k0 + BK < Kd) load(k0 + BK);  // in flight while the tensor cores run on this slice
        if constexpr (PREC == PREC_TF32) {
#pragma unroll
            for (int kk = 0; kk < BK; kk += 8) {
                uint32_t af[4][4], bf[4][2];
#pragma unroll
                for (int i = 0; i < 4; i++) {
                    int r = wm * 64 + i * 16 + g;
                    af[i][0] = as[r][kk + t];
                    af[i][1] = as[r + 8][kk + t];
                    af[i][2] = as[r][kk + t + 4];
                    af[i][3] = as[r + 8][kk + t + 4];
                }
#pragma unroll
                for (int j = 0; j < 4; j++) {
                    int c = wn * WARP_N + j * 8 + g;
                    bf[j][0] = bs[c][kk + t];
                    bf[j][1] = bs[c][kk + t + 4];
                }
#pragma unroll
                for (int i = 0; i < 4; i++)
#pragma unroll
                    for (int j = 0; j < 4; j++) mma_tf32(acc[i][j], af[i], bf[j]);
            }
        } else {
#pragma unroll
            for (int kk = 0; kk < BK; kk += 16) {
                uint32_t af[4][4], bf[4][2];
#pragma unroll
                for (int i = 0; i < 4; i++) {
                    int r = wm * 64 + i * 16 + g;
                    af[i][0] = pair(reinterpret_cast<const __nv_bfloat16*>(&as[r][kk + 2 * t]));
                    af[i][1] = pair(reinterpret_cast<const __nv_bfloat16*>(&as[r + 8][kk + 2 * t]));
                    af[i][2] = pair(reinterpret_cast<const __nv_bfloat16*>(&as[r][kk + 2 * t + 8]));
                    af[i][3] = pair(reinterpret_cast<const __nv_bfloat16*>(&as[r + 8][kk + 2 * t + 8]));
                }
#pragma unroll
                for (int j = 0; j < 4; j++) {
                    int c = wn * WARP_N + j * 8 + g;
                    bf[j][0] = pair(reinterpret_cast<const __nv_bfloat16*>(&bs[c][kk + 2 * t]));
                    bf[j][1] = pair(reinterpret_cast<const __nv_bfloat16*>(&bs[c][kk + 2 * t + 8]));
                }
#pragma unroll
                for (int i = 0; i < 4; i++)
#pragma unroll
                    for (int j = 0; j < 4; j++) mma_bf16(acc[i][j], af[i], bf[j]);
            }
        }
        __syncthreads();
    }

    // Epilogue straight from the accumulators: element e of tile (i, j) is row g + 8 (e / 2), column
    // 2t + e % 2 of that tile.
#pragma unroll
    for (int i = 0; i < 4; i++) {
#pragma unroll
        for (int e = 0; e < 4; e++) {
            long long gm = m0 + wm * 64 + i * 16 + g + 8 * (e / 2);
            if (gm >= M) continue;
            if (GLU) {
                const int half = N / 2;
#pragma unroll
                for (int j = 0; j < 2; j++) {
                    int oj = blockIdx.x * (BN / 2) + wn * (WARP_N / 2) + j * 8 + 2 * t + e % 2;
                    if (oj >= half) continue;
                    float a = acc[i][j][e] + (bias ? bias[oj] : 0.f);
                    float gate = acc[i][j + 2][e] + (bias ? bias[half + oj] : 0.f);
                    store_out(&Y[gm * half + oj], a * epi_sigmoid(gate));
                    if (Z) {
                        Z[gm * N + oj] = a;
                        Z[gm * N + half + oj] = gate;
                    }
                }
            } else {
#pragma unroll
                for (int j = 0; j < 4; j++) {
                    int gn = blockIdx.x * BN + wn * WARP_N + j * 8 + 2 * t + e % 2;
                    if (gn >= N) continue;
                    float z = acc[i][j][e] + (bias ? bias[gn] : 0.f);
                    if (Z) Z[gm * N + gn] = z;
                    store_out(&Y[gm * N + gn], epi_activate<EPI>(z));
                }
            }
        }
    }
}

template <int PREC, typename TIn, typename TOut, int EPI>
cudaError_t launch_mma(TOut* Y, float* Z, const TIn* A, const TIn* Bm, const float* bias, int batch, int M, int N,
        int Kd, bool transA, bool transB, bool shareB) {
    // Stored A: [M,K] (or [K,M] when transposed); stored B: [K,N] (or [N,K]).
    long long sam = transA ? 1 : Kd, sak = transA ? M : 1;
    long long sbk = transB ? 1 : N, sbn = transB ? Kd : 1;
    long long nOut = EPI == EPI_GLU ? N / 2 : N;
    dim3 grid(ceil_div(N, BN), ceil_div(M, BM), batch);
    gemm_mma<PREC, TIn, TOut, EPI><<<grid, THREADS>>>(Y, Z, A, Bm, bias, M, N, Kd, sam, sak, sbk, sbn,
            (long long)M * Kd, shareB ? 0LL : (long long)Kd * N, (long long)M * nOut, (long long)M * N);
    return cudaGetLastError();
}

template <int PREC>
cudaError_t dispatch_epilogue(float* Y, float* Z, const float* A, const float* Bm, const float* bias, int batch,
        int M, int N, int Kd, bool transA, bool transB, bool shareB, int epilogue) {
    switch (epilogue) {
        case EPI_NONE:
            return launch_mma<PREC, float, float, EPI_NONE>(Y, Z, A, Bm, bias, batch, M, N, Kd, transA, transB, shareB);
        case EPI_RELU:
            return launch_mma<PREC, float, float, EPI_RELU>(Y, Z, A, Bm, bias, batch, M, N, Kd, transA, transB, shareB);
        case EPI_GELU:
            return launch_mma<PREC, float, float, EPI_GELU>(Y, Z, A, Bm, bias, batch, M, N, Kd, transA, transB, shareB);
        case EPI_TANH:
            return launch_mma<PREC, float, float, EPI_TANH>(Y, Z, A, Bm, bias, batch, M, N, Kd, transA, transB, shareB);
        case EPI_SIGMOID:
            return launch_mma<PREC, float, float, EPI_SIGMOID>(Y, Z, A, Bm, bias, batch, M, N, Kd, transA, transB,
                    shareB);
        default:
            return launch_mma<PREC, float, float, EPI_GLU>(Y, Z, A, Bm, bias, batch, M, N, Kd, transA, transB, shareB);
    }
}

__global__ void f32_to_bf16_kernel(__nv_bfloat16* __restrict__ out, const float* __restrict__ in, long long n) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        out[i] = __float2bfloat16_rn(in[i]);
    }
}

__global__ void bf16_to_f32_kernel(float* __restrict__ out, const __nv_bfloat16* __restrict__ in, long long n) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        out[i] = __bfloat162float(in[i]);
    }
}

int grid_for(long long n) {
    long long blocks = (n + 255) / 256;
    return (int)(blocks < 65536 ? blocks : 65536);
}

// ---- bf16 buffers with both operands k-contiguous (a [M,K], w [N,K]: the layout of x W^T), K % 8 == 0 and
// 16-byte aligned: the tiles of gemm_mma copied with 16-byte cp.async straight into shared memory (bf16 needs
// no conversion), two stages (the copy of slice k+1 is in flight while the tensor cores work on slice k),
// fragments read with ldmatrix. Same warp layout, accumulators and epilogue as gemm_mma (no activation).
constexpr int KC_LD = BK + 8;  // 40 halves = 80-byte rows: the 8 row addresses of an ldmatrix hit distinct banks

template <typename TOut>
__global__ void __launch_bounds__(THREADS) gemm_bf16_kc(TOut* __restrict__ Y, const __nv_bfloat16* __restrict__ A,
        const __nv_bfloat16* __restrict__ Bm, const float* __restrict__ bias, int M, int N, int Kd,
        long long strideA, long long strideB, long long strideY) {
    __shared__ __align__(128) __nv_bfloat16 as[2][BM][KC_LD];  // as[stage][m][k]
    __shared__ __align__(128) __nv_bfloat16 bs[2][BN][KC_LD];  // bs[stage][n][k]
    const int batch = blockIdx.z;
    A += batch * strideA;
    Bm += batch * strideB;
    Y += batch * strideY;
    const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN;
    const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
    const int wm = warp / 4, wn = warp % 4;
    const int g = lane / 4, t = lane % 4;
    const int q = lane / 8, rr = lane % 8;  // ldmatrix: this lane addresses row rr of matrix q

    // A slice of an operand is 128 rows x 4 chunks of 8 halves; chunk c = tid + l * THREADS (l < 2) is row
    // c / 4, halves 8 (c % 4) .. + 7. Rows past M or N and chunks past K (K % 8 == 0: whole chunks) read as 0.
    auto load = [&](int stage, int k0) {
#pragma unroll
        for (int l = 0; l < 2; l++) {
            int c = tid + l * THREADS, row = c / 4, kc = (c % 4) * 8;
            int gk = k0 + kc;
            int gm = m0 + row, gn = n0 + row;
            bool va = gm < M && gk < Kd, vb = gn < N && gk < Kd;
            cp_async16(&as[stage][row][kc], va ? A + (long long)gm * Kd + gk : A, va);
            cp_async16(&bs[stage][row][kc], vb ? Bm + (long long)gn * Kd + gk : Bm, vb);
        }
    };

    float acc[4][4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++)
#pragma unroll
            for (int e = 0; e < 4; e++) acc[i][j][e] = 0.f;

    const int slices = (Kd + BK - 1) / BK;
    if (slices > 0) load(0, 0);
    cp_async_commit();
    for (int kt = 0; kt < slices; kt++) {
        const int st = kt & 1;
        // Stage st ^ 1 was last read in iteration kt - 1, which every thread has left (its final barrier).
        if (kt + 1 < slices) load(st ^ 1, (kt + 1) * BK);
        cp_async_commit();            // maybe an empty group: one group per iteration keeps the count simple
        cp_async_wait<1>();           // this thread's copies of slice kt have landed ...
        __syncthreads();              // ... and everyone's
#pragma unroll
        for (int kk = 0; kk < BK; kk += 16) {
            uint32_t af[4][4], bf[4][2];
#pragma unroll
            for (int i = 0; i < 4; i++) {
                // matrices 0..3 = (rows +0, k +0), (rows +8, k +0), (rows +0, k +8), (rows +8, k +8): a0..a3
                ldmatrix_x4(af[i], &as[st][wm * 64 + i * 16 + rr + 8 * (q % 2)][kk + 8 * (q / 2)]);
            }
#pragma unroll
            for (int jp = 0; jp < 2; jp++) {
                // matrices 0..3 = (n +0, k +0), (n +0, k +8), (n +8, k +0), (n +8, k +8): b0, b1 of two n8 tiles
                uint32_t r[4];
                ldmatrix_x4(r, &bs[st][wn * WARP_N + jp * 16 + rr + 8 * (q / 2)][kk + 8 * (q % 2)]);
                bf[2 * jp][0] = r[0];
                bf[2 * jp][1] = r[1];
                bf[2 * jp + 1][0] = r[2];
                bf[2 * jp + 1][1] = r[3];
            }
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) mma_bf16(acc[i][j], af[i], bf[j]);
        }
        __syncthreads();
    }

#pragma unroll
    for (int i = 0; i < 4; i++) {
#pragma unroll
        for (int e = 0; e < 4; e++) {
            long long gm = m0 + wm * 64 + i * 16 + g + 8 * (e / 2);
            if (gm >= M) continue;
#pragma unroll
            for (int j = 0; j < 4; j++) {
                int gn = n0 + wn * WARP_N + j * 8 + 2 * t + e % 2;
                if (gn < N) store_out(&Y[gm * N + gn], acc[i][j][e] + (bias ? bias[gn] : 0.f));
            }
        }
    }
}

template <typename TOut>
cudaError_t launch_bf16_kc(TOut* Y, const __nv_bfloat16* A, const __nv_bfloat16* Bm, const float* bias, int batch,
        int M, int N, int Kd, bool shareB) {
    dim3 grid(ceil_div(N, BN), ceil_div(M, BM), batch);
    gemm_bf16_kc<TOut><<<grid, THREADS>>>(Y, A, Bm, bias, M, N, Kd, (long long)M * Kd,
            shareB ? 0LL : (long long)N * Kd, (long long)M * N);
    return cudaGetLastError();
}

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

}  // namespace

cudaError_t gemm_ex(float* Y, float* Z, const float* A, const float* Bm, const float* bias, int batch, int M, int N,
        int Kd, bool transA, bool transB, bool shareB, int precision, int epilogue) {
    if (precision == PREC_TF32) {
        return dispatch_epilogue<PREC_TF32>(Y, Z, A, Bm, bias, batch, M, N, Kd, transA, transB, shareB, epilogue);
    }
    if (precision == PREC_BF16) {
        return dispatch_epilogue<PREC_BF16>(Y, Z, A, Bm, bias, batch, M, N, Kd, transA, transB, shareB, epilogue);
    }
    return gemm_simt_epilogue(Y, Z, A, Bm, bias, batch, M, N, Kd, transA, transB, shareB, epilogue);
}

cudaError_t gemm_bf16(void* C, const void* A, const void* Bm, const float* bias, int batch, int M, int N, int Kd,
        bool transA, bool transB, bool shareB, bool outBf16) {
    const __nv_bfloat16* a = static_cast<const __nv_bfloat16*>(A);
    const __nv_bfloat16* b = static_cast<const __nv_bfloat16*>(Bm);
    // x W^T layout with whole 16-byte chunks along K: the cp.async kernel; anything else: the staging kernel.
    if (!transA && transB && Kd > 0 && Kd % 8 == 0 && aligned16(a) && aligned16(b)) {
        if (outBf16) {
            return launch_bf16_kc(static_cast<__nv_bfloat16*>(C), a, b, bias, batch, M, N, Kd, shareB);
        }
        return launch_bf16_kc(static_cast<float*>(C), a, b, bias, batch, M, N, Kd, shareB);
    }
    if (outBf16) {
        return launch_mma<PREC_BF16, __nv_bfloat16, __nv_bfloat16, EPI_NONE>(static_cast<__nv_bfloat16*>(C),
                nullptr, a, b, bias, batch, M, N, Kd, transA, transB, shareB);
    }
    return launch_mma<PREC_BF16, __nv_bfloat16, float, EPI_NONE>(static_cast<float*>(C), nullptr, a, b, bias, batch,
            M, N, Kd, transA, transB, shareB);
}

cudaError_t f32_to_bf16(void* out, const float* in, long long n) {
    f32_to_bf16_kernel<<<grid_for(n), 256>>>(static_cast<__nv_bfloat16*>(out), in, n);
    return cudaGetLastError();
}

cudaError_t bf16_to_f32(float* out, const void* in, long long n) {
    bf16_to_f32_kernel<<<grid_for(n), 256>>>(out, static_cast<const __nv_bfloat16*>(in), n);
    return cudaGetLastError();
}

}  // namespace attnkit
