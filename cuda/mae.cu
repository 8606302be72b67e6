// mae.cu: the gated head mixture of MAE (SPEC 3) and its gate, forward and backward, fp32.
//
// Kernel versions (compiled and verified on an H200, 2026-12-04: the CUDA equivalence tests and golden cases pass):
//   1. head_mixture_alpha + head_mixture_scale: alpha[row,h] = (H/m) gate[row,:] M[:,h], then
//      y = alpha * o per head, one thread per element of o (coalesced BTD rows).
//   2. head_mixture_dalpha: one block per (gate row, head), a fixed-order block reduction of dy * o
//      over the row's steps and the head's columns; head_mixture_dgate maps dalpha back through M.
//   3. The gate: mae_means (mean or prefix mean over t, then tanh), two gemm layers with tanh and a
//      row softmax; backward recomputes u and hid and runs the chain of SPEC 0 with gemm/column_sum.
//   4. mixture_alpha / mixture_dgate: the alpha and dgate kernels of 1-2 for the gated attention of
//      attention.cu, which applies alpha in its own epilogue.
#include "common.cuh"
#include "launchers.h"

namespace attnkit {
namespace {

__global__ void head_mixture_alpha(float* alpha, const float* gate, const float* membership, int rows, int E,
        int H, float scale) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= rows * H) return;
    int row = i / H, h = i % H;
    float acc = 0.f;
    for (int e = 0; e < E; e++) acc = fmaf(gate[(long long)row * E + e], membership[e * H + h], acc);
    alpha[i] = scale * acc;
}

__global__ void head_mixture_scale(float* y, const float* o, const float* alpha, int B, int T, int D, int H,
        bool perToken) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long long)B * T * D) return;
    int d = (int)(i % D);
    long long bt = i / D;
    int t = (int)(bt % T), b = (int)(bt / T);
    int row = perToken ? b * T + t : b;
    y[i] = alpha[(long long)row * H + d / (D / H)] * o[i];
}

__global__ void head_mixture_dalpha(float* dalpha, const float* dy, const float* o, int T, int D, int H,
        bool perToken) {
    __shared__ float red[256];
    const int row = blockIdx.x, h = blockIdx.y;
    const int R = D / H;
    const int steps = perToken ? 1 : T;
    const long long firstRow = perToken ? row : (long long)row * T;  // the (b,t) row of o where it starts
    float acc = 0.f;
    for (long long i = threadIdx.x; i < (long long)steps * R; i += blockDim.x) {
        long long idx = (firstRow + i / R) * D + h * R + i % R;
        acc = fmaf(dy[idx], o[idx], acc);
    }
    red[threadIdx.x] = acc;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) red[threadIdx.x] += red[threadIdx.x + s];
        __syncthreads();
    }
    if (threadIdx.x == 0) dalpha[(long long)row * H + h] = red[0];
}

__global__ void head_mixture_dgate(float* dgate, const float* dalpha, const float* membership, int rows, int E,
        int H, float scale) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= rows * E) return;
    int row = i / E, e = i % E;
    float acc = 0.f;
    for (int h = 0; h < H; h++) acc = fmaf(membership[e * H + h], dalpha[(long long)row * H + h], acc);
    dgate[i] = scale * acc;
}

// u[row, c] = tanh(mean of x over t (or over 0..t when causal)); one thread per (b, c).
__global__ void mae_means(float* u, const float* x, int B, int T, int D, bool causal) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= B * D) return;
    int b = i / D, c = i % D;
    float sum = 0.f;
    for (int t = 0; t < T; t++) {
        sum += x[((long long)b * T + t) * D + c];
        if (causal) u[((long long)b * T + t) * D + c] = tanhf(sum / (t + 1));
    }
    if (!causal) u[(long long)b * D + c] = tanhf(sum / T);
}

// dx from dxbar: broadcast / T, or the suffix sum of dxbar[t] / (t+1) when causal.
__global__ void mae_means_backward(float* dx, const float* dxbar, int B, int T, int D, bool causal) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= B * D) return;
    int b = i / D, c = i % D;
    float acc = 0.f;
    for (int t = T - 1; t >= 0; t--) {
        long long idx = ((long long)b * T + t) * D + c;
        if (causal) {
            acc += dxbar[idx] / (t + 1);
            dx[idx] = acc;
        } else {
            dx[idx] = dxbar[(long long)b * D + c] / T;
        }
    }
}

