// launchers.h: the C++ entry points of the kernel files, called by native/src/attnkit.cpp after it has
// checked every argument. Each returns the first CUDA error it met (cudaSuccess when none).
#pragma once
#include <cuda_runtime.h>
#include <stdint.h>

namespace attnkit {

struct DropArgs {
    double p;
    long long seed;
    long long offset;
    int position;
};

cudaError_t lightconv_forward(float* y, const float* x, const float* weight, const float* bias, int B, int T,
        int C, int H, int K, int pad, bool softmax, DropArgs drop);
cudaError_t lightconv_backward(float* dx, float* dweight, float* dbias, const float* dy, const float* x,
        const float* weight, int B, int T, int C, int H, int K, int pad, bool softmax, DropArgs drop);

cudaError_t dynamicconv_forward(float* y, const float* x, const float* query, const float* weight,
        const float* bias, int B, int T, int C, int Cq, int H, int K, int pad, bool softmax, bool renorm,
        DropArgs drop);
cudaError_t dynamicconv_backward(float* dx, float* dquery, float* dweight, float* dbias, const float* dy,
        const float* x, const float* query, const float* weight, const float* bias, int B, int T, int C, int Cq,
        int H, int K, int pad, bool softmax, bool renorm, DropArgs drop);

cudaError_t head_mixture_forward(float* y, const float* o, const float* gate, const float* membership, int B,
        int T, int D, int E, int H, int m, bool per_token);
cudaError_t head_mixture_backward(float* dO, float* dgate, const float* dy, const float* o, const float* gate,
        const float* membership, int B, int T, int D, int E, int H, int m, bool per_token);

cudaError_t mae_gate_forward(float* g, const float* x, const float* w1, const float* b1, const float* w2,
        const float* b2, int B, int T, int D, int G, int E, bool causal);
cudaError_t mae_gate_backward(float* dx, float* dw1, float* db1, float* dw2, float* db2, const float* x,
        const float* w1, const float* b1, const float* w2, const float* b2, const float* g, const float* dg,
        int B, int T, int D, int G, int E, bool causal);

// Shared device helpers (cuda/elementwise.cu).
// C[M,N] = alpha * sum_k A(m,k) B(k,n) + beta * C, A(m,k) = A[m*sam + k*sak], B(k,n) = B[k*sbk + n*sbn].
void gemm(float* C, const float* A, const float* Bm, int M, int N, int Kd, long long sam, long long sak,
        long long sbk, long long sbn, float alpha, float beta);
// out[i] = a[i] + b[i].
void add(float* out, const float* a, const float* b, long long n);
// out[j] = sum_i in[i*cols + j] over rows i (fixed order per column: deterministic).
void column_sum(float* out, const float* in, int rows, int cols);

// Batched fp32 GEMM (cuda/gemm.cu): C[b][M,N] = op(A[b]) op(B[b]) (+ bias[N]); A stored [M,K] or, with
// transA, [K,M]; B stored [K,N] or, with transB, [N,K]; shareB: one B for every batch index.
cudaError_t gemm_batched(float* C, const float* A, const float* Bm, const float* bias, int batch, int M, int N,
        int Kd, bool transA, bool transB, bool shareB);
cudaError_t column_sum_checked(float* out, const float* in, int rows, int cols);

// Per-line operators (cuda/rowwise.cu). softmax_lines: lines of n elements at stride inner inside
// [outer, n, inner]; kind 0 softmax(v), 1 log_softmax(v), 2 softmax backward (v = y, g = dy), 3 log-softmax
// backward (v = y, g = dy).
cudaError_t softmax_lines(float* out, const float* v, const float* g, int outer, int n, int inner, int kind);
cudaError_t layernorm_forward(float* y, float* mean, float* rstd, const float* x, const float* gamma,
        const float* beta, int rows, int D, double eps);
cudaError_t layernorm_backward(float* dx, float* dgamma, float* dbeta, const float* x, const float* gamma,
        const float* mean, const float* rstd, const float* dy, int rows, int D);
cudaError_t glu_forward(float* y, const float* x, long long outer, long long m);
cudaError_t glu_backward(float* dx, const float* x, const float* dy, long long outer, long long m);

// cuda/pointwise.cu. dropout: out[i] = in[i] * (keep(i) ? 1/(1-p) : 0), keep as Philox.keep(seed, offset, i, p).
cudaError_t dropout(float* out, const float* in, long long n, double p, long long seed, long long offset);
// binary: op 0 add, 1 mul, 2 copy of a (b unused), of a [rows, cols] and b [rows, cols] or, with broadcastB, [cols].
cudaError_t binary(float* out, const float* a, const float* b, long long rows, long long cols, bool broadcastB,
        int op);

// reduce_sum over [rows, cols]: axis 1 -> out[rows] (sum over cols), axis 0 -> out[cols] (sum over rows),
// times scale. expand: its backward, out[rows, cols] = scale * dy[r] (axis 1) or scale * dy[c] (axis 0).
cudaError_t reduce_sum(float* out, const float* in, long long rows, long long cols, int axis, float scale);
cudaError_t expand(float* out, const float* dy, long long rows, long long cols, int axis, float scale);

// Cross-entropy rows (cuda/rowwise.cu): targets are floats, a negative one marks an ignored row.
cudaError_t cross_entropy_forward(float* loss, float* lse, const float* logits, const float* targets, int rows, int C);
cudaError_t cross_entropy_backward(float* dx, const float* logits, const float* lse, const float* targets,
        const float* dloss, int rows, int C, bool perRow, float scale);

// Embedding (cuda/pointwise.cu); ids, order and start hold ints as float bit patterns.
cudaError_t embedding_forward(float* out, const float* table, const float* ids, long long n, int D);
cudaError_t embedding_backward(float* dtable, const float* dy, const float* order, const float* start, int V,
        int D);

// Activations (cuda/pointwise.cu): op 0/1 tanh, 2/3 relu, 4/5 sigmoid, 6/7 gelu (even forward, odd backward).
cudaError_t unary(float* out, const float* x, const float* dy, long long n, int op);

// Scratch memory taken for one call and returned at its end.
struct Scratch {
    void* ptr = nullptr;
    cudaError_t status = cudaSuccess;
    explicit Scratch(size_t bytes) {
        if (bytes > 0) status = cudaMalloc(&ptr, bytes);
    }
    ~Scratch() {
        if (ptr) cudaFree(ptr);
    }
    float* f() const { return static_cast<float*>(ptr); }
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
};

}  // namespace attnkit

