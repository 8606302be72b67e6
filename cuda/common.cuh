// common.cuh: what every attnkit kernel file shares: the Philox stream of org.attnkit.random.Philox,
// DropConnect factors, block sizes, and small deterministic helpers.
#pragma once
#include <cuda_runtime.h>
#include <stdint.h>

namespace attnkit {

// Philox4x32-10, bit for bit the Java org.attnkit.random.Philox.block.
__device__ __forceinline__ uint4 philox_block(uint4 c, uint2 k) {
    const uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u, W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
#pragma unroll
    for (int round = 0; round < 10; round++) {
        uint32_t hi0 = __umulhi(M0, c.x), lo0 = M0 * c.x;
        uint32_t hi1 = __umulhi(M1, c.z), lo1 = M1 * c.z;
        c = make_uint4(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
        k.x += W0;
        k.y += W1;
    }
    return c;
}

// DropConnect of one call. keep when (word >>> 8) >= threshold, threshold = ceil(p * 2^24) computed on
// the host in double: the same decision as Java's uniform(...) >= p, without float rounding of p.
struct Drop {
    uint32_t threshold;  // 0 = inactive
    float scale;         // 1/(1-p)
    uint64_t seed;
    uint64_t offset;
    int position;        // 1 = POSITION scope, 0 = HEAD_KERNEL
};

__device__ __forceinline__ float drop_factor(const Drop& d, uint64_t index) {
    if (d.threshold == 0) return 1.0f;
    uint64_t ctr = index >> 2;
    uint4 out = philox_block(make_uint4((uint32_t)ctr, (uint32_t)(ctr >> 32), (uint32_t)d.offset,
                                        (uint32_t)(d.offset >> 32)),
                             make_uint2((uint32_t)d.seed, (uint32_t)(d.seed >> 32)));
    uint32_t lane = (uint32_t)(index & 3);
    uint32_t word = lane == 0 ? out.x : lane == 1 ? out.y : lane == 2 ? out.z : out.w;
    return (word >> 8) >= d.threshold ? d.scale : 0.0f;
}

__device__ __forceinline__ uint64_t head_kernel_index(int h, int k, int K) {
    return (uint64_t)h * K + k;
}

__device__ __forceinline__ uint64_t position_index(int b, int t, int h, int k, int T, int H, int K) {
    return (((uint64_t)b * T + t) * H + h) * K + k;
}

inline int ceil_div(long long a, long long b) { return (int)((a + b - 1) / b); }

}  // namespace attnkit