// v[i] = tanh(v[i] + bias[i % cols]) (bias may be null).
__global__ void bias_tanh(float* v, const float* bias, long long n, int cols) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) v[i] = tanhf(v[i] + (bias ? bias[i % cols] : 0.f));
}

// out[i] = a[i] * (1 - t[i]^2): the tanh derivative from its output.
__global__ void times_tanh_grad(float* out, const float* a, const float* t, long long n) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = a[i] * (1.f - t[i] * t[i]);
}

// g[row,:] = softmax(z[row,:] + b2); one thread per row (E is small).
__global__ void bias_softmax_rows(float* g, const float* z, const float* b2, int rows, int E) {
    int row = blockIdx.x * blockDim.x + threadIdx.x;
    if (row >= rows) return;
    const float* zr = z + (long long)row * E;
    float* gr = g + (long long)row * E;
    float mx = -INFINITY;
    for (int e = 0; e < E; e++) mx = fmaxf(mx, zr[e] + (b2 ? b2[e] : 0.f));
    float sum = 0.f;
    for (int e = 0; e < E; e++) {
        float v = expf(zr[e] + (b2 ? b2[e] : 0.f) - mx);
        gr[e] = v;
        sum += v;
    }
    for (int e = 0; e < E; e++) gr[e] /= sum;
}

// dz = g (dg - <g, dg>) per row.
__global__ void softmax_backward_rows(float* dz, const float* g, const float* dg, int rows, int E) {
    int row = blockIdx.x * blockDim.x + threadIdx.x;
    if (row >= rows) return;
    long long o = (long long)row * E;
    float dot = 0.f;
    for (int e = 0; e < E; e++) dot += g[o + e] * dg[o + e];
    for (int e = 0; e < E; e++) dz[o + e] = g[o + e] * (dg[o + e] - dot);
}

}  // namespace

cudaError_t mixture_alpha(float* alpha, const float* gate, const float* membership, int rows, int E, int H,
        float scale) {
    head_mixture_alpha<<<ceil_div((long long)rows * H, 256), 256>>>(alpha, gate, membership, rows, E, H, scale);
    return cudaGetLastError();
}

cudaError_t mixture_dgate(float* dgate, const float* dalpha, const float* membership, int rows, int E, int H,
        float scale) {
    head_mixture_dgate<<<ceil_div((long long)rows * E, 256), 256>>>(dgate, dalpha, membership, rows, E, H, scale);
    return cudaGetLastError();
}

cudaError_t head_mixture_forward(float* y, const float* o, const float* gate, const float* membership, int B,
        int T, int D, int E, int H, int m, bool perToken) {
    int rows = perToken ? B * T : B;
    Scratch alpha((size_t)rows * H * sizeof(float));
    if (alpha.status != cudaSuccess) return alpha.status;
    head_mixture_alpha<<<ceil_div((long long)rows * H, 256), 256>>>(alpha.f(), gate, membership, rows, E, H,
            (float)H / m);
    long long n = (long long)B * T * D;
    head_mixture_scale<<<ceil_div(n, 256), 256>>>(y, o, alpha.f(), B, T, D, H, perToken);
    return cudaGetLastError();
}

cudaError_t head_mixture_backward(float* dO, float* dgate, const float* dy, const float* o, const float* gate,
        const float* membership, int B, int T, int D, int E, int H, int m, bool perToken) {
    int rows = perToken ? B * T : B;
    Scratch alpha((size_t)rows * H * sizeof(float));
    if (alpha.status != cudaSuccess) return alpha.status;
    float scale = (float)H / m;
    if (dO) {
        head_mixture_alpha<<<ceil_div((long long)rows * H, 256), 256>>>(alpha.f(), gate, membership, rows, E, H,
                scale);
        long long n = (long long)B * T * D;
        head_mixture_scale<<<ceil_div(n, 256), 256>>>(dO, dy, alpha.f(), B, T, D, H, perToken);
    }
    if (dgate) {
        float* dalpha = alpha.f();  // the stream orders this after the scale kernel above
        head_mixture_dalpha<<<dim3(rows, H), 256>>>(dalpha, dy, o, T, D, H, perToken);
        head_mixture_dgate<<<ceil_div((long long)rows * E, 256), 256>>>(dgate, dalpha, membership, rows, E, H,
                scale);
    }
    return cudaGetLastError();
}

