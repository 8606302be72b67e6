// bench_common.cuh: what the kernel harnesses cuda/tools/bench_*.cu share: the failure count, the CUDA error check
// CK, and CUDA-event timing (warm-up calls, then timed calls, the median of the samples). Header-only; the
// harnesses include it as "bench_common.cuh" (same folder).
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <type_traits>
#include <vector>

namespace harness {

// Failed checks and CUDA errors so far; each harness exits with status 1 when it is not 0.
inline int failures = 0;

// What CK does on an error: print a FAIL line, count it, then exit with status 1 or, when throw_on_cuda_error is
// set, throw CudaFailure (bench_gemm.cu abandons the piece that failed and goes on while the context still works).
struct CudaFailure {};
inline bool throw_on_cuda_error = false;

inline void cuda_failed(cudaError_t e, const char* call, const char* file, int line) {
    std::printf("FAIL CUDA error %s (%s) at %s:%d: %s\n", cudaGetErrorName(e), cudaGetErrorString(e), file, line,
            call);
    failures++;
    if (throw_on_cuda_error) throw CudaFailure{};
    std::exit(1);
}

}  // namespace harness

#define CK(call)                                                                    \
    do {                                                                            \
        cudaError_t e_ = (call);                                                    \
        if (e_ != cudaSuccess) harness::cuda_failed(e_, #call, __FILE__, __LINE__); \
    } while (0)

namespace harness {

// launch() `warmup` times, synchronize, then `reps` times each between two CUDA events on the default stream; the
// elapsed milliseconds, sorted. launch may return a cudaError_t (checked by CK) or nothing.
template <typename F>
std::vector<float> time_ms(F launch, int reps, int warmup) {
    auto call = [&] {
        if constexpr (std::is_same_v<decltype(launch()), cudaError_t>) {
            CK(launch());
        } else {
            launch();
        }
    };
    cudaEvent_t e0, e1;
    CK(cudaEventCreate(&e0));
    CK(cudaEventCreate(&e1));
    for (int i = 0; i < warmup; i++) call();
    CK(cudaDeviceSynchronize());
    std::vector<float> ms;
    for (int i = 0; i < reps; i++) {
        CK(cudaEventRecord(e0));
        call();
        CK(cudaEventRecord(e1));
        CK(cudaEventSynchronize(e1));
        float t;
        CK(cudaEventElapsedTime(&t, e0, e1));
        ms.push_back(t);
    }
    CK(cudaEventDestroy(e0));
    CK(cudaEventDestroy(e1));
    std::sort(ms.begin(), ms.end());
    return ms;
}

// The median of sorted samples (the mean of the middle two for an even count).
inline float median(const std::vector<float>& sorted) {
    const size_t n = sorted.size();
    if (n == 0) return 0.f;
    return n % 2 ? sorted[n / 2] : 0.5f * (sorted[n / 2 - 1] + sorted[n / 2]);
}

template <typename F>
float median_ms(F launch, int reps, int warmup) {
    return median(time_ms(launch, reps, warmup));
}

}  // namespace harness
