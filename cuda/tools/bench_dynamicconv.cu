// bench_dynamicconv.cu: correctness and timing of the DynamicConv launchers (cuda/dynamicconv.cu) on one GPU.
// (a) attnkit::dynamicconv_forward / dynamicconv_backward against a naive GPU reference in double (one thread
//     per logit, per (b,t,h) softmax row, per output; the backward by the chain rule written plainly), over
//     shapes that cover K = 31 centered / causal, 7, 3, 45, 63, 150 (column chunks), 700 (version-1 path),
//     T < K, T not a multiple of 64, H = 1, R = 1, a separate query (Cq = 40 and 37), bias, renorm, no
//     softmax, and both DropConnect scopes (the reference draws the same Philox mask via common.cuh).
//     Error: max |out - ref| / max |ref| per output, tolerance 2e-4 forward and 2e-3 backward.
// (b) Timing (CUDA events, 3 / 1 warm-ups, median of 20 forward / 5 backward) at B=16 T=4096 C=1024 H=16 K=31 and
//     B=8 T=512 C=512 H=8 K=31, centered, softmax, q = x, no bias.
// One line per result; exit status 1 on any FAIL or CUDA error.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "bench_common.cuh"
#include "common.cuh"
#include "launchers.h"

using attnkit::Drop;
using harness::failures;

// ---------------------------------------------------------------- naive reference (double) ----------
struct RefDims {
    int B, T, C, Cq, H, K, pad, softmax, renorm;
};

__device__ double drop_of(const Drop& drop, int b, int t, int h, int k, const RefDims& d) {
    uint64_t idx = drop.position ? attnkit::position_index(b, t, h, k, d.T, d.H, d.K)
                                 : attnkit::head_kernel_index(h, k, d.K);
    return (double)attnkit::drop_factor(drop, idx);
}

__device__ bool in_range(int t, int k, const RefDims& d) {
    int s = t + k - d.pad;
    return s >= 0 && s < d.T;
}

// G[b,t,h,k] = W[h*K+k,:] . q[b,t,:] + bias
__global__ void ref_logits(double* G, const float* q, const float* W, const float* bias, RefDims d) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    long long n = (long long)d.B * d.T * d.H * d.K;
    if (i >= n) return;
    int hk = (int)(i % ((long long)d.H * d.K));
    long long bt = i / ((long long)d.H * d.K);
    double acc = bias ? (double)bias[hk] : 0.0;
    for (int c = 0; c < d.Cq; c++) acc += (double)W[(long long)hk * d.Cq + c] * (double)q[bt * d.Cq + c];
    G[i] = acc;
}

// wn = softmax (or identity) with renorm; wt = wn * drop. One thread per (b,t,h).
__global__ void ref_normalize(double* wn, double* wt, const double* G, RefDims d, Drop drop) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    long long n = (long long)d.B * d.T * d.H;
    if (i >= n) return;
    int h = (int)(i % d.H);
    long long bt = i / d.H;
    int t = (int)(bt % d.T), b = (int)(bt / d.T);
    const double* g = G + i * d.K;
    double* o = wn + i * d.K;
    if (d.softmax) {
        double mx = -INFINITY;
        for (int k = 0; k < d.K; k++)
            if (!d.renorm || in_range(t, k, d)) mx = fmax(mx, g[k]);
        double sum = 0;
        for (int k = 0; k < d.K; k++) {
            double e = (!d.renorm || in_range(t, k, d)) ? exp(g[k] - mx) : 0.0;
            o[k] = e;
            sum += e;
        }
        for (int k = 0; k < d.K; k++) o[k] /= sum;
    } else {
        for (int k = 0; k < d.K; k++) o[k] = (!d.renorm || in_range(t, k, d)) ? g[k] : 0.0;
    }
    for (int k = 0; k < d.K; k++) wt[i * d.K + k] = o[k] * drop_of(drop, b, t, h, k, d);
}

