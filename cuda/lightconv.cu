// lightconv.cu: LightConv (SPEC 1) forward and backward, fp32, BTC layout, no permutes.
//
// Kernel versions. All ran on an H200 (2026-12-04): bench_lightconv against double references on 25 shapes
// for every variant, and the Java equivalence tests with compute-sanitizer memcheck and racecheck on the
// defaults of that run (kernels 1-5 earlier the same day). Which kernels run is chosen by g_conv_variant and
// g_bwd_variant below (lightconv_set_variant, the tuning hook of cuda/tools/bench_lightconv.cu, which times
// every variant side by side and prints the one to make the default).
//   1. lightconv_stream<KC, REV>: the convolution (REV = the transposed one, i.e. dx) for K <= 63 without
//      POSITION DropConnect. KC is the compile-time kernel size (3, 5, 7, 15, 31, 63); a K between them
//      runs with KC = the next size up and taps K..KC-1 set to zero. A thread owns one channel and TS
//      consecutive output steps; it keeps its head's KC normalized taps (softmax and HEAD_KERNEL mask
//      computed in the prologue) and KC running output sums in registers, streams each input row of its
//      range once from global memory (a warp reads 32 consecutive channels: 128 coalesced bytes per row),
//      adds it into the KC outputs it touches and stores the output that it completes. The ring of sums is
//      indexed modulo KC at compile time (the loop body is a whole number of KC steps), so nothing is
//      read from shared memory in the loop: KC FMAs per input row and output.
//   2. lightconv_stream_bwd<KC, DX>: the backward of the same streaming scheme in one pass over dy and x:
//      dx (as in 1, transposed; DX = false for KC = 63 where the registers do not fit, dx then comes from
//      1), the weight gradient from a register ring of the last KC dy rows (g[d] += x[r] dy[r+P+KC-K-d]),
//      and the dbias partials. Per block the KC x 128 sums are reduced in shared memory in a fixed order
//      into partial[row tile][channel tile][head segment][k] (and biasPartial[row tile][c]).
//   3. lightconv_dw_reduce: per head, the fixed-order sum of the partials (deterministic, no atomics), the
//      HEAD_KERNEL mask, then the softmax backward dW = wn (dwn - <wn, dwn>). dbias = column_sum of the
//      bias partials.
//   4. lightconv_conv_generic: any K and padding, and POSITION DropConnect (a Philox draw per tap and
//      output); weights from a normalized H x K buffer made by lightconv_weights, x read from global memory.
//      Never zeros for an unsupported K.
//   5. lightconv_dw_partials: the weight-gradient partials for the generic path (K > 63 or POSITION scope),
//      per (channel tile, 128-step time tile, batch), reduced by 3.
//   6. lightconv_tile<KC, REV, NO>: the convolution of 1, tiled: a block (32 channels x 8 warps) stages the
//      8*NO + KC-1 input rows of a time tile in shared memory; a thread keeps its KC taps and NO output sums
//      in registers and reads each staged row once (exactly K FMAs per output, a loop body of NO*KC FMAs
//      instead of the streaming kernel's KC*KC). A block walks a few tiles (tile_count).
//   7. lightconv_tile_dw<KC, NO>: the weight gradient and dbias alone, tiled the same way (own dy rows in
//      registers, x rows staged), partials in the layout of 2; dx then comes from 1 or 6.
//   8. lightconv_tile_bwd<KC, 8>: 6 (transposed) and 7 fused: dy and x tiles staged once for dx and dW.
// Scratch buffers are stream-ordered (cudaMallocAsync / cudaFreeAsync on the default stream) so that a
// call does not synchronize the device.
#include "common.cuh"
#include "launchers.h"

