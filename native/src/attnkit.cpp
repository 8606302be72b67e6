// attnkit.cpp: the C ABI of attnkit.h. Every entry point checks its arguments on the host first (a
// bad size never reaches a kernel and no CUDA call is made), then calls the launcher in cuda/, then
// turns a CUDA error into a status and a message for attnkit_last_error().
#include "attnkit.h"

#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

#include "common.cuh"
#include "launchers.h"

namespace {

thread_local std::string lastError;

int fail(int status, const std::string& message) {
    lastError = message;
    return status;
}

int cudaStatus(const char* fn, cudaError_t err) {
    if (err == cudaSuccess) {
        lastError.clear();
        return ATTNKIT_OK;
    }
    std::string msg = std::string(fn) + ": CUDA error " + std::to_string((int)err) + " (" + cudaGetErrorName(err)
            + "): " + cudaGetErrorString(err);
    if (err == cudaErrorMemoryAllocation) return fail(ATTNKIT_OUT_OF_MEMORY, msg);
    if (err == cudaErrorNoDevice || err == cudaErrorInsufficientDriver || err == cudaErrorInitializationError) {
        return fail(ATTNKIT_NO_DEVICE, msg);
    }
    return fail(ATTNKIT_CUDA_ERROR, msg);
}

// Collects the first failed check of a call.
struct Checks {
    const char* fn;
    std::string error;
    explicit Checks(const char* f) : fn(f) {}
    void positive(const char* name, long long v) {
        if (error.empty() && v < 1) error = std::string(fn) + ": " + name + " must be >= 1, got " + std::to_string(v);
    }
    void range(const char* name, long long v, long long lo, long long hi) {
        if (error.empty() && (v < lo || v > hi)) {
            error = std::string(fn) + ": " + name + " must be in [" + std::to_string(lo) + ", " + std::to_string(hi)
                    + "], got " + std::to_string(v);
        }
    }
    void divides(const char* what, long long d, long long n) {
        if (error.empty() && (d < 1 || n % d != 0)) {
            error = std::string(fn) + ": " + what + " (" + std::to_string(d) + " must divide " + std::to_string(n)
                    + ")";
        }
    }
    void pointer(const char* name, long long p) {
        if (error.empty() && p == 0) error = std::string(fn) + ": " + name + " must not be null";
    }
    void probability(double p) {
        if (error.empty() && !(p >= 0 && p < 1)) {
            char buf[64];
            std::snprintf(buf, sizeof buf, "%.17g", p);
            error = std::string(fn) + ": drop_p must be in [0, 1), got " + buf;
        }
    }
    void elements(const char* name, long long a, long long b, long long c) {
        // __builtin_mul_overflow: a signed overflow check by division after the fact is undefined
        // behaviour that the compiler may (and did) fold away.
        long long n = 0, nc = 0;
        bool overflow = __builtin_mul_overflow(a, b, &n) || __builtin_mul_overflow(n, c, &nc);
        if (error.empty() && (overflow || nc > (1LL << 40))) {
            error = std::string(fn) + ": " + name + " has too many elements";
        }
    }
    bool ok() {
        if (!error.empty()) lastError = error;
        return error.empty();
    }
};

template <typename T>
T* f(long long p) {
    return reinterpret_cast<T*>(static_cast<uintptr_t>(p));
}

attnkit::DropArgs dropArgs(double p, long long seed, long long offset, int scope) {
    return attnkit::DropArgs{p, seed, offset, scope};
}

}  // namespace

