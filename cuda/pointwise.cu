// pointwise.cu: dropout (the Philox stream of org.attnkit.random.Philox, via common.cuh) and the
// elementwise add/mul of two [rows, cols] tensors or of a [cols] row broadcast onto every row (the bias
// pattern). One thread per element, grid-stride. Compiled and verified on an H200 (2026-12-04: the CUDA equivalence
// tests pass).
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

// ---- Sum / Mean over the leading or trailing dims of a [rows, cols] view. Fixed summation orders. ----
namespace attnkit {
namespace {

// out[r] = scale * sum_c in[r, c]: one warp per row, lanes strided, butterfly in fixed order.
__global__ void row_sums(float* __restrict__ out, const float* __restrict__ in, int rows, long long cols,
        float scale) {
    const int r = blockIdx.x * 8 + threadIdx.x / 32;
    const int lane = threadIdx.x % 32;
    if (r >= rows) return;
    const float* row = in + (long long)r * cols;
    float s = 0.f;
    for (long long c = lane; c < cols; c += 32) s += row[c];
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
    if (lane == 0) out[r] = s * scale;
}

// out[c] = scale * sum_r in[r, c]: 32 columns x 8 row strides per block, partials added in order.
__global__ void col_sums(float* __restrict__ out, const float* __restrict__ in, long long rows, int cols,
        float scale) {
    __shared__ float red[8][33];
    const int col = blockIdx.x * 32 + threadIdx.x;
    float acc = 0.f;
    if (col < cols) {
        for (long long r = threadIdx.y; r < rows; r += 8) acc += in[r * cols + col];
    }
    red[threadIdx.y][threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.y == 0 && col < cols) {
        float s = 0.f;
        for (int i = 0; i < 8; i++) s += red[i][threadIdx.x];
        out[col] = s * scale;
    }
}

// out[r, c] = scale * dy[r] (alongCols) or scale * dy[c].
__global__ void expand_kernel(float* __restrict__ out, const float* __restrict__ dy, long long rows, long long cols,
        bool alongCols, float scale) {
    const long long n = rows * cols;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        out[i] = scale * dy[alongCols ? i / cols : i % cols];
    }
}

}  // namespace

cudaError_t reduce_sum(float* out, const float* in, long long rows, long long cols, int axis, float scale) {
    if (axis == 1) {
        row_sums<<<ceil_div(rows, 8), 256>>>(out, in, (int)rows, cols, scale);
    } else {
        col_sums<<<ceil_div(cols, 32), dim3(32, 8)>>>(out, in, rows, (int)cols, scale);
    }
    return cudaGetLastError();
}

cudaError_t expand(float* out, const float* dy, long long rows, long long cols, int axis, float scale) {
    expand_kernel<<<blocks_for(rows * cols), 256>>>(out, dy, rows, cols, axis == 1, scale);
    return cudaGetLastError();
}

}  // namespace attnkit

// ---- Embedding. Integer arrays travel as the bit patterns of floats (non-negative ints below 0x7F800000
// are finite float patterns, copied bit for bit); __float_as_int reads them back. ----
namespace attnkit {
namespace {

// out[i, d] = table[ids[i], d].
__global__ void embedding_gather(float* __restrict__ out, const float* __restrict__ table,
        const float* __restrict__ ids, long long n, int D) {
    const long long total = n * D;
    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < total;
            e += (long long)gridDim.x * blockDim.x) {
        long long i = e / D;
        int d = (int)(e % D);
        out[e] = table[(long long)__float_as_int(ids[i]) * D + d];
    }
}

// dtable[v, d] = sum of dy[order[p], d] for p in [start[v], start[v+1]): the positions of id v in index
// order (a stable counting sort done on the host), so the sum runs in the order i = 0, 1, ...
__global__ void embedding_segment_sum(float* __restrict__ dtable, const float* __restrict__ dy,
        const float* __restrict__ order, const float* __restrict__ start, int V, int D) {
    const long long total = (long long)V * D;
    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < total;
            e += (long long)gridDim.x * blockDim.x) {
        int v = (int)(e / D), d = (int)(e % D);
        int p0 = __float_as_int(start[v]), p1 = __float_as_int(start[v + 1]);
        float s = 0.f;
        for (int p = p0; p < p1; p++) s += dy[(long long)__float_as_int(order[p]) * D + d];
        dtable[e] = s;
    }
}

}  // namespace

cudaError_t embedding_forward(float* out, const float* table, const float* ids, long long n, int D) {
    embedding_gather<<<blocks_for(n * D), 256>>>(out, table, ids, n, D);
    return cudaGetLastError();
}

cudaError_t embedding_backward(float* dtable, const float* dy, const float* order, const float* start, int V,
        int D) {
    embedding_segment_sum<<<blocks_for((long long)V * D), 256>>>(dtable, dy, order, start, V, D);
    return cudaGetLastError();
}

}  // namespace attnkit

// ---- Activations, forward and backward, one element per thread. ----
namespace attnkit {
namespace {

__device__ __forceinline__ float sigmoid_stable(float x) {
    float e = expf(-fabsf(x));
    float r = 1.f / (1.f + e);
    return x < 0.f ? e * r : r;
}

// op: 0 tanh(x), 1 dy (1 - y^2) [x = y], 2 relu(x), 3 dy [x > 0], 4 sigmoid(x), 5 dy y (1 - y) [x = y],
// 6 gelu(x) = x Phi(x), 7 dy (Phi(x) + x phi(x)); Phi(x) = erfc(-x / sqrt 2) / 2 (exact in the far tail).
__global__ void unary_kernel(float* __restrict__ out, const float* __restrict__ x, const float* __restrict__ dy,
        long long n, int op) {
    const float INV_SQRT2 = 0.70710678118654752f, INV_SQRT_2PI = 0.39894228040143268f;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        float v = x[i];
        float r;
        switch (op) {
            case 0: r = tanhf(v); break;
            case 1: r = dy[i] * (1.f - v * v); break;
            case 2: r = v > 0.f ? v : 0.f; break;
            case 3: r = v > 0.f ? dy[i] : 0.f; break;
            case 4: r = sigmoid_stable(v); break;
            case 5: r = dy[i] * v * (1.f - v); break;
            case 6: r = v * 0.5f * erfcf(-v * INV_SQRT2); break;
            default: r = dy[i] * (0.5f * erfcf(-v * INV_SQRT2) + v * INV_SQRT_2PI * expf(-0.5f * v * v)); break;
        }
        out[i] = r;
    }
}

}  // namespace

cudaError_t unary(float* out, const float* x, const float* dy, long long n, int op) {
    unary_kernel<<<blocks_for(n), 256>>>(out, x, dy, n, op);
    return cudaGetLastError();
}

}  // namespace attnkit
