/*
 * attnkit.h: the plain C ABI of attnkit's CUDA kernels, bound from Java by JavaCPP
 * (org.attnkit.backend.cuda.AttnkitNative). No CUDA types appear here so that the JNI glue compiles
 * without CUDA headers.
 *
 * Conventions:
 *  - every device buffer is a raw device address passed as a 64-bit integer (0 = absent);
 *  - tensors are dense row-major float32 in the BTC layout ([B,T,C], channels innermost);
 *  - every function returns a status (ATTNKIT_OK = 0); on failure attnkit_last_error() returns a
 *    message for the calling thread naming the function and the cause;
 *  - arguments are checked on the host before any CUDA call, so a bad size never reaches a kernel;
 *  - all work runs on the legacy default stream of the current (primary) context; scratch memory is
 *    taken and returned inside the call.
 *  - DropConnect: drop_p in [0,1), Philox4x32-10 stream (seed, offset) exactly as
 *    org.attnkit.random.Philox; drop_scope 0 = HEAD_KERNEL (index h*K+k), 1 = POSITION
 *    (index ((b*T+t)*H+h)*K+k).
 */
#ifndef ATTNKIT_H
#define ATTNKIT_H

#ifdef __cplusplus
extern "C" {
#endif

#define ATTNKIT_OK 0
#define ATTNKIT_INVALID_ARGUMENT 1
#define ATTNKIT_NO_DEVICE 2
#define ATTNKIT_OUT_OF_MEMORY 3
#define ATTNKIT_CUDA_ERROR 4

/* The message of the last failure on this thread ("" when none). */
const char* attnkit_last_error(void);

/* The CUDA runtime version the library was built with (e.g. 13000). */
int attnkit_runtime_version(void);

/* Number of CUDA devices the runtime sees; ATTNKIT_NO_DEVICE with the runtime's reason otherwise. */
int attnkit_device_count(int* count);

/* Waits for all work on the device to finish and reports any asynchronous kernel failure. */
int attnkit_synchronize(void);

/* The Philox word (as a signed int) and the DropConnect factor (0 or 1/(1-p)) of element index in the
 * stream (seed, offset), computed on the host by the kernels' own code: tests compare them with
 * org.attnkit.random.Philox and DropConnect where there is no GPU. */
int attnkit_philox_word(long long seed, long long offset, long long index);
float attnkit_drop_factor(double p, long long seed, long long offset, long long index);

/* out[i] = a[i] + b[i] for i < n (out may alias a or b): gradient accumulation on the device. */
int attnkit_add(long long out, long long a, long long b, long long n);

/* ---- LightConv (SPEC 1): x, y [B,T,C]; weight [H,K]; bias [C] or 0. ---- */
int attnkit_lightconv_forward(long long y, long long x, long long weight, long long bias,
        int B, int T, int C, int H, int K, int pad, int softmax,
        double drop_p, long long seed, long long offset, int drop_scope);

/* dx [B,T,C] (or 0: not needed), dweight [H,K] (or 0), dbias [C] (or 0) from dy [B,T,C]. */
int attnkit_lightconv_backward(long long dx, long long dweight, long long dbias,
        long long dy, long long x, long long weight,
        int B, int T, int C, int H, int K, int pad, int softmax,
        double drop_p, long long seed, long long offset, int drop_scope);

/* ---- DynamicConv (SPEC 2): x, y [B,T,C]; query [B,T,Cq] or 0 (= x); weight [H*K,Cq]; bias [H*K] or 0. ---- */
int attnkit_dynamicconv_forward(long long y, long long x, long long query, long long weight, long long bias,
        int B, int T, int C, int Cq, int H, int K, int pad, int softmax, int renorm_padding,
        double drop_p, long long seed, long long offset, int drop_scope);

/* dx [B,T,C], dquery [B,T,Cq], dweight [H*K,Cq], dbias [H*K]: each 0 when not needed. With query 0,
 * dx includes the generator's gradient. */
int attnkit_dynamicconv_backward(long long dx, long long dquery, long long dweight, long long dbias,
        long long dy, long long x, long long query, long long weight, long long bias,
        int B, int T, int C, int Cq, int H, int K, int pad, int softmax, int renorm_padding,
        double drop_p, long long seed, long long offset, int drop_scope);

/* ---- Gated head mixture (SPEC 3): o, y [B,T,D]; gate [B,E] (gate_rows 1) or [B,T,E] (gate_rows T);
 * membership [E,H] (0/1, m heads per expert). ---- */
int attnkit_head_mixture_forward(long long y, long long o, long long gate, long long membership,
        int B, int T, int D, int E, int H, int m, int per_token);

/* dO [B,T,D] (or 0), dgate with gate's shape (or 0). */
int attnkit_head_mixture_backward(long long dO, long long dgate, long long dy, long long o, long long gate,
        long long membership, int B, int T, int D, int E, int H, int m, int per_token);

/* ---- MAE gate: x [B,T,D]; w1 [G,D]; b1 [G] or 0; w2 [E,G]; b2 [E] or 0; g [B,E] or [B,T,E] (causal). ---- */
int attnkit_mae_gate_forward(long long g, long long x, long long w1, long long b1, long long w2, long long b2,
        int B, int T, int D, int G, int E, int causal);

/* dx [B,T,D], dw1 [G,D], db1 [G], dw2 [E,G], db2 [E] (each 0 when not needed) from the saved gate g and dg. */
int attnkit_mae_gate_backward(long long dx, long long dw1, long long db1, long long dw2, long long db2,
        long long x, long long w1, long long b1, long long w2, long long b2, long long g, long long dg,
        int B, int T, int D, int G, int E, int causal);

/* ---- fp32 GEMM (Linear, MatMul): c[b] = op(a[b]) op(w[b]) (+ bias[N]) for b < batch, op = the stored
 * row-major matrix or its transpose: a is [M,K] (trans_a 0) or [K,M] (trans_a 1); w is [K,N] (trans_w 0)
 * or [N,K] (trans_w 1), one per batch index or, with share_w 1, one for all; c [batch,M,N]; bias [N] or 0.
 * batch in [1, 65535], M in [0, 4194240], N and K >= 0 (K = 0: c = bias or 0); nothing runs when
 * batch*M*N = 0. Deterministic. ---- */
int attnkit_gemm(long long c, long long a, long long w, long long bias, int batch, int M, int N, int K,
        int trans_a, int trans_w, int share_w);

/* out[j] = sum over i < rows of in[i*cols + j] (fixed order: deterministic); rows >= 0, cols >= 1. */
int attnkit_column_sum(long long out, long long in, int rows, int cols);

/* ---- Softmax family over lines of n elements at stride inner in [outer, n, inner] (outer, n, inner >= 1):
 * kind 0: out = softmax(x); 1: out = log_softmax(x); 2: out = dx of softmax from x = y and dy;
 * 3: out = dx of log_softmax from x = y (the log-softmax output) and dy. dy must be 0 for kinds 0 and 1. ---- */
int attnkit_softmax(long long out, long long x, long long dy, int outer, int n, int inner, int kind);

/* ---- LayerNorm over the last dim: x, y [rows, D]; gamma, beta [D] or 0; mean, rstd [rows]; eps > 0, finite. ---- */
int attnkit_layernorm_forward(long long y, long long mean, long long rstd, long long x, long long gamma,
        long long beta, int rows, int D, double eps);

/* dx [rows, D], dgamma [D], dbeta [D]: each 0 when not needed (at least one given). Deterministic. */
int attnkit_layernorm_backward(long long dx, long long dgamma, long long dbeta, long long x, long long gamma,
        long long mean, long long rstd, long long dy, int rows, int D);

/* ---- GLU: x [outer, 2, m] (a, then the gate g), y = a * sigmoid(g) [outer, m]; dx [outer, 2, m] from dy. ---- */
int attnkit_glu_forward(long long y, long long x, long long outer, long long m);
int attnkit_glu_backward(long long dx, long long x, long long dy, long long outer, long long m);

/* ---- Dropout: out[i] = in[i] / (1-p) where Philox.keep(seed, offset, i, p), else 0; n >= 1, p in (0, 1). ---- */
int attnkit_dropout(long long out, long long in, long long n, double p, long long seed, long long offset);

/* ---- Elementwise: out = a op b (op 0 add, 1 mul, 2 a copy of a: b must be 0), a and out [rows, cols];
 * b [rows, cols] (b_rows = rows) or one row [cols] broadcast onto every row (b_rows = 1). out may alias a or b. ---- */
int attnkit_binary(long long out, long long a, long long b, long long rows, long long cols, long long b_rows, int op);

/* ---- Sum/Mean of a [rows, cols] view: axis 1 sums each row (out [rows], rows in [1, 2^31), cols >= 0),
 * axis 0 sums each column (out [cols], cols in [1, 2^31), rows >= 0); times scale (a mean's 1/count; an empty
 * sum times an infinite scale is NaN, as in PyTorch). Deterministic. ---- */
int attnkit_reduce_sum(long long out, long long in, long long rows, long long cols, int axis, double scale);

/* The backward: out [rows, cols] = scale * dy[r] (axis 1, dy [rows]) or scale * dy[c] (axis 0, dy [cols]). */
int attnkit_expand(long long out, long long dy, long long rows, long long cols, int axis, double scale);

/* ---- Attention (org.attnkit.ops.attention.Attention), flash-style: q [B,Tq,D], k [B,Tk,D], v [B,Tk,Dv],
 * y [B,Tq,Dv]; mask [B,Tk] (nonzero = padded key) or 0; causal: key j > i + Tk - Tq masked. H divides D and Dv,
 * D/H and Dv/H in [1, 128], B*H <= 65535. A fully masked query outputs zeros and passes no gradient. ---- */
int attnkit_attention_forward(long long y, long long q, long long k, long long v, long long mask, int B, int Tq,
        int Tk, int H, int D, int Dv, int causal);

/* dq, dk, dv (each 0 when not needed, at least one given) from dy [B,Tq,Dv], recomputing the probabilities. */
int attnkit_attention_backward(long long dq, long long dk, long long dv, long long q, long long k, long long v,
        long long mask, long long dy, int B, int Tq, int Tk, int H, int D, int Dv, int causal);

/* ---- Cross-entropy over rows of logits [rows, C] (C <= 2^24): targets [rows] as floats holding the class
 * index, or a negative value for an ignored row. loss [rows] (0 on ignored rows), lse [rows]. ---- */
int attnkit_cross_entropy_forward(long long loss, long long lse, long long logits, long long targets, int rows, int C);

/* dlogits [rows, C] = w (softmax - onehot), w = scale * dloss[n] (per_row 1) or scale * dloss[0] (per_row 0),
 * 0 on ignored rows; scale finite. */
int attnkit_cross_entropy_backward(long long dlogits, long long logits, long long lse, long long targets,
        long long dloss, int rows, int C, int per_row, double scale);

/* ---- Embedding: table [V, D]; ids [n] hold ints in [0, V) as float bit patterns (Float.intBitsToFloat),
 * checked on the host by the caller; n and V in [1, 2^30]. out [n, D]. ---- */
int attnkit_embedding_forward(long long out, long long table, long long ids, long long n, int V, int D);

/* dtable [V, D] = per id v the sum of dy [n, D] rows at order[start[v] .. start[v+1]) (ints as float bits: the
 * positions of id v in increasing order, start [V+1] with start[V] = n): deterministic, in index order. */
int attnkit_embedding_backward(long long dtable, long long dy, long long order, long long start, long long n, int V,
        int D);

/* ---- Activations on n >= 1 elements. Even op = forward out = f(x) (dy must be 0): 0 tanh, 2 relu, 4 sigmoid,
 * 6 gelu (exact erf form). Odd op = backward out = dx from dy: 1 tanh and 5 sigmoid from x = the saved output
 * y, 3 relu and 7 gelu from x = the saved input. ---- */
int attnkit_unary(long long out, long long x, long long dy, long long n, int op);

/* ==== cuda-attn (issue 5): attention with the MAE per-head weight alpha in its epilogue ==== */

/* ---- Gated attention (org.attnkit.ops.mae.GatedAttention) = the head mixture of the attention output, fused:
 * y [B,Tq,Dv] = alpha * attention(q, k, v) per head, alpha[b,(i,)h] = (H/m) sum_e gate[b,(i,)e] M[e,h].
 * q, k, v, mask, causal and the limits as attnkit_attention_forward (H divides D and Dv, D/H and Dv/H in
 * [1, 128], B*H <= 65535); gate [B,E] (per_token 0) or [B,Tq,E] (per_token 1); membership [E,H] of 0/1 with
 * m in [1, H] heads per expert (the caller checks the 0/1 rows). ---- */
int attnkit_gated_attention_forward(long long y, long long q, long long k, long long v, long long mask,
        long long gate, long long membership, int B, int Tq, int Tk, int H, int D, int Dv, int E, int m,
        int per_token, int causal);

/* dq, dk, dv, dgate (each 0 when not needed, at least one given) from dy [B,Tq,Dv]: the attention backward of
 * alpha * dy, and dgate = (H/m) M dalpha with dalpha[b,(i,)h] = sum over the head's columns (and the queries,
 * per_token 0) of dy * o, o the unscaled attention output. Deterministic (fixed reduction orders). */
int attnkit_gated_attention_backward(long long dq, long long dk, long long dv, long long dgate, long long q,
        long long k, long long v, long long mask, long long gate, long long membership, long long dy, int B, int Tq,
        int Tk, int H, int D, int Dv, int E, int m, int per_token, int causal);

/* ---- GEMM on tensor cores and GEMM epilogues (issue 5, GEMM piece: cuda/gemm.cu, cuda/gemm_mma.cu) ----
 * Precision of attnkit_gemm_ex: FP32 = the SIMT fp32 kernel of attnkit_gemm; TF32 = operands rounded to tf32
 * (cvt.rna) while staged, mma.sync m16n8k8; BF16 = operands rounded to bf16 (nearest even) while staged,
 * mma.sync m16n8k16; both accumulate in fp32 and are deterministic (one thread per output, fixed k order).
 * Expected |error| against an exact product, for unit-scale operands: about 1e-3 (TF32) or 8e-3 (BF16)
 * times sqrt(K) times the operands' scale. */
#define ATTNKIT_GEMM_FP32 0
#define ATTNKIT_GEMM_TF32 1
#define ATTNKIT_GEMM_BF16 2
/* Epilogues: y = f(z), z = op(a) op(w) + bias. GLU: y[:, j] = z[:, j] * sigmoid(z[:, j + N/2]), j < N/2
 * (a = the first half of the N columns, the gate the second half, as org.attnkit.ops.glu.Glu). */
#define ATTNKIT_EPILOGUE_NONE 0
#define ATTNKIT_EPILOGUE_RELU 1
#define ATTNKIT_EPILOGUE_GELU 2
#define ATTNKIT_EPILOGUE_TANH 3
#define ATTNKIT_EPILOGUE_SIGMOID 4
#define ATTNKIT_EPILOGUE_GLU 5

/* y[b] = epilogue(op(a[b]) op(w[b]) + bias) in the layouts of attnkit_gemm (a [M,K] or [K,M]; w [K,N] or [N,K],
 * shared with share_w 1; bias [N] or 0). y [batch,M,N], or [batch,M,N/2] under GLU (N even); z [batch,M,N]
 * receives the pre-activation (what a backward needs) or is 0; z must be 0 for epilogue NONE. precision in
 * [0, 2], epilogue in [0, 5], batch in [1, 65535], M in [0, 4194240]; nothing runs when batch*M*N = 0. */
int attnkit_gemm_ex(long long y, long long z, long long a, long long w, long long bias, int batch, int M, int N,
        int K, int trans_a, int trans_w, int share_w, int precision, int epilogue);

/* BF16 GEMM on bf16 device buffers (a, w as in attnkit_gemm, 2 bytes per element), fp32 accumulation, bias [N]
 * fp32 or 0; c [batch,M,N] fp32 (c_bf16 0) or bf16 rounded to nearest even (c_bf16 1). batch in [1, 65535],
 * M in [0, 8388480]. For benchmarks against torch.matmul in bf16. With trans_a 0, trans_w 1 (w [N,K]), K % 8 == 0 and
 * a, w 16-byte aligned a cp.async + ldmatrix kernel runs; otherwise the staging kernel of attnkit_gemm_ex. */
int attnkit_gemm_bf16(long long c, long long a, long long w, long long bias, int batch, int M, int N, int K,
        int trans_a, int trans_w, int share_w, int c_bf16);

/* out[i] = bf16(in[i]) (round to nearest even) / out[i] = float(in[i]) for i < n, n in [0, 2^40]. */
int attnkit_f32_to_bf16(long long out, long long in, long long n);
int attnkit_bf16_to_f32(long long out, long long in, long long n);
/* ==== issue 5, a whole training step on the device (branch cuda-graph): strided copies (permute, slice,
 * concat, expand), NumPy broadcasting, reductions over any dims, residual + dropout + LayerNorm fused, and
 * the optimizer updates. Shapes and strides travel as int arrays of rank entries (host memory); rank in
 * [1, ATTNKIT_MAX_RANK] unless said otherwise; strides count elements and may be 0 (a broadcast read). ==== */
#define ATTNKIT_MAX_RANK 8

/* For every coordinate c of dims[rank] (row-major order): out[out_offset + sum_d c_d out_strides[d]] =
 * scale * in[in_offset + sum_d c_d in_strides[d]]. dims >= 0 (nothing runs when one is 0), offsets and
 * strides >= 0; scale finite. Writes never overlap when out_strides describe a (sub)tensor of distinct
 * elements, which the callers guarantee. */
int attnkit_strided_copy(long long out, long long out_offset, const int* out_strides, long long in,
        long long in_offset, const int* in_strides, const int* dims, int rank, double scale);

/* out [dims] (contiguous) = f(a, b, c), each operand read at its own strides over dims (0 along a broadcast
 * dim); op 0 a + b, 1 a - b, 2 a * b, 3 a / b, 4 -a (b and c unused, may be 0), 5 a * (-b / (c * c))
 * (the divisor's gradient of a division: a = dc, b = numerator, c = divisor). c is used by op 5 only. */
int attnkit_broadcast_op(long long out, long long a, const int* a_strides, long long b, const int* b_strides,
        long long c, const int* c_strides, const int* dims, int rank, int op);

/* out[j] (contiguous over kept_dims, one element when kept_rank = 0) = scale * the sum, accumulated in double
 * in row-major order of the reduced coordinates r (deterministic), of in[sum_d j_d kept_strides[d] +
 * sum_e r_e red_strides[e]]. kept_rank and red_rank in [0, 8]; an empty reduction gives 0 * scale. */
int attnkit_strided_sum(long long out, long long in, const int* kept_dims, const int* kept_strides, int kept_rank,
        const int* red_dims, const int* red_strides, int red_rank, double scale);

/* Residual + dropout + LayerNorm in one pass per row: sum = residual + dropout(x) (element i of x kept iff
 * Philox.keep(seed, offset, i, drop_p), survivors times 1/(1-p); drop_p = 0: no dropout), y = LN(sum) over the
 * last dim D with gamma, beta ([D] or 0), mean and rstd [rows] as attnkit_layernorm_forward. x, residual, sum,
 * y [rows, D]; eps > 0 finite; drop_p in [0, 1). */
int attnkit_residual_layernorm_forward(long long sum, long long y, long long mean, long long rstd, long long x,
        long long residual, long long gamma, long long beta, int rows, int D, double eps, double drop_p,
        long long seed, long long offset);

/* Adam / AdamW on n floats in place (p, m, v; grad read only), exactly org.attnkit.optim.Adam.update in
 * double with no fused multiply-adds: decoupled: w = w (1 - lr wd), else g = g + wd w; m = b1 m + (1-b1) g;
 * v = b2 v + ((1-b2) g) g; w = w - (lr (m/c1)) / (sqrt(v/c2) + eps); m, v, w stored as float. c1 = 1 - b1^t
 * and c2 = 1 - b2^t come from the caller (Math.pow). n >= 0; lr, wd >= 0; eps > 0; c1, c2 in (0, 1]. */
int attnkit_adam(long long p, long long grad, long long m, long long v, long long n, double lr, double beta1,
        double beta2, double eps, double weight_decay, int decoupled, double c1, double c2);

/* SGD in place, exactly org.attnkit.optim.Sgd.update: g = grad + wd w; with momentum (buf != 0):
 * buf = (float)(first ? g : mu buf + g), g = buf; w = (float)(w - lr g). */
int attnkit_sgd(long long p, long long grad, long long buf, long long n, double lr, double momentum,
        double weight_decay, int first);

/* result[0] = sum of in[i]^2 over i < n, in double, in a fixed order (deterministic); waits for the device. */
int attnkit_sum_squares(long long in, long long n, double* result);

/* out[i] = (float)((double)in[i] * scale) for i < n (out may alias in): gradient clipping. */
int attnkit_scale(long long out, long long in, long long n, double scale);

/* The kernels' own element (or row) code of the entry points above run on HOST memory, after the same checks:
 * tests compare them with the reference and with the Java optimizers where there is no GPU. Not for production
 * use. The strided ones take their arrays' lengths and check every index against them; the residual LayerNorm
 * (x, residual, sum, y [rows*D], mean, rstd [rows], gamma, beta [D] or null) and the optimizer runs ([n] each)
 * trust the caller's sizes. */
int attnkit_strided_copy_host(float* out, long long out_len, long long out_offset, const int* out_strides,
        const float* in, long long in_len, long long in_offset, const int* in_strides, const int* dims, int rank,
        double scale);
int attnkit_broadcast_op_host(float* out, long long out_len, const float* a, long long a_len, const int* a_strides,
        const float* b, long long b_len, const int* b_strides, const float* c, long long c_len, const int* c_strides,
        const int* dims, int rank, int op);
int attnkit_strided_sum_host(float* out, long long out_len, const float* in, long long in_len, const int* kept_dims,
        const int* kept_strides, int kept_rank, const int* red_dims, const int* red_strides, int red_rank,
        double scale);
int attnkit_residual_layernorm_host(float* sum, float* y, float* mean, float* rstd, const float* x,
        const float* residual, const float* gamma, const float* beta, int rows, int D, double eps, double drop_p,
        long long seed, long long offset);
int attnkit_adam_host(float* p, const float* grad, float* m, float* v, long long n, double lr, double beta1,
        double beta2, double eps, double weight_decay, int decoupled, double c1, double c2);
int attnkit_sgd_host(float* p, const float* grad, float* buf, long long n, double lr, double momentum,
        double weight_decay, int first);

/* ==== issue 5, bf16 tensor-core attention forward (branch cuda-attn-bf16, cuda/attention_bf16.cu) ==== */

/* FlashAttention-2-style forward on bf16 device buffers (2 bytes per element), fp32 accumulation and online
 * softmax: q [B,Tq,D], k and v [B,Tk,D] (BTC, head h = columns h*d .. h*d+d-1, d = D/H); y [B,Tq,D] fp32
 * (y_bf16 0) or bf16 rounded to nearest even (y_bf16 1); lse [B*H, Tq] fp32 (row b*H+h) = the natural
 * log-sum-exp of the row's scaled scores (+inf for a fully masked row), or 0 when not wanted. Semantics of
 * attnkit_attention_forward: scale 1/sqrt(d); mask [B,Tk] fp32 (nonzero = padded key) or 0; causal: key
 * j > i + Tk - Tq masked; a fully masked query outputs zeros. Limits: d = D/H is 64 or 128, B*H <= 65535,
 * q, k, v and y 16-byte aligned (cp.async reads 16-byte chunks; cudaMalloc gives 256). mma.sync (sm_80+),
 * deterministic. For benchmarks against PyTorch's scaled_dot_product_attention in bf16; no backward. */
int attnkit_attention_forward_bf16(long long y, long long lse, long long q, long long k, long long v,
        long long mask, int B, int Tq, int Tk, int H, int D, int causal, int y_bf16);

#ifdef __cplusplus
}
#endif
#endif
