// bench_lightconv.cu: correctness and timing of the LightConv launchers (cuda/lightconv.cu) on one GPU.
// Built by cuda/tools/build-bench.sh against the library's static lib; calls the real
// attnkit::lightconv_forward / lightconv_backward of cuda/launchers.h.
//
// (a) Correctness: naive reference kernels written here (one thread per output, double accumulation; the
//     softmax of the weights and the HEAD_KERNEL mask on the host in double; the POSITION mask drawn in the
//     reference kernels with the same Philox helper of cuda/common.cuh) for y, dx, dweight and dbias on
//     awkward shapes. PASS when max |got - ref| <= 1e-4 * max(|ref|) (+1e-6 when ref is all zeros). The shapes
//     reach every kernel path of cuda/lightconv.cu: the streaming convolution (forward and dx) for each compile-time
//     KC, the tiled weight gradient with its reduction, and the generic kernels (K > 63, POSITION DropConnect);
//     each case runs the forward, the backward with dx + dweight (+ dbias), dx alone and dweight alone. One
//     summary line (worst max|err|/tol), a line per FAIL; `-v` prints every compared output.
// (b) Timing: CUDA events, 3 warm-ups, median of 20, at B=16 T=4096 C=1024 H=16, K = 31, 15, 7 centered,
//     softmax on, no DropConnect: forward, dx alone, dx + dweight, dx + dweight + dbias; against a
//     device-to-device cudaMemcpy of x timed the same way. The kernel variants that lost to these paths on the
//     H200 (and this harness's side-by-side timing of them) are in git history, last in commit 9d0ecd7.
// Exit status 1 on any FAIL or CUDA error.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench_common.cuh"
#include "common.cuh"
#include "launchers.h"

using attnkit::Drop;
using harness::failures;

static bool verbose = false;  // one line per compared output (else: FAIL lines and one summary)
static double worstRatio = 0.0;  // max over the compared outputs of max|err| / tol
static std::string worstWhere;

// ---- naive references ----

// wt[h*K+k]: normalized weight times the HEAD_KERNEL factor (host, double). POSITION factor drawn here.
__global__ void ref_forward(double* y, const float* x, const double* wt, const float* bias, int B, int T, int C, int H,
        int K, int P, Drop drop) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long long)B * T * C) return;
    int c = (int)(i % C);
    int t = (int)((i / C) % T);
    int b = (int)(i / ((long long)C * T));
    int h = c / (C / H);
    double acc = bias ? (double)bias[c] : 0.0;
    for (int k = 0; k < K; k++) {
        int s = t + k - P;
        if (s < 0 || s >= T) continue;
        double w = wt[h * K + k];
        if (drop.position && drop.threshold) w *= attnkit::drop_factor(drop, attnkit::position_index(b, t, h, k, T, H, K));
        acc += w * (double)x[((long long)b * T + s) * C + c];
    }
    y[i] = acc;
}

// dx[b,s,c] = sum_k wt[h,k] f(b, t=s-k+P, h, k) dy[b,t,c].
__global__ void ref_dx(double* dx, const float* dy, const double* wt, int B, int T, int C, int H, int K, int P,
        Drop drop) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long long)B * T * C) return;
    int c = (int)(i % C);
    int s = (int)((i / C) % T);
    int b = (int)(i / ((long long)C * T));
    int h = c / (C / H);
    double acc = 0.0;
    for (int k = 0; k < K; k++) {
        int t = s - k + P;
        if (t < 0 || t >= T) continue;
        double w = wt[h * K + k];
        if (drop.position && drop.threshold) w *= attnkit::drop_factor(drop, attnkit::position_index(b, t, h, k, T, H, K));
        acc += w * (double)dy[((long long)b * T + t) * C + c];
    }
    dx[i] = acc;
}

// g[h*K+k] = sum_{b, c in h, t} dy[b,t,c] x[b,t+k-P,c] (times the POSITION factor): the gradient of the
// masked normalized weight, before the HEAD_KERNEL factor and the softmax backward (host).
__global__ void ref_dwmasked(double* g, const float* dy, const float* x, int B, int T, int C, int H, int K, int P,
        Drop drop) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= H * K) return;
    int h = i / K, k = i % K, R = C / H;
    double acc = 0.0;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            int s = t + k - P;
            if (s < 0 || s >= T) continue;
            double f = 1.0;
            if (drop.position && drop.threshold) f = attnkit::drop_factor(drop, attnkit::position_index(b, t, h, k, T, H, K));
            if (f == 0.0) continue;
            for (int c = h * R; c < (h + 1) * R; c++)
                acc += f * (double)dy[((long long)b * T + t) * C + c] * (double)x[((long long)b * T + s) * C + c];
        }
    g[i] = acc;
}