__global__ void ref_conv(double* y, const double* wt, const float* x, RefDims d) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    long long n = (long long)d.B * d.T * d.C;
    if (i >= n) return;
    int c = (int)(i % d.C);
    long long bt = i / d.C;
    int t = (int)(bt % d.T), b = (int)(bt / d.T);
    int h = c / (d.C / d.H);
    double acc = 0;
    for (int k = 0; k < d.K; k++) {
        int s = t + k - d.pad;
        if (s < 0 || s >= d.T) continue;
        acc += wt[(bt * d.H + h) * d.K + k] * (double)x[((long long)b * d.T + s) * d.C + c];
    }
    y[i] = acc;
}

// dwn[b,t,h,k] = drop * sum_{c in h} dy[b,t,c] x[b,t+k-pad,c]. One thread per (b,t,h,k).
__global__ void ref_dwn(double* dwn, const float* dy, const float* x, RefDims d, Drop drop) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    long long n = (long long)d.B * d.T * d.H * d.K;
    if (i >= n) return;
    int k = (int)(i % d.K);
    long long bth = i / d.K;
    int h = (int)(bth % d.H);
    long long bt = bth / d.H;
    int t = (int)(bt % d.T), b = (int)(bt / d.T);
    int R = d.C / d.H, s = t + k - d.pad;
    double acc = 0;
    if (s >= 0 && s < d.T)
        for (int r = 0; r < R; r++)
            acc += (double)dy[bt * d.C + h * R + r] * (double)x[((long long)b * d.T + s) * d.C + h * R + r];
    dwn[i] = acc * drop_of(drop, b, t, h, k, d);
}

// dG from dwn and wn (softmax backward, or identity). One thread per (b,t,h).
__global__ void ref_dG(double* dG, const double* dwn, const double* wn, RefDims d) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    long long n = (long long)d.B * d.T * d.H;
    if (i >= n) return;
    long long bt = i / d.H;
    int t = (int)(bt % d.T);
    const double* w = wn + i * d.K;
    const double* g = dwn + i * d.K;
    if (d.softmax) {
        double dot = 0;
        for (int k = 0; k < d.K; k++) dot += w[k] * g[k];
        for (int k = 0; k < d.K; k++) dG[i * d.K + k] = w[k] * (g[k] - dot);
    } else {
        for (int k = 0; k < d.K; k++) dG[i * d.K + k] = (!d.renorm || in_range(t, k, d)) ? g[k] : 0.0;
    }
}

// dx[b,s,c] = sum_k wt[b,s-k+pad,h,k] dy[b,s-k+pad,c] (+ sum_hk dG[b,s,hk] W[hk,c] when q = x).
__global__ void ref_dx(double* dx, const double* wt, const double* dG, const float* dy, const float* W,
        int qIsX, RefDims d) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    long long n = (long long)d.B * d.T * d.C;
    if (i >= n) return;
    int c = (int)(i % d.C);
    long long bs = i / d.C;
    int s = (int)(bs % d.T), b = (int)(bs / d.T);
    int h = c / (d.C / d.H);
    double acc = 0;
    for (int k = 0; k < d.K; k++) {
        int t = s - k + d.pad;
        if (t < 0 || t >= d.T) continue;
        long long bt = (long long)b * d.T + t;
        acc += wt[(bt * d.H + h) * d.K + k] * (double)dy[bt * d.C + c];
    }
    if (qIsX)
        for (int hk = 0; hk < d.H * d.K; hk++) acc += dG[bs * d.H * d.K + hk] * (double)W[(long long)hk * d.Cq + c];
    dx[i] = acc;
}

__global__ void ref_dq(double* dq, const double* dG, const float* W, RefDims d) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    long long n = (long long)d.B * d.T * d.Cq;
    if (i >= n) return;
    int c = (int)(i % d.Cq);
    long long bt = i / d.Cq;
    double acc = 0;
    for (int hk = 0; hk < d.H * d.K; hk++) acc += dG[bt * d.H * d.K + hk] * (double)W[(long long)hk * d.Cq + c];
    dq[i] = acc;
}

