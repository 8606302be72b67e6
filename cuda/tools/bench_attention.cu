// bench_attention.cu: correctness and timing of the bf16 tensor-core attention forward (cuda/attention_bf16.cu)
// on one GPU. Built by cuda/tools/build-bench.sh against the library's static lib; calls the real
// attnkit::attention_forward_bf16 of cuda/launchers.h (its kernel for d = 64 and its kernel for d = 128).
//
// (a) Correctness: a naive reference kernel written here (one thread per (b, h, query), double softmax over all
//     keys, from the same bf16 inputs; same semantics: scores / sqrt(d), key j allowed unless mask[b,j] != 0 or
//     (causal and j > i + Tk - Tq), a fully masked row gives zeros and lse = +inf) on small and awkward shapes,
//     both head sizes. PASS when max |y - ref| <= 2e-2 * max |ref| and |lse - ref| <= 1e-3 (infinities must
//     match). Each case also runs twice (the bits must repeat).
// (b) Timing: CUDA events, 3 warm-ups, median of 20, at B=8 H=16 T=4096 d=64 (and d=128), causal and not, bf16
//     output + lse; TFLOP/s with FLOPs 4 B H T^2 d (halved when causal).
// The kernel variants that lost on the H200 (and this harness's side-by-side timing of them) are in git history,
// last in commit 9d0ecd7. One line per result; exit status 1 on any FAIL or CUDA error.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "bench_common.cuh"
#include "launchers.h"

using harness::failures;

// ---- inputs ----

__device__ __forceinline__ uint32_t hash32(uint32_t x) {
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}

// Uniform in [-amp, amp), rounded to bf16.
__global__ void fill_bf16(__nv_bfloat16* p, long long n, uint32_t seed, float amp) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    uint32_t h = hash32((uint32_t)i * 2654435761u ^ hash32(seed + (uint32_t)(i >> 32)));
    float u = (h >> 8) * (1.0f / 16777216.0f);
    p[i] = __float2bfloat16_rn((2.f * u - 1.f) * amp);
}

// ---- naive reference ----

// One thread per (b, h, i): y_ref [B, Tq, D] double, lse_ref [B*H, Tq] double (+inf when fully masked).
__global__ void ref_attention(double* y, double* lse, const __nv_bfloat16* q, const __nv_bfloat16* k,
        const __nv_bfloat16* v, const float* mask, int B, int Tq, int Tk, int H, int D, int causal) {
    long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long long)B * H * Tq) return;
    const int i = (int)(idx % Tq);
    const int bh = (int)(idx / Tq), b = bh / H, h = bh % H;
    const int d = D / H;
    const double scale = 1.0 / sqrt((double)d);
    const __nv_bfloat16* qr = q + ((long long)b * Tq + i) * D + h * d;
    auto allowed = [&](int j) {
        if (causal && j > i + Tk - Tq) return false;
        if (mask && mask[(long long)b * Tk + j] != 0.f) return false;
        return true;
    };
    auto score = [&](int j) {
        const __nv_bfloat16* kr = k + ((long long)b * Tk + j) * D + h * d;
        double s = 0;
        for (int c = 0; c < d; c++) s += (double)__bfloat162float(qr[c]) * (double)__bfloat162float(kr[c]);
        return s * scale;
    };
    double mx = -INFINITY;
    for (int j = 0; j < Tk; j++)
        if (allowed(j)) mx = fmax(mx, score(j));
    double* yr = y + ((long long)b * Tq + i) * D + h * d;
    for (int c = 0; c < d; c++) yr[c] = 0;
    if (mx == -INFINITY) {
        lse[(long long)bh * Tq + i] = INFINITY;
        return;
    }
    double sum = 0;
    for (int j = 0; j < Tk; j++) {
        if (!allowed(j)) continue;
        double p = exp(score(j) - mx);
        sum += p;
        const __nv_bfloat16* vr = v + ((long long)b * Tk + j) * D + h * d;
        for (int c = 0; c < d; c++) yr[c] += p * (double)__bfloat162float(vr[c]);
    }
    for (int c = 0; c < d; c++) yr[c] /= sum;
    lse[(long long)bh * Tq + i] = mx + log(sum);
}

// ---- helpers ----

static std::vector<float> y_to_host(const void* y, long long n, bool bf16) {
    std::vector<float> out(n);
    if (bf16) {
        std::vector<__nv_bfloat16> t(n);
        CK(cudaMemcpy(t.data(), y, n * sizeof(__nv_bfloat16), cudaMemcpyDeviceToHost));
        for (long long i = 0; i < n; i++) out[i] = __bfloat162float(t[i]);
    } else {
        CK(cudaMemcpy(out.data(), y, n * sizeof(float), cudaMemcpyDeviceToHost));
    }
    return out;
}

struct Case {
    const char* name;
    int B, Tq, Tk, H, d;
    bool causal;
    int maskKind;  // 0 none, 1 random key padding (~30%), 2 as 1 plus batch 0 fully masked
    bool yBf16;
};

