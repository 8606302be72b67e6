// optim.cu: optimizer updates on the device (issue 5), one thread per element, reproducing the Java updates of
// org.attnkit.optim bit for bit: the same double arithmetic in the same order, written with the _rn
// intrinsics so that nvcc cannot contract a multiply and an add into an FMA (Java never does), and the same
// round-to-nearest conversions to float. Also the deterministic sum of squares and the scaling of gradient
// clipping. Compiled, NOT yet run on a GPU.
#include "common.cuh"
#include "graph_launchers.h"

namespace attnkit {
namespace {

int optim_grid(long long n) {
    long long blocks = (n + 255) / 256;
    return (int)(blocks < 1 ? 1 : blocks > 65535LL * 8 ? 65535LL * 8 : blocks);
}

__global__ void adam_kernel(float* __restrict__ p, const float* __restrict__ grad, float* __restrict__ m,
        float* __restrict__ v, long long n, double lr, double beta1, double beta2, double eps, double wd,
        bool decoupled, double c1, double c2) {
    const double oneMinusB1 = __dsub_rn(1.0, beta1);
    const double oneMinusB2 = __dsub_rn(1.0, beta2);
    const double decay = __dsub_rn(1.0, __dmul_rn(lr, wd));
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        double wi = (double)p[i];
        double g = (double)grad[i];
        if (decoupled) {
            wi = __dmul_rn(wi, decay);
        } else {
            g = __dadd_rn(g, __dmul_rn(wd, wi));
        }
        float mi = __double2float_rn(__dadd_rn(__dmul_rn(beta1, (double)m[i]), __dmul_rn(oneMinusB1, g)));
        float vi = __double2float_rn(__dadd_rn(__dmul_rn(beta2, (double)v[i]), __dmul_rn(__dmul_rn(oneMinusB2, g), g)));
        m[i] = mi;
        v[i] = vi;
        double mhat = __ddiv_rn((double)mi, c1);
        double vhat = __ddiv_rn((double)vi, c2);
        double step = __ddiv_rn(__dmul_rn(lr, mhat), __dadd_rn(__dsqrt_rn(vhat), eps));
        p[i] = __double2float_rn(__dsub_rn(wi, step));
    }
}

__global__ void sgd_kernel(float* __restrict__ p, const float* __restrict__ grad, float* __restrict__ buf, long long n,
        double lr, double momentum, double wd, bool first) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        double w = (double)p[i];
        double g = __dadd_rn((double)grad[i], __dmul_rn(wd, w));
        if (buf) {
            float b = __double2float_rn(first ? g : __dadd_rn(__dmul_rn(momentum, (double)buf[i]), g));
            buf[i] = b;
            g = (double)b;
        }
        p[i] = __double2float_rn(__dsub_rn(w, __dmul_rn(lr, g)));
    }
}

constexpr int SQ_BLOCKS = 256;
constexpr int SQ_THREADS = 256;

// Per block: a grid-stride partial per thread, then a fixed tree in shared memory; partials[blockIdx.x].
__global__ void sum_squares_partial(double* __restrict__ partials, const float* __restrict__ in, long long n) {
    __shared__ double red[SQ_THREADS];
    double acc = 0.0;
    for (long long i = (long long)blockIdx.x * SQ_THREADS + threadIdx.x; i < n; i += (long long)SQ_BLOCKS * SQ_THREADS) {
        double g = (double)in[i];
        acc = __dadd_rn(acc, __dmul_rn(g, g));
    }
    red[threadIdx.x] = acc;
    __syncthreads();
    for (int s = SQ_THREADS / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) red[threadIdx.x] += red[threadIdx.x + s];
        __syncthreads();
    }
    if (threadIdx.x == 0) partials[blockIdx.x] = red[0];
}

// The block partials in block order, by one thread.
__global__ void sum_squares_final(double* __restrict__ out, const double* __restrict__ partials) {
    double s = 0.0;
    for (int b = 0; b < SQ_BLOCKS; b++) s += partials[b];
    out[0] = s;
}

__global__ void scale_kernel(float* __restrict__ out, const float* __restrict__ in, long long n, double scale) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        out[i] = __double2float_rn(__dmul_rn((double)in[i], scale));
    }
}

}  // namespace

cudaError_t adam_update(float* p, const float* grad, float* m, float* v, long long n, double lr, double beta1,
        double beta2, double eps, double wd, bool decoupled, double c1, double c2) {
    adam_kernel<<<optim_grid(n), 256>>>(p, grad, m, v, n, lr, beta1, beta2, eps, wd, decoupled, c1, c2);
    return cudaGetLastError();
}

cudaError_t sgd_update(float* p, const float* grad, float* buf, long long n, double lr, double momentum, double wd,
        bool first) {
    sgd_kernel<<<optim_grid(n), 256>>>(p, grad, buf, n, lr, momentum, wd, first);
    return cudaGetLastError();
}

cudaError_t sum_squares(const float* in, long long n, double* result) {
    double* scratch = nullptr;
    cudaError_t err = cudaMalloc(&scratch, (SQ_BLOCKS + 1) * sizeof(double));
    if (err != cudaSuccess) return err;
    sum_squares_partial<<<SQ_BLOCKS, SQ_THREADS>>>(scratch, in, n);
    sum_squares_final<<<1, 1>>>(scratch + SQ_BLOCKS, scratch);
    err = cudaGetLastError();
    if (err == cudaSuccess) err = cudaMemcpy(result, scratch + SQ_BLOCKS, sizeof(double), cudaMemcpyDeviceToHost);
    cudaFree(scratch);
    return err;
}

cudaError_t scale(float* out, const float* in, long long n, double s) {
    scale_kernel<<<optim_grid(n), 256>>>(out, in, n, s);
    return cudaGetLastError();
}

}  // namespace attnkit
