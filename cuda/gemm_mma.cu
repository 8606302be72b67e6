// gemm_mma.cu: the tensor-core GEMMs behind attnkit_gemm_ex (TF32, BF16) and attnkit_gemm_bf16, with the same
// semantics as the fp32 SIMT GEMM of gemm.cu: batched Y[b] = epilogue(op(A[b]) op(B[b]) + bias), transposed
// operands read in place, one B shared by every batch index, boundary tiles zero-padded.
//   TF32: fp32 operands rounded to tf32 (cvt.rna.tf32.f32) while staging, mma.sync m16n8k8, fp32 accumulation.
//   BF16: fp32 operands rounded to bf16 (round to nearest even) while staging, or bf16 operands as they are
//         (attnkit_gemm_bf16), mma.sync m16n8k16, fp32 accumulation.
// Kernels (every output summed by one thread in a fixed k order: deterministic):
//   gemm_mma_cp   fp32 buffers whose rows are 16-byte aligned along each operand's contiguous index (TF32 or
//                 BF16, any transposes): 128 x 128 x 16 tiles, 8 warps of 64 x 32, 4-stage cp.async ring of
//                 fp32 slices, rounding while the fragments are read (TF32 k-contiguous operands through
//                 ldmatrix.x4 on fp32 rows). TF32 at 8192^3 on an H200: 10.0 ms, 110 TFLOP/s.
//   gemm_mma      every other shape: 128 x 128 x 32 tiles, the next slice loaded into registers (and
//                 converted) while the tensor cores work on the current one (register-staged double buffer).
//                 Ran on an H200 (correct, but 16 TFLOP/s TF32 at 8192^3: 219 registers, one block per SM,
//                 per-element loads, conversions and index arithmetic in the main loop).
//   gemm_bf16_sw  bf16 buffers in the x W^T layout (a [M,K], w [N,K], K % 8 == 0, 16-byte aligned): 128 x 256 x 64
//                 tiles, 8 warps of 64 x 64, 4-stage cp.async ring, XOR-swizzled unpadded shared rows, ldmatrix.x4,
//                 A/B fragments double-buffered in registers across k16 steps, 1-D grouped grid. 371 TFLOP/s at
//                 8192^3 on an H200 (2.965 ms). Other bf16-buffer layouts take gemm_mma.
// Every kernel here ran on an H200 (2026-12-04): cuda/tools/bench_gemm.cu against double references, the Java
// equivalence tests, compute-sanitizer memcheck and racecheck. The alternatives that lost there (the padded-row
// bf16 kernel gemm_bf16_kc, 262 TFLOP/s, and four other gemm_bf16_sw tile configurations) are in git history,
// last in commit 9d0ecd7; their figures are at gemm_bf16_sw below.
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

// Two adjacent outputs (the address is 2-element aligned): one 64-bit or 32-bit store.
__device__ __forceinline__ void store_pair(float* p, float a, float b) { *reinterpret_cast<float2*>(p) = make_float2(a, b); }
__device__ __forceinline__ void store_pair(__nv_bfloat16* p, float a, float b) {
    *reinterpret_cast<__nv_bfloat162*>(p) = __floats2bfloat162_rn(a, b);
}

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