extern "C" {

const char* attnkit_last_error(void) { return lastError.c_str(); }

int attnkit_runtime_version(void) { return CUDART_VERSION; }

int attnkit_device_count(int* count) {
    if (!count) return fail(ATTNKIT_INVALID_ARGUMENT, "attnkit_device_count: count must not be null");
    *count = 0;
    int n = 0;
    cudaError_t err = cudaGetDeviceCount(&n);
    if (err != cudaSuccess) {
        cudaGetLastError();  // clear the sticky-free error so later calls start clean
        return cudaStatus("attnkit_device_count", err);
    }
    *count = n;
    if (n == 0) return fail(ATTNKIT_NO_DEVICE, "attnkit_device_count: the CUDA runtime sees no device");
    lastError.clear();
    return ATTNKIT_OK;
}

int attnkit_philox_word(long long seed, long long offset, long long index) {
    return (int)attnkit::philox_word((uint64_t)seed, (uint64_t)offset, (uint64_t)index);
}

float attnkit_drop_factor(double p, long long seed, long long offset, long long index) {
    return attnkit::drop_factor(attnkit::make_drop(p, seed, offset, 0), (uint64_t)index);
}

int attnkit_add(long long out, long long a, long long b, long long n) {
    Checks c("attnkit_add");
    c.range("n", n, 0, 1LL << 40);
    c.pointer("out", out); c.pointer("a", a); c.pointer("b", b);
    if (!c.ok()) return ATTNKIT_INVALID_ARGUMENT;
    if (n == 0) return ATTNKIT_OK;
    attnkit::add(f<float>(out), f<const float>(a), f<const float>(b), n);
    return cudaStatus(c.fn, cudaGetLastError());
}

int attnkit_synchronize(void) { return cudaStatus("attnkit_synchronize", cudaDeviceSynchronize()); }

int attnkit_lightconv_forward(long long y, long long x, long long weight, long long bias, int B, int T, int C,
        int H, int K, int pad, int softmax, double drop_p, long long seed, long long offset, int drop_scope) {
    Checks c("attnkit_lightconv_forward");
    c.positive("B", B); c.positive("T", T); c.positive("C", C); c.positive("H", H); c.positive("K", K);
    c.range("pad", pad, 0, K - 1);
    c.divides("heads H must divide channels C", H, C);
    c.range("drop_scope", drop_scope, 0, 1);
    c.probability(drop_p);
    c.elements("x", (long long)B * T, C, 1);
    c.pointer("y", y); c.pointer("x", x); c.pointer("weight", weight);
    if (!c.ok()) return ATTNKIT_INVALID_ARGUMENT;
    return cudaStatus(c.fn, attnkit::lightconv_forward(f<float>(y), f<const float>(x), f<const float>(weight),
            f<const float>(bias), B, T, C, H, K, pad, softmax != 0, dropArgs(drop_p, seed, offset, drop_scope)));
}

int attnkit_lightconv_backward(long long dx, long long dweight, long long dbias, long long dy, long long x,
        long long weight, int B, int T, int C, int H, int K, int pad, int softmax, double drop_p, long long seed,
        long long offset, int drop_scope) {
    Checks c("attnkit_lightconv_backward");
    c.positive("B", B); c.positive("T", T); c.positive("C", C); c.positive("H", H); c.positive("K", K);
    c.range("pad", pad, 0, K - 1);
    c.divides("heads H must divide channels C", H, C);
    c.range("drop_scope", drop_scope, 0, 1);
    c.probability(drop_p);
    c.elements("x", (long long)B * T, C, 1);
    c.pointer("dy", dy); c.pointer("x", x); c.pointer("weight", weight);
    if (!c.ok()) return ATTNKIT_INVALID_ARGUMENT;
    return cudaStatus(c.fn, attnkit::lightconv_backward(f<float>(dx), f<float>(dweight), f<float>(dbias),
            f<const float>(dy), f<const float>(x), f<const float>(weight), B, T, C, H, K, pad, softmax != 0,
            dropArgs(drop_p, seed, offset, drop_scope)));
}

// The fused DynamicConv block keeps 3 x TT x K floats in shared memory with TT >= 1.
static const int DYNAMICCONV_MAX_K = 4096;

int attnkit_dynamicconv_forward(long long y, long long x, long long query, long long weight, long long bias, int B,
        int T, int C, int Cq, int H, int K, int pad, int softmax, int renorm_padding, double drop_p, long long seed,
        long long offset, int drop_scope) {
    Checks c("attnkit_dynamicconv_forward");
    c.positive("B", B); c.positive("T", T); c.positive("C", C); c.positive("Cq", Cq); c.positive("H", H);
    c.range("K", K, 1, DYNAMICCONV_MAX_K);
    c.range("pad", pad, 0, K - 1);
    c.divides("heads H must divide channels C", H, C);
    if (!query && Cq != C) c.range("Cq (query is x, so Cq = C)", Cq, C, C);
    c.range("drop_scope", drop_scope, 0, 1);
    c.probability(drop_p);
    c.elements("x", (long long)B * T, C, 1);
    c.elements("kernels", (long long)B * T, (long long)H * K, 1);
    c.pointer("y", y); c.pointer("x", x); c.pointer("weight", weight);
    if (!c.ok()) return ATTNKIT_INVALID_ARGUMENT;
    return cudaStatus(c.fn, attnkit::dynamicconv_forward(f<float>(y), f<const float>(x), f<const float>(query),
            f<const float>(weight), f<const float>(bias), B, T, C, Cq, H, K, pad, softmax != 0, renorm_padding != 0,
            dropArgs(drop_p, seed, offset, drop_scope)));
}

int attnkit_dynamicconv_backward(long long dx, long long dquery, long long dweight, long long dbias, long long dy,
        long long x, long long query, long long weight, long long bias, int B, int T, int C, int Cq, int H, int K,
        int pad, int softmax, int renorm_padding, double drop_p, long long seed, long long offset, int drop_scope) {
    Checks c("attnkit_dynamicconv_backward");
    c.positive("B", B); c.positive("T", T); c.positive("C", C); c.positive("Cq", Cq); c.positive("H", H);
    c.range("K", K, 1, DYNAMICCONV_MAX_K);
    c.range("pad", pad, 0, K - 1);
    c.divides("heads H must divide channels C", H, C);
    if (!query && Cq != C) c.range("Cq (query is x, so Cq = C)", Cq, C, C);
    if (!query && dquery) c.error = "attnkit_dynamicconv_backward: dquery given but query is null (x is the query)";
    c.range("drop_scope", drop_scope, 0, 1);
    c.probability(drop_p);
    c.elements("x", (long long)B * T, C, 1);
    c.elements("kernels", (long long)B * T, (long long)H * K, 2);
    c.pointer("dy", dy); c.pointer("x", x); c.pointer("weight", weight);
    if (!c.ok()) return ATTNKIT_INVALID_ARGUMENT;
    return cudaStatus(c.fn, attnkit::dynamicconv_backward(f<float>(dx), f<float>(dquery), f<float>(dweight),
            f<float>(dbias), f<const float>(dy), f<const float>(x), f<const float>(query), f<const float>(weight),
            f<const float>(bias), B, T, C, Cq, H, K, pad, softmax != 0, renorm_padding != 0,
            dropArgs(drop_p, seed, offset, drop_scope)));
}

int attnkit_head_mixture_forward(long long y, long long o, long long gate, long long membership, int B, int T,
        int D, int E, int H, int m, int per_token) {
    Checks c("attnkit_head_mixture_forward");
    c.positive("B", B); c.positive("T", T); c.positive("D", D); c.positive("E", E); c.positive("H", H);
    c.range("m", m, 1, H);
    c.divides("heads H must divide D", H, D);
    c.elements("o", (long long)B * T, D, 1);
    c.pointer("y", y); c.pointer("o", o); c.pointer("gate", gate); c.pointer("membership", membership);
    if (!c.ok()) return ATTNKIT_INVALID_ARGUMENT;
    return cudaStatus(c.fn, attnkit::head_mixture_forward(f<float>(y), f<const float>(o), f<const float>(gate),
            f<const float>(membership), B, T, D, E, H, m, per_token != 0));
}

int attnkit_head_mixture_backward(long long dO, long long dgate, long long dy, long long o, long long gate,
        long long membership, int B, int T, int D, int E, int H, int m, int per_token) {
    Checks c("attnkit_head_mixture_backward");
    c.positive("B", B); c.positive("T", T); c.positive("D", D); c.positive("E", E); c.positive("H", H);
    c.range("m", m, 1, H);
    c.divides("heads H must divide D", H, D);
    c.elements("o", (long long)B * T, D, 1);
    c.pointer("dy", dy); c.pointer("o", o); c.pointer("gate", gate); c.pointer("membership", membership);
    if (!c.ok()) return ATTNKIT_INVALID_ARGUMENT;
    return cudaStatus(c.fn, attnkit::head_mixture_backward(f<float>(dO), f<float>(dgate), f<const float>(dy),
            f<const float>(o), f<const float>(gate), f<const float>(membership), B, T, D, E, H, m, per_token != 0));
}

int attnkit_mae_gate_forward(long long g, long long x, long long w1, long long b1, long long w2, long long b2, int B,
        int T, int D, int G, int E, int causal) {
    Checks c("attnkit_mae_gate_forward");
    c.positive("B", B); c.positive("T", T); c.positive("D", D); c.positive("G", G); c.positive("E", E);
    c.elements("x", (long long)B * T, D, 1);
    c.pointer("g", g); c.pointer("x", x); c.pointer("w1", w1); c.pointer("w2", w2);
    if (!c.ok()) return ATTNKIT_INVALID_ARGUMENT;
    return cudaStatus(c.fn, attnkit::mae_gate_forward(f<float>(g), f<const float>(x), f<const float>(w1),
            f<const float>(b1), f<const float>(w2), f<const float>(b2), B, T, D, G, E, causal != 0));
}

int attnkit_mae_gate_backward(long long dx, long long dw1, long long db1, long long dw2, long long db2, long long x,
        long long w1, long long b1, long long w2, long long b2, long long g, long long dg, int B, int T, int D, int G,
        int E, int causal) {
    Checks c("attnkit_mae_gate_backward");
    c.positive("B", B); c.positive("T", T); c.positive("D", D); c.positive("G", G); c.positive("E", E);
    c.elements("x", (long long)B * T, D, 1);
    c.pointer("x", x); c.pointer("w1", w1); c.pointer("w2", w2); c.pointer("g", g); c.pointer("dg", dg);
    if (!c.ok()) return ATTNKIT_INVALID_ARGUMENT;
    return cudaStatus(c.fn, attnkit::mae_gate_backward(f<float>(dx), f<float>(dw1), f<float>(db1), f<float>(dw2),
            f<float>(db2), f<const float>(x), f<const float>(w1), f<const float>(b1), f<const float>(w2),
            f<const float>(b2), f<const float>(g), f<const float>(dg), B, T, D, G, E, causal != 0));
}

// Grid limits of the fp32 GEMM: blockIdx.z = batch index, blockIdx.y = row tile (128 rows; 64 kept as the
// limit, which every GEMM kernel meets).
static const int GEMM_MAX_BATCH = 65535;
static const int GEMM_MAX_M = 65535 * 64;

int attnkit_gemm(long long c, long long a, long long w, long long bias, int batch, int M, int N, int K,
        int trans_a, int trans_w, int share_w) {
    Checks ch("attnkit_gemm");
    ch.range("batch", batch, 1, GEMM_MAX_BATCH);
    ch.range("M", M, 0, GEMM_MAX_M);
    ch.range("N", N, 0, INT32_MAX);
    ch.range("K", K, 0, INT32_MAX);
    ch.range("trans_a", trans_a, 0, 1);
    ch.range("trans_w", trans_w, 0, 1);
    ch.range("share_w", share_w, 0, 1);
    ch.elements("c", (long long)batch * M, N > 0 ? N : 1, 1);
    ch.elements("a", (long long)batch * M, K > 0 ? K : 1, 1);
    ch.elements("w", (long long)batch * (K > 0 ? K : 1), N > 0 ? N : 1, 1);
    ch.pointer("c", c);
    if (K > 0) { ch.pointer("a", a); ch.pointer("w", w); }
    if (!ch.ok()) return ATTNKIT_INVALID_ARGUMENT;
    if ((long long)M * N == 0) return ATTNKIT_OK;
    return cudaStatus(ch.fn, attnkit::gemm_batched(f<float>(c), f<const float>(a), f<const float>(w),
            f<const float>(bias), batch, M, N, K, trans_a != 0, trans_w != 0, share_w != 0));
}

int attnkit_column_sum(long long out, long long in, int rows, int cols) {
    Checks ch("attnkit_column_sum");
    ch.range("rows", rows, 0, INT32_MAX);
    ch.positive("cols", cols);
    ch.elements("in", rows > 0 ? rows : 1, cols > 0 ? cols : 1, 1);
    ch.pointer("out", out);
    if (rows > 0) ch.pointer("in", in);
    if (!ch.ok()) return ATTNKIT_INVALID_ARGUMENT;
    return cudaStatus(ch.fn, attnkit::column_sum_checked(f<float>(out), f<const float>(in), rows, cols));
}

int attnkit_softmax(long long out, long long x, long long dy, int outer, int n, int inner, int kind) {
    Checks ch("attnkit_softmax");
    ch.positive("outer", outer); ch.positive("n", n); ch.positive("inner", inner);
    ch.range("kind", kind, 0, 3);
    ch.elements("x", (long long)outer * n, inner, 1);
    ch.pointer("out", out); ch.pointer("x", x);
    if (kind >= 2) ch.pointer("dy", dy);
    if (kind < 2 && dy && ch.error.empty()) ch.error = "attnkit_softmax: dy given for a forward kind " + std::to_string(kind);
    if (!ch.ok()) return ATTNKIT_INVALID_ARGUMENT;
    return cudaStatus(ch.fn, attnkit::softmax_lines(f<float>(out), f<const float>(x), f<const float>(dy), outer, n,
            inner, kind));
}

int attnkit_layernorm_forward(long long y, long long mean, long long rstd, long long x, long long gamma,
        long long beta, int rows, int D, double eps) {
    Checks ch("attnkit_layernorm_forward");
    ch.positive("rows", rows); ch.positive("D", D);
    if (ch.error.empty() && !(eps > 0 && std::isfinite(eps))) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.17g", eps);
        ch.error = std::string(ch.fn) + ": eps must be > 0 and finite, got " + buf;
    }
    ch.elements("x", rows, D, 1);
    ch.pointer("y", y); ch.pointer("mean", mean); ch.pointer("rstd", rstd); ch.pointer("x", x);
    if (!ch.ok()) return ATTNKIT_INVALID_ARGUMENT;
    return cudaStatus(ch.fn, attnkit::layernorm_forward(f<float>(y), f<float>(mean), f<float>(rstd), f<const float>(x),
            f<const float>(gamma), f<const float>(beta), rows, D, eps));
}

