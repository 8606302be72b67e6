// shape.cu: the data movement of the graph on CUDA (issue 5, a whole training step on the device).
//  - strided_copy: one gather/scatter kernel for permute, slice, concat, expand (a reduction's backward)
//    and their backward: every output coordinate reads one input element at arbitrary strides.
//  - broadcast_op: NumPy-broadcast elementwise add/sub/mul/div and the gradient products of sub and div.
//  - strided_sum: a sum over any set of dims (a broadcast operand's gradient, Sum/Mean over middle dims),
//    one thread per output accumulating in double in a fixed order (deterministic, no atomics).
// Shapes are at most 8 dims; the host side packs dims and strides into a struct passed by value.
// The per-element work is in __host__ __device__ functions that the kernels and the *_host loops (the
// attnkit_*_host entry points: tests run the kernels' own element code where there is no GPU) share.
// The element code is tested on the host; the kernels are verified on an H200 (2026-12-04: the CUDA equivalence tests
// pass).
#include "common.cuh"
#include "graph_launchers.h"

namespace attnkit {

namespace {

int grid_for_n(long long n) {
    long long blocks = (n + 255) / 256;
    return (int)(blocks < 1 ? 1 : blocks > 65535LL * 8 ? 65535LL * 8 : blocks);
}

// Element i (row-major over st.dims) of a strided copy.
__host__ __device__ __forceinline__ void strided_copy_element(float* out, const float* in, long long i,
        const Strides& st, float scale) {
    long long rest = i, o = 0, s = 0;
    for (int d = st.rank - 1; d >= 0; d--) {
        long long c = rest % st.dims[d];
        rest /= st.dims[d];
        o += c * st.s0[d];
        s += c * st.s1[d];
    }
    out[o] = scale == 1.f ? in[s] : scale * in[s];
}

// Element i of a broadcast op: 0 a+b, 1 a-b, 2 a*b, 3 a/b, 4 -a, 5 a * (-b / (c*c)).
__host__ __device__ __forceinline__ float broadcast_element(const float* a, const float* b, const float* c,
        long long i, const Strides& st, int op) {
    long long rest = i, ia = 0, ib = 0, ic = 0;
    for (int d = st.rank - 1; d >= 0; d--) {
        long long k = rest % st.dims[d];
        rest /= st.dims[d];
        ia += k * st.s0[d];
        ib += k * st.s1[d];
        ic += k * st.s2[d];
    }
    float va = a[ia];
    switch (op) {
        case 0: return va + b[ib];
        case 1: return va - b[ib];
        case 2: return va * b[ib];
        case 3: return va / b[ib];
        case 4: return -va;
        default: {
            float vc = c[ic];
            return va * (-b[ib] / (vc * vc));
        }
    }
}

// Output j of a strided sum: kept dims + strides (s0) locate the output's base, red dims + strides (s0) the
// summed coordinates, visited by an odometer with the last dim fastest (the reference's row-major order).
__host__ __device__ __forceinline__ float strided_sum_element(const float* in, long long j, long long nRed,
        const Strides& kept, const Strides& red, double scale) {
    long long rest = j, base = 0;
    for (int d = kept.rank - 1; d >= 0; d--) {
        long long c = rest % kept.dims[d];
        rest /= kept.dims[d];
        base += c * kept.s0[d];
    }
    double acc = 0.0;
    int coord[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    long long off = 0;
    for (long long r = 0; r < nRed; r++) {
        acc += (double)in[base + off];
        for (int e = red.rank - 1; e >= 0; e--) {
            coord[e]++;
            off += red.s0[e];
            if (coord[e] < red.dims[e]) break;
            off -= red.s0[e] * coord[e];
            coord[e] = 0;
        }
    }
    return (float)(acc * scale);
}

__global__ void strided_copy_kernel(float* __restrict__ out, const float* __restrict__ in, long long n,
        Strides st, float scale) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        strided_copy_element(out, in, i, st, scale);
    }
}

__global__ void broadcast_op_kernel(float* __restrict__ out, const float* __restrict__ a, const float* __restrict__ b,
        const float* __restrict__ c, long long n, Strides st, int op) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        out[i] = broadcast_element(a, b, c, i, st, op);
    }
}

__global__ void strided_sum_kernel(float* __restrict__ out, const float* __restrict__ in, long long nOut,
        long long nRed, Strides kept, Strides red, double scale) {
    for (long long j = (long long)blockIdx.x * blockDim.x + threadIdx.x; j < nOut;
            j += (long long)gridDim.x * blockDim.x) {
        out[j] = strided_sum_element(in, j, nRed, kept, red, scale);
    }
}

long long count(const Strides& s) {
    long long n = 1;
    for (int d = 0; d < s.rank; d++) n *= s.dims[d];
    return n;
}

}  // namespace

cudaError_t strided_copy(float* out, const float* in, const Strides& st, float scale) {
    long long n = count(st);
    if (n == 0) return cudaSuccess;
    strided_copy_kernel<<<grid_for_n(n), 256>>>(out, in, n, st, scale);
    return cudaGetLastError();
}

cudaError_t broadcast_op(float* out, const float* a, const float* b, const float* c, const Strides& st, int op) {
    long long n = count(st);
    if (n == 0) return cudaSuccess;
    broadcast_op_kernel<<<grid_for_n(n), 256>>>(out, a, b, c, n, st, op);
    return cudaGetLastError();
}

cudaError_t strided_sum(float* out, const float* in, const Strides& kept, const Strides& red, double scale) {
    long long nOut = count(kept);
    if (nOut == 0) return cudaSuccess;
    strided_sum_kernel<<<grid_for_n(nOut), 256>>>(out, in, nOut, count(red), kept, red, scale);
    return cudaGetLastError();
}

void strided_copy_host(float* out, const float* in, const Strides& st, float scale) {
    long long n = count(st);
    for (long long i = 0; i < n; i++) strided_copy_element(out, in, i, st, scale);
}

void broadcast_op_host(float* out, const float* a, const float* b, const float* c, const Strides& st, int op) {
    long long n = count(st);
    for (long long i = 0; i < n; i++) out[i] = broadcast_element(a, b, c, i, st, op);
}

void strided_sum_host(float* out, const float* in, const Strides& kept, const Strides& red, double scale) {
    long long nOut = count(kept), nRed = count(red);
    for (long long j = 0; j < nOut; j++) out[j] = strided_sum_element(in, j, nRed, kept, red, scale);
}

}  // namespace attnkit
