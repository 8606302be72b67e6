// common.cuh: what every attnkit kernel file shares: the Philox stream of org.attnkit.random.Philox,
// DropConnect factors, block sizes, and small deterministic helpers.
#pragma once
#include <cuda_runtime.h>
#include <stdint.h>

#include <cmath>

namespace attnkit {

__host__ __device__ __forceinline__ uint32_t mulhi32(uint32_t a, uint32_t b) {
#ifdef __CUDA_ARCH__
    return __umulhi(a, b);
#else
    return (uint32_t)(((uint64_t)a * b) >> 32);
#endif
}

// Philox4x32-10, bit for bit the Java org.attnkit.random.Philox.block. Host and device share this code so
// that the host build can be tested against Java where there is no GPU (attnkit_philox_word).
__host__ __device__ __forceinline__ uint4 philox_block(uint4 c, uint2 k) {
    const uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u, W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
#pragma unroll
    for (int round = 0; round < 10; round++) {
        uint32_t hi0 = mulhi32(M0, c.x), lo0 = M0 * c.x;
        uint32_t hi1 = mulhi32(M1, c.z), lo1 = M1 * c.z;
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

// The 32-bit word of element index in the stream (seed, offset).
__host__ __device__ __forceinline__ uint32_t philox_word(uint64_t seed, uint64_t offset, uint64_t index) {
    uint64_t ctr = index >> 2;
    uint4 out = philox_block(make_uint4((uint32_t)ctr, (uint32_t)(ctr >> 32), (uint32_t)offset,
                                        (uint32_t)(offset >> 32)),
                             make_uint2((uint32_t)seed, (uint32_t)(seed >> 32)));
    uint32_t lane = (uint32_t)(index & 3);
    return lane == 0 ? out.x : lane == 1 ? out.y : lane == 2 ? out.z : out.w;
}

// The Drop of one call, on the host: threshold = ceil(p * 2^24) (exact in double), so keep <=> u >= p.
inline Drop make_drop(double p, long long seed, long long offset, int position) {
    Drop d;
    d.threshold = p > 0 ? (uint32_t)ceil(p * 16777216.0) : 0u;
    d.scale = (float)(1.0 / (1.0 - p));
    d.seed = (uint64_t)seed;
    d.offset = (uint64_t)offset;
    d.position = position;
    return d;
}

__host__ __device__ __forceinline__ float drop_factor(const Drop& d, uint64_t index) {
    if (d.threshold == 0) return 1.0f;
    return (philox_word(d.seed, d.offset, index) >> 8) >= d.threshold ? d.scale : 0.0f;
}

__host__ __device__ __forceinline__ uint64_t head_kernel_index(int h, int k, int K) {
    return (uint64_t)h * K + k;
}

__host__ __device__ __forceinline__ uint64_t position_index(int b, int t, int h, int k, int T, int H, int K) {
    return (((uint64_t)b * T + t) * H + h) * K + k;
}

inline int ceil_div(long long a, long long b) { return (int)((a + b - 1) / b); }

}  // namespace attnkit