int attnkit_layernorm_backward(long long dx, long long dgamma, long long dbeta, long long x, long long gamma,
        long long mean, long long rstd, long long dy, int rows, int D) {
    Checks ch("attnkit_layernorm_backward");
    ch.positive("rows", rows); ch.positive("D", D);
    ch.elements("x", rows, D, 1);
    if (ch.error.empty() && !dx && !dgamma && !dbeta) ch.error = "attnkit_layernorm_backward: no gradient asked for";
    ch.pointer("x", x); ch.pointer("mean", mean); ch.pointer("rstd", rstd); ch.pointer("dy", dy);
    if (!ch.ok()) return ATTNKIT_INVALID_ARGUMENT;
    return cudaStatus(ch.fn, attnkit::layernorm_backward(f<float>(dx), f<float>(dgamma), f<float>(dbeta),
            f<const float>(x), f<const float>(gamma), f<const float>(mean), f<const float>(rstd), f<const float>(dy),
            rows, D));
}

int attnkit_glu_forward(long long y, long long x, long long outer, long long m) {
    Checks ch("attnkit_glu_forward");
    ch.positive("outer", outer); ch.positive("m", m);
    ch.elements("x", outer, m, 2);
    ch.pointer("y", y); ch.pointer("x", x);
    if (!ch.ok()) return ATTNKIT_INVALID_ARGUMENT;
    return cudaStatus(ch.fn, attnkit::glu_forward(f<float>(y), f<const float>(x), outer, m));
}

int attnkit_glu_backward(long long dx, long long x, long long dy, long long outer, long long m) {
    Checks ch("attnkit_glu_backward");
    ch.positive("outer", outer); ch.positive("m", m);
    ch.elements("x", outer, m, 2);
    ch.pointer("dx", dx); ch.pointer("x", x); ch.pointer("dy", dy);
    if (!ch.ok()) return ATTNKIT_INVALID_ARGUMENT;
    return cudaStatus(ch.fn, attnkit::glu_backward(f<float>(dx), f<const float>(x), f<const float>(dy), outer, m));
}

int attnkit_dropout(long long out, long long in, long long n, double p, long long seed, long long offset) {
    Checks ch("attnkit_dropout");
    ch.range("n", n, 1, 1LL << 40);
    ch.probability(p);
    if (ch.error.empty() && p == 0) ch.error = "attnkit_dropout: drop_p must be > 0 (p = 0 is the identity), got 0";
    ch.pointer("out", out); ch.pointer("in", in);
    if (!ch.ok()) return ATTNKIT_INVALID_ARGUMENT;
    return cudaStatus(ch.fn, attnkit::dropout(f<float>(out), f<const float>(in), n, p, seed, offset));
}

int attnkit_binary(long long out, long long a, long long b, long long rows, long long cols, long long b_rows, int op) {
    Checks ch("attnkit_binary");
    ch.positive("rows", rows); ch.positive("cols", cols);
    ch.range("op", op, 0, 2);
    ch.elements("a", rows, cols, 1);
    if (ch.error.empty() && b_rows != 1 && b_rows != rows) {
        ch.error = "attnkit_binary: b_rows must be 1 or rows = " + std::to_string(rows) + ", got " + std::to_string(b_rows);
    }
    ch.pointer("out", out); ch.pointer("a", a);
    if (op != 2) ch.pointer("b", b);
    if (!ch.ok()) return ATTNKIT_INVALID_ARGUMENT;
    return cudaStatus(ch.fn, attnkit::binary(f<float>(out), f<const float>(a), f<const float>(b), rows, cols,
            b_rows == 1 && rows != 1, op));
}

int attnkit_reduce_sum(long long out, long long in, long long rows, long long cols, int axis, double scale) {
    Checks ch("attnkit_reduce_sum");
    ch.range("axis", axis, 0, 1);
    ch.range(axis == 1 ? "rows" : "cols", axis == 1 ? rows : cols, 1, INT32_MAX);
    ch.range(axis == 1 ? "cols" : "rows", axis == 1 ? cols : rows, 0, 1LL << 40);
    ch.elements("in", rows > 0 ? rows : 1, cols > 0 ? cols : 1, 1);
    if (ch.error.empty() && std::isnan(scale)) ch.error = "attnkit_reduce_sum: scale must not be NaN";
    ch.pointer("out", out);
    if ((long long)rows * cols > 0) ch.pointer("in", in);
    if (!ch.ok()) return ATTNKIT_INVALID_ARGUMENT;
    return cudaStatus(ch.fn, attnkit::reduce_sum(f<float>(out), f<const float>(in), rows, cols, axis, (float)scale));
}

int attnkit_expand(long long out, long long dy, long long rows, long long cols, int axis, double scale) {
    Checks ch("attnkit_expand");
    ch.range("axis", axis, 0, 1);
    ch.range("rows", rows, 1, 1LL << 40);
    ch.range("cols", cols, 1, 1LL << 40);
    ch.elements("out", rows, cols, 1);
    if (ch.error.empty() && std::isnan(scale)) ch.error = "attnkit_expand: scale must not be NaN";
    ch.pointer("out", out); ch.pointer("dy", dy);
    if (!ch.ok()) return ATTNKIT_INVALID_ARGUMENT;
    return cudaStatus(ch.fn, attnkit::expand(f<float>(out), f<const float>(dy), rows, cols, axis, (float)scale));
}