__global__ void ref_dW(double* dW, const double* dG, const float* q, RefDims d) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    long long n = (long long)d.H * d.K * d.Cq;
    if (i >= n) return;
    int c = (int)(i % d.Cq);
    long long hk = i / d.Cq;
    double acc = 0;
    for (long long bt = 0; bt < (long long)d.B * d.T; bt++)
        acc += dG[bt * d.H * d.K + hk] * (double)q[bt * d.Cq + c];
    dW[i] = acc;
}

__global__ void ref_db(double* db, const double* dG, RefDims d) {
    long long hk = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (hk >= (long long)d.H * d.K) return;
    double acc = 0;
    for (long long bt = 0; bt < (long long)d.B * d.T; bt++) acc += dG[bt * d.H * d.K + hk];
    db[hk] = acc;
}

// ---------------------------------------------------------------- helpers -----------------------------
static unsigned long long lcg_state = 0x2545F4914F6CDD1DULL;
static float urand() {  // uniform in [-1, 1)
    lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)((lcg_state >> 40) * (1.0 / 8388608.0)) - 1.0f;
}

static float* dev_random(size_t n, float scale) {
    std::vector<float> h(n);
    for (auto& v : h) v = urand() * scale;
    float* p;
    CK(cudaMalloc(&p, std::max<size_t>(n, 1) * sizeof(float)));
    CK(cudaMemcpy(p, h.data(), n * sizeof(float), cudaMemcpyHostToDevice));
    return p;
}
static float* dev_zero(size_t n) {
    float* p;
    CK(cudaMalloc(&p, std::max<size_t>(n, 1) * sizeof(float)));
    CK(cudaMemset(p, 0, std::max<size_t>(n, 1) * sizeof(float)));
    return p;
}
static double* dev_double(size_t n) {
    double* p;
    CK(cudaMalloc(&p, std::max<size_t>(n, 1) * sizeof(double)));
    return p;
}
static int blocks(long long n) { return (int)((n + 255) / 256); }

