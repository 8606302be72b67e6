// graph_launchers.h: the C++ entry points of shape.cu, layernorm_residual.cu and optim.cu (issue 5, a whole
// training step on the device), called by native/src/attnkit.cpp after it has checked every argument. Each
// returns the first CUDA error it met (cudaSuccess when none).
#pragma once
#include <cuda_runtime.h>

namespace attnkit {

// Dims and up to three stride sets (in elements) of one call, passed to the kernels by value.
struct Strides {
    int rank;
    int dims[8];
    long long s0[8];
    long long s1[8];
    long long s2[8];
};

// shape.cu. strided_copy: out[sum c*s0] = scale * in[sum c*s1] over the coordinates c of st.dims.
cudaError_t strided_copy(float* out, const float* in, const Strides& st, float scale);
// broadcast_op: out (contiguous over st.dims) = f(a at s0, b at s1, c at s2); ops as attnkit_broadcast_op.
cudaError_t broadcast_op(float* out, const float* a, const float* b, const float* c, const Strides& st, int op);
// strided_sum: out[j over kept.dims] = scale * sum over red.dims of in[j*kept.s0 + r*red.s0], in double.
cudaError_t strided_sum(float* out, const float* in, const Strides& kept, const Strides& red, double scale);

// The same element code run on host memory (tests without a GPU); the caller checked the bounds.
void strided_copy_host(float* out, const float* in, const Strides& st, float scale);
void broadcast_op_host(float* out, const float* a, const float* b, const float* c, const Strides& st, int op);
void strided_sum_host(float* out, const float* in, const Strides& kept, const Strides& red, double scale);

// layernorm_residual.cu.
cudaError_t residual_layernorm_forward(float* sum, float* y, float* mean, float* rstd, const float* x,
        const float* residual, const float* gamma, const float* beta, int rows, int D, double eps, double drop_p,
        long long seed, long long offset);
// The same row code on host memory, the 32 lanes in turn (tests without a GPU).
void residual_layernorm_host(float* sum, float* y, float* mean, float* rstd, const float* x, const float* residual,
        const float* gamma, const float* beta, int rows, int D, double eps, double drop_p, long long seed,
        long long offset);

// optim.cu.
cudaError_t adam_update(float* p, const float* grad, float* m, float* v, long long n, double lr, double beta1,
        double beta2, double eps, double wd, bool decoupled, double c1, double c2);
cudaError_t sgd_update(float* p, const float* grad, float* buf, long long n, double lr, double momentum, double wd,
        bool first);
cudaError_t sum_squares(const float* in, long long n, double* result);
void adam_update_host(float* p, const float* grad, float* m, float* v, long long n, double lr, double beta1,
        double beta2, double eps, double wd, bool decoupled, double c1, double c2);
void sgd_update_host(float* p, const float* grad, float* buf, long long n, double lr, double momentum, double wd,
        bool first);
cudaError_t scale(float* out, const float* in, long long n, double s);

}  // namespace attnkit