__global__ void ref_dbias(double* db, const float* dy, int B, int T, int C) {
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= C) return;
    double acc = 0.0;
    for (long long r = 0; r < (long long)B * T; r++) acc += dy[r * C + c];
    db[c] = acc;
}

// ---- helpers ----

static uint64_t rng = 88172645463325252ull;
static float urand() {  // [-1, 1)
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((rng >> 11) * (1.0 / 9007199254740992.0) * 2.0 - 1.0);
}

static float* dev_upload(const std::vector<float>& h) {
    float* d;
    CK(cudaMalloc(&d, h.size() * sizeof(float)));
    CK(cudaMemcpy(d, h.data(), h.size() * sizeof(float), cudaMemcpyHostToDevice));
    return d;
}
template <typename V>
static std::vector<V> dev_download(const V* d, size_t n) {
    std::vector<V> h(n);
    CK(cudaMemcpy(h.data(), d, n * sizeof(V), cudaMemcpyDeviceToHost));
    return h;
}

static void compare(const std::string& name, const std::string& what, const std::vector<float>& got,
        const std::vector<double>& ref) {
    double maxRef = 0.0, maxErr = 0.0;
    bool finite = true;
    for (size_t i = 0; i < ref.size(); i++) {
        maxRef = std::max(maxRef, std::fabs(ref[i]));
        if (!std::isfinite(got[i])) finite = false;
        maxErr = std::max(maxErr, std::fabs((double)got[i] - ref[i]));
    }
    double tol = 1e-4 * maxRef + (maxRef == 0.0 ? 1e-6 : 0.0);
    bool ok = finite && maxErr <= tol;
    if (!ok) failures++;
    double ratio = finite ? maxErr / tol : INFINITY;
    if (ratio >= worstRatio) {
        worstRatio = ratio;
        worstWhere = name + " " + what;
    }
    if (verbose || !ok)
        std::printf("%-4s %-52s %-8s max|err| %.3e  max|ref| %.3e  tol %.3e\n", ok ? "PASS" : "FAIL", name.c_str(),
                what.c_str(), maxErr, maxRef, tol);
}

struct Case {
    int B, T, C, H, K, P;
    bool bias, softmax;
    double p;
    int scope;  // 0 HEAD_KERNEL, 1 POSITION
    const char* note;
};

// The inputs (on the device) and the references (on the host) of one case.
struct CaseData {
    float *x = nullptr, *dy = nullptr, *w = nullptr, *b = nullptr;
    std::vector<double> y, dx, dw, db;
};