static void compare(const char* caseName, const char* what, const float* got, const double* ref, size_t n,
        double tol) {
    std::vector<float> g(n);
    std::vector<double> r(n);
    CK(cudaMemcpy(g.data(), got, n * sizeof(float), cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(r.data(), ref, n * sizeof(double), cudaMemcpyDeviceToHost));
    double maxErr = 0, maxRef = 0;
    bool finite = true;
    for (size_t i = 0; i < n; i++) {
        if (!std::isfinite(g[i])) finite = false;
        maxErr = std::max(maxErr, std::fabs((double)g[i] - r[i]));
        maxRef = std::max(maxRef, std::fabs(r[i]));
    }
    double rel = maxErr / std::max(maxRef, 1e-30);
    bool pass = finite && (rel <= tol || maxErr <= 1e-12);
    if (!pass) failures++;
    printf("%-4s %-44s %-6s max_abs_err %.3e  max|ref| %.3e  rel %.3e (tol %.0e)%s\n", pass ? "PASS" : "FAIL",
           caseName, what, maxErr, maxRef, rel, tol, finite ? "" : "  NON-FINITE");
}

struct Case {
    const char* name;
    int B, T, C, Cq, H, K, pad;  // Cq = 0: q = x
    bool softmax, renorm, bias;
    double dropP;
    int dropScope;  // 0 HEAD_KERNEL, 1 POSITION
};

static void run_case(const Case& cs) {
    const bool qIsX = cs.Cq == 0;
    const int Cq = qIsX ? cs.C : cs.Cq;
    RefDims d{cs.B, cs.T, cs.C, Cq, cs.H, cs.K, cs.pad, cs.softmax, cs.renorm};
    const long long BT = (long long)cs.B * cs.T, HK = (long long)cs.H * cs.K;
    float* x = dev_random(BT * cs.C, 1.f);
    float* q = qIsX ? nullptr : dev_random(BT * Cq, 1.f);
    float* W = dev_random(HK * Cq, 2.f / std::sqrt((float)Cq));
    float* bias = cs.bias ? dev_random(HK, 0.5f) : nullptr;
    float* dy = dev_random(BT * cs.C, 1.f);
    float* y = dev_zero(BT * cs.C);
    float* dx = dev_zero(BT * cs.C);
    float* dq = qIsX ? nullptr : dev_zero(BT * Cq);
    float* dW = dev_zero(HK * Cq);
    float* db = cs.bias ? dev_zero(HK) : nullptr;
    const float* qq = qIsX ? x : q;
    attnkit::DropArgs da{cs.dropP, 1234567, 89, cs.dropScope};
    Drop drop = attnkit::make_drop(cs.dropP, 1234567, 89, cs.dropScope);

    CK(attnkit::dynamicconv_forward(y, x, q, W, bias, cs.B, cs.T, cs.C, Cq, cs.H, cs.K, cs.pad, cs.softmax,
                                    cs.renorm, da));
    CK(attnkit::dynamicconv_backward(dx, dq, dW, db, dy, x, q, W, bias, cs.B, cs.T, cs.C, Cq, cs.H, cs.K, cs.pad,
                                     cs.softmax, cs.renorm, da));
    CK(cudaDeviceSynchronize());

    double *G = dev_double(BT * HK), *wn = dev_double(BT * HK), *wt = dev_double(BT * HK);
    double *ry = dev_double(BT * cs.C), *dwn = dev_double(BT * HK), *dG = dev_double(BT * HK);
    double *rdx = dev_double(BT * cs.C), *rdq = dev_double(BT * Cq), *rdW = dev_double(HK * Cq),
           *rdb = dev_double(HK);
    ref_logits<<<blocks(BT * HK), 256>>>(G, qq, W, bias, d);
    ref_normalize<<<blocks(BT * cs.H), 256>>>(wn, wt, G, d, drop);
    ref_conv<<<blocks(BT * cs.C), 256>>>(ry, wt, x, d);
    ref_dwn<<<blocks(BT * HK), 256>>>(dwn, dy, x, d, drop);
    ref_dG<<<blocks(BT * cs.H), 256>>>(dG, dwn, wn, d);
    ref_dx<<<blocks(BT * cs.C), 256>>>(rdx, wt, dG, dy, W, qIsX, d);
    if (!qIsX) ref_dq<<<blocks(BT * Cq), 256>>>(rdq, dG, W, d);
    ref_dW<<<blocks(HK * Cq), 256>>>(rdW, dG, qq, d);
    if (cs.bias) ref_db<<<blocks(HK), 256>>>(rdb, dG, d);
    CK(cudaGetLastError());
    CK(cudaDeviceSynchronize());

    compare(cs.name, "y", y, ry, BT * cs.C, 2e-4);
    compare(cs.name, "dx", dx, rdx, BT * cs.C, 2e-3);
    if (!qIsX) compare(cs.name, "dq", dq, rdq, BT * Cq, 2e-3);
    compare(cs.name, "dW", dW, rdW, HK * Cq, 2e-3);
    if (cs.bias) compare(cs.name, "dbias", db, rdb, HK, 2e-3);

    for (void* p : {(void*)x, (void*)q, (void*)W, (void*)bias, (void*)dy, (void*)y, (void*)dx, (void*)dq, (void*)dW,
                    (void*)db, (void*)G, (void*)wn, (void*)wt, (void*)ry, (void*)dwn, (void*)dG, (void*)rdx,
                    (void*)rdq, (void*)rdW, (void*)rdb})
        if (p) CK(cudaFree(p));
}

static void bench(int B, int T, int C, int H, int K) {
    const int pad = K / 2;
    const long long BT = (long long)B * T, HK = (long long)H * K;
    float* x = dev_random(BT * C, 1.f);
    float* W = dev_random(HK * C, 2.f / std::sqrt((float)C));
    float* dy = dev_random(BT * C, 1.f);
    float* y = dev_zero(BT * C);
    float* dx = dev_zero(BT * C);
    float* dW = dev_zero(HK * C);
    attnkit::DropArgs none{0.0, 0, 0, 0};
    auto fwd = [&] {
        return attnkit::dynamicconv_forward(y, x, nullptr, W, nullptr, B, T, C, C, H, K, pad, true, false, none);
    };
    auto bwd = [&] {
        return attnkit::dynamicconv_backward(dx, nullptr, dW, nullptr, dy, x, nullptr, W, nullptr, B, T, C, C, H, K,
                                             pad, true, false, none);
    };
    const std::vector<float> tf = harness::time_ms(fwd, 20, 3), tb = harness::time_ms(bwd, 5, 1);
    const double f = harness::median(tf), bk = harness::median(tb);
    double flops = 2.0 * BT * C * HK + 2.0 * BT * C * K;
    printf("TIME B=%d T=%d C=%d H=%d K=%d centered softmax q=x: forward %.3f ms (%.1f TFLOP/s, min %.3f)  "
           "backward %.3f ms (median of 5)\n",
           B, T, C, H, K, f, flops / (f * 1e-3) / 1e12, tf.front(), bk);
    for (void* p : {(void*)x, (void*)W, (void*)dy, (void*)y, (void*)dx, (void*)dW}) CK(cudaFree(p));
}

int main() {
    cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, 0));
    printf("INFO device %s (sm_%d%d, %d SMs)\n", prop.name, prop.major, prop.minor, prop.multiProcessorCount);
    const Case cases[] = {
        // name                                   B   T    C   Cq  H   K  pad  softmax renorm bias  p   scope
        {"K31 centered", 2, 200, 128, 0, 4, 31, 15, true, false, false, 0.0, 0},
        {"K31 causal bias", 2, 130, 128, 0, 4, 31, 30, true, false, true, 0.0, 0},
        {"K7 centered H8", 2, 100, 64, 0, 8, 7, 3, true, false, false, 0.0, 0},
        {"K3 bias renorm", 3, 77, 48, 0, 6, 3, 1, true, true, true, 0.0, 0},
        {"K45 causal", 1, 150, 64, 0, 2, 45, 44, true, false, false, 0.0, 0},
        {"K63 pad20 H3", 2, 160, 96, 0, 3, 63, 20, true, false, true, 0.0, 0},
        {"K150 pad70 (column chunks)", 1, 140, 32, 0, 2, 150, 70, true, false, false, 0.0, 0},
        {"K700 pad350 (version-1 path)", 1, 90, 16, 0, 1, 700, 350, true, false, false, 0.0, 0},
        {"T5 K31 centered (T<K)", 3, 5, 64, 0, 4, 31, 15, true, false, false, 0.0, 0},
        {"T5 K31 causal renorm (T<K)", 2, 5, 64, 0, 4, 31, 30, true, true, true, 0.0, 0},
        {"T100 K31 centered", 2, 100, 256, 0, 8, 31, 15, true, false, false, 0.0, 0},
        {"H1 K31", 2, 70, 32, 0, 1, 31, 15, true, false, false, 0.0, 0},
        {"R1 C=H=16 K7", 2, 90, 16, 0, 16, 7, 3, true, false, false, 0.0, 0},
        {"query Cq40 bias K31", 2, 96, 64, 40, 4, 31, 15, true, false, true, 0.0, 0},
        {"query Cq37 (scalar loads) K7", 2, 80, 32, 37, 4, 7, 6, true, false, true, 0.0, 0},
        {"no softmax K15 renorm", 2, 70, 64, 0, 4, 15, 7, false, true, false, 0.0, 0},
        {"no softmax K31", 2, 70, 64, 0, 4, 31, 15, false, false, true, 0.0, 0},
        {"drop HEAD_KERNEL p0.2 K31", 2, 100, 128, 0, 4, 31, 15, true, false, false, 0.2, 0},
        {"drop POSITION p0.2 K31 bias", 2, 100, 128, 0, 4, 31, 30, true, false, true, 0.2, 1},
        {"C1024 H16 K31 (G=4 tiles)", 1, 130, 1024, 0, 16, 31, 15, true, false, false, 0.0, 0},
    };
    for (const Case& c : cases) run_case(c);
    bench(8, 512, 512, 8, 31);
    bench(16, 4096, 1024, 16, 31);
    printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
    return failures ? 1 : 0;
}