namespace attnkit {
namespace {

constexpr int CT = 32;        // channels per block: one warp wide, coalesced BTC rows
constexpr int TT = 64;        // generic convolution: time steps per block
constexpr int ROWS = 8;       // generic kernels: threadIdx.y
constexpr int DW_TT = 128;    // generic weight-gradient partials: time steps per block
constexpr int SROWS = 4;      // streaming kernels: warps per block, one time range each

Drop make_drop(DropArgs a) {
    return attnkit::make_drop(a.p, a.seed, a.offset, a.position);
}

// Normalized weight of head h (softmax over K when asked) times its HEAD_KERNEL mask factor, written
// to out[K]. One thread per head: H x K is tiny next to the convolution.
__device__ void normalize_head(float* out, const float* weight, int h, int K, bool softmax, const Drop& drop) {
    const float* w = weight + (long long)h * K;
    if (softmax) {
        float mx = -INFINITY;
        for (int k = 0; k < K; k++) mx = fmaxf(mx, w[k]);
        float sum = 0.f;
        for (int k = 0; k < K; k++) {
            float e = __expf(w[k] - mx);
            out[k] = e;
            sum += e;
        }
        float inv = 1.f / sum;
        for (int k = 0; k < K; k++) out[k] *= inv;
    } else {
        for (int k = 0; k < K; k++) out[k] = w[k];
    }
    if (!drop.position) {
        for (int k = 0; k < K; k++) out[k] *= drop_factor(drop, head_kernel_index(h, k, K));
    }
}

__global__ void lightconv_weights(float* wt, const float* weight, int H, int K, bool softmax, Drop drop) {
    int h = blockIdx.x * blockDim.x + threadIdx.x;
    if (h < H) normalize_head(wt + (long long)h * K, weight, h, K, softmax, drop);
}

// Scratch memory of one call, stream-ordered on the default stream: no device synchronization at the
// free (plain cudaMalloc/cudaFree where memory pools are not supported).
struct AsyncScratch {
    void* ptr = nullptr;
    bool async = false;
    cudaError_t status = cudaSuccess;
    explicit AsyncScratch(size_t bytes) {
        if (bytes == 0) return;
        status = cudaMallocAsync(&ptr, bytes, 0);
        if (status == cudaSuccess) {
            async = true;
        } else if (status == cudaErrorNotSupported) {
            cudaGetLastError();
            ptr = nullptr;
            status = cudaMalloc(&ptr, bytes);
        }
    }
    ~AsyncScratch() {
        if (ptr) {
            if (async) cudaFreeAsync(ptr, 0);
            else cudaFree(ptr);
        }
    }
    float* f() const { return static_cast<float*>(ptr); }
    AsyncScratch(const AsyncScratch&) = delete;
    AsyncScratch& operator=(const AsyncScratch&) = delete;
};

// ---- streaming kernels ----

// Steps per unrolled loop body: a whole number of KC steps (the ring index is then a compile-time
// constant), at least 16 so that short kernels still batch their loads.
__host__ __device__ constexpr int stream_unroll(int KC) { return KC * ((16 + KC - 1) / KC); }
__host__ __device__ constexpr int slot(int i, int KC) { return ((i % KC) + KC) % KC; }

// The compile-time kernel size that serves K (0: none, use the generic path).
int stream_kc(int K) {
    return K <= 3 ? 3 : K <= 5 ? 5 : K <= 7 ? 7 : K <= 15 ? 15 : K <= 31 ? 31 : K <= 63 ? 63 : 0;
}

// HEAD_KERNEL factor of tap k of head h; out of line so that the unrolled prologue stays small.
__device__ __noinline__ float head_mask(Drop drop, int h, int k, int K) {
    return drop_factor(drop, head_kernel_index(h, k, K));
}

// w[j] = the normalized (softmax over the K real taps when asked) and HEAD_KERNEL-masked tap j of head h,
// tap K-1-j when REV, and 0 for j >= K. The same arithmetic as normalize_head.
template <int KC, bool REV>
__device__ __forceinline__ void head_weights(float (&w)[KC], const float* weight, int h, int K, bool softmax,
        const Drop& drop) {
    const float* wp = weight + (long long)h * K;
    float mx = -INFINITY, inv = 1.f;
    if (softmax) {
        for (int k = 0; k < K; k++) mx = fmaxf(mx, wp[k]);
        float sum = 0.f;
        for (int k = 0; k < K; k++) sum += __expf(wp[k] - mx);
        inv = 1.f / sum;
    }
    const bool headMask = drop.threshold != 0 && !drop.position;
#pragma unroll
    for (int j = 0; j < KC; j++) {
        float v = 0.f;
        if (j < K) {
            const int k = REV ? K - 1 - j : j;
            const float raw = wp[k];
            v = softmax ? __expf(raw - mx) * inv : raw;
            if (headMask) v *= head_mask(drop, h, k, K);
        }
        w[j] = v;
    }
}

// Forward (REV = false): out[b,t,c] = bias[c] + sum_j w[h,j] in[b, t+j-pad, c] for t in the thread's
// [t0, t0+TS). Transposed (REV = true, pad = K-1-P, bias null): dx[b,s,c] = sum_j w[h,K-1-j] dy[b, s+j-pad, c].
// Step q of the stream reads input row t0-pad+q, adds it to the KC outputs t0+q-k (k < KC; output t sits
// in acc[(t-t0) mod KC]) and completes output t0+q-(KC-1).
template <int KC, bool REV>
__global__ void __launch_bounds__(CT * SROWS) lightconv_stream(float* __restrict__ out, const float* __restrict__ in,
        const float* __restrict__ weight, const float* __restrict__ bias, int T, int C, int H, int K, int pad, int TS,
        bool softmax, Drop drop) {
    constexpr int U = stream_unroll(KC);
    constexpr int G = 16;  // rows loaded ahead of their use
    const int c = blockIdx.x * CT + threadIdx.x;
    const int t0 = (blockIdx.y * SROWS + threadIdx.y) * TS;
    if (c >= C || t0 >= T) return;  // no barrier in this kernel
    const int h = c / (C / H);
    float w[KC];
    head_weights<KC, REV>(w, weight, h, K, softmax, drop);
    const float bc = bias ? bias[c] : 0.f;
    float acc[KC];
#pragma unroll
    for (int j = 0; j < KC; j++) acc[j] = bc;
    const long long base = (long long)blockIdx.z * T * C + c;
    const float* src = in + base;
    float* dst = out + base;
    const int tEnd = min(t0 + TS, T);
    const int sLo = max(t0 - pad, 0), sHi = min(tEnd - 1 + KC - 1 - pad, T - 1);
    const int steps = tEnd - t0 + KC - 1;
    for (int q0 = 0; q0 < steps; q0 += U) {
        const int s0 = t0 - pad + q0;
        const int r0 = t0 + q0 - (KC - 1);
#pragma unroll
        for (int g0 = 0; g0 < U; g0 += G) {
            float xr[G];
#pragma unroll
            for (int i = 0; i < G; i++) {
                const int s = s0 + g0 + i;
                xr[i] = (g0 + i < U && s >= sLo && s <= sHi) ? __ldg(src + (long long)s * C) : 0.f;
            }
#pragma unroll
            for (int i = 0; i < G; i++) {
                const int q = g0 + i;
                if (q < U) {
#pragma unroll
                    for (int k = 0; k < KC; k++) acc[slot(q - k, KC)] = fmaf(w[k], xr[i], acc[slot(q - k, KC)]);
                    const int t = r0 + q;
                    if (t >= t0 && t < tEnd) dst[(long long)t * C] = acc[slot(q + 1, KC)];
                    acc[slot(q + 1, KC)] = bc;
                }
            }
        }
    }
}

// Backward in one stream over dy (rows s = t0-padT+q, padT = K-1-P) and x (rows r = t0+q-(KC-1)):
// DX: dx row r as in lightconv_stream<KC, true>; dW: g[d] += x[r] dy[r+P+KC-K-d] for the thread's own x
// rows r in [t0, t0+TS) (tap k = d-(KC-K)), from a ring of the last KC dy rows; dbias: the sum of the own
// dy rows. Then per block: partial[((b*nTT + tt)*nCT + ct)*SEG + seg][k] (the block's sum over its
// time ranges and the channels of head h0+seg) and biasPartial[(b*nTT + tt)*C + c], in a fixed order.
template <int KC, bool DX>
__global__ void __launch_bounds__(CT * SROWS) lightconv_stream_bwd(float* __restrict__ dx, float* __restrict__ partial,
        float* __restrict__ biasPartial, const float* __restrict__ dy, const float* __restrict__ x,
        const float* __restrict__ weight, int T, int C, int H, int K, int pad, int TS, int SEG, bool softmax,
        Drop drop) {
    constexpr int U = stream_unroll(KC);
    constexpr int G = 8;
    __shared__ float red[KC][CT * SROWS];
    __shared__ float bred[SROWS][CT];
    const int tid = threadIdx.y * CT + threadIdx.x;
    const int c0 = blockIdx.x * CT;
    const int c = c0 + threadIdx.x;
    const int t0 = (blockIdx.y * SROWS + threadIdx.y) * TS;
    const int R = C / H;
    float g[KC];
#pragma unroll
    for (int d = 0; d < KC; d++) g[d] = 0.f;
    float bsum = 0.f;
    if (c < C && t0 < T) {
        float w[KC], acc[KC], ring[KC];
        if (DX) head_weights<KC, true>(w, weight, c / R, K, softmax, drop);
#pragma unroll
        for (int j = 0; j < KC; j++) {
            acc[j] = 0.f;
            ring[j] = 0.f;
        }
        const long long base = (long long)blockIdx.z * T * C + c;
        const float* dyp = dy + base;
        const float* xp = x + base;
        float* dxp = DX ? dx + base : nullptr;
        const int padT = K - 1 - pad;
        const int tEnd = min(t0 + TS, T);
        const int sLo = max(t0 - padT, 0), sHi = min(tEnd - 1 + KC - 1 - padT, T - 1);
        const int steps = tEnd - t0 + KC - 1;
        for (int q0 = 0; q0 < steps; q0 += U) {
            const int s0 = t0 - padT + q0;
            const int r0 = t0 + q0 - (KC - 1);
#pragma unroll
            for (int g0 = 0; g0 < U; g0 += G) {
                float dyr[G], xr[G];
#pragma unroll
                for (int i = 0; i < G; i++) {
                    const int s = s0 + g0 + i, r = r0 + g0 + i;
                    const bool inU = g0 + i < U;
                    dyr[i] = (inU && s >= sLo && s <= sHi) ? __ldg(dyp + (long long)s * C) : 0.f;
                    xr[i] = (inU && r >= t0 && r < tEnd) ? __ldg(xp + (long long)r * C) : 0.f;
                }
#pragma unroll
                for (int i = 0; i < G; i++) {
                    const int q = g0 + i;
                    if (q < U) {
                        const float v = dyr[i];
                        if (DX) {
#pragma unroll
                            for (int k = 0; k < KC; k++) acc[slot(q - k, KC)] = fmaf(w[k], v, acc[slot(q - k, KC)]);
                        }
                        ring[slot(q, KC)] = v;
#pragma unroll
                        for (int d = 0; d < KC; d++) g[d] = fmaf(xr[i], ring[slot(q - d, KC)], g[d]);
                        const int s = s0 + q, r = r0 + q;
                        bsum += (s >= t0 && s < tEnd) ? v : 0.f;
                        if (DX) {
                            if (r >= t0 && r < tEnd) dxp[(long long)r * C] = acc[slot(q + 1, KC)];
                            acc[slot(q + 1, KC)] = 0.f;
                        }
                    }
                }
            }
        }
    }
    // Block reduction in a fixed order: taps k = d - (KC-K) of every thread, then over the time ranges
    // per channel, then over the channels of each head segment.
    const int shift = KC - K;
#pragma unroll
    for (int d = 0; d < KC; d++) {
        if (d >= shift) red[d - shift][tid] = g[d];
    }
    if (biasPartial) bred[threadIdx.y][threadIdx.x] = bsum;
    __syncthreads();
    for (int i = tid; i < K * CT; i += CT * SROWS) {
        const int k = i / CT, col = i % CT;
        float s = 0.f;
#pragma unroll
        for (int y = 0; y < SROWS; y++) s += red[k][y * CT + col];
        red[k][col] = s;  // only this item reads or writes red[k][col]
    }
    const long long rt = (long long)blockIdx.z * gridDim.y + blockIdx.y;
    if (biasPartial && threadIdx.y == 0 && c < C) {
        float s = 0.f;
#pragma unroll
        for (int y = 0; y < SROWS; y++) s += bred[y][threadIdx.x];
        biasPartial[rt * C + c] = s;
    }
    __syncthreads();
    const int h0 = c0 / R;
    const int cEnd = min(c0 + CT, C);
    const int h1 = (cEnd - 1) / R;
    float* outp = partial + (rt * gridDim.x + blockIdx.x) * SEG * K;
    for (int i = tid; i < SEG * K; i += CT * SROWS) {
        const int seg = i / K, k = i % K;
        const int hs = h0 + seg;
        float s = 0.f;
        if (hs <= h1) {
            const int from = max(hs * R, c0) - c0, to = min((hs + 1) * R, cEnd) - c0;
            for (int j = from; j < to; j++) s += red[k][j];
        }
        outp[i] = s;
    }
}

// ---- shared-memory tile kernels ----
// A block (32 channels x TW warps) walks `tiles` consecutive time tiles of TW*NO steps. Per tile it stages
// the TW*NO + KC-1 input rows of its 32 channels in shared memory (zeros outside [0, T)), then warp w owns
// steps [w*NO, w*NO+NO) of the tile: every staged row is read once per warp and feeds the NO register sums
// it touches (exactly K FMAs per output, no warm-up steps; the fully unrolled body is NO*KC FMAs).
constexpr int TW = 8;  // tile kernels: warps per block
// Resident blocks of 256 threads per SM asked of the compiler (4: at most 64 registers, 3: 80).
__host__ __device__ constexpr int tile_min_blocks(int KC) { return KC <= 15 ? 4 : KC <= 31 ? 3 : 1; }
__host__ __device__ constexpr int tile_dw_min_blocks(int KC, int NO) {
    return KC > 31 ? 1 : KC == 31 ? (NO > 8 ? 2 : 3) : NO > 8 ? 3 : 4;
}

// w[j] of head_weights<KC, REV> for channel c, through shared memory: warp 0 normalizes (plain loops, no
// register arrays live across the HEAD_KERNEL draws), then every thread reads its channel's row.
template <int KC, bool REV>
__device__ __forceinline__ void tile_weights(float (&w)[KC], float (*wsm)[KC | 1], const float* weight, int h,
        int K, bool softmax, const Drop& drop) {
    if (threadIdx.y == 0) {
        float* row = wsm[threadIdx.x];
        normalize_head(row, weight, h, K, softmax, drop);  // taps 0..K-1; the HEAD_KERNEL factor included
        if (REV) {
            for (int k = 0; k < K / 2; k++) {
                const float a = row[k];
                row[k] = row[K - 1 - k];
                row[K - 1 - k] = a;
            }
        }
        for (int k = K; k < KC; k++) row[k] = 0.f;
    }
    __syncthreads();
#pragma unroll
    for (int j = 0; j < KC; j++) w[j] = wsm[threadIdx.x][j];
}

template <int KC, int NO>
struct TileShape {
    static constexpr int STEPS = TW * NO;         // time steps per tile
    static constexpr int ROWS = STEPS + KC - 1;   // staged rows per tile
    static constexpr int PER_WARP = (ROWS + TW - 1) / TW;
};

// Stages rows s0 .. s0+ROWS-1 of column c of `src` (row stride C) into sm[row][lane]; 0 outside [0, T) and c >= C.
template <int KC, int NO>
__device__ __forceinline__ void stage_rows(float (*sm)[CT], const float* __restrict__ src, int s0, int T, int C,
        bool cOk) {
    using S = TileShape<KC, NO>;
    float v[S::PER_WARP];
#pragma unroll
    for (int i = 0; i < S::PER_WARP; i++) {
        const int r = i * TW + threadIdx.y, s = s0 + r;
        v[i] = (r < S::ROWS && cOk && s >= 0 && s < T) ? __ldg(src + (long long)s * C) : 0.f;
    }
#pragma unroll
    for (int i = 0; i < S::PER_WARP; i++) {
        const int r = i * TW + threadIdx.y;
        if (r < S::ROWS) sm[r][threadIdx.x] = v[i];
    }
}

// The end of the tiled weight-gradient kernels, in a fixed order: RK taps per round through red (RK x 32 x TW
// floats), summed over the warps per channel, then over the channels of each head segment, into
// partial[((b*gridDim.y + y)*nCT + ct)*SEG + seg][k] (k < K) and biasPartial[(b*gridDim.y + y)*C + c] (the
// layout of lightconv_stream_bwd). The caller has synchronized the block after its last use of red.
template <int KC, int RK>
__device__ __forceinline__ void tile_reduce(const float (&g)[KC], float bsum, float* red, float (*col)[CT],
        float (*bred)[CT], float* partial, float* biasPartial, int C, int H, int K, int SEG) {
    const int tid = threadIdx.y * CT + threadIdx.x;
    const int c0 = blockIdx.x * CT;
    const int c = c0 + threadIdx.x;
    const int R = C / H;
    const long long rt = (long long)blockIdx.z * gridDim.y + blockIdx.y;
    if (biasPartial) bred[threadIdx.y][threadIdx.x] = bsum;
    const int h0 = c0 / R;
    const int cEnd = min(c0 + CT, C);
    const int h1 = (cEnd - 1) / R;
    float* outp = partial + (rt * gridDim.x + blockIdx.x) * SEG * K;
#pragma unroll
    for (int k0 = 0; k0 < KC; k0 += RK) {
        if (k0 > 0) __syncthreads();  // the previous round's reads of red and col are done
#pragma unroll
        for (int k = k0; k < k0 + RK && k < KC; k++) red[(k - k0) * (CT * TW) + tid] = g[k];
        __syncthreads();
        if (k0 == 0 && biasPartial && threadIdx.y == 0 && c < C) {
            float s = 0.f;
#pragma unroll
            for (int y = 0; y < TW; y++) s += bred[y][threadIdx.x];
            biasPartial[rt * C + c] = s;
        }
        for (int i = tid; i < RK * CT; i += CT * TW) {
            const int k = i / CT, cl = i % CT;
            float s = 0.f;
#pragma unroll
            for (int y = 0; y < TW; y++) s += red[k * (CT * TW) + y * CT + cl];
            col[k][cl] = s;
        }
        __syncthreads();
        for (int i = tid; i < SEG * RK; i += CT * TW) {
            const int seg = i / RK, k = i % RK;
            if (k0 + k >= K) continue;
            const int hs = h0 + seg;
            float s = 0.f;
            if (hs <= h1) {
                const int from = max(hs * R, c0) - c0, to = min((hs + 1) * R, cEnd) - c0;
                for (int j = from; j < to; j++) s += col[k][j];
            }
            outp[seg * K + k0 + k] = s;
        }
    }
}

// The convolution as lightconv_stream<KC, REV> computes it (same weights, same pad convention), tiled:
// out[b,t,c] = bias[c] + sum_j w[j] in[b, t+j-pad, c].
template <int KC, bool REV, int NO>
__global__ void __launch_bounds__(CT * TW, tile_min_blocks(KC)) lightconv_tile(float* __restrict__ out, const float* __restrict__ in,
        const float* __restrict__ weight, const float* __restrict__ bias, int T, int C, int H, int K, int pad,
        int tiles, bool softmax, Drop drop) {
    using S = TileShape<KC, NO>;
    __shared__ float sm[S::ROWS][CT];
    const int c = blockIdx.x * CT + threadIdx.x;
    const bool cOk = c < C;
    __shared__ float wsm[CT][KC | 1];  // odd row stride: no bank conflicts
    float w[KC];
    tile_weights<KC, REV>(w, wsm, weight, cOk ? c / (C / H) : 0, K, softmax, drop);
    const float bc = (bias && cOk) ? bias[c] : 0.f;
    const long long base = (long long)blockIdx.z * T * C + (cOk ? c : 0);
    const float* src = in + base;
    float* dst = out + base;
    for (int tile = 0; tile < tiles; tile++) {
        const int t0 = (blockIdx.y * tiles + tile) * S::STEPS;
        if (t0 >= T) break;  // uniform over the block
        __syncthreads();     // the previous tile's rows are consumed
        stage_rows<KC, NO>(sm, src, t0 - pad, T, C, cOk);
        __syncthreads();
        float acc[NO];
#pragma unroll
        for (int j = 0; j < NO; j++) acc[j] = bc;
        const int o = threadIdx.y * NO;
#pragma unroll
        for (int i = 0; i < NO + KC - 1; i++) {
            const float v = sm[o + i][threadIdx.x];
#pragma unroll
            for (int j = 0; j < NO; j++) {
                if (i - j >= 0 && i - j < KC) acc[j] = fmaf(w[i - j], v, acc[j]);
            }
        }
        if (cOk) {
#pragma unroll
            for (int j = 0; j < NO; j++) {
                const int t = t0 + o + j;
                if (t < T) dst[(long long)t * C] = acc[j];
            }
        }
    }
}

// Weight gradient (and dbias) only, tiled: g[k] += dy[b,t,c] x[b,t+k-pad,c] for k < K over the block's
// steps t (dy rows in registers, x rows staged), accumulated over its tiles; then the block's partials in
// the layout of lightconv_stream_bwd: partial[((b*gridDim.y + y)*nCT + ct)*SEG + seg][k] and
// biasPartial[(b*gridDim.y + y)*C + c], summed in a fixed order.
template <int KC, int NO>
__global__ void __launch_bounds__(CT * TW, tile_dw_min_blocks(KC, NO)) lightconv_tile_dw(float* __restrict__ partial,
        float* __restrict__ biasPartial, const float* __restrict__ dy, const float* __restrict__ x, int T, int C,
        int H, int K, int pad, int tiles, int SEG) {
    using S = TileShape<KC, NO>;
    constexpr int RK = S::ROWS / TW;  // taps per reduction round: RK x (32 x TW) floats fit in sm
    static_assert(RK >= 1, "tile too small");
    __shared__ float sm[S::ROWS][CT];
    __shared__ float col[RK][CT];
    __shared__ float bred[TW][CT];
    const int c = blockIdx.x * CT + threadIdx.x;
    const bool cOk = c < C;
    const long long base = (long long)blockIdx.z * T * C + (cOk ? c : 0);
    float g[KC];
#pragma unroll
    for (int k = 0; k < KC; k++) g[k] = 0.f;
    float bsum = 0.f;
    for (int tile = 0; tile < tiles; tile++) {
        const int t0 = (blockIdx.y * tiles + tile) * S::STEPS;
        if (t0 >= T) break;  // uniform over the block
        const int o = threadIdx.y * NO;
        float d[NO];
#pragma unroll
        for (int j = 0; j < NO; j++) {
            const int t = t0 + o + j;
            d[j] = (cOk && t < T) ? __ldg(dy + base + (long long)t * C) : 0.f;
        }
        __syncthreads();
        stage_rows<KC, NO>(sm, x + base, t0 - pad, T, C, cOk);
        __syncthreads();
#pragma unroll
        for (int j = 0; j < NO; j++) bsum += d[j];
#pragma unroll
        for (int i = 0; i < NO + KC - 1; i++) {
            const float v = sm[o + i][threadIdx.x];
#pragma unroll
            for (int j = 0; j < NO; j++) {
                if (i - j >= 0 && i - j < KC) g[i - j] = fmaf(d[j], v, g[i - j]);
            }
        }
    }
    __syncthreads();  // every warp is done with sm: it becomes the reduction buffer
    tile_reduce<KC, RK>(g, bsum, &sm[0][0], col, bred, partial, biasPartial, C, H, K, SEG);
}

// The fused backward, tiled (8 or 16 steps per thread): per tile the dy rows with the transposed halo and
// the x rows with the forward halo are staged; dx as lightconv_tile<KC, true> from the dy rows, then dW and
// dbias as lightconv_tile_dw with the thread's own dy rows read back from the staged dy tile.
template <int KC, int NO>
__global__ void __launch_bounds__(CT * TW, KC <= 31 ? 2 : 1) lightconv_tile_bwd(float* __restrict__ dx,
        float* __restrict__ partial, float* __restrict__ biasPartial, const float* __restrict__ dy,
        const float* __restrict__ x, const float* __restrict__ weight, int T, int C, int H, int K, int pad,
        int tiles, int SEG, bool softmax, Drop drop) {
    using S = TileShape<KC, NO>;
    constexpr int RK = S::ROWS / TW;
    __shared__ float sdy[S::ROWS][CT];
    __shared__ float sx[S::ROWS][CT];
    __shared__ float wsm[CT][KC | 1];
    __shared__ float col[RK][CT];
    __shared__ float bred[TW][CT];
    const int c = blockIdx.x * CT + threadIdx.x;
    const bool cOk = c < C;
    float w[KC];
    tile_weights<KC, true>(w, wsm, weight, cOk ? c / (C / H) : 0, K, softmax, drop);
    const long long base = (long long)blockIdx.z * T * C + (cOk ? c : 0);
    const int padT = K - 1 - pad;
    float g[KC];
#pragma unroll
    for (int k = 0; k < KC; k++) g[k] = 0.f;
    float bsum = 0.f;
    const int o = threadIdx.y * NO;
    for (int tile = 0; tile < tiles; tile++) {
        const int t0 = (blockIdx.y * tiles + tile) * S::STEPS;
        if (t0 >= T) break;  // uniform over the block
        __syncthreads();
        stage_rows<KC, NO>(sdy, dy + base, t0 - padT, T, C, cOk);
        stage_rows<KC, NO>(sx, x + base, t0 - pad, T, C, cOk);
        __syncthreads();
        {
            float acc[NO];
#pragma unroll
            for (int j = 0; j < NO; j++) acc[j] = 0.f;
#pragma unroll
            for (int i = 0; i < NO + KC - 1; i++) {
                const float v = sdy[o + i][threadIdx.x];
#pragma unroll
                for (int j = 0; j < NO; j++) {
                    if (i - j >= 0 && i - j < KC) acc[j] = fmaf(w[i - j], v, acc[j]);
                }
            }
            if (cOk) {
#pragma unroll
                for (int j = 0; j < NO; j++) {
                    const int t = t0 + o + j;
                    if (t < T) dx[base + (long long)t * C] = acc[j];
                }
            }
        }
        float d[NO];  // dy rows t0+o+j (staged at o+j+padT; zeros past T)
#pragma unroll
        for (int j = 0; j < NO; j++) {
            d[j] = sdy[o + j + padT][threadIdx.x];
            bsum += d[j];
        }
#pragma unroll
        for (int i = 0; i < NO + KC - 1; i++) {
            const float v = sx[o + i][threadIdx.x];
#pragma unroll
            for (int j = 0; j < NO; j++) {
                if (i - j >= 0 && i - j < KC) g[i - j] = fmaf(d[j], v, g[i - j]);
            }
        }
    }
    __syncthreads();  // every warp is done with sdy: it becomes the reduction buffer
    tile_reduce<KC, RK>(g, bsum, &sdy[0][0], col, bred, partial, biasPartial, C, H, K, SEG);
}

// ---- generic kernels (any K, POSITION DropConnect) ----

__global__ void lightconv_conv_generic(float* out, const float* in, const float* wt, const float* bias, int T,
        int C, int H, int K, int pad, bool rev, Drop drop) {
    const int R = C / H;
    const int c = blockIdx.x * CT + threadIdx.x;
    const int b = blockIdx.z;
    if (c >= C) return;
    const int h = c / R;
    const long long base = (long long)b * T * C;
    const bool positionMask = drop.threshold != 0 && drop.position;
    for (int tl = threadIdx.y; tl < TT; tl += ROWS) {
        int t = blockIdx.y * TT + tl;
        if (t >= T) break;
        float acc = bias ? bias[c] : 0.f;
        for (int j = 0; j < K; j++) {
            int src = t + j - pad;
            if (src < 0 || src >= T) continue;
            int k = rev ? K - 1 - j : j;
            float w = wt[(long long)h * K + k];
            if (positionMask) w *= drop_factor(drop, position_index(b, rev ? src : t, h, k, T, H, K));
            acc = fmaf(w, in[base + (long long)src * C + c], acc);
        }
        out[base + (long long)t * C + c] = acc;
    }
}

// partial[((b*nTT + tt)*nCT + ct)*SEG + seg][k] = sum over the block's steps t and the channels of head
// h0+seg inside the tile of dy[b,t,c] x[b,t+k-P,c] (times the POSITION factor when that scope is on).
__global__ void __launch_bounds__(CT * ROWS) lightconv_dw_partials(float* partial, const float* dy,
        const float* x, int T, int C, int H, int K, int pad, int SEG, Drop drop) {
    __shared__ float red[ROWS][CT];
    __shared__ float chan[CT];
    const int R = C / H;
    const int ct = blockIdx.x, tt = blockIdx.y, b = blockIdx.z;
    const int nCT = gridDim.x, nTT = gridDim.y;
    const int c0 = ct * CT, c = c0 + threadIdx.x;
    const int h0 = c0 / R;
    const int h1 = (min(c0 + CT, C) - 1) / R;
    const long long base = (long long)b * T * C;
    const bool positionMask = drop.threshold != 0 && drop.position;
    float* out = partial + ((long long)(b * nTT + tt) * nCT + ct) * SEG * K;
    for (int k = 0; k < K; k++) {
        float acc = 0.f;
        if (c < C) {
            int h = c / R;
            for (int tl = threadIdx.y; tl < DW_TT; tl += ROWS) {
                int t = tt * DW_TT + tl;
                int src = t + k - pad;
                if (t >= T) break;
                if (src < 0 || src >= T) continue;
                float v = dy[base + (long long)t * C + c] * x[base + (long long)src * C + c];
                if (positionMask) v *= drop_factor(drop, position_index(b, t, h, k, T, H, K));
                acc += v;
            }
        }
        red[threadIdx.y][threadIdx.x] = acc;
        __syncthreads();
        if (threadIdx.y == 0) {
            float s = 0.f;
            for (int r = 0; r < ROWS; r++) s += red[r][threadIdx.x];
            chan[threadIdx.x] = s;
        }
        __syncthreads();
        int seg = threadIdx.y * CT + threadIdx.x;
        if (seg < SEG) {
            float s = 0.f;
            int h = h0 + seg;
            if (h <= h1) {
                int from = max(h * R, c0) - c0, to = min((h + 1) * R, min(c0 + CT, C)) - c0;
                for (int i = from; i < to; i++) s += chan[i];
            }
            out[(long long)seg * K + k] = s;
        }
        __syncthreads();
    }
}

// One block (32 x 8) per head: the fixed-order sum of the partials (thread (k, y) sums the row tiles
// y, y+8, ... of tap k; then the 8 parts in order), the HEAD_KERNEL mask, then the softmax backward
// dW = wn (dwn - <wn, dwn>). wnBuf, dwnBuf: H x K scratch.
constexpr int RED_Y = 8;
__global__ void __launch_bounds__(CT * RED_Y) lightconv_dw_reduce(float* dweight, const float* partial,
        const float* weight, float* wnBuf, float* dwnBuf, int rowTiles, int nCT, int SEG, int C, int H, int K,
        bool softmax, Drop drop) {
    __shared__ float red[RED_Y][CT];
    __shared__ float dot;
    const int h = blockIdx.x;
    const int R = C / H;
    const int tid = threadIdx.y * CT + threadIdx.x;
    float* wn = wnBuf + (long long)h * K;
    float* dwn = dwnBuf + (long long)h * K;
    const int ctFirst = (h * R) / CT, ctLast = ((h + 1) * R - 1) / CT;
    for (int k0 = 0; k0 < K; k0 += CT) {
        const int k = k0 + threadIdx.x;
        float s = 0.f;
        if (k < K) {
            for (int rt = threadIdx.y; rt < rowTiles; rt += RED_Y) {
                for (int ct = ctFirst; ct <= ctLast; ct++) {
                    const int seg = h - (ct * CT) / R;
                    s += partial[(((long long)rt * nCT + ct) * SEG + seg) * K + k];
                }
            }
        }
        red[threadIdx.y][threadIdx.x] = s;
        __syncthreads();
        if (threadIdx.y == 0 && k < K) {
            float total = 0.f;
#pragma unroll
            for (int y = 0; y < RED_Y; y++) total += red[y][threadIdx.x];
            if (!drop.position) total *= drop_factor(drop, head_kernel_index(h, k, K));
            dwn[k] = total;
        }
        __syncthreads();
    }
    if (tid == 0) {
        Drop none = drop;
        none.threshold = 0;
        normalize_head(wn, weight, h, K, softmax, none);
    }
    __syncthreads();
    if (!softmax) {
        for (int k = tid; k < K; k += CT * RED_Y) dweight[(long long)h * K + k] = dwn[k];
        return;
    }
    if (tid == 0) {
        float d = 0.f;
        for (int k = 0; k < K; k++) d += wn[k] * dwn[k];
        dot = d;
    }
    __syncthreads();
    for (int k = tid; k < K; k += CT * RED_Y) dweight[(long long)h * K + k] = wn[k] * (dwn[k] - dot);
}

// Output steps per thread of a streaming kernel: a whole number of loop bodies less the KC-1 warm-up
// steps; long enough that the warm-up (re-read halo rows, wasted FMAs) stays small, short enough that
// about 132 SMs x 1024 threads have work.
int stream_ts(int KC, int B, int T, int C) {
    const int U = stream_unroll(KC);
    const int nMax = ceil_div((long long)T + KC - 1, U);
    const int nMin = min(nMax, ceil_div(3LL * (KC - 1) + 1, U));
    int n = min(nMax, ceil_div((long long)max(128, 6 * (KC - 1)) + KC - 1, U));
    while (n > nMin && (long long)B * ceil_div(C, CT) * CT * ceil_div(T, (long long)(n - 1) * U - (KC - 1)) < 132LL * 1024) {
        n--;
    }
    return n * U - (KC - 1);
}

dim3 stream_grid(int B, int T, int C, int TS) { return dim3(ceil_div(C, CT), ceil_div(ceil_div(T, TS), SROWS), B); }

// Kernel choice (lightconv_set_variant, a tuning hook for cuda/tools/bench_lightconv.cu). Defaults: the
// next two lines, bench_lightconv's RECOMMEND on the H200 (2026-12-04, B=16 T=4096 C=1024 H=16, least forward +
// backward over K = 31, 15, 7): the streaming forward (K=31 0.273 ms, 48% of the copy bandwidth; the tile
// kernels 0.282-0.284) and dx by it with the 8-step tiled weight gradient (K=31 0.553 ms against 0.877 fused).
int g_conv_variant = 0;  // forward and dx: 0 lightconv_stream, 1 lightconv_tile NO=8, 2 lightconv_tile NO=16
int g_bwd_variant = 2;   // with dweight: 0 fused lightconv_stream_bwd, 1 dx by conv + lightconv_stream_bwd<KC, false>,
                         // 2 dx by conv + lightconv_tile_dw NO=8, 3 dx by conv + lightconv_tile_dw NO=16,
                         // 4 fused lightconv_tile_bwd NO=8

// Tiles per block of the tile kernels: halved while about 16 blocks per SM (132 SMs) stay, so that the
// per-block prologue (head weights) and the weight-gradient partials are spread over several tiles.
int tile_count(int steps, int B, int T, int C) {
    const int perSeq = ceil_div(T, steps);
    const long long cols = (long long)B * ceil_div(C, CT);
    int n = 1;
    while (n < perSeq && cols * ceil_div(perSeq, 2LL * n) >= 132LL * 16) n *= 2;
    while (ceil_div(perSeq, n) > 65535) n *= 2;
    return n;
}

template <int KC, int NO>
void launch_tile(float* out, const float* in, const float* weight, const float* bias, int B, int T, int C, int H,
        int K, int pad, bool softmax, Drop drop, bool rev) {
    constexpr int STEPS = TileShape<KC, NO>::STEPS;
    const int tiles = tile_count(STEPS, B, T, C);
    const dim3 grid(ceil_div(C, CT), ceil_div(ceil_div(T, STEPS), tiles), B), block(CT, TW);
    if (rev) {
        lightconv_tile<KC, true, NO><<<grid, block>>>(out, in, weight, nullptr, T, C, H, K, K - 1 - pad, tiles,
                softmax, drop);
    } else {
        lightconv_tile<KC, false, NO><<<grid, block>>>(out, in, weight, bias, T, C, H, K, pad, tiles, softmax, drop);
    }
}

template <int KC>
void launch_stream(float* out, const float* in, const float* weight, const float* bias, int B, int T, int C, int H,
        int K, int pad, bool softmax, Drop drop, bool rev) {
    if (g_conv_variant == 1) return launch_tile<KC, 8>(out, in, weight, bias, B, T, C, H, K, pad, softmax, drop, rev);
    if (g_conv_variant == 2) return launch_tile<KC, 16>(out, in, weight, bias, B, T, C, H, K, pad, softmax, drop, rev);
    const int TS = stream_ts(KC, B, T, C);
    const dim3 grid = stream_grid(B, T, C, TS), block(CT, SROWS);
    if (rev) {
        lightconv_stream<KC, true><<<grid, block>>>(out, in, weight, nullptr, T, C, H, K, K - 1 - pad, TS, softmax, drop);
    } else {
        lightconv_stream<KC, false><<<grid, block>>>(out, in, weight, bias, T, C, H, K, pad, TS, softmax, drop);
    }
}

// The convolution (forward, or the transposed one for dx, without bias) with the best kernel for K.
cudaError_t conv(float* out, const float* in, const float* weight, const float* bias, int B, int T, int C, int H,
        int K, int pad, bool softmax, Drop drop, bool rev) {
    const bool positionMask = drop.threshold != 0 && drop.position;
    switch (positionMask ? 0 : stream_kc(K)) {
        case 3: launch_stream<3>(out, in, weight, bias, B, T, C, H, K, pad, softmax, drop, rev); break;
        case 5: launch_stream<5>(out, in, weight, bias, B, T, C, H, K, pad, softmax, drop, rev); break;
        case 7: launch_stream<7>(out, in, weight, bias, B, T, C, H, K, pad, softmax, drop, rev); break;
        case 15: launch_stream<15>(out, in, weight, bias, B, T, C, H, K, pad, softmax, drop, rev); break;
        case 31: launch_stream<31>(out, in, weight, bias, B, T, C, H, K, pad, softmax, drop, rev); break;
        case 63: launch_stream<63>(out, in, weight, bias, B, T, C, H, K, pad, softmax, drop, rev); break;
        default: {
            AsyncScratch wt((size_t)H * K * sizeof(float));
            if (wt.status != cudaSuccess) return wt.status;
            lightconv_weights<<<ceil_div(H, 128), 128>>>(wt.f(), weight, H, K, softmax, drop);
            dim3 grid(ceil_div(C, CT), ceil_div(T, TT), B), block(CT, ROWS);
            lightconv_conv_generic<<<grid, block>>>(out, in, wt.f(), rev ? nullptr : bias, T, C, H, K,
                    rev ? K - 1 - pad : pad, rev, drop);
            return cudaGetLastError();  // the stream-ordered free follows the kernel
        }
    }
    return cudaGetLastError();
}

template <int KC, bool DX>
void launch_stream_bwd(dim3 grid, float* dx, float* partial, float* biasPartial, const float* dy, const float* x,
        const float* weight, int T, int C, int H, int K, int pad, int TS, int SEG, bool softmax, Drop drop) {
    lightconv_stream_bwd<KC, DX><<<grid, dim3(CT, SROWS)>>>(dx, partial, biasPartial, dy, x, weight, T, C, H, K, pad,
            TS, SEG, softmax, drop);
}

}  // namespace

cudaError_t lightconv_forward(float* y, const float* x, const float* weight, const float* bias, int B, int T,
        int C, int H, int K, int pad, bool softmax, DropArgs drop) {
    return conv(y, x, weight, bias, B, T, C, H, K, pad, softmax, make_drop(drop), false);
}

cudaError_t lightconv_backward(float* dx, float* dweight, float* dbias, const float* dy, const float* x,
        const float* weight, int B, int T, int C, int H, int K, int pad, bool softmax, DropArgs dropArgs) {
    const Drop drop = make_drop(dropArgs);
    cudaError_t err;
    const int R = C / H;
    const int SEG = min(CT, (CT - 1) / R + 2);
    const int nCT = ceil_div(C, CT);
    const bool positionMask = drop.threshold != 0 && drop.position;
    const int KC = positionMask ? 0 : stream_kc(K);
    if (!dweight) {
        // dx and dbias only: no weight-gradient partials needed.
        if (dx) {
            err = conv(dx, dy, weight, nullptr, B, T, C, H, K, pad, softmax, drop, true);
            if (err != cudaSuccess) return err;
        }
        if (dbias) {
            column_sum(dbias, dy, B * T, C);
            return cudaGetLastError();
        }
        return cudaSuccess;
    }
    if (KC == 0) {
        // Generic path: dx by the generic transposed convolution, dW partials per 128-step tile.
        const long long rowTiles = (long long)B * ceil_div(T, DW_TT);
        AsyncScratch scratch((size_t)rowTiles * nCT * SEG * K * sizeof(float) + 2 * (size_t)H * K * sizeof(float));
        if (scratch.status != cudaSuccess) return scratch.status;
        float* partial = scratch.f();
        if (dx) {
            err = conv(dx, dy, weight, nullptr, B, T, C, H, K, pad, softmax, drop, true);
            if (err != cudaSuccess) return err;
        }
        lightconv_dw_partials<<<dim3(nCT, ceil_div(T, DW_TT), B), dim3(CT, ROWS)>>>(partial, dy, x, T, C, H, K, pad,
                SEG, drop);
        float* wn = partial + rowTiles * nCT * SEG * K;
        lightconv_dw_reduce<<<H, dim3(CT, RED_Y)>>>(dweight, partial, weight, wn, wn + (long long)H * K,
                (int)rowTiles, nCT, SEG, C, H, K, softmax, drop);
        err = cudaGetLastError();
        if (err != cudaSuccess) return err;
        if (dbias) {
            column_sum(dbias, dy, B * T, C);
            return cudaGetLastError();
        }
        return cudaSuccess;
    }
    if (g_bwd_variant >= 2) {
        // Variants 2, 3: dx by the convolution, then dW and dbias by the tile kernel. Variant 4: one fused
        // tile kernel (variant 2 when dx is not asked).
        if (dx && g_bwd_variant != 4) {
            err = conv(dx, dy, weight, nullptr, B, T, C, H, K, pad, softmax, drop, true);
            if (err != cudaSuccess) return err;
        }
        const bool fusedTile = g_bwd_variant == 4 && dx != nullptr;
        const int NO = g_bwd_variant == 3 ? 16 : 8;
        const int tiles = tile_count(TW * NO, B, T, C);
        const dim3 grid(nCT, ceil_div(ceil_div(T, TW * NO), tiles), B), block(CT, TW);
        const long long rowTiles = (long long)B * grid.y;
        const size_t partialFloats = (size_t)rowTiles * nCT * SEG * K;
        const size_t biasFloats = dbias ? (size_t)rowTiles * C : 0;
        AsyncScratch scratch((partialFloats + biasFloats + 2 * (size_t)H * K) * sizeof(float));
        if (scratch.status != cudaSuccess) return scratch.status;
        float* partial = scratch.f();
        float* biasPartial = dbias ? partial + partialFloats : nullptr;
        float* wn = partial + partialFloats + biasFloats;
#define LC_TDW(KCV)                                                                                           \
    if (fusedTile) lightconv_tile_bwd<KCV, 8><<<grid, block>>>(dx, partial, biasPartial, dy, x, weight, T, C, H, K, \
            pad, tiles, SEG, softmax, drop);                                                                     \
    else if (NO == 8) lightconv_tile_dw<KCV, 8><<<grid, block>>>(partial, biasPartial, dy, x, T, C, H, K, pad, tiles, SEG); \
    else lightconv_tile_dw<KCV, 16><<<grid, block>>>(partial, biasPartial, dy, x, T, C, H, K, pad, tiles, SEG)
        switch (KC) {
            case 3: LC_TDW(3); break;
            case 5: LC_TDW(5); break;
            case 7: LC_TDW(7); break;
            case 15: LC_TDW(15); break;
            case 31: LC_TDW(31); break;
            default: LC_TDW(63); break;
        }
#undef LC_TDW
        lightconv_dw_reduce<<<H, dim3(CT, RED_Y)>>>(dweight, partial, weight, wn, wn + (long long)H * K,
                (int)rowTiles, nCT, SEG, C, H, K, softmax, drop);
        err = cudaGetLastError();
        if (err != cudaSuccess) return err;
        if (dbias) {
            column_sum(dbias, biasPartial, (int)rowTiles, C);
            return cudaGetLastError();
        }
        return cudaSuccess;
    }
    // Streaming path: one pass over dy and x for dW, dbias and (KC <= 31, variant 0) dx.
    const int TS = stream_ts(KC, B, T, C);
    const dim3 grid = stream_grid(B, T, C, TS);
    const long long rowTiles = (long long)B * grid.y;
    const size_t partialFloats = (size_t)rowTiles * nCT * SEG * K;
    const size_t biasFloats = dbias ? (size_t)rowTiles * C : 0;
    AsyncScratch scratch((partialFloats + biasFloats + 2 * (size_t)H * K) * sizeof(float));
    if (scratch.status != cudaSuccess) return scratch.status;
    float* partial = scratch.f();
    float* biasPartial = dbias ? partial + partialFloats : nullptr;
    float* wn = partial + partialFloats + biasFloats;
    const bool fusedDx = dx != nullptr && KC <= 31 && g_bwd_variant == 0;
    if (dx && !fusedDx) {
        err = conv(dx, dy, weight, nullptr, B, T, C, H, K, pad, softmax, drop, true);
        if (err != cudaSuccess) return err;
    }
#define LC_BWD(KCV)                                                                                              \
    (fusedDx ? launch_stream_bwd<KCV, true>(grid, dx, partial, biasPartial, dy, x, weight, T, C, H, K, pad, TS, SEG, \
                                            softmax, drop)                                                       \
             : launch_stream_bwd<KCV, false>(grid, nullptr, partial, biasPartial, dy, x, weight, T, C, H, K, pad, TS, \
                                             SEG, softmax, drop))
    switch (KC) {
        case 3: LC_BWD(3); break;
        case 5: LC_BWD(5); break;
        case 7: LC_BWD(7); break;
        case 15: LC_BWD(15); break;
        case 31: LC_BWD(31); break;
        default:
            launch_stream_bwd<63, false>(grid, nullptr, partial, biasPartial, dy, x, weight, T, C, H, K, pad, TS, SEG,
                    softmax, drop);
            break;
    }
#undef LC_BWD
    lightconv_dw_reduce<<<H, dim3(CT, RED_Y)>>>(dweight, partial, weight, wn, wn + (long long)H * K, (int)rowTiles,
            nCT, SEG, C, H, K, softmax, drop);
    err = cudaGetLastError();
    if (err != cudaSuccess) return err;
    if (dbias) {
        column_sum(dbias, biasPartial, (int)rowTiles, C);
        return cudaGetLastError();
    }
    return cudaSuccess;
}

void lightconv_set_variant(int conv, int bwd) {
    g_conv_variant = conv;
    g_bwd_variant = bwd;
}

}  // namespace attnkit