static void prepare(const Case& cs, CaseData& d) {
    const int B = cs.B, T = cs.T, C = cs.C, H = cs.H, K = cs.K, P = cs.P;
    const long long n = (long long)B * T * C;
    rng = 88172645463325252ull ^ ((uint64_t)B * 1000003u + (uint64_t)T * 10007u + (uint64_t)C * 101u + K * 7u + P);
    std::vector<float> hx(n), hdy(n), hw((size_t)H * K), hb(C);
    for (auto& v : hx) v = urand();
    for (auto& v : hdy) v = urand();
    for (auto& v : hw) v = 2.f * urand();
    for (auto& v : hb) v = urand();
    Drop drop = attnkit::make_drop(cs.p, 1234567, 42, cs.scope);

    // Host: normalized weights (double), HEAD_KERNEL factors.
    std::vector<double> wn((size_t)H * K), hk((size_t)H * K, 1.0), wt((size_t)H * K);
    for (int h = 0; h < H; h++) {
        double mx = -INFINITY, sum = 0.0;
        for (int k = 0; k < K; k++) mx = std::max(mx, (double)hw[h * K + k]);
        for (int k = 0; k < K; k++) sum += cs.softmax ? std::exp((double)hw[h * K + k] - mx) : 0.0;
        for (int k = 0; k < K; k++) {
            wn[h * K + k] = cs.softmax ? std::exp((double)hw[h * K + k] - mx) / sum : (double)hw[h * K + k];
            if (!cs.scope && drop.threshold) hk[h * K + k] = attnkit::drop_factor(drop, attnkit::head_kernel_index(h, k, K));
            wt[h * K + k] = wn[h * K + k] * hk[h * K + k];
        }
    }
    d.x = dev_upload(hx);
    d.dy = dev_upload(hdy);
    d.w = dev_upload(hw);
    d.b = dev_upload(hb);
    double *rwt, *ry, *rdx, *rg, *rdb;
    CK(cudaMalloc(&rwt, wt.size() * sizeof(double)));
    CK(cudaMemcpy(rwt, wt.data(), wt.size() * sizeof(double), cudaMemcpyHostToDevice));
    CK(cudaMalloc(&ry, n * sizeof(double)));
    CK(cudaMalloc(&rdx, n * sizeof(double)));
    CK(cudaMalloc(&rg, (size_t)H * K * sizeof(double)));
    CK(cudaMalloc(&rdb, (size_t)C * sizeof(double)));
    int thr = 256;
    unsigned blocks = (unsigned)((n + thr - 1) / thr);
    ref_forward<<<blocks, thr>>>(ry, d.x, rwt, cs.bias ? d.b : nullptr, B, T, C, H, K, P, drop);
    ref_dx<<<blocks, thr>>>(rdx, d.dy, rwt, B, T, C, H, K, P, drop);
    ref_dwmasked<<<(H * K + 63) / 64, 64>>>(rg, d.dy, d.x, B, T, C, H, K, P, drop);
    ref_dbias<<<(C + 63) / 64, 64>>>(rdb, d.dy, B, T, C);
    CK(cudaGetLastError());
    CK(cudaDeviceSynchronize());
    std::vector<double> g = dev_download(rg, (size_t)H * K);
    d.dw.resize((size_t)H * K);
    for (int h = 0; h < H; h++) {
        double dot = 0.0;
        for (int k = 0; k < K; k++) dot += wn[h * K + k] * g[h * K + k] * hk[h * K + k];
        for (int k = 0; k < K; k++) {
            double dwn = g[h * K + k] * hk[h * K + k];
            d.dw[h * K + k] = cs.softmax ? wn[h * K + k] * (dwn - dot) : dwn;
        }
    }
    d.y = dev_download(ry, n);
    d.dx = dev_download(rdx, n);
    d.db = dev_download(rdb, C);
    for (void* p : {(void*)rwt, (void*)ry, (void*)rdx, (void*)rg, (void*)rdb}) CK(cudaFree(p));
}