cudaError_t mae_gate_forward(float* g, const float* x, const float* w1, const float* b1, const float* w2,
        const float* b2, int B, int T, int D, int G, int E, bool causal) {
    int rows = causal ? B * T : B;
    Scratch s(((size_t)rows * D + (size_t)rows * G + (size_t)rows * E) * sizeof(float));
    if (s.status != cudaSuccess) return s.status;
    float* u = s.f();                      // [rows, D]
    float* hid = u + (long long)rows * D;  // [rows, G]
    float* z = hid + (long long)rows * G;  // [rows, E]
    mae_means<<<ceil_div((long long)B * D, 256), 256>>>(u, x, B, T, D, causal);
    gemm(hid, u, w1, rows, G, D, D, 1, 1, D, 1.f, 0.f);  // u w1^T
    bias_tanh<<<ceil_div((long long)rows * G, 256), 256>>>(hid, b1, (long long)rows * G, G);
    gemm(z, hid, w2, rows, E, G, G, 1, 1, G, 1.f, 0.f);  // hid w2^T
    bias_softmax_rows<<<ceil_div(rows, 128), 128>>>(g, z, b2, rows, E);
    return cudaGetLastError();
}

cudaError_t mae_gate_backward(float* dx, float* dw1, float* db1, float* dw2, float* db2, const float* x,
        const float* w1, const float* b1, const float* w2, const float* b2, const float* g, const float* dg,
        int B, int T, int D, int G, int E, bool causal) {
    (void)b2;
    int rows = causal ? B * T : B;
    size_t floats = (size_t)rows * (2 * D + 2 * G + E);
    Scratch s(floats * sizeof(float));
    if (s.status != cudaSuccess) return s.status;
    float* u = s.f();                       // [rows, D]
    float* hid = u + (long long)rows * D;   // [rows, G]
    float* dz = hid + (long long)rows * G;  // [rows, E]
    float* da = dz + (long long)rows * E;   // [rows, G]
    float* du = da + (long long)rows * G;   // [rows, D]
    mae_means<<<ceil_div((long long)B * D, 256), 256>>>(u, x, B, T, D, causal);
    gemm(hid, u, w1, rows, G, D, D, 1, 1, D, 1.f, 0.f);
    bias_tanh<<<ceil_div((long long)rows * G, 256), 256>>>(hid, b1, (long long)rows * G, G);
    softmax_backward_rows<<<ceil_div(rows, 128), 128>>>(dz, g, dg, rows, E);
    if (db2) column_sum(db2, dz, rows, E);
    if (dw2) gemm(dw2, dz, hid, E, G, rows, 1, E, G, 1, 1.f, 0.f);  // dz^T hid
    if (dx || dw1 || db1) {
        gemm(da, dz, w2, rows, G, E, E, 1, G, 1, 1.f, 0.f);  // dz w2
        times_tanh_grad<<<ceil_div((long long)rows * G, 256), 256>>>(da, da, hid, (long long)rows * G);
        if (db1) column_sum(db1, da, rows, G);
        if (dw1) gemm(dw1, da, u, G, D, rows, 1, G, D, 1, 1.f, 0.f);  // da^T u
        if (dx) {
            gemm(du, da, w1, rows, D, G, G, 1, D, 1, 1.f, 0.f);  // da w1
            times_tanh_grad<<<ceil_div((long long)rows * D, 256), 256>>>(du, du, u, (long long)rows * D);
            mae_means_backward<<<ceil_div((long long)B * D, 256), 256>>>(dx, du, B, T, D, causal);
        }
    }
    return cudaGetLastError();
}

}  // namespace attnkit
