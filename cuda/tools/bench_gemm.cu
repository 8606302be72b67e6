// bench_gemm.cu: correctness and speed of the GEMM launchers that Linear and MatMul use on CUDA (cuda/gemm.cu,
// cuda/gemm_mma.cu), standalone (no Java): gemm_batched (attnkit_gemm), gemm_ex with precision 0 fp32 SIMT,
// 1 TF32, 2 BF16 and every epilogue (attnkit_gemm_ex), gemm_bf16 on bf16 buffers with fp32 or bf16 output
// (attnkit_gemm_bf16).
//   (a) awkward shapes (1x1x1, 7x13x5, 129x258x33, 300x600x300, transposes, batch 3 with and without a shared B,
//       bias, each epilogue with its pre-activation output Z, K = 0, an unaligned operand) against a naive GPU
//       reference (one thread per output, double accumulation, the epilogue applied on the host in double).
//       Outputs start as NaN and every buffer has a NaN guard tail: an output not written or a write past the
//       end fails. Tolerance: max |y - ref| <= tol * max |ref| with tol = 1e-5 (fp32), 5e-3 (tf32), 2e-2 (bf16):
//       for inputs uniform in [-1, 1] the rounding error of a K-term dot product grows like sqrt(K) eps, and so
//       does max |ref|, so a tolerance relative to max |ref| is a fixed multiple of eps whatever K (with an
//       activation, relative to max(max |y_ref|, max |z_ref|), the pre-activation's scale).
//   (b) CUDA-event timing (2 warm-ups, median of 10) at 8192^3 and 4096x512x512 for fp32, tf32, bf16 (fp32
//       buffers through gemm_ex) and bf16 buffers (gemm_bf16, a [M,K] x w[N,K]^T, bf16 out), with 2048 sampled
//       outputs of each timed product checked against the double reference.
// One line per result; exit status 1 on any FAIL. Build (cuda/tools/build-bench.sh does the same):
//   nvcc -O3 -arch=sm_90 -std=c++17 -Icuda -Inative/include cuda/tools/bench_gemm.cu libattnkit_cuda.a -o bench_gemm
// Every kernel path is checked in (a): the fp32 SIMT kernel (gemm_batched, gemm_ex fp32), the cp.async tensor-core
// kernel on aligned fp32 buffers and the register-staged one on the other shapes (tf32, bf16: transposes, K % 4,
// an unaligned operand), gemm_bf16_sw on bf16 buffers in the x W^T layout (K % 8 == 0) and the staging kernel on
// the other bf16-buffer shapes. The kernel variants that lost on the H200 (and this harness's side-by-side timing
// of them) are in git history, last in commit 9d0ecd7.
// Options: --quick skips the 8192^3 timings.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench_common.cuh"
#include "launchers.h"

using namespace attnkit;
using harness::CudaFailure;
using harness::failures;

namespace {

// A CUDA error inside a case or a timing abandons that piece only (CK prints a FAIL line, counts it and throws
// CudaFailure: main sets harness::throw_on_cuda_error; it goes on with the next piece unless the context is lost,
// see survive()); the exit status is 1 at the end.
// Runs one piece of the harness; after a CUDA failure, goes on only while the context still works (a kernel
// fault is sticky: then print the count and stop with status 1).
template <typename F>
void survive(F piece) {
    try {
        piece();
    } catch (const CudaFailure&) {
        cudaGetLastError();  // clear a non-sticky error (e.g. an invalid launch)
        if (cudaDeviceSynchronize() != cudaSuccess || cudaGetLastError() != cudaSuccess) {
            std::printf("FAIL context lost after a CUDA error: stopping; %d failure(s)\n", failures);
            std::exit(1);
        }
    }
}

__device__ __host__ inline uint32_t hash32(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return (uint32_t)x;
}

// Uniform in [-1, 1).
__global__ void fill_kernel(float* p, long long n, uint32_t seed) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        p[i] = (float)((double)hash32((uint64_t)i * 0x9E3779B97F4A7C15ULL + seed) / 2147483648.0 - 1.0);
    }
}

void fill(float* p, long long n, uint32_t seed) {
    if (n > 0) fill_kernel<<<1024, 256>>>(p, n, seed);
    CK(cudaGetLastError());
}

