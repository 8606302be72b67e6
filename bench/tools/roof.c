// The C counterpart of `attnkit bench`'s ceilings, for machines with or without AVX-512 (shared/tools/roof.c
// needs AVX-512): fp32 FMA peak with the widest vectors the compiler targets, and copy-scale bandwidth, on all
// cores. gcc -O3 -march=native -fopenmp bench/tools/roof.c -o roof && ./roof
#include <stdio.h>
#include <stdlib.h>
#include <omp.h>
#include <immintrin.h>

#if defined(__AVX512F__)
typedef __m512 vec;
#define LANES 16
#define SET1 _mm512_set1_ps
#define FMA _mm512_fmadd_ps
static float sum(vec v) { return _mm512_reduce_add_ps(v); }
#else
typedef __m256 vec;
#define LANES 8
#define SET1 _mm256_set1_ps
#define FMA _mm256_fmadd_ps
static float sum(vec v) { float f[8]; _mm256_storeu_ps(f, v); return f[0] + f[1] + f[2] + f[3] + f[4] + f[5] + f[6] + f[7]; }
#endif
#define CHAINS 10 // independent FMA chains: enough to cover latency x pipes (4 x 2 on Zen 3, 4 x 2 on Zen 4)

int main(void) {
  size_t n = 64ul << 20; // 64M floats = 256 MB per array
  float *a = aligned_alloc(64, n * 4), *b = aligned_alloc(64, n * 4);
#pragma omp parallel for
  for (size_t i = 0; i < n; i++) { a[i] = 1.0f; b[i] = 0.0f; }
  double best = 1e9;
  for (int r = 0; r < 5; r++) {
    double t = omp_get_wtime();
#pragma omp parallel for
    for (size_t i = 0; i < n; i++) b[i] = a[i] * 1.0001f;
    t = omp_get_wtime() - t;
    if (t < best) best = t;
  }
  printf("copy-scale bandwidth (read+write): %.1f GB/s\n", 2.0 * n * 4 / best / 1e9);
  long iters = 400000000;
  best = 1e9;
  for (int r = 0; r < 3; r++) {
    double t = omp_get_wtime();
    float out = 0;
#pragma omp parallel reduction(+ : out)
    {
      vec acc[CHAINS];
      for (int j = 0; j < CHAINS; j++) acc[j] = SET1(0.f);
      vec x = SET1(1.0000001f), y = SET1(0.9999999f);
      long steps = iters / omp_get_num_threads() / CHAINS;
      for (long i = 0; i < steps; i++)
        for (int j = 0; j < CHAINS; j++) acc[j] = FMA(acc[j], x, y);
      for (int j = 0; j < CHAINS; j++) out += sum(acc[j]);
    }
    t = omp_get_wtime() - t;
    if (t < best) best = t;
    if (out == 12345) printf("x");
  }
  printf("fp32 FMA peak: %.1f GFLOP/s (%d threads, %d-float vectors)\n",
         (double) iters * LANES * 2 / best / 1e9, omp_get_max_threads(), LANES);
  return 0;
}
