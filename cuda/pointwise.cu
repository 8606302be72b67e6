// pointwise.cu: dropout (the Philox stream of org.attnkit.random.Philox, via common.cuh) and the
// elementwise add/mul of two [rows, cols] tensors or of a [cols] row broadcast onto every row (the bias
// pattern). One thread per element, grid-stride. Compiled, NOT yet run on a GPU.
#include "common.cuh"
#include "launchers.h"

namespace attnkit {
namespace {

__global__ void dropout_kernel(float* __restrict__ out, const float* __restrict__ in, long long n, Drop d) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        out[i] = in[i] * drop_factor(d, (uint64_t)i);
    }
}

// op 0: a + b, 1: a * b, 2: a (a copy; b unused); b is [rows, cols] (broadcastB false) or [cols] (broadcastB true).
__global__ void binary_kernel(float* __restrict__ out, const float* __restrict__ a, const float* __restrict__ b,
        long long n, long long cols, bool broadcastB, int op) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        if (op == 2) {
            out[i] = a[i];
            continue;
        }
        float bv = b[broadcastB ? i % cols : i];
        out[i] = op == 0 ? a[i] + bv : a[i] * bv;
    }
}

int blocks_for(long long n) {
    long long blocks = (n + 255) / 256;
    return (int)(blocks < 1 ? 1 : blocks > 65535 * 8 ? 65535 * 8 : blocks);
}

}  // namespace

cudaError_t dropout(float* out, const float* in, long long n, double p, long long seed, long long offset) {
    dropout_kernel<<<blocks_for(n), 256>>>(out, in, n, make_drop(p, seed, offset, 0));
    return cudaGetLastError();
}

cudaError_t binary(float* out, const float* a, const float* b, long long rows, long long cols, bool broadcastB,
        int op) {
    binary_kernel<<<blocks_for(rows * cols), 256>>>(out, a, b, rows * cols, cols, broadcastB, op);
    return cudaGetLastError();
}

}  // namespace attnkit