// Epilogue of the 128 x 128 tiles (8 warps of 64 x 32) straight from the accumulators: element e of tile
// (i, j) is row g + 8 (e / 2), column 2t + e % 2 of that tile. Under GLU a warp's n-tiles 0, 1 hold
// a-columns and 2, 3 the matching gates (epi_physical_col with group WARP_N).
template <int EPI, typename TOut>
__device__ __forceinline__ void epilogue_128x128(const float (&acc)[4][4][4], TOut* __restrict__ Y,
        float* __restrict__ Z, const float* __restrict__ bias, int M, int N, int m0, int wm, int wn, int g, int t) {
    constexpr bool GLU = EPI == EPI_GLU;
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

    epilogue_128x128<EPI>(acc, Y, Z, bias, M, N, m0, wm, wn, g, t);
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

// ---- fp32 buffers on tensor cores (TF32, BF16) with 16-byte aligned rows along the contiguous index of each
// operand: the same 128 x 128 tiles, warps, fragments, GLU map and epilogue as gemm_mma, but the operands
// are copied as they are (fp32) with 16-byte cp.async into a 4-stage ring of 16-deep K slices (dynamic
// shared memory, at most 96 KiB: two blocks per SM), and rounded to tf32 (cvt.rna) or to bf16 pairs (round
// to nearest even) as the fragments are read: the same values gemm_mma stages, without its per-element
// global loads, conversions and index arithmetic on the critical path. AKC: A k-contiguous (stored [M,K]),
// else m-contiguous ([K,M]); BKC: B k-contiguous ([N,K]), else n-contiguous ([K,N]). Shared rows follow the
// stored layout; paddings keep the fragment reads on 32 distinct banks:
//   k-contiguous rows: TF32 20 words (bank 20g + t), BF16 24 words (float2 reads, 24g + 2t per half warp);
//   m/n-contiguous rows: TF32 136 words (bank 8t + g), BF16 132 words (rows 2t and 2t + 1: 8t + g, 8t + 4 + g).
constexpr int CP_BK = 16, CP_STAGES = 4;

template <int PREC, bool KC, int ROWS>
struct CpLayout {
    static constexpr int LD = KC ? CP_BK + (PREC == PREC_TF32 ? 4 : 8) : ROWS + (PREC == PREC_TF32 ? 8 : 4);
    static constexpr int ELEMS = KC ? ROWS * LD : CP_BK * LD;
    // Element (row r, k) of the slice.
    __device__ __forceinline__ static int at(int r, int k) { return KC ? r * LD + k : k * LD + r; }
};

template <int PREC>
constexpr size_t cp_smem_bytes(bool akc, bool bkc) {
    return (size_t)CP_STAGES * sizeof(float) *
            ((akc ? CpLayout<PREC, true, BM>::ELEMS : CpLayout<PREC, false, BM>::ELEMS) +
                    (bkc ? CpLayout<PREC, true, BN>::ELEMS : CpLayout<PREC, false, BN>::ELEMS));
}

template <int PREC, bool AKC, bool BKC, int EPI>
__global__ void __launch_bounds__(THREADS, 2) gemm_mma_cp(float* __restrict__ Y, float* __restrict__ Z,
        const float* __restrict__ A, const float* __restrict__ Bm, const float* __restrict__ bias, int M, int N,
        int Kd, long long sam, long long sak, long long sbk, long long sbn, long long strideA, long long strideB,
        long long strideY, long long strideZ) {
    using LA = CpLayout<PREC, AKC, BM>;
    using LB = CpLayout<PREC, BKC, BN>;
    constexpr bool GLU = EPI == EPI_GLU;
    constexpr int STAGE = LA::ELEMS + LB::ELEMS;
    extern __shared__ __align__(128) unsigned char cp_smem_raw[];
    float* smem = reinterpret_cast<float*>(cp_smem_raw);

    const int batch = blockIdx.z;
    A += batch * strideA;
    Bm += batch * strideB;
    Y += batch * strideY;
    if (Z) Z += batch * strideZ;
    const int m0 = blockIdx.y * BM;
    const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
    const int wm = warp / 4, wn = warp % 4;
    const int g = lane / 4, t = lane % 4;
    const int q = lane / 8, rr = lane % 8;  // ldmatrix (TF32, k-contiguous): row rr of matrix q

    // One slice of an operand is 512 chunks of 4 floats, 2 per thread: chunk c = tid + 256 l is, k-contiguous,
    // row c / 4 and k 4 (c % 4); else k c / 32 and rows 4 (c % 32) .. + 3. The launcher guarantees that a
    // chunk is wholly inside or wholly outside the matrix and 16-byte aligned (for GLU, 4 consecutive logical
    // columns are 4 consecutive physical ones: (N/2) % 4 == 0).
    auto load = [&](int stage, int k0) {
        float* as = smem + stage * STAGE;
        float* bs = as + LA::ELEMS;
#pragma unroll
        for (int l = 0; l < 2; l++) {
            const int c = tid + l * THREADS;
            const int r = AKC ? c / 4 : 4 * (c % 32), k = AKC ? 4 * (c % 4) : c / 32;
            const int gm = m0 + r, gk = k0 + k;
            const bool v = gm < M && gk < Kd;
            cp_async16(as + LA::at(r, k), v ? A + gm * sam + gk * sak : A, v);
        }
#pragma unroll
        for (int l = 0; l < 2; l++) {
            const int c = tid + l * THREADS;
            const int r = BKC ? c / 4 : 4 * (c % 32), k = BKC ? 4 * (c % 4) : c / 32;
            const int gn = epi_physical_col<GLU>(blockIdx.x, BN, WARP_N, r, N), gk = k0 + k;
            const bool v = gn >= 0 && gk < Kd;
            cp_async16(bs + LB::at(r, k), v ? Bm + gk * sbk + gn * sbn : Bm, v);
        }
    };

    float acc[4][4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++)
#pragma unroll
            for (int e = 0; e < 4; e++) acc[i][j][e] = 0.f;

    const int slices = (Kd + CP_BK - 1) / CP_BK;
#pragma unroll
    for (int s = 0; s < CP_STAGES - 1; s++) {
        if (s < slices) load(s, s * CP_BK);
        cp_async_commit();
    }
    for (int kt = 0; kt < slices; kt++) {
        cp_async_wait<CP_STAGES - 2>();
        __syncthreads();  // slice kt visible to all; every warp has left slice kt - 1, whose stage is refilled
        if (kt + CP_STAGES - 1 < slices) load((kt + CP_STAGES - 1) % CP_STAGES, (kt + CP_STAGES - 1) * CP_BK);
        cp_async_commit();
        const float* as = smem + (kt % CP_STAGES) * STAGE;
        const float* bs = as + LA::ELEMS;
        if constexpr (PREC == PREC_TF32) {
#pragma unroll
            for (int kk = 0; kk < CP_BK; kk += 8) {
                uint32_t af[4][4], bf[4][2];
                // k-contiguous rows: an 8 x 8 b16 ldmatrix matrix is 8 rows x 4 fp32, and lane l receives the
                // 32-bit element (row l / 4, k l % 4) = (g, t): exactly a tf32 fragment register. Matrices
                // (rows +0, k +0), (rows +8, k +0), (rows +0, k +4), (rows +8, k +4) = a0..a3; for B, (n +0, k +0),
                // (n +0, k +4), (n +8, k +0), (n +8, k +4) = b0, b1 of two n8 tiles. 80-byte rows: the 8 row
                // addresses of a matrix fall on distinct 16-byte bank groups.
#pragma unroll
                for (int i = 0; i < 4; i++) {
                    int r = wm * 64 + i * 16 + g;
                    if constexpr (AKC) {
                        uint32_t v[4];
                        ldmatrix_x4(v, as + LA::at(wm * 64 + i * 16 + rr + 8 * (q % 2), kk + 4 * (q / 2)));
#pragma unroll
                        for (int e = 0; e < 4; e++) af[i][e] = to_tf32(__uint_as_float(v[e]));
                    } else {
                        af[i][0] = to_tf32(as[LA::at(r, kk + t)]);
                        af[i][1] = to_tf32(as[LA::at(r + 8, kk + t)]);
                        af[i][2] = to_tf32(as[LA::at(r, kk + t + 4)]);
                        af[i][3] = to_tf32(as[LA::at(r + 8, kk + t + 4)]);
                    }
                }
                if constexpr (BKC) {
#pragma unroll
                    for (int jp = 0; jp < 2; jp++) {
                        uint32_t v[4];
                        ldmatrix_x4(v, bs + LB::at(wn * WARP_N + jp * 16 + rr + 8 * (q / 2), kk + 4 * (q % 2)));
                        bf[2 * jp][0] = to_tf32(__uint_as_float(v[0]));
                        bf[2 * jp][1] = to_tf32(__uint_as_float(v[1]));
                        bf[2 * jp + 1][0] = to_tf32(__uint_as_float(v[2]));
                        bf[2 * jp + 1][1] = to_tf32(__uint_as_float(v[3]));
                    }
                } else {
#pragma unroll
                    for (int j = 0; j < 4; j++) {
                        int c = wn * WARP_N + j * 8 + g;
                        bf[j][0] = to_tf32(bs[LB::at(c, kk + t)]);
                        bf[j][1] = to_tf32(bs[LB::at(c, kk + t + 4)]);
                    }
                }
#pragma unroll
                for (int i = 0; i < 4; i++)
#pragma unroll
                    for (int j = 0; j < 4; j++) mma_tf32(acc[i][j], af[i], bf[j]);
            }
        } else {
            // Pair (k, k + 1) of row r as one bf16x2 register, the lower k in the low half.
            auto pairA = [&](int r, int k) {
                if constexpr (AKC) {
                    float2 v = *reinterpret_cast<const float2*>(as + LA::at(r, k));
                    return pack_bf16(v.x, v.y);
                } else {
                    return pack_bf16(as[LA::at(r, k)], as[LA::at(r, k + 1)]);
                }
            };
            auto pairB = [&](int r, int k) {
                if constexpr (BKC) {
                    float2 v = *reinterpret_cast<const float2*>(bs + LB::at(r, k));
                    return pack_bf16(v.x, v.y);
                } else {
                    return pack_bf16(bs[LB::at(r, k)], bs[LB::at(r, k + 1)]);
                }
            };
#pragma unroll
            for (int kk = 0; kk < CP_BK; kk += 16) {
                uint32_t af[4][4], bf[4][2];
#pragma unroll
                for (int i = 0; i < 4; i++) {
                    int r = wm * 64 + i * 16 + g;
                    af[i][0] = pairA(r, kk + 2 * t);
                    af[i][1] = pairA(r + 8, kk + 2 * t);
                    af[i][2] = pairA(r, kk + 2 * t + 8);
                    af[i][3] = pairA(r + 8, kk + 2 * t + 8);
                }
#pragma unroll
                for (int j = 0; j < 4; j++) {
                    int c = wn * WARP_N + j * 8 + g;
                    bf[j][0] = pairB(c, kk + 2 * t);
                    bf[j][1] = pairB(c, kk + 2 * t + 8);
                }
#pragma unroll
                for (int i = 0; i < 4; i++)
#pragma unroll
                    for (int j = 0; j < 4; j++) mma_bf16(acc[i][j], af[i], bf[j]);
            }
        }
    }
    cp_async_wait<0>();
    epilogue_128x128<EPI>(acc, Y, Z, bias, M, N, m0, wm, wn, g, t);
}

template <int PREC, bool AKC, bool BKC, int EPI>
cudaError_t launch_mma_cp(float* Y, float* Z, const float* A, const float* Bm, const float* bias, int batch, int M,
        int N, int Kd, bool shareB) {
    long long sam = AKC ? Kd : 1, sak = AKC ? 1 : M;
    long long sbk = BKC ? 1 : N, sbn = BKC ? Kd : 1;
    long long nOut = EPI == EPI_GLU ? N / 2 : N;
    constexpr size_t smem = cp_smem_bytes<PREC>(AKC, BKC);
    auto kernel = gemm_mma_cp<PREC, AKC, BKC, EPI>;
    cudaError_t e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
    if (e != cudaSuccess) return e;
    dim3 grid(ceil_div(N, BN), ceil_div(M, BM), batch);
    kernel<<<grid, THREADS, smem>>>(Y, Z, A, Bm, bias, M, N, Kd, sam, sak, sbk, sbn, (long long)M * Kd,
            shareB ? 0LL : (long long)Kd * N, (long long)M * nOut, (long long)M * N);
    return cudaGetLastError();
}

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

// The cp.async kernel when every 4-float chunk along each operand's contiguous index is 16-byte aligned and
// wholly in or out of the matrix; else the register-staged gemm_mma (any shape, any alignment).
template <int PREC, int EPI>
cudaError_t launch_ex(float* Y, float* Z, const float* A, const float* Bm, const float* bias, int batch, int M, int N,
        int Kd, bool transA, bool transB, bool shareB) {
    const bool aOk = aligned16(A) && (transA ? M % 4 == 0 : Kd % 4 == 0);
    const bool bOk = aligned16(Bm) && (transB ? Kd % 4 == 0 : (EPI == EPI_GLU ? (N / 2) % 4 == 0 : N % 4 == 0));
    if (Kd > 0 && aOk && bOk) {
        if (!transA && transB) return launch_mma_cp<PREC, true, true, EPI>(Y, Z, A, Bm, bias, batch, M, N, Kd, shareB);
        if (!transA && !transB) return launch_mma_cp<PREC, true, false, EPI>(Y, Z, A, Bm, bias, batch, M, N, Kd, shareB);
        if (transA && transB) return launch_mma_cp<PREC, false, true, EPI>(Y, Z, A, Bm, bias, batch, M, N, Kd, shareB);
        return launch_mma_cp<PREC, false, false, EPI>(Y, Z, A, Bm, bias, batch, M, N, Kd, shareB);
    }
    return launch_mma<PREC, float, float, EPI>(Y, Z, A, Bm, bias, batch, M, N, Kd, transA, transB, shareB);
}

template <int PREC>
cudaError_t dispatch_epilogue(float* Y, float* Z, const float* A, const float* Bm, const float* bias, int batch,
        int M, int N, int Kd, bool transA, bool transB, bool shareB, int epilogue) {
    switch (epilogue) {
        case EPI_NONE: return launch_ex<PREC, EPI_NONE>(Y, Z, A, Bm, bias, batch, M, N, Kd, transA, transB, shareB);
        case EPI_RELU: return launch_ex<PREC, EPI_RELU>(Y, Z, A, Bm, bias, batch, M, N, Kd, transA, transB, shareB);
        case EPI_GELU: return launch_ex<PREC, EPI_GELU>(Y, Z, A, Bm, bias, batch, M, N, Kd, transA, transB, shareB);
        case EPI_TANH: return launch_ex<PREC, EPI_TANH>(Y, Z, A, Bm, bias, batch, M, N, Kd, transA, transB, shareB);
        case EPI_SIGMOID:
            return launch_ex<PREC, EPI_SIGMOID>(Y, Z, A, Bm, bias, batch, M, N, Kd, transA, transB, shareB);
        default: return launch_ex<PREC, EPI_GLU>(Y, Z, A, Bm, bias, batch, M, N, Kd, transA, transB, shareB);
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
// 16-byte aligned (gemm_bf16_sw). 128 x 256 output tiles per block of 8 warps (2 x 4, 64 x 64 outputs each, 128
// fp32 accumulators per thread), 64-deep K slices copied with 16-byte cp.async straight into a 4-stage ring of
// shared memory (dynamic, 192 KiB: one block per SM), so three slices are in flight while the tensor cores work
// on the fourth; chunks past K are zero-filled (K % 8 == 0: whole chunks), rows past M or N too. And
//   - shared rows of exactly 64 halves (128 bytes) with the 16-byte chunks XOR-swizzled (chunk c of row r stored
//     at c ^ (r % 8)): the 8 rows of an ldmatrix matrix and the 8 chunks a cp.async phase writes land on 8
//     distinct 16-byte bank groups, without padding;
//   - A and B fragments (ldmatrix.x4) double-buffered in registers across the k16 steps of a slice (the ldmatrix
//     of step s + 1 issued before the 32 mma of step s);
//   - a 1-D grid rasterized in groups of SW_GROUP row tiles (blocks resident together share A and B panels in L2).
// One barrier per slice. Epilogue: bias, fp32 or bf16 output (bf16 pairs stored as one 32-bit word when N is even).
// On the H200 (2026-12-04, cuda/tools/bench_gemm.cu, 8192^3): 2.965 ms, 371 TFLOP/s, the fastest of the
// configurations timed side by side (128 x 256 x 64 in 3 stages 3.003 ms, 256 x 128 x 64 in 3 stages 3.010,
// 128 x 256 x 32 in 4 stages 3.399 and in 6 stages 3.526) and of the first kernel of this layout, gemm_bf16_kc
// (128 x 256 x 32 in 4 stages with padded 80-byte rows, KC_GROUP 16 on a 2-D grid: 4.197 ms, 262 TFLOP/s). Those
// kernels served no shape that this one does not; they and the tuning hook that chose among them
// (gemm_set_variant) are in git history, last in commit 9d0ecd7.
constexpr int SW_BM = 128, SW_BN = 256, SW_BK = 64, SW_STAGES = 4, SW_GROUP = 8;
constexpr size_t SW_SMEM = (size_t)SW_STAGES * (SW_BM + SW_BN) * SW_BK * sizeof(__nv_bfloat16);  // 196608 bytes

// Tile (tm, tn) of linear block id `id` in a tiles_m x tiles_n grid, grouped by `group` row tiles:
// consecutive ids walk down a column of `group` row tiles, then to the next column.
__device__ __forceinline__ void grouped_tile(long long id, int tiles_m, int tiles_n, int group, int& tm, int& tn) {
    long long per_group = (long long)group * tiles_n;
    int first_m = (int)(id / per_group) * group;
    int gsize = min(tiles_m - first_m, group);
    int r = (int)(id % per_group);
    tm = first_m + r % gsize;
    tn = r / gsize;
}

// Element offset of chunk c (8 halves) of row r in a stage: 128-byte rows, chunks XOR-swizzled by r % 8.
__device__ __forceinline__ int sw_off(int r, int c) { return r * SW_BK + ((c ^ (r & 7)) << 3); }

template <typename TOut>
__global__ void __launch_bounds__(THREADS, 1) gemm_bf16_sw(TOut* __restrict__ Y, const __nv_bfloat16* __restrict__ A,
        const __nv_bfloat16* __restrict__ Bm, const float* __restrict__ bias, int M, int N, int Kd,
        long long strideA, long long strideB, long long strideY, bool pairStores) {
    constexpr int SW_WN = SW_BN / 64;  // warps across N
    static_assert((SW_BM / 64) * SW_WN == THREADS / 32, "8 warps of 64 x 64");
    constexpr int CPR = SW_BK / 8;  // 16-byte chunks per row
    constexpr int ROWS_PER_PASS = THREADS / CPR;
    constexpr int A_ITERS = SW_BM / ROWS_PER_PASS, B_ITERS = SW_BN / ROWS_PER_PASS;
    constexpr int STAGE = (SW_BM + SW_BN) * SW_BK;  // elements per stage
    constexpr int KSTEPS = SW_BK / 16;
    extern __shared__ __align__(128) unsigned char sw_smem[];
    __nv_bfloat16* smem = reinterpret_cast<__nv_bfloat16*>(sw_smem);

    const int batch = blockIdx.z;
    A += batch * strideA;
    Bm += batch * strideB;
    Y += batch * strideY;
    const int tilesN = (N + SW_BN - 1) / SW_BN, tilesM = (M + SW_BM - 1) / SW_BM;
    int tm, tn;
    grouped_tile(blockIdx.x, tilesM, tilesN, SW_GROUP, tm, tn);
    const int m0 = tm * SW_BM, n0 = tn * SW_BN;
    const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
    const int wm = warp / SW_WN, wn = warp % SW_WN;
    const int g = lane / 4, t = lane % 4;
    const int q = lane / 8, rr = lane % 8;  // ldmatrix: this lane addresses row rr of matrix q

    // Staging: chunk c = tid % CPR of rows tid / CPR + l * ROWS_PER_PASS.
    const int cc = tid % CPR, row0 = tid / CPR;
    const __nv_bfloat16* pa = A + (long long)min(m0 + row0, M - 1) * Kd + cc * 8;
    const __nv_bfloat16* pb = Bm + (long long)min(n0 + row0, N - 1) * Kd + cc * 8;
    auto load = [&](int stage, int k0) {
        __nv_bfloat16* as = smem + stage * STAGE;
        __nv_bfloat16* bs = as + SW_BM * SW_BK;
        const bool kin = k0 + cc * 8 < Kd;
#pragma unroll
        for (int l = 0; l < A_ITERS; l++) {
            const int r = row0 + l * ROWS_PER_PASS;
            const bool v = kin && m0 + r < M;
            cp_async16(as + sw_off(r, cc), v ? pa + (long long)l * ROWS_PER_PASS * Kd + k0 : A, v);
        }
#pragma unroll
        for (int l = 0; l < B_ITERS; l++) {
            const int r = row0 + l * ROWS_PER_PASS;
            const bool v = kin && n0 + r < N;
            cp_async16(bs + sw_off(r, cc), v ? pb + (long long)l * ROWS_PER_PASS * Kd + k0 : Bm, v);
        }
    };

    float acc[4][8][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 8; j++)
#pragma unroll
            for (int e = 0; e < 4; e++) acc[i][j][e] = 0.f;

    // Fragments of k16 step s of a stage: A tile i = ldmatrix.x4 of matrices (rows +0 | +8) x (k +0 | +8),
    // B pair jp = (n +0 | +8) x (k +0 | +8) giving b0, b1 of n8 tiles 2 jp and 2 jp + 1. Every row r that this lane
    // addresses has r % 8 == rr: the swizzle term.
    uint32_t af[2][4][4], bf[2][4][4];
    auto frags = [&](int buf, const __nv_bfloat16* as, const __nv_bfloat16* bs, int s) {
#pragma unroll
        for (int i = 0; i < 4; i++) {
            const int r = wm * 64 + i * 16 + rr + 8 * (q % 2), c = 2 * s + q / 2;
            ldmatrix_x4(af[buf][i], as + r * SW_BK + ((c ^ rr) << 3));
        }
#pragma unroll
        for (int jp = 0; jp < 4; jp++) {
            const int r = wn * 64 + jp * 16 + rr + 8 * (q / 2), c = 2 * s + q % 2;
            ldmatrix_x4(bf[buf][jp], bs + r * SW_BK + ((c ^ rr) << 3));
        }
    };

    const int slices = (Kd + SW_BK - 1) / SW_BK;
#pragma unroll
    for (int s = 0; s < SW_STAGES - 1; s++) {
        if (s < slices) load(s, s * SW_BK);
        cp_async_commit();
    }
    for (int kt = 0; kt < slices; kt++) {
        cp_async_wait<SW_STAGES - 2>();
        __syncthreads();
        const __nv_bfloat16* as = smem + (kt % SW_STAGES) * STAGE;
        const __nv_bfloat16* bs = as + SW_BM * SW_BK;
        frags(0, as, bs, 0);
        if (kt + SW_STAGES - 1 < slices) load((kt + SW_STAGES - 1) % SW_STAGES, (kt + SW_STAGES - 1) * SW_BK);
        cp_async_commit();
#pragma unroll
        for (int s = 0; s < KSTEPS; s++) {
            if (s + 1 < KSTEPS) frags((s + 1) & 1, as, bs, s + 1);
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 8; j++) {
                    const uint32_t b2[2] = {bf[s & 1][j / 2][(j % 2) * 2], bf[s & 1][j / 2][(j % 2) * 2 + 1]};
                    mma_bf16(acc[i][j], af[s & 1][i], b2);
                }
        }
    }
    cp_async_wait<0>();

#pragma unroll
    for (int j = 0; j < 8; j++) {
        const int gn = n0 + wn * 64 + j * 8 + 2 * t;
        const float b0 = (bias && gn < N) ? bias[gn] : 0.f;
        const float b1 = (bias && gn + 1 < N) ? bias[gn + 1] : 0.f;
#pragma unroll
        for (int i = 0; i < 4; i++) {
#pragma unroll
            for (int h = 0; h < 2; h++) {
                long long gm = m0 + wm * 64 + i * 16 + g + 8 * h;
                if (gm >= M) continue;
                float v0 = acc[i][j][2 * h] + b0, v1 = acc[i][j][2 * h + 1] + b1;
                TOut* p = Y + gm * N + gn;
                if (pairStores && gn + 1 < N) {
                    store_pair(p, v0, v1);
                } else {
                    if (gn < N) store_out(p, v0);
                    if (gn + 1 < N) store_out(p + 1, v1);
                }
            }
        }
    }
}

template <typename TOut>
cudaError_t launch_bf16_xwt(TOut* Y, const __nv_bfloat16* A, const __nv_bfloat16* Bm, const float* bias, int batch,
        int M, int N, int Kd, bool shareB) {
    auto kernel = gemm_bf16_sw<TOut>;
    cudaError_t e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)SW_SMEM);
    if (e != cudaSuccess) return e;
    long long tiles = (long long)ceil_div(M, SW_BM) * ceil_div(N, SW_BN);
    if (tiles > 0x7fffffffLL) return cudaErrorInvalidValue;
    dim3 grid((unsigned)tiles, 1, batch);
    bool pairStores = N % 2 == 0 && (reinterpret_cast<uintptr_t>(Y) % (2 * sizeof(TOut))) == 0;
    kernel<<<grid, THREADS, SW_SMEM>>>(Y, A, Bm, bias, M, N, Kd, (long long)M * Kd, shareB ? 0LL : (long long)N * Kd,
            (long long)M * N, pairStores);
    return cudaGetLastError();
}

}  // namespace