static void run_case(const Case& c) {
    const int D = c.H * c.d;
    const long long nq = (long long)c.B * c.Tq * D, nk = (long long)c.B * c.Tk * D;
    const long long nl = (long long)c.B * c.H * c.Tq;
    __nv_bfloat16 *q, *k, *v;
    CK(cudaMalloc(&q, nq * 2));
    CK(cudaMalloc(&k, nk * 2));
    CK(cudaMalloc(&v, nk * 2));
    fill_bf16<<<(unsigned)((nq + 255) / 256), 256>>>(q, nq, 11u + c.Tq, 2.0f);
    fill_bf16<<<(unsigned)((nk + 255) / 256), 256>>>(k, nk, 23u + c.Tk, 2.0f);
    fill_bf16<<<(unsigned)((nk + 255) / 256), 256>>>(v, nk, 37u + c.d, 1.0f);
    CK(cudaGetLastError());
    float* mask = nullptr;
    if (c.maskKind) {
        std::vector<float> hm((size_t)c.B * c.Tk);
        uint32_t st = 12345u;
        for (int b = 0; b < c.B; b++)
            for (int j = 0; j < c.Tk; j++) {
                st = st * 1664525u + 1013904223u;
                bool masked = (st >> 8) % 10 < 3 || (c.maskKind == 2 && b == 0) || (j >= c.Tk - 5 && b == c.B - 1);
                hm[(size_t)b * c.Tk + j] = masked ? 1.f : 0.f;
            }
        CK(cudaMalloc(&mask, hm.size() * sizeof(float)));
        CK(cudaMemcpy(mask, hm.data(), hm.size() * sizeof(float), cudaMemcpyHostToDevice));
    }
    double *yr, *lr;
    CK(cudaMalloc(&yr, nq * sizeof(double)));
    CK(cudaMalloc(&lr, nl * sizeof(double)));
    ref_attention<<<(unsigned)((nl + 127) / 128), 128>>>(yr, lr, q, k, v, mask, c.B, c.Tq, c.Tk, c.H, D, c.causal);
    CK(cudaGetLastError());
    CK(cudaDeviceSynchronize());
    std::vector<double> hy(nq), hl(nl);
    CK(cudaMemcpy(hy.data(), yr, nq * sizeof(double), cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(hl.data(), lr, nl * sizeof(double), cudaMemcpyDeviceToHost));
    double maxRef = 0;
    for (double x : hy) maxRef = std::max(maxRef, std::fabs(x));

    const size_t ybytes = nq * (c.yBf16 ? 2 : 4);
    void* y;
    float* lse;
    CK(cudaMalloc(&y, ybytes));
    CK(cudaMalloc(&lse, nl * sizeof(float)));
    std::vector<unsigned char> bits[2];
    std::vector<float> ly[2], ll[2];
    for (int rep = 0; rep < 2; rep++) {
        CK(cudaMemset(y, 0x7f, ybytes));  // garbage: every output element must be written
        CK(cudaMemset(lse, 0x7f, nl * sizeof(float)));
        CK(attnkit::attention_forward_bf16(y, lse, q, k, v, mask, c.B, c.Tq, c.Tk, c.H, D, c.causal, c.yBf16));
        CK(cudaDeviceSynchronize());
        bits[rep].resize(ybytes);
        CK(cudaMemcpy(bits[rep].data(), y, ybytes, cudaMemcpyDeviceToHost));
        ly[rep] = y_to_host(y, nq, c.yBf16);
        ll[rep].resize(nl);
        CK(cudaMemcpy(ll[rep].data(), lse, nl * sizeof(float), cudaMemcpyDeviceToHost));
    }
    double maxErr = 0, maxLseErr = 0;
    long long bad = 0, badLse = 0;
    for (long long i = 0; i < nq; i++) {
        double e = std::fabs((double)ly[0][i] - hy[i]);
        if (!(e <= maxErr)) maxErr = std::isnan(e) ? INFINITY : std::max(maxErr, e);
        if (!(e <= 2e-2 * maxRef + 1e-6)) bad++;
    }
    for (long long i = 0; i < nl; i++) {
        double r = hl[i], g = ll[0][i];
        double e = std::isinf(r) ? (std::isinf(g) && g > 0 ? 0.0 : INFINITY) : std::fabs(g - r);
        if (!(e <= maxLseErr)) maxLseErr = std::isnan(e) ? INFINITY : std::max(maxLseErr, e);
        if (!(e <= 1e-3)) badLse++;
    }
    bool repeat = bits[0] == bits[1] && std::memcmp(ll[0].data(), ll[1].data(), nl * sizeof(float)) == 0;
    bool pass = bad == 0 && badLse == 0 && repeat;
    std::printf("%s  %-34s max|err| %.3e (tol %.3e)  lse max|err| %.3e  bad %lld/%lld%s\n", pass ? "PASS" : "FAIL",
            c.name, maxErr, 2e-2 * maxRef, maxLseErr, bad, badLse, repeat ? "" : "  NOT REPEATABLE");
    if (!pass) failures++;
    CK(cudaFree(q));
    CK(cudaFree(k));
    CK(cudaFree(v));
    if (mask) CK(cudaFree(mask));
    CK(cudaFree(yr));
    CK(cudaFree(lr));
    CK(cudaFree(y));
    CK(cudaFree(lse));
}

static void time_case(int B, int H, int T, int d, bool causal) {
    const int D = H * d;
    const long long n = (long long)B * T * D;
    __nv_bfloat16 *q, *k, *v, *y;
    float* lse;
    CK(cudaMalloc(&q, n * 2));
    CK(cudaMalloc(&k, n * 2));
    CK(cudaMalloc(&v, n * 2));
    CK(cudaMalloc(&y, n * 2));
    CK(cudaMalloc(&lse, (long long)B * H * T * sizeof(float)));
    fill_bf16<<<(unsigned)((n + 255) / 256), 256>>>(q, n, 1u, 2.0f);
    fill_bf16<<<(unsigned)((n + 255) / 256), 256>>>(k, n, 2u, 2.0f);
    fill_bf16<<<(unsigned)((n + 255) / 256), 256>>>(v, n, 3u, 1.0f);
    CK(cudaGetLastError());
    const double flops = 4.0 * B * H * (double)T * T * d * (causal ? 0.5 : 1.0);
    const std::vector<float> ms = harness::time_ms(
            [&] { return attnkit::attention_forward_bf16(y, lse, q, k, v, nullptr, B, T, T, H, D, causal, true); }, 20, 3);
    const double med = harness::median(ms);
    std::printf("TIME  B=%d H=%d T=%d d=%d %-10s median %.3f ms (min %.3f)  %.1f TFLOP/s\n", B, H, T, d,
            causal ? "causal" : "not-causal", med, ms[0], flops / (med * 1e-3) / 1e12);
    CK(cudaFree(q));
    CK(cudaFree(k));
    CK(cudaFree(v));
    CK(cudaFree(y));
    CK(cudaFree(lse));
}

int main(int argc, char** argv) {
    int dev = 0;
    CK(cudaSetDevice(dev));
    cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, dev));
    std::printf("device %s, sm_%d%d, %d SMs\n", prop.name, prop.major, prop.minor, prop.multiProcessorCount);
    const bool timeOnly = argc > 1 && std::strcmp(argv[1], "--time-only") == 0;
    const bool checkOnly = argc > 1 && std::strcmp(argv[1], "--check-only") == 0;
    if (!timeOnly) {
        const Case cases[] = {
                {"B2 H3 T100 d64", 2, 100, 100, 3, 64, false, 0, true},
                {"B2 H3 T100 d64 causal", 2, 100, 100, 3, 64, true, 0, true},
                {"B2 H3 T100 d64 fp32-out", 2, 100, 100, 3, 64, false, 0, false},
                {"B2 H3 Tq100 Tk173 d64", 2, 100, 173, 3, 64, false, 0, true},
                {"B2 H3 Tq100 Tk173 d64 causal", 2, 100, 173, 3, 64, true, 0, true},
                {"B2 H3 Tq173 Tk100 d64 causal", 2, 173, 100, 3, 64, true, 0, true},
                {"B2 H3 T100 d128", 2, 100, 100, 3, 128, false, 0, true},
                {"B2 H3 T100 d128 causal fp32-out", 2, 100, 100, 3, 128, true, 0, false},
                {"B2 H3 T100 d64 key-mask", 2, 100, 100, 3, 64, false, 1, true},
                {"B2 H3 T100 d64 key-mask causal", 2, 100, 100, 3, 64, true, 1, true},
                {"B2 H3 T100 d128 key-mask b0-all", 2, 100, 100, 3, 128, false, 2, true},
                {"B2 H3 T1 d64", 2, 1, 1, 3, 64, false, 0, true},
                {"B2 H3 T1 d128 causal", 2, 1, 1, 3, 128, true, 0, true},
                {"B1 H2 T777 d64", 1, 777, 777, 2, 64, false, 0, true},
                {"B1 H2 T777 d64 causal", 1, 777, 777, 2, 64, true, 0, true},
                {"B1 H2 Tq300 Tk901 d64 causal mask", 1, 300, 901, 2, 64, true, 1, false},
                {"B1 H2 T515 d128 causal", 1, 515, 515, 2, 128, true, 0, true},
                {"B1 H2 T515 d128 key-mask", 1, 515, 515, 2, 128, false, 1, true},
        };
        for (const Case& c : cases) run_case(c);
    }
    if (!checkOnly) {
        time_case(8, 16, 4096, 64, false);
        time_case(8, 16, 4096, 64, true);
        time_case(8, 16, 4096, 128, false);
        time_case(8, 16, 4096, 128, true);
    }
    std::printf("%s: %d failure(s)\n", failures ? "FAILED" : "ALL PASSED", failures);
    return failures ? 1 : 0;
}
