// optim.cu: optimizer updates on the device (issue 5), one thread per element, reproducing the Java updates of
// org.attnkit.optim bit for bit: the same double arithmetic in the same order, written with the _rn
// intrinsics so that nvcc cannot contract a multiply and an add into an FMA (Java never does), and the same
// round-to-nearest conversions to float. Also the deterministic sum of squares and the scaling of gradient
// clipping. The element updates are __host__ __device__: attnkit_adam_host / attnkit_sgd_host run them on the
// host, where a test compares them with Java bit for bit. Compiled and verified on an H200 (2026-12-04: the CUDA
// equivalence tests pass).
#include "common.cuh"
#include "graph_launchers.h"

namespace attnkit {
namespace {

int optim_grid(long long n) {
    long long blocks = (n + 255) / 256;
    return (int)(blocks < 1 ? 1 : blocks > 65535LL * 8 ? 65535LL * 8 : blocks);
}

// Java's double arithmetic, one operation at a time: the _rn intrinsics on the device (nvcc may not contract
// them into FMAs), plain operators on the host (the host build has no FMA contraction: x86-64 without -mfma).
#ifdef __CUDA_ARCH__
#define OPT_ADD(a, b) __dadd_rn(a, b)
#define OPT_SUB(a, b) __dsub_rn(a, b)
#define OPT_MUL(a, b) __dmul_rn(a, b)
#define OPT_DIV(a, b) __ddiv_rn(a, b)
#define OPT_SQRT(a) __dsqrt_rn(a)
#define OPT_F(a) __double2float_rn(a)
#else
#define OPT_ADD(a, b) ((a) + (b))
#define OPT_SUB(a, b) ((a) - (b))
#define OPT_MUL(a, b) ((a) * (b))
#define OPT_DIV(a, b) ((a) / (b))
#define OPT_SQRT(a) sqrt(a)
#define OPT_F(a) ((float)(a))
#endif

// Element i of org.attnkit.optim.Adam.update.
__host__ __device__ __forceinline__ void adam_element(float* p, const float* grad, float* m, float* v, long long i,
        double lr, double beta1, double beta2, double eps, double wd, bool decoupled, double c1, double c2) {
    double wi = (double)p[i];
    double g = (double)grad[i];
    if (decoupled) {
        wi = OPT_MUL(wi, OPT_SUB(1.0, OPT_MUL(lr, wd)));
    } else {
        g = OPT_ADD(g, OPT_MUL(wd, wi));
    }
    float mi = OPT_F(OPT_ADD(OPT_MUL(beta1, (double)m[i]), OPT_MUL(OPT_SUB(1.0, beta1), g)));
    float vi = OPT_F(OPT_ADD(OPT_MUL(beta2, (double)v[i]), OPT_MUL(OPT_MUL(OPT_SUB(1.0, beta2), g), g)));
    m[i] = mi;
    v[i] = vi;
    double mhat = OPT_DIV((double)mi, c1);
    double vhat = OPT_DIV((double)vi, c2);
    double step = OPT_DIV(OPT_MUL(lr, mhat), OPT_ADD(OPT_SQRT(vhat), eps));
    p[i] = OPT_F(OPT_SUB(wi, step));
}

// Element i of org.attnkit.optim.Sgd.update (buf null without momentum).
__host__ __device__ __forceinline__ void sgd_element(float* p, const float* grad, float* buf, long long i, double lr,
        double momentum, double wd, bool first) {
    double w = (double)p[i];
    double g = OPT_ADD((double)grad[i], OPT_MUL(wd, w));
    if (buf) {
        float b = OPT_F(first ? g : OPT_ADD(OPT_MUL(momentum, (double)buf[i]), g));
        buf[i] = b;
        g = (double)b;
    }
    p[i] = OPT_F(OPT_SUB(w, OPT_MUL(lr, g)));
}

__global__ void adam_kernel(float* __restrict__ p, const float* __restrict__ grad, float* __restrict__ m,
        float* __restrict__ v, long long n, double lr, double beta1, double beta2, double eps, double wd,
        bool decoupled, double c1, double c2) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        adam_element(p, grad, m, v, i, lr, beta1, beta2, eps, wd, decoupled, c1, c2);
    }
}

__global__ void sgd_kernel(float* __restrict__ p, const float* __restrict__ grad, float* __restrict__ buf, long long n,
        double lr, double momentum, double wd, bool first) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        sgd_element(p, grad, buf, i, lr, momentum, wd, first);
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

void adam_update_host(float* p, const float* grad, float* m, float* v, long long n, double lr, double beta1,
        double beta2, double eps, double wd, bool decoupled, double c1, double c2) {
    for (long long i = 0; i < n; i++) adam_element(p, grad, m, v, i, lr, beta1, beta2, eps, wd, decoupled, c1, c2);
}

void sgd_update_host(float* p, const float* grad, float* buf, long long n, double lr, double momentum, double wd,
        bool first) {
    for (long long i = 0; i < n; i++) sgd_element(p, grad, buf, i, lr, momentum, wd, first);
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