// attention.cu keeps a head's row in per-thread registers (templated 64/128) and puts B*H on gridDim.y.
static const int ATTENTION_MAX_HEAD_DIM = 128;

static void attentionChecks(Checks& ch, int B, int Tq, int Tk, int H, int D, int Dv) {
    ch.positive("B", B); ch.positive("Tq", Tq); ch.positive("Tk", Tk); ch.positive("H", H);
    ch.positive("D", D); ch.positive("Dv", Dv);
    ch.divides("heads H must divide D", H, D);
    ch.divides("heads H must divide Dv", H, Dv);
    if (ch.error.empty()) ch.range("D/H", D / H, 1, ATTENTION_MAX_HEAD_DIM);
    if (ch.error.empty()) ch.range("Dv/H", Dv / H, 1, ATTENTION_MAX_HEAD_DIM);
    ch.range("B*H", (long long)B * H, 1, 65535);
    ch.elements("q", (long long)B * Tq, D, 1);
    ch.elements("k", (long long)B * Tk, D, 1);
    ch.elements("v", (long long)B * Tk, Dv, 1);
    ch.elements("y", (long long)B * Tq, Dv, 1);
}

int attnkit_attention_forward(long long y, long long q, long long k, long long v, long long mask, int B, int Tq,
        int Tk, int H, int D, int Dv, int causal) {
    Checks ch("attnkit_attention_forward");
    attentionChecks(ch, B, Tq, Tk, H, D, Dv);
    ch.pointer("y", y); ch.pointer("q", q); ch.pointer("k", k); ch.pointer("v", v);
    if (!ch.ok()) return ATTNKIT_INVALID_ARGUMENT;
    return cudaStatus(ch.fn, attnkit::attention_forward(f<float>(y), f<const float>(q), f<const float>(k),
            f<const float>(v), f<const float>(mask), B, Tq, Tk, H, D, Dv, causal != 0));
}

int attnkit_attention_backward(long long dq, long long dk, long long dv, long long q, long long k, long long v,
        long long mask, long long dy, int B, int Tq, int Tk, int H, int D, int Dv, int causal) {
    Checks ch("attnkit_attention_backward");
    attentionChecks(ch, B, Tq, Tk, H, D, Dv);
    if (ch.error.empty() && !dq && !dk && !dv) ch.error = "attnkit_attention_backward: no gradient asked for";
    ch.pointer("q", q); ch.pointer("k", k); ch.pointer("v", v); ch.pointer("dy", dy);
    if (!ch.ok()) return ATTNKIT_INVALID_ARGUMENT;
    return cudaStatus(ch.fn, attnkit::attention_backward(f<float>(dq), f<float>(dk), f<float>(dv), f<const float>(q),
            f<const float>(k), f<const float>(v), f<const float>(mask), f<const float>(dy), B, Tq, Tk, H, D, Dv,
            causal != 0));
}

// Targets travel as floats: class indices must be exact in float32.
static const int CROSS_ENTROPY_MAX_CLASSES = 1 << 24;

int attnkit_cross_entropy_forward(long long loss, long long lse, long long logits, long long targets, int rows, int C) {
    Checks ch("attnkit_cross_entropy_forward");
    ch.positive("rows", rows);
    ch.range("C", C, 1, CROSS_ENTROPY_MAX_CLASSES);
    ch.elements("logits", rows, C, 1);
    ch.pointer("loss", loss); ch.pointer("lse", lse); ch.pointer("logits", logits); ch.pointer("targets", targets);
    if (!ch.ok()) return ATTNKIT_INVALID_ARGUMENT;
    return cudaStatus(ch.fn, attnkit::cross_entropy_forward(f<float>(loss), f<float>(lse), f<const float>(logits),
            f<const float>(targets), rows, C));
}

int attnkit_cross_entropy_backward(long long dlogits, long long logits, long long lse, long long targets,
        long long dloss, int rows, int C, int per_row, double scale) {
    Checks ch("attnkit_cross_entropy_backward");
    ch.positive("rows", rows);
    ch.range("C", C, 1, CROSS_ENTROPY_MAX_CLASSES);
    ch.range("per_row", per_row, 0, 1);
    ch.elements("logits", rows, C, 1);
    if (ch.error.empty() && !std::isfinite(scale)) ch.error = "attnkit_cross_entropy_backward: scale must be finite";
    ch.pointer("dlogits", dlogits); ch.pointer("logits", logits); ch.pointer("lse", lse);
    ch.pointer("targets", targets); ch.pointer("dloss", dloss);
    if (!ch.ok()) return ATTNKIT_INVALID_ARGUMENT;
    return cudaStatus(ch.fn, attnkit::cross_entropy_backward(f<float>(dlogits), f<const float>(logits),
            f<const float>(lse), f<const float>(targets), f<const float>(dloss), rows, C, per_row != 0, (float)scale));
}

// Ids and positions travel as float bit patterns: below 2^30 they are finite floats, copied bit for bit.
static const int EMBEDDING_MAX = 1 << 30;

int attnkit_embedding_forward(long long out, long long table, long long ids, long long n, int V, int D) {
    Checks ch("attnkit_embedding_forward");
    ch.range("n", n, 1, EMBEDDING_MAX);
    ch.range("V", V, 1, EMBEDDING_MAX);
    ch.positive("D", D);
    ch.elements("out", n, D, 1);
    ch.elements("table", V, D, 1);
    ch.pointer("out", out); ch.pointer("table", table); ch.pointer("ids", ids);
    if (!ch.ok()) return ATTNKIT_INVALID_ARGUMENT;
    return cudaStatus(ch.fn, attnkit::embedding_forward(f<float>(out), f<const float>(table), f<const float>(ids), n, D));
}

int attnkit_embedding_backward(long long dtable, long long dy, long long order, long long start, long long n, int V,
        int D) {
    Checks ch("attnkit_embedding_backward");
    ch.range("n", n, 0, EMBEDDING_MAX);
    ch.range("V", V, 1, EMBEDDING_MAX);
    ch.positive("D", D);
    ch.elements("dy", n > 0 ? n : 1, D, 1);
    ch.elements("dtable", V, D, 1);
    ch.pointer("dtable", dtable); ch.pointer("start", start);
    if (n > 0) { ch.pointer("dy", dy); ch.pointer("order", order); }
    if (!ch.ok()) return ATTNKIT_INVALID_ARGUMENT;
    return cudaStatus(ch.fn, attnkit::embedding_backward(f<float>(dtable), f<const float>(dy), f<const float>(order),
            f<const float>(start), V, D));
}

int attnkit_unary(long long out, long long x, long long dy, long long n, int op) {
    Checks ch("attnkit_unary");
    ch.range("n", n, 1, 1LL << 40);
    ch.range("op", op, 0, 7);
    ch.pointer("out", out); ch.pointer("x", x);
    if (op % 2 == 1) ch.pointer("dy", dy);
    if (ch.error.empty() && op % 2 == 0 && dy) ch.error = "attnkit_unary: dy given for a forward op " + std::to_string(op);
    if (!ch.ok()) return ATTNKIT_INVALID_ARGUMENT;
    return cudaStatus(ch.fn, attnkit::unary(f<float>(out), f<const float>(x), f<const float>(dy), n, op));
}

// ---- GEMM on tensor cores and GEMM epilogues (issue 5, GEMM piece) ----
// gemm_mma: blockIdx.y = 128-row tile; the SIMT kernel (FP32 precision) has 64-row tiles, so attnkit_gemm_ex
// keeps attnkit_gemm's M limit whatever the precision.
static const int GEMM_MMA_MAX_M = 65535 * 128;