static void check(const Case& cs) {
    CaseData d;
    prepare(cs, d);
    const int B = cs.B, T = cs.T, C = cs.C, H = cs.H, K = cs.K, P = cs.P;
    const long long n = (long long)B * T * C;
    attnkit::DropArgs da{cs.p, 1234567, 42, cs.scope};
    float *dy_out, *dgx, *dgw, *dgb;
    CK(cudaMalloc(&dy_out, n * sizeof(float)));
    CK(cudaMalloc(&dgx, n * sizeof(float)));
    CK(cudaMalloc(&dgw, (size_t)H * K * sizeof(float)));
    CK(cudaMalloc(&dgb, (size_t)C * sizeof(float)));
    CK(cudaMemset(dy_out, 0xff, n * sizeof(float)));  // NaN: unwritten outputs fail
    CK(cudaMemset(dgx, 0xff, n * sizeof(float)));
    CK(cudaMemset(dgw, 0xff, (size_t)H * K * sizeof(float)));
    CK(cudaMemset(dgb, 0xff, (size_t)C * sizeof(float)));

    CK(attnkit::lightconv_forward(dy_out, d.x, d.w, cs.bias ? d.b : nullptr, B, T, C, H, K, P, cs.softmax, da));
    CK(attnkit::lightconv_backward(dgx, dgw, cs.bias ? dgb : nullptr, d.dy, d.x, d.w, B, T, C, H, K, P, cs.softmax, da));
    CK(cudaDeviceSynchronize());

    char name[160];
    std::snprintf(name, sizeof name, "B%d T%d C%d H%d K%d P%d%s%s%s %s", B, T, C, H, K, P, cs.bias ? " bias" : "",
            cs.softmax ? "" : " nosoftmax",
            cs.p > 0 ? (cs.scope ? " drop=POSITION" : " drop=HEAD_KERNEL") : "", cs.note);
    compare(name, "y", dev_download(dy_out, n), d.y);
    compare(name, "dx", dev_download(dgx, n), d.dx);
    compare(name, "dweight", dev_download(dgw, (size_t)H * K), d.dw);
    if (cs.bias) compare(name, "dbias", dev_download(dgb, C), d.db);

    // dx alone and dweight alone (the launcher's other code paths).
    CK(cudaMemset(dgx, 0xff, n * sizeof(float)));
    CK(attnkit::lightconv_backward(dgx, nullptr, nullptr, d.dy, d.x, d.w, B, T, C, H, K, P, cs.softmax, da));
    CK(cudaMemset(dgw, 0xff, (size_t)H * K * sizeof(float)));
    CK(attnkit::lightconv_backward(nullptr, dgw, nullptr, d.dy, d.x, d.w, B, T, C, H, K, P, cs.softmax, da));
    CK(cudaDeviceSynchronize());
    compare(name, "dx-only", dev_download(dgx, n), d.dx);
    compare(name, "dw-only", dev_download(dgw, (size_t)H * K), d.dw);

    for (void* p : {(void*)dy_out, (void*)dgx, (void*)dgw, (void*)dgb, (void*)d.x, (void*)d.dy, (void*)d.w, (void*)d.b})
        CK(cudaFree(p));
}

template <typename F>
static float median_ms(F f) {
    return harness::median_ms(f, 20, 3);
}

static void bench() {
    const int B = 16, T = 4096, C = 1024, H = 16;
    const long long n = (long long)B * T * C;
    const double bytes = (double)n * 4;
    float *x, *y, *dy, *dx, *w, *dw, *db;
    CK(cudaMalloc(&x, n * 4));
    CK(cudaMalloc(&y, n * 4));
    CK(cudaMalloc(&dy, n * 4));
    CK(cudaMalloc(&dx, n * 4));
    CK(cudaMalloc(&w, H * 63 * 4));
    CK(cudaMalloc(&dw, H * 63 * 4));
    CK(cudaMalloc(&db, C * 4));
    {
        std::vector<float> hx(n);
        for (auto& v : hx) v = urand();
        CK(cudaMemcpy(x, hx.data(), n * 4, cudaMemcpyHostToDevice));
        for (auto& v : hx) v = urand();
        CK(cudaMemcpy(dy, hx.data(), n * 4, cudaMemcpyHostToDevice));
        std::vector<float> hw(H * 63);
        for (auto& v : hw) v = urand();
        CK(cudaMemcpy(w, hw.data(), hw.size() * 4, cudaMemcpyHostToDevice));
    }
    float copy = median_ms([&] { CK(cudaMemcpyAsync(y, x, n * 4, cudaMemcpyDeviceToDevice)); });
    const double copyBw = 2 * bytes / copy;
    std::printf("TIME copy      B%d T%d C%d              %.4f ms  %7.1f GB/s  100.0%% of copy\n", B, T, C, copy,
            2 * bytes / copy * 1e-6);
    std::printf("INFO times: ms (%% of copy bandwidth; forward and dx count 2 x BTC bytes, backward 3 x BTC)\n");
    attnkit::DropArgs none{0.0, 0, 0, 0};
    for (int K : {31, 15, 7}) {
        const int P = K / 2;
        const float fwd = median_ms([&] { CK(attnkit::lightconv_forward(y, x, w, nullptr, B, T, C, H, K, P, true, none)); });
        const float dxo = median_ms(
                [&] { CK(attnkit::lightconv_backward(dx, nullptr, nullptr, dy, x, w, B, T, C, H, K, P, true, none)); });
        const float bwd =
                median_ms([&] { CK(attnkit::lightconv_backward(dx, dw, nullptr, dy, x, w, B, T, C, H, K, P, true, none)); });
        const float bwdb =
                median_ms([&] { CK(attnkit::lightconv_backward(dx, dw, db, dy, x, w, B, T, C, H, K, P, true, none)); });
        std::printf("TIME K%-2d forward             %.4f ms  %5.1f%% of copy\n", K, fwd, 100.0 * (2 * bytes / fwd) / copyBw);
        std::printf("TIME K%-2d dx-only             %.4f ms  %5.1f%% of copy\n", K, dxo, 100.0 * (2 * bytes / dxo) / copyBw);
        std::printf("TIME K%-2d backward dx+dw      %.4f ms  %5.1f%% of copy\n", K, bwd, 100.0 * (3 * bytes / bwd) / copyBw);
        std::printf("TIME K%-2d backward dx+dw+db   %.4f ms  %5.1f%% of copy\n", K, bwdb,
                100.0 * (3 * bytes / bwdb) / copyBw);
    }
    for (void* p : {(void*)x, (void*)y, (void*)dy, (void*)dx, (void*)w, (void*)dw, (void*)db}) CK(cudaFree(p));
}

