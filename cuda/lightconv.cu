// lightconv.cu: LightConv (SPEC 1) forward and backward, fp32, BTC layout, no permutes.
//
// Kernel versions (compiled, NOT yet run on a GPU):
//   1. lightconv_conv_k<K, REV>: compile-time K (3, 5, 7, 15, 31, 63). One block per (channel tile of
//      32, time tile of 64, batch); the prologue takes the softmax of the tile's heads and applies the
//      HEAD_KERNEL DropConnect mask into shared memory, each thread keeps its channel's K taps in
//      registers and reads x from a shared (64+K-1) x 32 tile. REV = the transposed convolution, which
//      is dx in backward (the filter reversed, padding K-1-P, POSITION masks indexed by the output t).
//   2. lightconv_conv_generic: any K and padding; weights from a normalized H x K buffer made by
//      lightconv_weights, x read straight from global memory. Never zeros for an unsupported K.
//   3. lightconv_backward_k<K>: the backward for compile-time K as one fused kernel: dx (the transposed
//      convolution from a shared dy tile) and the block's fp32 weight-gradient partials (the same dy
//      tile against a shared x tile), then lightconv_dw_reduce (below).
//   4. lightconv_dw_partials (generic K; dx then comes from lightconv_conv_generic transposed): per
//      (channel tile, 128-step time tile, batch) partial sums of
//      dy * shifted x for every tap, reduced inside the block over the head's channels; then
//      lightconv_dw_reduce sums the partials in a fixed order (deterministic), applies the HEAD_KERNEL
//      mask and the softmax backward.
//   dbias: column_sum of dy (elementwise.cu).
#include "common.cuh"
#include "launchers.h"