static void gemmShapeChecks(Checks& ch, int batch, int M, int maxM, int N, int K, int trans_a, int trans_w,
        int share_w) {
    ch.range("batch", batch, 1, GEMM_MAX_BATCH);
    ch.range("M", M, 0, maxM);
    ch.range("N", N, 0, INT32_MAX);
    ch.range("K", K, 0, INT32_MAX);
    ch.range("trans_a", trans_a, 0, 1);
    ch.range("trans_w", trans_w, 0, 1);
    ch.range("share_w", share_w, 0, 1);
    ch.elements("c", (long long)batch * M, N > 0 ? N : 1, 1);
    ch.elements("a", (long long)batch * M, K > 0 ? K : 1, 1);
    ch.elements("w", (long long)batch * (K > 0 ? K : 1), N > 0 ? N : 1, 1);
}

int attnkit_gemm_ex(long long y, long long z, long long a, long long w, long long bias, int batch, int M, int N,
        int K, int trans_a, int trans_w, int share_w, int precision, int epilogue) {
    Checks ch("attnkit_gemm_ex");
    gemmShapeChecks(ch, batch, M, GEMM_MAX_M, N, K, trans_a, trans_w, share_w);
    ch.range("precision", precision, ATTNKIT_GEMM_FP32, ATTNKIT_GEMM_BF16);
    ch.range("epilogue", epilogue, ATTNKIT_EPILOGUE_NONE, ATTNKIT_EPILOGUE_GLU);
    if (ch.error.empty() && epilogue == ATTNKIT_EPILOGUE_GLU && N % 2 != 0) {
        ch.error = "attnkit_gemm_ex: N must be even for the GLU epilogue (halves a, gate), got " + std::to_string(N);
    }
    if (ch.error.empty() && epilogue == ATTNKIT_EPILOGUE_NONE && z) {
        ch.error = "attnkit_gemm_ex: z given for epilogue 0 (none), where y is the pre-activation";
    }
    ch.pointer("y", y);
    if (K > 0) { ch.pointer("a", a); ch.pointer("w", w); }
    if (!ch.ok()) return ATTNKIT_INVALID_ARGUMENT;
    if ((long long)M * N == 0) return ATTNKIT_OK;
    return cudaStatus(ch.fn, attnkit::gemm_ex(f<float>(y), f<float>(z), f<const float>(a), f<const float>(w),
            f<const float>(bias), batch, M, N, K, trans_a != 0, trans_w != 0, share_w != 0, precision, epilogue));
}

int attnkit_gemm_bf16(long long c, long long a, long long w, long long bias, int batch, int M, int N, int K,
        int trans_a, int trans_w, int share_w, int c_bf16) {
    Checks ch("attnkit_gemm_bf16");
    gemmShapeChecks(ch, batch, M, GEMM_MMA_MAX_M, N, K, trans_a, trans_w, share_w);
    ch.range("c_bf16", c_bf16, 0, 1);
    ch.pointer("c", c);
    if (K > 0) { ch.pointer("a", a); ch.pointer("w", w); }
    if (!ch.ok()) return ATTNKIT_INVALID_ARGUMENT;
    if ((long long)M * N == 0) return ATTNKIT_OK;
    return cudaStatus(ch.fn, attnkit::gemm_bf16(f<void>(c), f<const void>(a), f<const void>(w), f<const float>(bias),
            batch, M, N, K, trans_a != 0, trans_w != 0, share_w != 0, c_bf16 != 0));
}

static int convertChecks(Checks& ch, long long out, long long in, long long n) {
    ch.range("n", n, 0, 1LL << 40);
    if (n > 0) { ch.pointer("out", out); ch.pointer("in", in); }
    return ch.ok() ? ATTNKIT_OK : ATTNKIT_INVALID_ARGUMENT;
}

int attnkit_f32_to_bf16(long long out, long long in, long long n) {
    Checks ch("attnkit_f32_to_bf16");
    if (convertChecks(ch, out, in, n) != ATTNKIT_OK) return ATTNKIT_INVALID_ARGUMENT;
    if (n == 0) return ATTNKIT_OK;
    return cudaStatus(ch.fn, attnkit::f32_to_bf16(f<void>(out), f<const float>(in), n));
}

int attnkit_bf16_to_f32(long long out, long long in, long long n) {
    Checks ch("attnkit_bf16_to_f32");
    if (convertChecks(ch, out, in, n) != ATTNKIT_OK) return ATTNKIT_INVALID_ARGUMENT;
    if (n == 0) return ATTNKIT_OK;
    return cudaStatus(ch.fn, attnkit::bf16_to_f32(f<float>(out), f<const void>(in), n));
}

}  // extern "C"

// ==== cuda-attn (issue 5): attention with the MAE per-head weight alpha in its epilogue ====

namespace attnkit {
// cuda/attention.cu (declared here, not in launchers.h, to keep this piece in one block).
cudaError_t gated_attention_forward(float* y, const float* q, const float* k, const float* v, const float* mask,
        const float* gate, const float* membership, int B, int Tq, int Tk, int H, int D, int Dv, int E, int m,
        bool perToken, bool causal);
cudaError_t gated_attention_backward(float* dq, float* dk, float* dv, float* dgate, const float* q, const float* k,
        const float* v, const float* mask, const float* gate, const float* membership, const float* dy, int B,
        int Tq, int Tk, int H, int D, int Dv, int E, int m, bool perToken, bool causal);
}  // namespace attnkit

extern "C" {

static void gatedAttentionChecks(Checks& ch, int B, int Tq, int Tk, int H, int D, int Dv, int E, int m,
        int perToken) {
    attentionChecks(ch, B, Tq, Tk, H, D, Dv);
    ch.positive("E", E);
    ch.range("m", m, 1, H);
    ch.range("per_token", perToken, 0, 1);
    ch.elements("gate", (long long)B * (perToken ? Tq : 1), E, 1);
    ch.elements("membership", E, H, 1);
    // mae.cu's alpha and dgate kernels index gate rows * E and rows * H with ints.
    long long rows = (long long)B * (perToken ? Tq : 1);
    long long widest = rows * (E > H ? E : H);
    if (ch.error.empty() && widest > 2147483647LL) {
        ch.error = std::string(ch.fn) + ": gate rows * max(E, H) must be below 2^31, got " + std::to_string(widest);
    }
}

int attnkit_gated_attention_forward(long long y, long long q, long long k, long long v, long long mask,
        long long gate, long long membership, int B, int Tq, int Tk, int H, int D, int Dv, int E, int m,
        int per_token, int causal) {
    Checks ch("attnkit_gated_attention_forward");
    gatedAttentionChecks(ch, B, Tq, Tk, H, D, Dv, E, m, per_token);
    ch.pointer("y", y); ch.pointer("q", q); ch.pointer("k", k); ch.pointer("v", v);
    ch.pointer("gate", gate); ch.pointer("membership", membership);
    if (!ch.ok()) return ATTNKIT_INVALID_ARGUMENT;
    return cudaStatus(ch.fn, attnkit::gated_attention_forward(f<float>(y), f<const float>(q), f<const float>(k),
            f<const float>(v), f<const float>(mask), f<const float>(gate), f<const float>(membership), B, Tq, Tk, H,
            D, Dv, E, m, per_token != 0, causal != 0));
}

int attnkit_gated_attention_backward(long long dq, long long dk, long long dv, long long dgate, long long q,
        long long k, long long v, long long mask, long long gate, long long membership, long long dy, int B, int Tq,
        int Tk, int H, int D, int Dv, int E, int m, int per_token, int causal) {
    Checks ch("attnkit_gated_attention_backward");
    gatedAttentionChecks(ch, B, Tq, Tk, H, D, Dv, E, m, per_token);
    if (ch.error.empty() && !dq && !dk && !dv && !dgate) {
        ch.error = "attnkit_gated_attention_backward: no gradient asked for";
    }
    ch.pointer("q", q); ch.pointer("k", k); ch.pointer("v", v); ch.pointer("gate", gate);
    ch.pointer("membership", membership); ch.pointer("dy", dy);
    if (!ch.ok()) return ATTNKIT_INVALID_ARGUMENT;
    return cudaStatus(ch.fn, attnkit::gated_attention_backward(f<float>(dq), f<float>(dk), f<float>(dv),
            f<float>(dgate), f<const float>(q), f<const float>(k), f<const float>(v), f<const float>(mask),
            f<const float>(gate), f<const float>(membership), f<const float>(dy), B, Tq, Tk, H, D, Dv, E, m,
            per_token != 0, causal != 0));
}

}  // extern "C"

