package org.attnkit.backend.cuda;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * The JavaCPP binding of {@code native/include/attnkit.h}: one static method per C function, device
 * buffers as raw addresses ({@code long}, 0 = absent), a status as the result ({@link #OK} or one of
 * the codes below, the message in {@link #attnkit_last_error()}).
 *
 * <p>Loading this class loads the JNI library from the jar; it exists only where the build ran the
 * "cuda" profile (nvcc present). Where it was not built, or cannot load, the class fails to
 * initialize: go through {@link Cuda}, which probes it once and reports why CUDA is unavailable.
 * The JNI library links the CUDA runtime statically and not {@code libcuda}, so it loads on a machine
 * without a driver (BUILD-NOTES): the first CUDA call then reports "no device" as a status.
 */
@Platform(include = "attnkit.h", link = {"rt#", "dl#", "pthread#", "cudart_static#", "attnkit_cuda#"})
public final class AttnkitNative {
    public static final int OK = 0;
    public static final int INVALID_ARGUMENT = 1;
    public static final int NO_DEVICE = 2;
    public static final int OUT_OF_MEMORY = 3;
    public static final int CUDA_ERROR = 4;

    static {
        Loader.load();
    }

    private AttnkitNative() {
    }

    public static native @Cast("const char*") BytePointer attnkit_last_error();

    public static native int attnkit_runtime_version();

    public static native int attnkit_device_count(int[] count);

    public static native int attnkit_synchronize();

    public static native int attnkit_add(long out, long a, long b, long n);

    /** The Philox word of element {@code index}, from the host build of the kernels' own Philox code. */
    public static native int attnkit_philox_word(long seed, long offset, long index);

    /** The DropConnect factor (0 or 1/(1-p)) of element {@code index}, from the kernels' own host code. */
    public static native float attnkit_drop_factor(double p, long seed, long offset, long index);

    public static native int attnkit_lightconv_forward(long y, long x, long weight, long bias, int B, int T, int C,
            int H, int K, int pad, int softmax, double dropP, long seed, long offset, int dropScope);

    public static native int attnkit_lightconv_backward(long dx, long dweight, long dbias, long dy, long x,
            long weight, int B, int T, int C, int H, int K, int pad, int softmax, double dropP, long seed, long offset,
            int dropScope);

    public static native int attnkit_dynamicconv_forward(long y, long x, long query, long weight, long bias, int B,
            int T, int C, int Cq, int H, int K, int pad, int softmax, int renormPadding, double dropP, long seed,
            long offset, int dropScope);

    public static native int attnkit_dynamicconv_backward(long dx, long dquery, long dweight, long dbias, long dy,
            long x, long query, long weight, long bias, int B, int T, int C, int Cq, int H, int K, int pad,
            int softmax, int renormPadding, double dropP, long seed, long offset, int dropScope);

    public static native int attnkit_head_mixture_forward(long y, long o, long gate, long membership, int B, int T,
            int D, int E, int H, int m, int perToken);

    public static native int attnkit_head_mixture_backward(long dO, long dgate, long dy, long o, long gate,
            long membership, int B, int T, int D, int E, int H, int m, int perToken);

    public static native int attnkit_mae_gate_forward(long g, long x, long w1, long b1, long w2, long b2, int B,
            int T, int D, int G, int E, int causal);

    public static native int attnkit_mae_gate_backward(long dx, long dw1, long db1, long dw2, long db2, long x,
            long w1, long b1, long w2, long b2, long g, long dg, int B, int T, int D, int G, int E, int causal);

    /** Batched fp32 GEMM: c[b] = op(a[b]) op(w[b]) (+ bias); see attnkit.h for the layouts. */
    public static native int attnkit_gemm(long c, long a, long w, long bias, int batch, int M, int N, int K,
            int transA, int transW, int shareW);

    /** out[j] = sum over rows of in[i, j], in a fixed order. */
    public static native int attnkit_column_sum(long out, long in, int rows, int cols);

    /** Softmax family over [outer, n, inner]: kind 0 softmax, 1 log-softmax, 2 and 3 their backwards from y, dy. */
    public static native int attnkit_softmax(long out, long x, long dy, int outer, int n, int inner, int kind);

    public static native int attnkit_layernorm_forward(long y, long mean, long rstd, long x, long gamma, long beta,
            int rows, int D, double eps);

    public static native int attnkit_layernorm_backward(long dx, long dgamma, long dbeta, long x, long gamma,
            long mean, long rstd, long dy, int rows, int D);

    public static native int attnkit_glu_forward(long y, long x, long outer, long m);

    public static native int attnkit_glu_backward(long dx, long x, long dy, long outer, long m);

    /** Dropout with the mask of org.attnkit.random.Philox.keep(seed, offset, i, p). */
    public static native int attnkit_dropout(long out, long in, long n, double p, long seed, long offset);

    /** out = a + b (op 0), a * b (op 1) or a copy of a (op 2, b = 0); b is [rows, cols] (bRows = rows) or one [cols] row (bRows = 1). */
    public static native int attnkit_binary(long out, long a, long b, long rows, long cols, long bRows, int op);

    /** scale * row sums (axis 1, out [rows]) or column sums (axis 0, out [cols]) of a [rows, cols] buffer. */
    public static native int attnkit_reduce_sum(long out, long in, long rows, long cols, int axis, double scale);

    /** out[rows, cols] = scale * dy[r] (axis 1) or scale * dy[c] (axis 0). */
    public static native int attnkit_expand(long out, long dy, long rows, long cols, int axis, double scale);

    /** Flash-style attention forward; mask [B,Tk] (nonzero = padded) or 0. */
    public static native int attnkit_attention_forward(long y, long q, long k, long v, long mask, int B, int Tq,
            int Tk, int H, int D, int Dv, int causal);

    /** Attention backward, recomputing the probabilities; dq, dk, dv each 0 when not needed. */
    public static native int attnkit_attention_backward(long dq, long dk, long dv, long q, long k, long v, long mask,
            long dy, int B, int Tq, int Tk, int H, int D, int Dv, int causal);

    /** Cross-entropy rows; targets are floats on the device (negative = ignored row). */
    public static native int attnkit_cross_entropy_forward(long loss, long lse, long logits, long targets, int rows,
            int C);

    public static native int attnkit_cross_entropy_backward(long dlogits, long logits, long lse, long targets,
            long dloss, int rows, int C, int perRow, double scale);

    /** Embedding gather; ids are ints as float bit patterns ({@code Float.intBitsToFloat}). */
    public static native int attnkit_embedding_forward(long out, long table, long ids, long n, int V, int D);

    /** Embedding backward by segments of a stable sort of the ids (ints as float bit patterns). */
    public static native int attnkit_embedding_backward(long dtable, long dy, long order, long start, long n, int V,
            int D);

    /** Activations: even op forward (0 tanh, 2 relu, 4 sigmoid, 6 gelu), odd op the backward from dy. */
    public static native int attnkit_unary(long out, long x, long dy, long n, int op);

    /**
     * Forward op codes of {@link #attnkit_unary}; code + 1 is the backward, from the saved output y (tanh,
     * sigmoid) or input x (relu, gelu).
     */
    public static final int UNARY_TANH = 0;
    public static final int UNARY_RELU = 2;
    public static final int UNARY_SIGMOID = 4;
    public static final int UNARY_GELU = 6;

    // ==== cuda-attn (issue 5): attention with the MAE per-head weight alpha in its epilogue ====

    /** Attention with alpha = (H/m) gate M applied per head in the epilogue; gate [B,E] or [B,Tq,E] (perToken). */
    public static native int attnkit_gated_attention_forward(long y, long q, long k, long v, long mask, long gate,
            long membership, int B, int Tq, int Tk, int H, int D, int Dv, int E, int m, int perToken, int causal);

    /** Its backward: dq, dk, dv, dgate each 0 when not needed; recomputes the probabilities and o. */
    public static native int attnkit_gated_attention_backward(long dq, long dk, long dv, long dgate, long q, long k,
            long v, long mask, long gate, long membership, long dy, int B, int Tq, int Tk, int H, int D, int Dv,
            int E, int m, int perToken, int causal);
    // ---- GEMM on tensor cores and GEMM epilogues (issue 5, GEMM piece): see attnkit.h ----

    /** Precision codes of {@link #attnkit_gemm_ex} ({@link GemmPrecision#code()}). */
    public static final int GEMM_FP32 = 0;
    public static final int GEMM_TF32 = 1;
    public static final int GEMM_BF16 = 2;

    /** Epilogue codes of {@link #attnkit_gemm_ex}: y = f(z); GLU halves the N columns (a, then the gate). */
    public static final int EPILOGUE_NONE = 0;
    public static final int EPILOGUE_RELU = 1;
    public static final int EPILOGUE_GELU = 2;
    public static final int EPILOGUE_TANH = 3;
    public static final int EPILOGUE_SIGMOID = 4;
    public static final int EPILOGUE_GLU = 5;

    /** y[b] = epilogue(op(a[b]) op(w[b]) + bias) at a precision; z receives the pre-activation (or 0). */
    public static native int attnkit_gemm_ex(long y, long z, long a, long w, long bias, int batch, int M, int N,
            int K, int transA, int transW, int shareW, int precision, int epilogue);

    /** BF16 GEMM on bf16 device buffers, fp32 accumulation; c fp32 or (cBf16 1) bf16. */
    public static native int attnkit_gemm_bf16(long c, long a, long w, long bias, int batch, int M, int N, int K,
            int transA, int transW, int shareW, int cBf16);

    /** out[i] = bf16(in[i]), round to nearest even. */
    public static native int attnkit_f32_to_bf16(long out, long in, long n);

    /** out[i] = float(in[i]) of a bf16 buffer. */
    public static native int attnkit_bf16_to_f32(long out, long in, long n);
    // ==== issue 5, a whole training step on the device (branch cuda-graph): strided copies, broadcasting,
    // reductions over any dims, residual + dropout + LayerNorm, optimizer updates. See attnkit.h. ====

    /** Largest rank of the strided entry points. */
    public static final int MAX_RANK = 8;

    /** out[outOffset + c . outStrides] = scale * in[inOffset + c . inStrides] for every coordinate c of dims. */
    public static native int attnkit_strided_copy(long out, long outOffset, int[] outStrides, long in, long inOffset,
            int[] inStrides, int[] dims, int rank, double scale);

    /** out [dims] = f(a, b, c) at their strides: op 0 a+b, 1 a-b, 2 a*b, 3 a/b, 4 -a, 5 a*(-b/(c*c)). */
    public static native int attnkit_broadcast_op(long out, long a, int[] aStrides, long b, int[] bStrides, long c,
            int[] cStrides, int[] dims, int rank, int op);

    /** out [keptDims] = scale * the sum over redDims, in double and a fixed order. */
    public static native int attnkit_strided_sum(long out, long in, int[] keptDims, int[] keptStrides, int keptRank,
            int[] redDims, int[] redStrides, int redRank, double scale);

    /** sum = residual + dropout(x), y = LayerNorm(sum), mean and rstd per row, in one kernel. */
    public static native int attnkit_residual_layernorm_forward(long sum, long y, long mean, long rstd, long x,
            long residual, long gamma, long beta, int rows, int D, double eps, double dropP, long seed, long offset);

    /** Adam/AdamW in place, bit for bit org.attnkit.optim.Adam's update; c1, c2 the bias corrections. */
    public static native int attnkit_adam(long p, long grad, long m, long v, long n, double lr, double beta1,
            double beta2, double eps, double weightDecay, int decoupled, double c1, double c2);

    /** SGD in place, bit for bit org.attnkit.optim.Sgd's update; buf 0 without momentum. */
    public static native int attnkit_sgd(long p, long grad, long buf, long n, double lr, double momentum,
            double weightDecay, int first);

    /** result[0] = the sum of squares of n floats, in double, in a fixed order. */
    public static native int attnkit_sum_squares(long in, long n, double[] result);

    /** out[i] = (float) (in[i] * scale), in double. */
    public static native int attnkit_scale(long out, long in, long n, double scale);

    /** Host runs of the element code of the entry points above (tests without a GPU); see attnkit.h. */
    public static native int attnkit_strided_copy_host(float[] out, long outLen, long outOffset, int[] outStrides,
            float[] in, long inLen, long inOffset, int[] inStrides, int[] dims, int rank, double scale);

    public static native int attnkit_broadcast_op_host(float[] out, long outLen, float[] a, long aLen, int[] aStrides,
            float[] b, long bLen, int[] bStrides, float[] c, long cLen, int[] cStrides, int[] dims, int rank, int op);

    public static native int attnkit_strided_sum_host(float[] out, long outLen, float[] in, long inLen, int[] keptDims,
            int[] keptStrides, int keptRank, int[] redDims, int[] redStrides, int redRank, double scale);

    public static native int attnkit_residual_layernorm_host(float[] sum, float[] y, float[] mean, float[] rstd,
            float[] x, float[] residual, float[] gamma, float[] beta, int rows, int D, double eps, double dropP, long seed,
            long offset);

    public static native int attnkit_adam_host(float[] p, float[] grad, float[] m, float[] v, long n, double lr,
            double beta1, double beta2, double eps, double weightDecay, int decoupled, double c1, double c2);

    public static native int attnkit_sgd_host(float[] p, float[] grad, float[] buf, long n, double lr, double momentum,
            double weightDecay, int first);

    // ==== issue 5, bf16 tensor-core attention forward (branch cuda-attn-bf16, cuda/attention_bf16.cu) ====

    /**
     * FlashAttention-2-style forward on bf16 buffers q [B,Tq,D], k, v [B,Tk,D] (d = D/H of 64 or 128, 16-byte
     * aligned): y [B,Tq,D] fp32 or (yBf16 1) bf16, lse [B*H,Tq] fp32 or 0; mask [B,Tk] fp32 or 0; causal 0/1.
     */
    public static native int attnkit_attention_forward_bf16(long y, long lse, long q, long k, long v, long mask,
            int B, int Tq, int Tk, int H, int D, int causal, int yBf16);
}
