// lightconv.cu: LightConv (SPEC 1) forward and backward, fp32, BTC layout, no permutes.
//
// Kernels. All ran on an H200 (2026-12-04): cuda/tools/bench_lightconv.cu against double references on 25 shapes,
// and the Java equivalence tests with compute-sanitizer memcheck and racecheck.
//   1. lightconv_stream<KC, REV>: the convolution (REV = the transposed one, i.e. dx) for K <= 63 without
//      POSITION DropConnect. KC is the compile-time kernel size (3, 5, 7, 15, 31, 63); a K between them
//      runs with KC = the next size up and taps K..KC-1 set to zero. A thread owns one channel and TS
//      consecutive output steps; it keeps its head's KC normalized taps (softmax and HEAD_KERNEL mask
//      computed in the prologue) and KC running output sums in registers, streams each input row of its
//      range once from global memory (a warp reads 32 consecutive channels: 128 coalesced bytes per row),
//      adds it into the KC outputs it touches and stores the output that it completes. The ring of sums is
//      indexed modulo KC at compile time (the loop body is a whole number of KC steps), so nothing is
//      read from shared memory in the loop: KC FMAs per input row and output.
//   2. lightconv_tile_dw<KC>: the weight gradient and dbias for the same K, tiled: a block (32 channels x 8
//      warps) stages the 64 + KC-1 x rows of a time tile in shared memory, a warp keeps its 8 dy rows and the
//      KC tap sums in registers; per block the sums are reduced in a fixed order into
//      partial[row tile][channel tile][head segment][k] (and biasPartial[row tile][c]). The backward with
//      dweight is dx by 1 (transposed), then this kernel, then 3.
//   3. lightconv_dw_reduce: per head, the fixed-order sum of the partials (deterministic, no atomics), the
//      HEAD_KERNEL mask, then the softmax backward dW = wn (dwn - <wn, dwn>). dbias = column_sum of the
//      bias partials.
//   4. lightconv_conv_generic: any K and padding, and POSITION DropConnect (a Philox draw per tap and
//      output); weights from a normalized H x K buffer made by lightconv_weights, x read from global memory.
//      Never zeros for an unsupported K.
//   5. lightconv_dw_partials: the weight-gradient partials for the generic path (K > 63 or POSITION scope),
//      per (channel tile, 128-step time tile, batch), reduced by 3.
// Measured there (B=16 T=4096 C=1024 H=16, K=31, softmax): forward 0.273 ms (48% of the copy bandwidth), backward
// with dweight 0.553 ms. These were the fastest of the variants timed side by side (least forward + backward over
// K = 31, 15, 7): shared-memory tile forward/dx kernels with 8 or 16 steps per thread (K=31 forward 0.282-0.284
// ms), a fused streaming backward (dx, dW and dbias in one pass over dy and x: K=31 0.877 ms), dx by 1 with a
// streaming dW kernel, a 16-step tiled dW and a fused tiled backward. Those kernels and their tuning hook
// (lightconv_set_variant) are in git history, last in commit 9d0ecd7; they served no case that 1-5 do not.
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

// ---- tiled weight gradient (lightconv_tile_dw) ----
// A block (32 channels x TW warps) walks `tiles` consecutive time tiles of TW*NO steps. Per tile it stages the
// TW*NO + KC-1 x rows of its 32 channels in shared memory (zeros outside [0, T)), then warp w owns steps
// [w*NO, w*NO+NO) of the tile: its NO dy rows in registers, every staged x row read once per warp and fed into
// the KC tap sums it touches (no warm-up steps; the fully unrolled body is NO*KC FMAs).
constexpr int TW = 8;  // warps per block
constexpr int NO = 8;  // steps per warp and tile
// Resident blocks of 256 threads per SM asked of the compiler (4: at most 64 registers, 3: 80).
__host__ __device__ constexpr int tile_dw_min_blocks(int KC) { return KC > 31 ? 1 : KC == 31 ? 3 : 4; }

template <int KC>
struct TileShape {
    static constexpr int STEPS = TW * NO;         // time steps per tile
    static constexpr int ROWS = STEPS + KC - 1;   // staged rows per tile
    static constexpr int PER_WARP = (ROWS + TW - 1) / TW;
};

// Stages rows s0 .. s0+ROWS-1 of column c of `src` (row stride C) into sm[row][lane]; 0 outside [0, T) and c >= C.
template <int KC>
__device__ __forceinline__ void stage_rows(float (*sm)[CT], const float* __restrict__ src, int s0, int T, int C,
        bool cOk) {
    using S = TileShape<KC>;
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

// The end of lightconv_tile_dw, in a fixed order: RK taps per round through red (RK x 32 x TW floats), summed
// over the warps per channel, then over the channels of each head segment, into
// partial[((b*gridDim.y + y)*nCT + ct)*SEG + seg][k] (k < K) and biasPartial[(b*gridDim.y + y)*C + c], the
// layout lightconv_dw_reduce reads. The caller has synchronized the block after its last use of red.
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

// Weight gradient (and dbias) only, tiled: g[k] += dy[b,t,c] x[b,t+k-pad,c] for k < K over the block's
// steps t (dy rows in registers, x rows staged), accumulated over its tiles; then the block's partials
// partial[((b*gridDim.y + y)*nCT + ct)*SEG + seg][k] and biasPartial[(b*gridDim.y + y)*C + c], summed in a
// fixed order (tile_reduce).
template <int KC>
__global__ void __launch_bounds__(CT * TW, tile_dw_min_blocks(KC)) lightconv_tile_dw(float* __restrict__ partial,
        float* __restrict__ biasPartial, const float* __restrict__ dy, const float* __restrict__ x, int T, int C,
        int H, int K, int pad, int tiles, int SEG) {
    using S = TileShape<KC>;
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
        stage_rows<KC>(sm, x + base, t0 - pad, T, C, cOk);
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

// Tiles per block of lightconv_tile_dw: halved while about 16 blocks per SM (132 SMs) stay, so that the
// weight-gradient partials of a block are spread over several tiles.
int tile_count(int steps, int B, int T, int C) {
    const int perSeq = ceil_div(T, steps);
    const long long cols = (long long)B * ceil_div(C, CT);
    int n = 1;
    while (n < perSeq && cols * ceil_div(perSeq, 2LL * n) >= 132LL * 16) n *= 2;
    while (ceil_div(perSeq, n) > 65535) n *= 2;
    return n;
}

template <int KC>
void launch_stream(float* out, const float* in, const float* weight, const float* bias, int B, int T, int C, int H,
        int K, int pad, bool softmax, Drop drop, bool rev) {
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
    // dx by the convolution, then dW and dbias partials by the tiled kernel, reduced per head.
    if (dx) {
        err = conv(dx, dy, weight, nullptr, B, T, C, H, K, pad, softmax, drop, true);
        if (err != cudaSuccess) return err;
    }
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
#define LC_TDW(KCV) \
    lightconv_tile_dw<KCV><<<grid, block>>>(partial, biasPartial, dy, x, T, C, H, K, pad, tiles, SEG)
    switch (KC) {
        case 3: LC_TDW(3); break;
        case 5: LC_TDW(5); break;
        case 7: LC_TDW(7); break;
        case 15: LC_TDW(15); break;
        case 31: LC_TDW(31); break;
        default: LC_TDW(63); break;
    }
#undef LC_TDW
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

}  // namespace attnkit