// ==== issue 5, a whole training step on the device (branch cuda-graph): strided copies, broadcasting,
// reductions over any dims, residual + dropout + LayerNorm, optimizer updates. ====
#include "graph_launchers.h"

namespace {

// Checks rank and the dims/strides arrays of a call and packs them into st (stride set `which`: 0, 1 or 2).
// name: the argument named in messages. Returns false with ch.error set on the first failure.
bool packDims(Checks& ch, attnkit::Strides& st, const int* dims, int rank, int minRank) {
    ch.range("rank", rank, minRank, ATTNKIT_MAX_RANK);
    if (!ch.error.empty()) return false;
    if (rank > 0 && !dims) {
        ch.error = std::string(ch.fn) + ": dims must not be null";
        return false;
    }
    st.rank = rank;
    long long n = 1;
    for (int d = 0; d < 8; d++) {
        st.dims[d] = 1;
        st.s0[d] = st.s1[d] = st.s2[d] = 0;
    }
    for (int d = 0; d < rank; d++) {
        if (dims[d] < 0) {
            ch.error = std::string(ch.fn) + ": dims[" + std::to_string(d) + "] must be >= 0, got "
                    + std::to_string(dims[d]);
            return false;
        }
        st.dims[d] = dims[d];
        if (__builtin_mul_overflow(n, (long long)dims[d], &n) || n > (1LL << 40)) {
            ch.error = std::string(ch.fn) + ": dims hold too many elements";
            return false;
        }
    }
    return true;
}

bool packStrides(Checks& ch, long long* out, const int* strides, int rank, const char* name) {
    if (!ch.error.empty()) return false;
    if (rank > 0 && !strides) {
        ch.error = std::string(ch.fn) + ": " + name + " must not be null";
        return false;
    }
    for (int d = 0; d < rank; d++) {
        if (strides[d] < 0) {
            ch.error = std::string(ch.fn) + ": " + name + "[" + std::to_string(d) + "] must be >= 0, got "
                    + std::to_string(strides[d]);
            return false;
        }
        out[d] = strides[d];
    }
    return true;
}

long long elementsOf(const attnkit::Strides& st) {
    long long n = 1;
    for (int d = 0; d < st.rank; d++) n *= st.dims[d];
    return n;
}

void finiteScalar(Checks& ch, const char* name, double v) {
    if (ch.error.empty() && !std::isfinite(v)) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.17g", v);
        ch.error = std::string(ch.fn) + ": " + name + " must be finite, got " + buf;
    }
}

void nonNegative(Checks& ch, const char* name, double v) {
    if (ch.error.empty() && !(v >= 0 && std::isfinite(v))) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.17g", v);
        ch.error = std::string(ch.fn) + ": " + name + " must be finite and >= 0, got " + buf;
    }
}

}  // namespace

extern "C" {

int attnkit_strided_copy(long long out, long long out_offset, const int* out_strides, long long in,
        long long in_offset, const int* in_strides, const int* dims, int rank, double scale) {
    Checks ch("attnkit_strided_copy");
    attnkit::Strides st;
    if (packDims(ch, st, dims, rank, 1)) {
        packStrides(ch, st.s0, out_strides, rank, "out_strides");
        packStrides(ch, st.s1, in_strides, rank, "in_strides");
    }
    ch.range("out_offset", out_offset, 0, 1LL << 40);
    ch.range("in_offset", in_offset, 0, 1LL << 40);
    finiteScalar(ch, "scale", scale);
    ch.pointer("out", out); ch.pointer("in", in);
    if (!ch.ok()) return ATTNKIT_INVALID_ARGUMENT;
    if (elementsOf(st) == 0) return ATTNKIT_OK;
    return cudaStatus(ch.fn, attnkit::strided_copy(f<float>(out) + out_offset, f<const float>(in) + in_offset, st,
            (float)scale));
}

int attnkit_broadcast_op(long long out, long long a, const int* a_strides, long long b, const int* b_strides,
        long long c, const int* c_strides, const int* dims, int rank, int op) {
    Checks ch("attnkit_broadcast_op");
    ch.range("op", op, 0, 5);
    attnkit::Strides st;
    if (ch.error.empty() && packDims(ch, st, dims, rank, 1)) {
        packStrides(ch, st.s0, a_strides, rank, "a_strides");
        if (op != 4) packStrides(ch, st.s1, b_strides, rank, "b_strides");
        if (op == 5) packStrides(ch, st.s2, c_strides, rank, "c_strides");
    }
    ch.pointer("out", out); ch.pointer("a", a);
    if (op != 4) ch.pointer("b", b);
    if (op == 5) ch.pointer("c", c);
    if (!ch.ok()) return ATTNKIT_INVALID_ARGUMENT;
    if (elementsOf(st) == 0) return ATTNKIT_OK;
    return cudaStatus(ch.fn, attnkit::broadcast_op(f<float>(out), f<const float>(a), f<const float>(b),
            f<const float>(c), st, op));
}

int attnkit_strided_sum(long long out, long long in, const int* kept_dims, const int* kept_strides, int kept_rank,
        const int* red_dims, const int* red_strides, int red_rank, double scale) {
    Checks ch("attnkit_strided_sum");
    attnkit::Strides kept, red;
    if (packDims(ch, kept, kept_dims, kept_rank, 0)) packStrides(ch, kept.s0, kept_strides, kept_rank, "kept_strides");
    if (ch.error.empty() && packDims(ch, red, red_dims, red_rank, 0)) {
        packStrides(ch, red.s0, red_strides, red_rank, "red_strides");
    }
    if (ch.error.empty() && std::isnan(scale)) ch.error = "attnkit_strided_sum: scale must not be NaN";
    ch.pointer("out", out);
    if (ch.error.empty() && elementsOf(kept) * elementsOf(red) > 0) ch.pointer("in", in);
    if (!ch.ok()) return ATTNKIT_INVALID_ARGUMENT;
    return cudaStatus(ch.fn, attnkit::strided_sum(f<float>(out), f<const float>(in), kept, red, scale));
}

// The checks of the fused residual LayerNorm, shared by the device entry point and its host run.
static bool residualChecks(Checks& ch, long long sum, long long y, long long mean, long long rstd, long long x,
        long long residual, int rows, int D, double eps, double drop_p) {
    ch.positive("rows", rows); ch.positive("D", D);
    if (ch.error.empty() && !(eps > 0 && std::isfinite(eps))) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.17g", eps);
        ch.error = std::string(ch.fn) + ": eps must be > 0 and finite, got " + buf;
    }
    ch.probability(drop_p);
    ch.elements("x", rows, D, 1);
    ch.pointer("sum", sum); ch.pointer("y", y); ch.pointer("mean", mean); ch.pointer("rstd", rstd);
    ch.pointer("x", x); ch.pointer("residual", residual);
    return ch.ok();
}