// Pre-activation z[b][m][n] = sum_k op(A[b])(m, k) op(B[b])(k, n) + bias[n] in double, for output idx.
__device__ double ref_dot(const float* A, const float* B, const float* bias, int M, int N, int K, bool tA, bool tB,
        bool shareB, long long idx) {
    long long mn = (long long)M * N;
    long long b = idx / mn;
    int m = (int)((idx / N) % M), n = (int)(idx % N);
    const float* Ab = A + b * (long long)M * K;
    const float* Bb = B + (shareB ? 0 : b * (long long)K * N);
    double s = 0;
    for (int k = 0; k < K; k++) {
        double a = tA ? Ab[(long long)k * M + m] : Ab[(long long)m * K + k];
        double w = tB ? Bb[(long long)n * K + k] : Bb[(long long)k * N + n];
        s += a * w;
    }
    if (bias) s += bias[n];
    return s;
}

__global__ void ref_kernel(double* z, const float* A, const float* B, const float* bias, int batch, int M, int N,
        int K, bool tA, bool tB, bool shareB) {
    long long total = (long long)batch * M * N;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x) {
        z[i] = ref_dot(A, B, bias, M, N, K, tA, tB, shareB, i);
    }
}

__global__ void ref_sample_kernel(double* z, long long* where, int samples, const float* A, const float* B, int batch,
        int M, int N, int K, bool tA, bool tB) {
    int s = blockIdx.x * blockDim.x + threadIdx.x;
    if (s >= samples) return;
    long long total = (long long)batch * M * N;
    long long i = (long long)(((uint64_t)hash32(s * 7919ULL + 17) << 32 | hash32(s * 104729ULL + 3)) % (uint64_t)total);
    where[s] = i;
    z[s] = ref_dot(A, B, nullptr, M, N, K, tA, tB, false, i);
}

double act(int epi, double z) {
    switch (epi) {
        case 1: return z > 0 ? z : 0;
        case 2: return z * 0.5 * std::erfc(-z / std::sqrt(2.0));
        case 3: return std::tanh(z);
        case 4: return 1.0 / (1.0 + std::exp(-z));
        default: return z;
    }
}

std::vector<float> bf16_to_host(const void* d, long long n) {
    std::vector<float> h(std::max(n, 1LL));
    if (n == 0) return h;
    float* tmp;
    CK(cudaMalloc(&tmp, n * sizeof(float)));
    CK(bf16_to_f32(tmp, d, n));
    CK(cudaMemcpy(h.data(), tmp, n * sizeof(float), cudaMemcpyDeviceToHost));
    CK(cudaFree(tmp));
    return h;
}

const int GUARD = 64;  // elements of NaN past every output

enum Api { BATCHED = 0, EX = 1, BF16BUF = 2 };

struct Case {
    std::string name;
    Api api;
    int precision;  // EX: 0 fp32, 1 tf32, 2 bf16; BF16BUF: 2; BATCHED: 0
    int batch, M, N, K;
    bool tA, tB, shareB, bias;
    int epi;      // EX only
    bool withZ;   // EX with epi != 0
    bool outBf16; // BF16BUF only
    bool unalignedA = false;
};

double tol_of(int precision) { return precision == 0 ? 1e-5 : precision == 1 ? 5e-3 : 2e-2; }
const char* prec_name(int p) { return p == 0 ? "fp32" : p == 1 ? "tf32" : "bf16"; }

// Max |got - ref| and max |ref| over n values; NaN in got counts as infinite error.
void compare(const float* got, const double* ref, long long n, double& err, double& scale) {
    err = 0;
    scale = 0;
    for (long long i = 0; i < n; i++) {
        double d = std::fabs((double)got[i] - ref[i]);
        if (!(d == d)) d = INFINITY;
        err = std::max(err, d);
        scale = std::max(scale, std::fabs(ref[i]));
    }
    if (scale == 0) scale = 1;
}

bool guard_intact(const void* d, size_t offsetBytes, size_t bytes) {
    std::vector<unsigned char> h(bytes);
    CK(cudaMemcpy(h.data(), (const unsigned char*)d + offsetBytes, bytes, cudaMemcpyDeviceToHost));
    for (unsigned char c : h)
        if (c != 0xFF) return false;
    return true;
}