// Flash-style attention (cuda/attention.cu): q [B,Tq,D], k [B,Tk,D], v [B,Tk,Dv], y [B,Tq,Dv], mask [B,Tk]
// (nonzero = padded) or null; D/H and Dv/H at most 128. Backward outputs each null when not needed.
namespace attnkit {
cudaError_t attention_forward(float* y, const float* q, const float* k, const float* v, const float* mask, int B,
        int Tq, int Tk, int H, int D, int Dv, bool causal);
cudaError_t attention_backward(float* dq, float* dk, float* dv, const float* q, const float* k, const float* v,
        const float* mask, const float* dy, int B, int Tq, int Tk, int H, int D, int Dv, bool causal);
}  // namespace attnkit

// ---- GEMM on tensor cores and GEMM epilogues (issue 5, GEMM piece: cuda/gemm.cu, cuda/gemm_mma.cu) ----
// gemm_ex: Y[b] = epilogue(op(A[b]) op(B[b]) + bias) with precision 0 fp32 SIMT, 1 TF32, 2 BF16 (operands
// rounded while staging) and epilogue 0 none, 1 relu, 2 gelu, 3 tanh, 4 sigmoid, 5 glu (Y [M, N/2]); Z [M, N]
// receives the pre-activation when not null. gemm_bf16: bf16 operands, C fp32 or (outBf16) bf16.
namespace attnkit {
cudaError_t gemm_simt_epilogue(float* Y, float* Z, const float* A, const float* Bm, const float* bias, int batch,
        int M, int N, int Kd, bool transA, bool transB, bool shareB, int epilogue);
cudaError_t gemm_ex(float* Y, float* Z, const float* A, const float* Bm, const float* bias, int batch, int M, int N,
        int Kd, bool transA, bool transB, bool shareB, int precision, int epilogue);
cudaError_t gemm_bf16(void* C, const void* A, const void* Bm, const float* bias, int batch, int M, int N, int Kd,
        bool transA, bool transB, bool shareB, bool outBf16);
cudaError_t f32_to_bf16(void* out, const float* in, long long n);
cudaError_t bf16_to_f32(float* out, const void* in, long long n);
}  // namespace attnkit

// ---- bf16 tensor-core attention forward (issue 5, cuda/attention_bf16.cu) ----
// attention_forward_bf16: q [B,Tq,H*d], k and v [B,Tk,H*d] bf16, y bf16 (yBf16) or fp32, lse [B*H,Tq] fp32 or null,
// mask [B,Tk] or null; d = D/H of 64 or 128 (checked by attnkit_attention_forward_bf16 in native/src/attnkit.cpp).
// Tiles of 64 keys, 2 cp.async stages; d = 64: 4 warps x 32 queries (128 per CTA), d = 128: 8 warps x 16 queries.
// Deterministic.
namespace attnkit {
cudaError_t attention_forward_bf16(void* y, float* lse, const void* q, const void* k, const void* v,
        const float* mask, int B, int Tq, int Tk, int H, int D, bool causal, bool yBf16);
}  // namespace attnkit