int attnkit_residual_layernorm_forward(long long sum, long long y, long long mean, long long rstd, long long x,
        long long residual, long long gamma, long long beta, int rows, int D, double eps, double drop_p,
        long long seed, long long offset) {
    Checks ch("attnkit_residual_layernorm_forward");
    if (!residualChecks(ch, sum, y, mean, rstd, x, residual, rows, D, eps, drop_p)) return ATTNKIT_INVALID_ARGUMENT;
    return cudaStatus(ch.fn, attnkit::residual_layernorm_forward(f<float>(sum), f<float>(y), f<float>(mean),
            f<float>(rstd), f<const float>(x), f<const float>(residual), f<const float>(gamma), f<const float>(beta),
            rows, D, eps, drop_p, seed, offset));
}

int attnkit_adam(long long p, long long grad, long long m, long long v, long long n, double lr, double beta1,
        double beta2, double eps, double weight_decay, int decoupled, double c1, double c2) {
    Checks ch("attnkit_adam");
    ch.range("n", n, 0, 1LL << 40);
    nonNegative(ch, "lr", lr);
    if (ch.error.empty() && !(beta1 >= 0 && beta1 < 1)) ch.error = "attnkit_adam: beta1 must be in [0, 1)";
    if (ch.error.empty() && !(beta2 >= 0 && beta2 < 1)) ch.error = "attnkit_adam: beta2 must be in [0, 1)";
    if (ch.error.empty() && !(eps > 0 && std::isfinite(eps))) ch.error = "attnkit_adam: eps must be > 0 and finite";
    nonNegative(ch, "weight_decay", weight_decay);
    ch.range("decoupled", decoupled, 0, 1);
    if (ch.error.empty() && !(c1 > 0 && c1 <= 1)) ch.error = "attnkit_adam: c1 must be in (0, 1]";
    if (ch.error.empty() && !(c2 > 0 && c2 <= 1)) ch.error = "attnkit_adam: c2 must be in (0, 1]";
    ch.pointer("p", p); ch.pointer("grad", grad); ch.pointer("m", m); ch.pointer("v", v);
    if (!ch.ok()) return ATTNKIT_INVALID_ARGUMENT;
    if (n == 0) return ATTNKIT_OK;
    return cudaStatus(ch.fn, attnkit::adam_update(f<float>(p), f<const float>(grad), f<float>(m), f<float>(v), n, lr,
            beta1, beta2, eps, weight_decay, decoupled != 0, c1, c2));
}

int attnkit_sgd(long long p, long long grad, long long buf, long long n, double lr, double momentum,
        double weight_decay, int first) {
    Checks ch("attnkit_sgd");
    ch.range("n", n, 0, 1LL << 40);
    nonNegative(ch, "lr", lr);
    if (ch.error.empty() && !(momentum >= 0 && momentum < 1)) ch.error = "attnkit_sgd: momentum must be in [0, 1)";
    nonNegative(ch, "weight_decay", weight_decay);
    ch.range("first", first, 0, 1);
    ch.pointer("p", p); ch.pointer("grad", grad);
    if (ch.error.empty() && momentum > 0 && !buf) ch.error = "attnkit_sgd: buf must not be null when momentum > 0";
    if (ch.error.empty() && momentum == 0 && buf) ch.error = "attnkit_sgd: buf given but momentum is 0";
    if (!ch.ok()) return ATTNKIT_INVALID_ARGUMENT;
    if (n == 0) return ATTNKIT_OK;
    return cudaStatus(ch.fn, attnkit::sgd_update(f<float>(p), f<const float>(grad), f<float>(buf), n, lr, momentum,
            weight_decay, first != 0));
}

int attnkit_sum_squares(long long in, long long n, double* result) {
    Checks ch("attnkit_sum_squares");
    ch.range("n", n, 0, 1LL << 40);
    if (ch.error.empty() && !result) ch.error = "attnkit_sum_squares: result must not be null";
    if (n > 0) ch.pointer("in", in);
    if (!ch.ok()) return ATTNKIT_INVALID_ARGUMENT;
    result[0] = 0;
    if (n == 0) return ATTNKIT_OK;
    return cudaStatus(ch.fn, attnkit::sum_squares(f<const float>(in), n, result));
}

int attnkit_scale(long long out, long long in, long long n, double scale) {
    Checks ch("attnkit_scale");
    ch.range("n", n, 0, 1LL << 40);
    finiteScalar(ch, "scale", scale);
    ch.pointer("out", out); ch.pointer("in", in);
    if (!ch.ok()) return ATTNKIT_INVALID_ARGUMENT;
    if (n == 0) return ATTNKIT_OK;
    return cudaStatus(ch.fn, attnkit::scale(f<float>(out), f<const float>(in), n, scale));
}

// ---- host runs of the element code (tests without a GPU) ----

}  // extern "C"

namespace {

// Every index offset + sum c_d strides[d] over the coordinates of st.dims lies in [0, len) (st.s0/s1/s2 by which).
bool inBounds(Checks& ch, const attnkit::Strides& st, const long long* strides, long long offset, long long len,
        const char* name) {
    if (!ch.error.empty()) return false;
    if (elementsOf(st) == 0) return true;
    long long hi = offset;
    for (int d = 0; d < st.rank; d++) hi += (long long)(st.dims[d] - 1) * strides[d];
    if (offset < 0 || hi >= len) {
        ch.error = std::string(ch.fn) + ": " + name + " indices reach " + std::to_string(hi) + " but it holds "
                + std::to_string(len) + " elements";
        return false;
    }
    return true;
}

}  // namespace