namespace attnkit {
namespace {

constexpr int CT = 32;        // channels per block: one warp wide, coalesced BTC rows
constexpr int TT = 64;        // time steps per block in the convolution
constexpr int ROWS = 8;       // threadIdx.y
constexpr int DW_TT = 128;    // time steps per block in the weight-gradient partials

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

// Forward (REV = false): y[b,t,c] = bias[c] + sum_j w[h,j] x[b, t+j-pad, c].
// Transposed (REV = true, pad = K-1-P): dx[b,s,c] = sum_j w[h,K-1-j] dy[b, s+j-pad, c].
template <int K, bool REV>
__global__ void __launch_bounds__(CT * ROWS) lightconv_conv_k(float* out, const float* in, const float* weight,
        const float* bias, int T, int C, int H, int pad, bool softmax, Drop drop) {
    __shared__ float ws[CT * K];               // normalized weights of the tile's heads
    __shared__ float xs[(TT + K - 1) * CT];    // input rows t0-pad .. t0+TT-1+K-1-pad
    const int R = C / H;
    const int c0 = blockIdx.x * CT, t0 = blockIdx.y * TT, b = blockIdx.z;
    const int h0 = c0 / R;
    const int h1 = (min(c0 + CT, C) - 1) / R;
    const int tid = threadIdx.y * CT + threadIdx.x;
    for (int hh = tid; hh <= h1 - h0; hh += CT * ROWS) {
        normalize_head(ws + hh * K, weight, h0 + hh, K, softmax, drop);
    }
    const int c = c0 + threadIdx.x;
    const long long base = (long long)b * T * C;
    for (int i = tid; i < (TT + K - 1) * CT; i += CT * ROWS) {
        int row = i / CT, col = i % CT;
        int src = t0 + row - pad;
        xs[i] = (src >= 0 && src < T && c0 + col < C) ? in[base + (long long)src * C + c0 + col] : 0.f;
    }
    __syncthreads();
    if (c >= C) return;
    const int h = c / R;
    float w[K];
#pragma unroll
    for (int j = 0; j < K; j++) w[j] = ws[(h - h0) * K + (REV ? K - 1 - j : j)];
    const float bc = bias ? bias[c] : 0.f;
    const bool positionMask = drop.threshold != 0 && drop.position;
    for (int tl = threadIdx.y; tl < TT; tl += ROWS) {
        int t = t0 + tl;
        if (t >= T) break;
        float acc = bc;
        if (!positionMask) {
#pragma unroll
            for (int j = 0; j < K; j++) acc = fmaf(w[j], xs[(tl + j) * CT + threadIdx.x], acc);
        } else {
#pragma unroll
            for (int j = 0; j < K; j++) {
                int k = REV ? K - 1 - j : j;
                int tOut = REV ? t + j - pad : t;  // the forward output step whose mask applies
                if (tOut < 0 || tOut >= T) continue;
                float f = drop_factor(drop, position_index(b, tOut, h, k, T, H, K));
                acc = fmaf(w[j] * f, xs[(tl + j) * CT + threadIdx.x], acc);
            }
        }
        out[base + (long long)t * C + c] = acc;
    }
}

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

// Backward for compile-time K, one fused kernel: per (channel tile, time tile, batch) block it writes
// dx for the tile's steps (the transposed convolution, from a shared dy tile) and the weight-gradient
// partials of the tile (from the same dy tile and a shared x tile), in the partial layout of
// lightconv_dw_partials with DW rows = TT. Shared: weights, dy rows t0-(K-1-P) .., x rows t0-P ...
template <int K>
__global__ void __launch_bounds__(CT * ROWS) lightconv_backward_k(float* dx, float* partial, const float* dy,
        const float* x, const float* weight, int T, int C, int H, int pad, int SEG, bool softmax, Drop drop) {
    __shared__ float ws[CT * K];
    __shared__ float dys[(TT + K - 1) * CT];
    __shared__ float xs[(TT + K - 1) * CT];
    __shared__ float red[ROWS][CT];
    __shared__ float chan[CT];
    const int R = C / H;
    const int ct = blockIdx.x, tt = blockIdx.y, b = blockIdx.z;
    const int c0 = ct * CT, t0 = tt * TT;
    const int h0 = c0 / R;
    const int h1 = (min(c0 + CT, C) - 1) / R;
    const int tid = threadIdx.y * CT + threadIdx.x;
    for (int hh = tid; hh <= h1 - h0; hh += CT * ROWS) {
        normalize_head(ws + hh * K, weight, h0 + hh, K, softmax, drop);
    }
    const long long base = (long long)b * T * C;
    const int dyFirst = t0 - (K - 1 - pad), xFirst = t0 - pad;
    for (int i = tid; i < (TT + K - 1) * CT; i += CT * ROWS) {
        int row = i / CT, col = i % CT;
        bool colOk = c0 + col < C;
        int sd = dyFirst + row, sx = xFirst + row;
        dys[i] = (colOk && sd >= 0 && sd < T) ? dy[base + (long long)sd * C + c0 + col] : 0.f;
        xs[i] = (colOk && sx >= 0 && sx < T) ? x[base + (long long)sx * C + c0 + col] : 0.f;
    }
    __syncthreads();
    const int c = c0 + threadIdx.x;
    const bool inC = c < C;
    const int h = inC ? c / R : h0;
    const bool positionMask = drop.threshold != 0 && drop.position;
    float acc[K];
#pragma unroll
    for (int k = 0; k < K; k++) acc[k] = 0.f;
    if (inC) {
        float w[K];
#pragma unroll
        for (int k = 0; k < K; k++) w[k] = ws[(h - h0) * K + k];
        for (int tl = threadIdx.y; tl < TT; tl += ROWS) {
            int s = t0 + tl;
            if (s >= T) break;
            if (dx) {
                // dx[s] = sum_k w[k] dy[s-k+P]; dy row s-k+P is dys row tl+K-1-k.
                float g = 0.f;
#pragma unroll
                for (int k = 0; k < K; k++) {
                    float wk = w[k];
                    if (positionMask) {
                        int t = s - k + pad;
                        if (t < 0 || t >= T) continue;
                        wk *= drop_factor(drop, position_index(b, t, h, k, T, H, K));
                    }
                    g = fmaf(wk, dys[(tl + K - 1 - k) * CT + threadIdx.x], g);
                }
                dx[base + (long long)s * C + c] = g;
            }
            if (partial) {
                // dW~[h,k] += dy[t] x[t+k-P] with t = s: dy[t] is dys row tl+K-1-P, x[t+k-P] is xs row tl+k.
                float gy = dys[(tl + K - 1 - pad) * CT + threadIdx.x];
#pragma unroll
                for (int k = 0; k < K; k++) {
                    float v = gy * xs[(tl + k) * CT + threadIdx.x];
                    if (positionMask) v *= drop_factor(drop, position_index(b, s, h, k, T, H, K));
                    acc[k] += v;
                }
            }
        }
    }
    if (!partial) return;  // uniform over the block: no thread is left waiting at a barrier
    float* out = partial + ((long long)(b * gridDim.y + tt) * gridDim.x + ct) * SEG * K;
#pragma unroll
    for (int k = 0; k < K; k++) {
        red[threadIdx.y][threadIdx.x] = acc[k];
        __syncthreads();
        if (threadIdx.y == 0) {
            float sum = 0.f;
            for (int r = 0; r < ROWS; r++) sum += red[r][threadIdx.x];
            chan[threadIdx.x] = sum;
        }
        __syncthreads();
        int seg = tid;
        if (seg < SEG) {
            float sum = 0.f;
            int hs = h0 + seg;
            if (hs <= h1) {
                int from = max(hs * R, c0) - c0, to = min((hs + 1) * R, min(c0 + CT, C)) - c0;
                for (int i = from; i < to; i++) sum += chan[i];
            }
            out[(long long)seg * K + k] = sum;
        }
        __syncthreads();
    }
}

// One block per head, one thread per tap (looping when K > blockDim): the fixed-order sum of the
// partials, the HEAD_KERNEL mask, then the softmax backward dW = wn (dwn - <wn, dwn>).
__global__ void lightconv_dw_reduce(float* dweight, const float* partial, const float* weight, float* wnBuf,
        float* dwnBuf, int rowTiles, int nCT, int SEG, int C, int H, int K, bool softmax, Drop drop) {
    const int h = blockIdx.x;
    const int R = C / H;
    float* wn = wnBuf + (long long)h * K;
    float* dwn = dwnBuf + (long long)h * K;
    int ctFirst = (h * R) / CT, ctLast = ((h + 1) * R - 1) / CT;
    for (int k = threadIdx.x; k < K; k += blockDim.x) {
        float s = 0.f;
        for (int rt = 0; rt < rowTiles; rt++) {
            for (int ct = ctFirst; ct <= ctLast; ct++) {
                int seg = h - (ct * CT) / R;
                s += partial[(((long long)rt * nCT + ct) * SEG + seg) * K + k];
            }
        }
        if (!drop.position) s *= drop_factor(drop, head_kernel_index(h, k, K));
        dwn[k] = s;
    }
    if (threadIdx.x == 0) {
        Drop none = drop;
        none.threshold = 0;
        normalize_head(wn, weight, h, K, softmax, none);
    }
    __syncthreads();
    if (!softmax) {
        for (int k = threadIdx.x; k < K; k += blockDim.x) dweight[(long long)h * K + k] = dwn[k];
        return;
    }
    __shared__ float dot;
    if (threadIdx.x == 0) {
        float d = 0.f;
        for (int k = 0; k < K; k++) d += wn[k] * dwn[k];
        dot = d;
    }
    __syncthreads();
    for (int k = threadIdx.x; k < K; k += blockDim.x) dweight[(long long)h * K + k] = wn[k] * (dwn[k] - dot);
}

template <int K>
void launch_conv_k(float* out, const float* in, const float* weight, const float* bias, int B, int T, int C,
        int H, int pad, bool softmax, Drop drop, bool rev) {
    dim3 grid(ceil_div(C, CT), ceil_div(T, TT), B), block(CT, ROWS);
    if (rev) {
        lightconv_conv_k<K, true><<<grid, block>>>(out, in, weight, nullptr, T, C, H, K - 1 - pad, softmax, drop);
    } else {
        lightconv_conv_k<K, false><<<grid, block>>>(out, in, weight, bias, T, C, H, pad, softmax, drop);
    }
}

// The convolution (forward, or the transposed one for dx) with the best kernel for K.
cudaError_t conv(float* out, const float* in, const float* weight, const float* bias, int B, int T, int C, int H,
        int K, int pad, bool softmax, Drop drop, bool rev) {
    switch (K) {
        case 3: launch_conv_k<3>(out, in, weight, bias, B, T, C, H, pad, softmax, drop, rev); break;
        case 5: launch_conv_k<5>(out, in, weight, bias, B, T, C, H, pad, softmax, drop, rev); break;
        case 7: launch_conv_k<7>(out, in, weight, bias, B, T, C, H, pad, softmax, drop, rev); break;
        case 15: launch_conv_k<15>(out, in, weight, bias, B, T, C, H, pad, softmax, drop, rev); break;
        case 31: launch_conv_k<31>(out, in, weight, bias, B, T, C, H, pad, softmax, drop, rev); break;
        case 63: launch_conv_k<63>(out, in, weight, bias, B, T, C, H, pad, softmax, drop, rev); break;
        default: {
            Scratch wt((size_t)H * K * sizeof(float));
            if (wt.status != cudaSuccess) return wt.status;
            lightconv_weights<<<ceil_div(H, 128), 128>>>(wt.f(), weight, H, K, softmax, drop);
            dim3 grid(ceil_div(C, CT), ceil_div(T, TT), B), block(CT, ROWS);
            lightconv_conv_generic<<<grid, block>>>(out, in, wt.f(), rev ? nullptr : bias, T, C, H, K,
                    rev ? K - 1 - pad : pad, rev, drop);
            // The scratch is freed when this scope ends; cudaFree waits for the kernel first.
            return cudaGetLastError();
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
    Drop drop = make_drop(dropArgs);
    cudaError_t err;
    const int R = C / H;
    const int SEG = min(CT, (CT - 1) / R + 2);
    const int nCT = ceil_div(C, CT);
    const bool fused = K == 3 || K == 5 || K == 7 || K == 15 || K == 31 || K == 63;
    const int rowsPerTile = fused ? TT : DW_TT;
    const long long rowTiles = (long long)B * ceil_div(T, rowsPerTile);
    Scratch scratch(dweight ? (size_t)rowTiles * nCT * SEG * K * sizeof(float) + 2 * (size_t)H * K * sizeof(float)
                            : 0);
    if (scratch.status != cudaSuccess) return scratch.status;
    float* partial = dweight ? scratch.f() : nullptr;
    if (fused) {
        if (dx || dweight) {
            dim3 grid(nCT, ceil_div(T, TT), B), block(CT, ROWS);
            switch (K) {
                case 3: lightconv_backward_k<3><<<grid, block>>>(dx, partial, dy, x, weight, T, C, H, pad, SEG, softmax, drop); break;
                case 5: lightconv_backward_k<5><<<grid, block>>>(dx, partial, dy, x, weight, T, C, H, pad, SEG, softmax, drop); break;
                case 7: lightconv_backward_k<7><<<grid, block>>>(dx, partial, dy, x, weight, T, C, H, pad, SEG, softmax, drop); break;
                case 15: lightconv_backward_k<15><<<grid, block>>>(dx, partial, dy, x, weight, T, C, H, pad, SEG, softmax, drop); break;
                case 31: lightconv_backward_k<31><<<grid, block>>>(dx, partial, dy, x, weight, T, C, H, pad, SEG, softmax, drop); break;
                default: lightconv_backward_k<63><<<grid, block>>>(dx, partial, dy, x, weight, T, C, H, pad, SEG, softmax, drop); break;
            }
        }
    } else {
        if (dx) {
            err = conv(dx, dy, weight, nullptr, B, T, C, H, K, pad, softmax, drop, true);
            if (err != cudaSuccess) return err;
        }
        if (dweight) {
            lightconv_dw_partials<<<dim3(nCT, ceil_div(T, DW_TT), B), dim3(CT, ROWS)>>>(partial, dy, x, T, C, H, K,
                    pad, SEG, drop);
        }
    }
    if (dweight) {
        float* wn = scratch.f() + rowTiles * nCT * SEG * K;
        float* dwn = wn + (long long)H * K;
        lightconv_dw_reduce<<<H, 64>>>(dweight, partial, weight, wn, dwn, (int)rowTiles, nCT, SEG, C, H, K, softmax,
                drop);
    }
    err = cudaGetLastError();
    if (err != cudaSuccess) return err;
    if (dbias) {
        column_sum(dbias, dy, B * T, C);
        err = cudaGetLastError();
        if (err != cudaSuccess) return err;
    }
    return cudaSuccess;
}

}  // namespace attnkit