int main(int argc, char** argv) {
    verbose = argc > 1 && std::string(argv[1]) == "-v";
    cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, 0));
    std::printf("INFO device %s sm_%d%d, %d SMs\n", prop.name, prop.major, prop.minor, prop.multiProcessorCount);
    const Case cases[] = {
            {2, 300, 64, 4, 31, 15, true, true, 0.0, 0, "K31 centered"},
            {2, 300, 64, 4, 31, 30, true, true, 0.0, 0, "K31 causal"},
            {2, 1000, 1024, 16, 31, 15, false, true, 0.0, 0, "K31 several time ranges per column"},
            {4, 4500, 1024, 16, 31, 15, true, true, 0.0, 0, "K31 several tiles per block"},
            {8, 5000, 512, 8, 7, 6, true, false, 0.0, 0, "K7 causal several tiles per block"},
            {2, 177, 96, 3, 7, 3, true, true, 0.0, 0, "K7 R=32"},
            {1, 150, 48, 16, 3, 1, true, true, 0.0, 0, "K3 R=3 B=1"},
            {2, 130, 64, 4, 15, 0, false, true, 0.0, 0, "K15 pad 0"},
            {2, 120, 40, 8, 9, 4, true, true, 0.0, 0, "generic K9 (runs as 15) C=40 R=5"},
            {2, 120, 40, 8, 20, 0, false, true, 0.0, 0, "generic K20 pad 0 C=40"},
            {2, 64, 64, 4, 2, 1, true, true, 0.0, 0, "even K2"},
            {1, 40, 32, 4, 1, 0, true, true, 0.0, 0, "K1"},
            {2, 5, 64, 4, 31, 15, true, true, 0.0, 0, "T<K centered"},
            {2, 5, 64, 4, 31, 30, true, true, 0.0, 0, "T<K causal"},
            {1, 1, 32, 2, 7, 3, true, true, 0.0, 0, "T=1"},
            {1, 400, 64, 1, 15, 7, true, true, 0.0, 0, "H=1"},
            {2, 90, 24, 24, 5, 2, true, true, 0.0, 0, "C=H (R=1)"},
            {1, 300, 128, 2, 63, 31, true, true, 0.0, 0, "K63"},
            {1, 300, 128, 2, 40, 39, true, true, 0.0, 0, "generic K40 (runs as 63) causal"},
            {2, 90, 32, 4, 70, 35, true, true, 0.0, 0, "K70 generic kernel"},
            {2, 170, 64, 4, 7, 3, true, false, 0.0, 0, "softmax off"},
            {2, 300, 64, 4, 31, 15, true, true, 0.25, 0, "K31"},
            {2, 200, 40, 8, 9, 8, true, true, 0.25, 0, "generic K9"},
            {2, 300, 64, 4, 31, 15, true, true, 0.25, 1, "K31 (generic kernels)"},
            {2, 120, 40, 8, 7, 6, true, true, 0.25, 1, "K7 causal"},
    };
    const int nCases = (int)(sizeof cases / sizeof cases[0]);
    for (const Case& c : cases) check(c);
    std::printf("%s lightconv: %d shapes, %d failure(s), worst max|err|/tol %.3f at %s\n", failures ? "FAIL" : "PASS",
            nCases, failures, worstRatio, worstWhere.c_str());
    bench();
    std::printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
    return failures ? 1 : 0;
}