void run_case(const Case& c) {
    const long long aN = (long long)c.batch * c.M * c.K, bN = (long long)(c.shareB ? 1 : c.batch) * c.K * c.N;
    const int nOut = c.epi == 5 ? c.N / 2 : c.N;
    const long long yN = (long long)c.batch * c.M * nOut, zN = (long long)c.batch * c.M * c.N;
    float *A, *B, *bias = nullptr;
    CK(cudaMalloc(&A, (aN + 4) * sizeof(float)));
    CK(cudaMalloc(&B, (bN + 4) * sizeof(float)));
    float* Aop = c.unalignedA ? A + 1 : A;
    fill(Aop, aN, 11);
    fill(B, bN, 23);
    if (c.bias) {
        CK(cudaMalloc(&bias, c.N * sizeof(float)));
        fill(bias, c.N, 37);
    }
    void *Abf = nullptr, *Bbf = nullptr;
    if (c.api == BF16BUF) {
        // The reference sees the bf16 values: round A, B in place through bf16 (and keep the bf16 copies).
        CK(cudaMalloc(&Abf, (aN + 8) * 2));
        CK(cudaMalloc(&Bbf, (bN + 8) * 2));
        CK(f32_to_bf16(Abf, Aop, aN));
        CK(f32_to_bf16(Bbf, B, bN));
        CK(bf16_to_f32(Aop, Abf, aN));
        CK(bf16_to_f32(B, Bbf, bN));
    }
    const size_t ySize = c.api == BF16BUF && c.outBf16 ? 2 : 4;
    void* Y;
    float* Z = nullptr;
    CK(cudaMalloc(&Y, (yN + GUARD) * ySize));
    CK(cudaMemset(Y, 0xFF, (yN + GUARD) * ySize));
    if (c.withZ) {
        CK(cudaMalloc(&Z, (zN + GUARD) * sizeof(float)));
        CK(cudaMemset(Z, 0xFF, (zN + GUARD) * sizeof(float)));
    }
    cudaError_t e = cudaSuccess;
    if (c.api == BATCHED) {
        e = gemm_batched((float*)Y, Aop, B, bias, c.batch, c.M, c.N, c.K, c.tA, c.tB, c.shareB);
    } else if (c.api == EX) {
        e = gemm_ex((float*)Y, Z, Aop, B, bias, c.batch, c.M, c.N, c.K, c.tA, c.tB, c.shareB, c.precision, c.epi);
    } else {
        e = gemm_bf16(Y, Abf, Bbf, bias, c.batch, c.M, c.N, c.K, c.tA, c.tB, c.shareB, c.outBf16);
    }
    if (e == cudaSuccess) e = cudaDeviceSynchronize();
    if (e != cudaSuccess) {
        std::printf("FAIL %-44s launch: %s\n", c.name.c_str(), cudaGetErrorString(e));
        failures++;
        throw CudaFailure{};  // survive() decides whether the context still works
    }
    // Reference pre-activation.
    double* zr;
    CK(cudaMalloc(&zr, std::max(zN, 1LL) * sizeof(double)));
    if (zN > 0) ref_kernel<<<1024, 256>>>(zr, Aop, B, bias, c.batch, c.M, c.N, c.K, c.tA, c.tB, c.shareB);
    CK(cudaGetLastError());
    std::vector<double> z(std::max(zN, 1LL));
    CK(cudaMemcpy(z.data(), zr, zN * sizeof(double), cudaMemcpyDeviceToHost));
    std::vector<double> yref(std::max(yN, 1LL));
    for (long long r = 0; r < (long long)c.batch * c.M; r++) {
        for (int j = 0; j < nOut; j++) {
            if (c.epi == 5) {
                double a = z[r * c.N + j], g = z[r * c.N + nOut + j];
                yref[r * nOut + j] = a * act(4, g);
            } else {
                yref[r * nOut + j] = act(c.epi, z[r * c.N + j]);
            }
        }
    }
    std::vector<float> y;
    if (ySize == 2) {
        y = bf16_to_host(Y, yN);
    } else {
        y.resize(std::max(yN, 1LL));
        CK(cudaMemcpy(y.data(), Y, yN * sizeof(float), cudaMemcpyDeviceToHost));
    }
    double err, scale;
    compare(y.data(), yref.data(), yN, err, scale);
    if (c.epi != 0) {
        // The activations are at most ~1.13-Lipschitz (GELU; GLU's gate term scales with |a| <= max |z|): an
        // error in z carries over at most in proportion, so measure against the pre-activation's scale too
        // (tanh and sigmoid saturate at 1 while z reaches ~sqrt(K)).
        for (long long i = 0; i < zN; i++) scale = std::max(scale, std::fabs(z[i]));
    }
    const double tol = tol_of(c.precision);
    bool ok = err <= tol * scale && guard_intact(Y, yN * ySize, GUARD * ySize);
    double zerr = 0, zscale = 1;
    if (c.withZ) {
        std::vector<float> zg(std::max(zN, 1LL));
        CK(cudaMemcpy(zg.data(), Z, zN * sizeof(float), cudaMemcpyDeviceToHost));
        compare(zg.data(), z.data(), zN, zerr, zscale);
        ok = ok && zerr <= tol * zscale && guard_intact(Z, zN * sizeof(float), GUARD * sizeof(float));
    }
    std::printf("%s %-44s max_err %.3e max_ref %.3e rel %.2e tol %.0e%s\n", ok ? "PASS" : "FAIL", c.name.c_str(), err,
            scale, err / scale, tol,
            c.withZ ? (std::string(" | z rel ") + std::to_string(zerr / zscale)).c_str() : "");
    if (!ok) failures++;
    CK(cudaFree(A));
    CK(cudaFree(B));
    if (bias) CK(cudaFree(bias));
    if (Abf) CK(cudaFree(Abf));
    if (Bbf) CK(cudaFree(Bbf));
    CK(cudaFree(Y));
    if (Z) CK(cudaFree(Z));
    CK(cudaFree(zr));
}

