// mma_bf16.cuh: the warp-level tensor-core building blocks shared by cuda/gemm_mma.cu and cuda/attention_bf16.cu
// (sm_80+): mma.sync m16n8k16 bf16 with fp32 accumulation, ldmatrix (plain and transposed) and 16-byte cp.async.
// PTX ISA fragment layouts of m16n8k16 (g = lane / 4, t = lane % 4; a register holds two b16, the lower column
// (k) in the low half):
//   A (16 x 16, row): a0 (g, 2t..2t+1), a1 (g+8, 2t..2t+1), a2 (g, 2t+8..2t+9), a3 (g+8, 2t+8..2t+9)
//   B (16 x 8, col):  b0 (k 2t..2t+1, n g), b1 (k 2t+8..2t+9, n g)
//   C/D (16 x 8 fp32): d0 (g, 2t), d1 (g, 2t+1), d2 (g+8, 2t), d3 (g+8, 2t+1)
// bench/tools/gemm_index_sim.py and bench/tools/attention_bf16_sim.py emulate these layouts on the host.
#pragma once

#include <cuda_bf16.h>
#include <stdint.h>

namespace attnkit {
namespace mma {

// d += a b for one m16 x n8 tile and one k16 step.
__device__ __forceinline__ void mma_bf16(float* d, const uint32_t* a, const uint32_t* b) {
    asm volatile(
            "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
            "{%0,%1,%2,%3};\n"
            : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
            : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// 16 bytes global -> shared without passing through registers; valid false reads nothing and zero-fills the
// 16 bytes (gmem must still be a valid-looking address: callers pass the buffer's base).
__device__ __forceinline__ void cp_async16(void* smem, const void* gmem, bool valid) {
    unsigned s = (unsigned)__cvta_generic_to_shared(smem);
    int bytes = valid ? 16 : 0;
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(s), "l"(gmem), "r"(bytes));
}

__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }

// Waits until at most N committed groups of this thread are still in flight.
template <int N>
__device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N)); }

// Four 8 x 8 b16 matrices: lane l gives the address of row l % 8 of matrix l / 8 and receives, in register q,
// row l / 4, columns 2 (l % 4) and 2 (l % 4) + 1 of matrix q.
__device__ __forceinline__ void ldmatrix_x4(uint32_t* r, const void* smem) {
    unsigned s = (unsigned)__cvta_generic_to_shared(smem);
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(s));
}

// The same addresses, each matrix transposed on the way: register q of lane l receives rows 2 (l % 4) and
// 2 (l % 4) + 1, column l / 4 of matrix q (the stored matrix), the lower row in the low half.
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t* r, const void* smem) {
    unsigned s = (unsigned)__cvta_generic_to_shared(smem);
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(s));
}

// Two floats as one register of two bf16 (round to nearest even), lo in the low half.
__device__ __forceinline__ uint32_t pack_bf16(float lo, float hi) {
    __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<uint32_t*>(&v);
}

}  // namespace mma
}  // namespace attnkit