extern "C" {

int attnkit_strided_copy_host(float* out, long long out_len, long long out_offset, const int* out_strides,
        const float* in, long long in_len, long long in_offset, const int* in_strides, const int* dims, int rank,
        double scale) {
    Checks ch("attnkit_strided_copy_host");
    attnkit::Strides st;
    if (packDims(ch, st, dims, rank, 1)) {
        packStrides(ch, st.s0, out_strides, rank, "out_strides");
        packStrides(ch, st.s1, in_strides, rank, "in_strides");
    }
    finiteScalar(ch, "scale", scale);
    if (ch.error.empty() && (!out || !in)) ch.error = "attnkit_strided_copy_host: out and in must not be null";
    inBounds(ch, st, st.s0, out_offset, out_len, "out");
    inBounds(ch, st, st.s1, in_offset, in_len, "in");
    if (!ch.ok()) return ATTNKIT_INVALID_ARGUMENT;
    attnkit::strided_copy_host(out + out_offset, in + in_offset, st, (float)scale);
    lastError.clear();
    return ATTNKIT_OK;
}

int attnkit_broadcast_op_host(float* out, long long out_len, const float* a, long long a_len, const int* a_strides,
        const float* b, long long b_len, const int* b_strides, const float* c, long long c_len, const int* c_strides,
        const int* dims, int rank, int op) {
    Checks ch("attnkit_broadcast_op_host");
    ch.range("op", op, 0, 5);
    attnkit::Strides st;
    if (ch.error.empty() && packDims(ch, st, dims, rank, 1)) {
        packStrides(ch, st.s0, a_strides, rank, "a_strides");
        if (op != 4) packStrides(ch, st.s1, b_strides, rank, "b_strides");
        if (op == 5) packStrides(ch, st.s2, c_strides, rank, "c_strides");
    }
    if (ch.error.empty() && (!out || !a || (op != 4 && !b) || (op == 5 && !c))) {
        ch.error = "attnkit_broadcast_op_host: an operand the op reads is null";
    }
    if (ch.error.empty() && elementsOf(st) > out_len) ch.error = "attnkit_broadcast_op_host: out is too small";
    inBounds(ch, st, st.s0, 0, a_len, "a");
    if (op != 4) inBounds(ch, st, st.s1, 0, b_len, "b");
    if (op == 5) inBounds(ch, st, st.s2, 0, c_len, "c");
    if (!ch.ok()) return ATTNKIT_INVALID_ARGUMENT;
    attnkit::broadcast_op_host(out, a, b, c, st, op);
    lastError.clear();
    return ATTNKIT_OK;
}

int attnkit_strided_sum_host(float* out, long long out_len, const float* in, long long in_len, const int* kept_dims,
        const int* kept_strides, int kept_rank, const int* red_dims, const int* red_strides, int red_rank,
        double scale) {
    Checks ch("attnkit_strided_sum_host");
    attnkit::Strides kept, red;
    if (packDims(ch, kept, kept_dims, kept_rank, 0)) packStrides(ch, kept.s0, kept_strides, kept_rank, "kept_strides");
    if (ch.error.empty() && packDims(ch, red, red_dims, red_rank, 0)) {
        packStrides(ch, red.s0, red_strides, red_rank, "red_strides");
    }
    if (ch.error.empty() && std::isnan(scale)) ch.error = "attnkit_strided_sum_host: scale must not be NaN";
    if (ch.error.empty() && !out) ch.error = "attnkit_strided_sum_host: out must not be null";
    if (ch.error.empty() && elementsOf(kept) > out_len) ch.error = "attnkit_strided_sum_host: out is too small";
    if (ch.error.empty() && elementsOf(kept) * elementsOf(red) > 0) {
        // The largest index: the last kept coordinate plus the last reduced one.
        attnkit::Strides both;
        both.rank = kept.rank + red.rank;
        if (both.rank > 8) {
            long long hi = 0;
            for (int d = 0; d < kept.rank; d++) hi += (long long)(kept.dims[d] - 1) * kept.s0[d];
            for (int d = 0; d < red.rank; d++) hi += (long long)(red.dims[d] - 1) * red.s0[d];
            if (!in || hi >= in_len) ch.error = "attnkit_strided_sum_host: in is too small or null";
        } else {
            for (int d = 0; d < kept.rank; d++) { both.dims[d] = kept.dims[d]; both.s0[d] = kept.s0[d]; }
            for (int d = 0; d < red.rank; d++) { both.dims[kept.rank + d] = red.dims[d]; both.s0[kept.rank + d] = red.s0[d]; }
            if (!in) ch.error = "attnkit_strided_sum_host: in must not be null";
            inBounds(ch, both, both.s0, 0, in_len, "in");
        }
    }
    if (!ch.ok()) return ATTNKIT_INVALID_ARGUMENT;
    attnkit::strided_sum_host(out, in, kept, red, scale);
    lastError.clear();
    return ATTNKIT_OK;
}

int attnkit_residual_layernorm_host(float* sum, float* y, float* mean, float* rstd, const float* x,
        const float* residual, const float* gamma, const float* beta, int rows, int D, double eps, double drop_p,
        long long seed, long long offset) {
    Checks ch("attnkit_residual_layernorm_host");
    if (!residualChecks(ch, (long long)(uintptr_t)sum, (long long)(uintptr_t)y, (long long)(uintptr_t)mean,
            (long long)(uintptr_t)rstd, (long long)(uintptr_t)x, (long long)(uintptr_t)residual, rows, D, eps,
            drop_p)) {
        return ATTNKIT_INVALID_ARGUMENT;
    }
    attnkit::residual_layernorm_host(sum, y, mean, rstd, x, residual, gamma, beta, rows, D, eps, drop_p, seed, offset);
    lastError.clear();
    return ATTNKIT_OK;
}

int attnkit_adam_host(float* p, const float* grad, float* m, float* v, long long n, double lr, double beta1,
        double beta2, double eps, double weight_decay, int decoupled, double c1, double c2) {
    if (!p || !grad || !m || !v) return fail(ATTNKIT_INVALID_ARGUMENT, "attnkit_adam_host: arrays must not be null");
    // The device entry point's checks, with host arrays standing in for device buffers.
    int rc = attnkit_adam((long long)(uintptr_t)p, (long long)(uintptr_t)grad, (long long)(uintptr_t)m,
            (long long)(uintptr_t)v, 0, lr, beta1, beta2, eps, weight_decay, decoupled, c1, c2);
    if (rc != ATTNKIT_OK) return rc;
    if (n < 0) return fail(ATTNKIT_INVALID_ARGUMENT, "attnkit_adam_host: n must be >= 0");
    attnkit::adam_update_host(p, grad, m, v, n, lr, beta1, beta2, eps, weight_decay, decoupled != 0, c1, c2);
    return ATTNKIT_OK;
}

int attnkit_sgd_host(float* p, const float* grad, float* buf, long long n, double lr, double momentum,
        double weight_decay, int first) {
    if (!p || !grad) return fail(ATTNKIT_INVALID_ARGUMENT, "attnkit_sgd_host: arrays must not be null");
    int rc = attnkit_sgd((long long)(uintptr_t)p, (long long)(uintptr_t)grad, (long long)(uintptr_t)buf, 0, lr,
            momentum, weight_decay, first);
    if (rc != ATTNKIT_OK) return rc;
    if (n < 0) return fail(ATTNKIT_INVALID_ARGUMENT, "attnkit_sgd_host: n must be >= 0");
    attnkit::sgd_update_host(p, grad, buf, n, lr, momentum, weight_decay, first != 0);
    return ATTNKIT_OK;
}

}  // extern "C"

// ==== issue 5, bf16 tensor-core attention forward (branch cuda-attn-bf16, cuda/attention_bf16.cu) ====

namespace attnkit {
// cuda/attention_bf16.cu (declared here, not in launchers.h, to keep this piece in one block).
cudaError_t attention_forward_bf16(void* y, float* lse, const void* q, const void* k, const void* v,
        const float* mask, int B, int Tq, int Tk, int H, int D, bool causal, bool yBf16);
}  // namespace attnkit

extern "C" {

int attnkit_attention_forward_bf16(long long y, long long lse, long long q, long long k, long long v,
        long long mask, int B, int Tq, int Tk, int H, int D, int causal, int y_bf16) {
    Checks ch("attnkit_attention_forward_bf16");
    ch.positive("B", B); ch.positive("Tq", Tq); ch.positive("Tk", Tk); ch.positive("H", H); ch.positive("D", D);
    ch.divides("heads H must divide D", H, D);
    if (ch.error.empty() && D / H != 64 && D / H != 128) {
        ch.error = "attnkit_attention_forward_bf16: D/H must be 64 or 128 (the head sizes of the bf16 kernel), got "
                + std::to_string(D / H);
    }
    ch.range("B*H", (long long)B * H, 1, 65535);
    ch.range("causal", causal, 0, 1);
    ch.range("y_bf16", y_bf16, 0, 1);
    ch.elements("q", (long long)B * Tq, D, 1);
    ch.elements("k", (long long)B * Tk, D, 1);
    ch.pointer("y", y); ch.pointer("q", q); ch.pointer("k", k); ch.pointer("v", v);
    const char* names[] = {"y", "q", "k", "v"};
    const long long addresses[] = {y, q, k, v};
    for (int i = 0; i < 4 && ch.error.empty(); i++) {
        if (addresses[i] % 16 != 0) {
            ch.error = std::string(ch.fn) + ": " + names[i] + " must be 16-byte aligned, got address "
                    + std::to_string(addresses[i]);
        }
    }
    if (ch.error.empty() && lse % 4 != 0) {
        ch.error = std::string(ch.fn) + ": lse must be 4-byte aligned, got address " + std::to_string(lse);
    }
    if (ch.error.empty() && mask % 4 != 0) {
        ch.error = std::string(ch.fn) + ": mask must be 4-byte aligned, got address " + std::to_string(mask);
    }
    if (!ch.ok()) return ATTNKIT_INVALID_ARGUMENT;
    return cudaStatus(ch.fn, attnkit::attention_forward_bf16(f<void>(y), f<float>(lse), f<const void>(q),
            f<const void>(k), f<const void>(v), f<const float>(mask), B, Tq, Tk, H, D, causal != 0, y_bf16 != 0));
}

}  // extern "C"