std::string shape(int b, int M, int N, int K, bool tA, bool tB, bool shareB) {
    char s[96];
    std::snprintf(s, sizeof s, "%s%dx%dx%d%s%s%s", b > 1 ? (std::to_string(b) + "*").c_str() : "", M, N, K,
            tA ? " tA" : "", tB ? " tB" : "", shareB ? " shareB" : "");
    return s;
}

void correctness() {
    struct S { int b, M, N, K; bool tA, tB, shareB; };
    const S shapes[] = {
            {1, 1, 1, 1, false, false, false}, {1, 7, 13, 5, false, false, false}, {1, 7, 13, 5, true, true, false},
            {1, 129, 258, 33, false, false, false}, {1, 129, 258, 33, false, true, false},
            {1, 129, 258, 33, true, false, false}, {1, 129, 258, 33, true, true, false},
            {1, 300, 600, 300, false, false, false}, {1, 300, 600, 300, false, true, false},
            {1, 300, 600, 300, true, false, false}, {1, 300, 600, 300, true, true, false},
            {3, 129, 258, 33, false, true, false}, {3, 300, 600, 300, false, false, true},
            {3, 300, 600, 300, true, true, false}, {1, 64, 96, 0, false, false, false}};
    std::vector<Case> cases;
    for (const S& s : shapes) {
        std::string sh = shape(s.b, s.M, s.N, s.K, s.tA, s.tB, s.shareB);
        cases.push_back({"gemm_batched fp32 " + sh + " bias", BATCHED, 0, s.b, s.M, s.N, s.K, s.tA, s.tB, s.shareB,
                true, 0, false, false});
        for (int p = 0; p < 3; p++) {
            cases.push_back({std::string("gemm_ex ") + prec_name(p) + " " + sh, EX, p, s.b, s.M, s.N, s.K, s.tA, s.tB,
                    s.shareB, false, 0, false, false});
        }
    }
    // Each epilogue once per precision, with bias and Z (on a cp.async-eligible and a fallback shape).
    const char* epiName[] = {"none", "relu", "gelu", "tanh", "sigmoid", "glu"};
    for (int p = 0; p < 3; p++) {
        for (int epi = 1; epi <= 5; epi++) {
            bool tB = epi % 2 == 0;
            cases.push_back({std::string("gemm_ex ") + prec_name(p) + " " + shape(2, 300, 600, 300, false, tB, false) +
                                     " bias " + epiName[epi] + " +Z",
                    EX, p, 2, 300, 600, 300, false, tB, false, true, epi, true, false});
            cases.push_back({std::string("gemm_ex ") + prec_name(p) + " " + shape(1, 129, 258, 33, true, tB, false) +
                                     " bias " + epiName[epi] + " +Z",
                    EX, p, 1, 129, 258, 33, true, tB, false, true, epi, true, false});
        }
        cases.push_back({std::string("gemm_ex ") + prec_name(p) + " 300x600x300 unaligned A bias", EX, p, 1, 300, 600,
                300, false, false, false, true, 0, false, false, true});
        cases.push_back({std::string("gemm_ex ") + prec_name(p) + " 64x96x0 bias (K=0)", EX, p, 1, 64, 96, 0, false,
                false, false, true, 0, false, false});
    }
    // fp32 SIMT: a batch with bias, both transposes with bias, GLU on the x W^T layout (the shapes on which the
    // removed SIMT variants were checked).
    cases.push_back({"gemm_ex fp32 2*300x600x300 bias", EX, 0, 2, 300, 600, 300, false, false, false, true, 0, false,
            false});
    cases.push_back({"gemm_ex fp32 129x258x33 tA tB bias", EX, 0, 1, 129, 258, 33, true, true, false, true, 0, false,
            false});
    cases.push_back({"gemm_ex fp32 300x600x300 tB bias glu +Z", EX, 0, 1, 300, 600, 300, false, true, false, true, 5,
            true, false});
    // bf16 buffers: the cp.async kernel (a [M,K], w [N,K], K % 8 == 0) and the staging fallback.
    struct SB { int b, M, N, K; bool tA, tB, shareB, bias; };
    const SB bshapes[] = {{1, 1, 1, 8, false, true, false, false}, {1, 1, 1, 1, false, true, false, false},
            {1, 7, 13, 5, false, true, false, false}, {1, 129, 258, 40, false, true, false, true},
            {1, 300, 600, 296, false, true, false, true}, {1, 300, 600, 300, false, true, false, true},
            {1, 257, 520, 520, false, true, false, true}, {3, 129, 258, 40, false, true, true, true},
            {3, 129, 258, 40, false, true, false, false}, {1, 129, 258, 33, true, false, false, true},
            {1, 300, 600, 296, false, false, false, false}, {1, 64, 96, 0, false, true, false, true}};
    for (const SB& s : bshapes) {
        for (int o = 0; o < 2; o++) {
            cases.push_back({std::string("gemm_bf16 ") + shape(s.b, s.M, s.N, s.K, s.tA, s.tB, s.shareB) +
                                     (s.bias ? " bias" : "") + (o ? " out bf16" : " out fp32"),
                    BF16BUF, 2, s.b, s.M, s.N, s.K, s.tA, s.tB, s.shareB, s.bias, 0, false, o == 1});
        }
    }
    for (const Case& c : cases) survive([&] { run_case(c); });
}