cudaError_t gemm_ex(float* Y, float* Z, const float* A, const float* Bm, const float* bias, int batch, int M, int N,
        int Kd, bool transA, bool transB, bool shareB, int precision, int epilogue) {
    if (batch <= 0 || M <= 0 || N <= 0) return cudaSuccess;  // empty output: nothing to launch (never 0 blocks)
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
    if (batch <= 0 || M <= 0 || N <= 0) return cudaSuccess;  // empty output: nothing to launch (never 0 blocks)
    const __nv_bfloat16* a = static_cast<const __nv_bfloat16*>(A);
    const __nv_bfloat16* b = static_cast<const __nv_bfloat16*>(Bm);
    // x W^T layout with whole 16-byte chunks along K: the cp.async kernel; anything else: the staging kernel.
    if (!transA && transB && Kd > 0 && Kd % 8 == 0 && aligned16(a) && aligned16(b)) {
        if (outBf16) {
            return launch_bf16_xwt(static_cast<__nv_bfloat16*>(C), a, b, bias, batch, M, N, Kd, shareB);
        }
        return launch_bf16_xwt(static_cast<float*>(C), a, b, bias, batch, M, N, Kd, shareB);
    }
    if (outBf16) {
        return launch_mma<PREC_BF16, __nv_bfloat16, __nv_bfloat16, EPI_NONE>(static_cast<__nv_bfloat16*>(C),
                nullptr, a, b, bias, batch, M, N, Kd, transA, transB, shareB);
    }
    return launch_mma<PREC_BF16, __nv_bfloat16, float, EPI_NONE>(static_cast<float*>(C), nullptr, a, b, bias, batch,
            M, N, Kd, transA, transB, shareB);
}

cudaError_t f32_to_bf16(void* out, const float* in, long long n) {
    if (n <= 0) return cudaSuccess;  // a grid of 0 blocks is an invalid launch
    f32_to_bf16_kernel<<<grid_for(n), 256>>>(static_cast<__nv_bfloat16*>(out), in, n);
    return cudaGetLastError();
}

cudaError_t bf16_to_f32(float* out, const void* in, long long n) {
    if (n <= 0) return cudaSuccess;
    bf16_to_f32_kernel<<<grid_for(n), 256>>>(out, static_cast<const __nv_bfloat16*>(in), n);
    return cudaGetLastError();
}

}  // namespace attnkit