// ---- timing ----
template <typename F>
float median_ms(F launch) {
    return harness::median_ms(launch, 10, 2);
}

// Checks 2048 sampled outputs of y [M,N] (fp32, or bf16 when yBf16) against the double reference on A, B.
void sample_check(const char* name, const void* y, bool yBf16, const float* A, const float* B, int M, int N, int K,
        bool tA, bool tB, int precision) {
    const int S = 2048;
    double* zr;
    long long* where;
    CK(cudaMalloc(&zr, S * sizeof(double)));
    CK(cudaMalloc(&where, S * sizeof(long long)));
    ref_sample_kernel<<<S / 128, 128>>>(zr, where, S, A, B, 1, M, N, K, tA, tB);
    CK(cudaGetLastError());
    std::vector<double> z(S);
    std::vector<long long> w(S);
    CK(cudaMemcpy(z.data(), zr, S * sizeof(double), cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(w.data(), where, S * sizeof(long long), cudaMemcpyDeviceToHost));
    std::vector<float> got(S);
    for (int s = 0; s < S; s++) {
        if (yBf16) {
            uint16_t h;
            CK(cudaMemcpy(&h, (const uint16_t*)y + w[s], 2, cudaMemcpyDeviceToHost));
            uint32_t u = (uint32_t)h << 16;
            std::memcpy(&got[s], &u, 4);
        } else {
            CK(cudaMemcpy(&got[s], (const float*)y + w[s], 4, cudaMemcpyDeviceToHost));
        }
    }
    double err, scale;
    compare(got.data(), z.data(), S, err, scale);
    bool ok = err <= tol_of(precision) * scale;
    std::printf("%s %-44s sampled %d: max_err %.3e max_ref %.3e rel %.2e tol %.0e\n", ok ? "PASS" : "FAIL", name, S,
            err, scale, err / scale, tol_of(precision));
    if (!ok) failures++;
    CK(cudaFree(zr));
    CK(cudaFree(where));
}

void timing(int M, int N, int K) {
    float *A, *B, *Y;
    CK(cudaMalloc(&A, (long long)M * K * sizeof(float)));
    CK(cudaMalloc(&B, (long long)K * N * sizeof(float)));
    CK(cudaMalloc(&Y, (long long)M * N * sizeof(float)));
    fill(A, (long long)M * K, 5);
    fill(B, (long long)K * N, 6);
    const double flop = 2.0 * M * N * K;
    char name[128];
    auto report = [&](const char* what, float ms) {
        std::snprintf(name, sizeof name, "%s %dx%dx%d", what, M, N, K);
        std::printf("TIME %-44s %9.3f ms %8.1f TFLOP/s\n", name, ms, flop / (ms * 1e-3) / 1e12);
    };
    // fp32 buffers, a [M,K] x b [K,N] (MatMul) and a [M,K] x w [N,K]^T (Linear), through gemm_ex.
    for (int p = 0; p < 3; p++) {
        for (int tB = 0; tB < 2; tB++) {
            if (tB && p == 2) continue;
            float ms = median_ms([&] { return gemm_ex(Y, nullptr, A, B, nullptr, 1, M, N, K, false, tB, false, p, 0); });
            std::snprintf(name, sizeof name, "gemm_ex %s%s", prec_name(p), tB ? " x W^T" : "");
            report(name, ms);
            std::string n2 = std::string(name) + " " + std::to_string(M) + "x" + std::to_string(N) + "x" +
                    std::to_string(K);
            sample_check(n2.c_str(), Y, false, A, B, M, N, K, false, tB, p);
        }
    }
    CK(cudaFree(Y));
    // bf16 buffers: a [M,K] x w [N,K]^T, bf16 out (the Java bf16 buffer row). B is read as [N,K] (tB).
    void *Ab, *Bb, *Yb;
    CK(cudaMalloc(&Ab, (long long)M * K * 2));
    CK(cudaMalloc(&Bb, (long long)K * N * 2));
    CK(cudaMalloc(&Yb, (long long)M * N * 2));
    CK(f32_to_bf16(Ab, A, (long long)M * K));
    CK(f32_to_bf16(Bb, B, (long long)K * N));
    CK(bf16_to_f32(A, Ab, (long long)M * K));
    CK(bf16_to_f32(B, Bb, (long long)K * N));
    float ms = median_ms([&] { return gemm_bf16(Yb, Ab, Bb, nullptr, 1, M, N, K, false, true, false, true); });
    report("gemm_bf16 bf16 buffers x W^T bf16 out", ms);
    std::snprintf(name, sizeof name, "gemm_bf16 bf16 buffers %dx%dx%d", M, N, K);
    sample_check(name, Yb, true, A, B, M, N, K, false, true, 2);
    CK(cudaFree(Ab));
    CK(cudaFree(Bb));
    CK(cudaFree(Yb));
    CK(cudaFree(A));
    CK(cudaFree(B));
}

}  // namespace

int main(int argc, char** argv) {
    bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
    harness::throw_on_cuda_error = true;
    cudaDeviceProp prop;
    if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) {
        std::printf("FAIL no CUDA device\n");
        return 1;
    }
    std::printf("INFO device %s sm_%d%d, %d SMs\n", prop.name, prop.major, prop.minor, prop.multiProcessorCount);
    correctness();
    survive([] { timing(4096, 512, 512); });
    if (!quick) survive([] { timing(8192, 8192, 8192); });
    std::printf("%s %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
    return failures ? 1 : 0;
}
