// Matrix multiplies of the forward pass, out[t][o] = sum_i w[o][i] * x[t][i], straight from the
// f32 activations and the weights in their stored (quantized) type, with no scratch copies:
//  - gemm_q: prefill chunks, on tensor cores (WMMA 16x16x16, f16 inputs, f32 accumulate); each
//    k-tile of activations and weights is converted to f16 on its way into shared memory (the
//    idea of llama.cpp's MMQ: dequantize tiles inside the GEMM, not whole matrices before it);
//  - matvec_q: decode steps (a few tokens), in f32, the lanes of a warp over consecutive values.

#include <mma.h>

#include "dequant.cuh"

using namespace nvcuda;

#define GEMM_BM 128
#define GEMM_BN 128
#define GEMM_BK 32
#define GEMM_STAGES 2
#define GEMM_THREADS 256
// Row pitch of a shared tile in halfs: 8 halfs of padding shift successive rows across banks and
// keep every 16-row fragment 32-byte aligned (40 halfs = 80 bytes; 16 rows = 1280 bytes).
#define GEMM_PITCH (GEMM_BK + 8)
#define GEMM_STAGE_HALFS ((GEMM_BM + GEMM_BN) * GEMM_PITCH)

// One thread's share of a k-tile: 16 consecutive values of one activation row and of one weight
// row (thread i: row i / 2 of the tile, values 16 * (i % 2) .. + 15 of the tile's 32).
struct GemmFetch {
    float a[16];
    float b[16];
};

template <int TYPE>
__device__ __forceinline__ void gemm_fetch(GemmFetch& f, const uint8_t* __restrict__ w, long long rowBytes,
                                           const float* __restrict__ x, bool xVector, int m, int n, int cols, int m0,
                                           int n0, int k0) {
    int r = threadIdx.x >> 1;
    int c0 = k0 + 16 * (threadIdx.x & 1);
    const float* xr = x + (long long) (m0 + r) * cols + c0;
    if (m0 + r >= m) {
#pragma unroll
        for (int i = 0; i < 16; i++) {
            f.a[i] = 0.f;
        }
    } else if (xVector && c0 + 16 <= cols) {
#pragma unroll
        for (int i = 0; i < 4; i++) {
            float4 v = ((const float4*) xr)[i];
            f.a[4 * i] = v.x;
            f.a[4 * i + 1] = v.y;
            f.a[4 * i + 2] = v.z;
            f.a[4 * i + 3] = v.w;
        }
    } else {
#pragma unroll
        for (int i = 0; i < 16; i++) {
            f.a[i] = c0 + i < cols ? xr[i] : 0.f;
        }
    }
    if (n0 + r >= n) {
#pragma unroll
        for (int i = 0; i < 16; i++) {
            f.b[i] = 0.f;
        }
    } else {
        const uint8_t* row = w + (long long) (n0 + r) * rowBytes;
        dequant8(TYPE, row, c0 / 8, cols, f.b);
        dequant8(TYPE, row, c0 / 8 + 1, cols, f.b + 8);
    }
}

__device__ __forceinline__ void store16(__half* dst, const float* v) {
    union {
        __half2 h[8];
        uint4 u[2];
    } pack;
#pragma unroll
    for (int k = 0; k < 8; k++) {
        pack.h[k] = __halves2half2(half_sat(v[2 * k]), half_sat(v[2 * k + 1]));
    }
    ((uint4*) dst)[0] = pack.u[0];
    ((uint4*) dst)[1] = pack.u[1];
}

__device__ __forceinline__ void gemm_store(const GemmFetch& f, __half* stage) {
    int r = threadIdx.x >> 1;
    int c = 16 * (threadIdx.x & 1);
    store16(stage + r * GEMM_PITCH + c, f.a);
    store16(stage + (GEMM_BM + r) * GEMM_PITCH + c, f.b);
}

// The GEMM of gemm_q for one weight type, known at compile time so that a k-tile's fetch is
// straight-line code the compiler can interleave with the multiplies of the previous tile.
template <int TYPE>
__device__ __forceinline__ void gemm_tiles(const uint8_t* __restrict__ w, long long rowBytes,
                                           const float* __restrict__ x, int m, int n, int cols,
                                           float* __restrict__ out, int ldo) {
    extern __shared__ __align__(128) __half smem[];
    int m0 = blockIdx.y * GEMM_BM;
    int n0 = blockIdx.x * GEMM_BN;
    int warp = threadIdx.x / WARP_SIZE;
    int lane = threadIdx.x % WARP_SIZE;
    int wm = (warp >> 2) * 64;  // warp's row offset inside the tile
    int wn = (warp & 3) * 32;   // warp's column offset
    bool xVector = cols % 4 == 0 && ((unsigned long long) x & 15) == 0;

    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[4][2];
#pragma unroll
    for (int i = 0; i < 4; i++) {
#pragma unroll
        for (int j = 0; j < 2; j++) {
            wmma::fill_fragment(acc[i][j], 0.f);
        }
    }

    int tiles = (cols + GEMM_BK - 1) / GEMM_BK;
    GemmFetch f;
    gemm_fetch<TYPE>(f, w, rowBytes, x, xVector, m, n, cols, m0, n0, 0);
    gemm_store(f, smem);
    __syncthreads();
    for (int kt = 0; kt < tiles; kt++) {
        // The last iteration fetches its own tile again, into a stage nobody reads: no branch.
        gemm_fetch<TYPE>(f, w, rowBytes, x, xVector, m, n, cols, m0, n0, min(kt + 1, tiles - 1) * GEMM_BK);
        const __half* as = smem + (kt % GEMM_STAGES) * GEMM_STAGE_HALFS;
        const __half* bs = as + GEMM_BM * GEMM_PITCH;
#pragma unroll
        for (int kk = 0; kk < GEMM_BK; kk += 16) {
            wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> fa[4];
            wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::col_major> fb[2];
#pragma unroll
            for (int i = 0; i < 4; i++) {
                wmma::load_matrix_sync(fa[i], as + (wm + 16 * i) * GEMM_PITCH + kk, GEMM_PITCH);
            }
#pragma unroll
            for (int j = 0; j < 2; j++) {
                // b(k, j) = weight row j, element k: column-major with the tile's row pitch.
                wmma::load_matrix_sync(fb[j], bs + (wn + 16 * j) * GEMM_PITCH + kk, GEMM_PITCH);
            }
#pragma unroll
            for (int i = 0; i < 4; i++) {
#pragma unroll
                for (int j = 0; j < 2; j++) {
                    wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
                }
            }
        }
        // The other stage was last read in iteration kt - 1, which every warp finished before the
        // barrier that ended it.
        gemm_store(f, smem + ((kt + 1) % GEMM_STAGES) * GEMM_STAGE_HALFS);
        __syncthreads();
    }

    // Epilogue through a 16x16 f32 staging square per warp, so that edge tiles store only the
    // elements inside m x n.
    float* stage = (float*) smem + warp * 256;
#pragma unroll
    for (int i = 0; i < 4; i++) {
#pragma unroll
        for (int j = 0; j < 2; j++) {
            int row0 = m0 + wm + 16 * i;
            int col0 = n0 + wn + 16 * j;
            wmma::store_matrix_sync(stage, acc[i][j], 16, wmma::mem_row_major);
            __syncwarp();
            for (int e = lane; e < 256; e += WARP_SIZE) {
                int r = row0 + e / 16;
                int col = col0 + e % 16;
                if (r < m && col < n) {
                    out[(long long) r * ldo + col] = stage[e];
                }
            }
            __syncwarp();
        }
    }
}

// out[t][o] (row pitch ldo) = sum_i w[o][i] * x[t][i] for t < m, o < n: w is n rows of rowBytes
// bytes in type `type`, x is m rows of `cols` floats. A block computes a 128x128 tile of out with
// 8 warps of 64x32 (2 x 4 warps); while the warps multiply one k-tile, each thread's loads of the
// next one are in flight (two shared stages, one barrier per tile). Activations over +-65504 are
// clamped to it in f16. Dynamic shared memory: GEMM_STAGES * GEMM_STAGE_HALFS halfs.
extern "C" __global__ void __launch_bounds__(GEMM_THREADS, 2)
    gemm_q(int type, const uint8_t* __restrict__ w, long long rowBytes, const float* __restrict__ x, int m, int n,
           int cols, float* __restrict__ out, int ldo) {
    switch (type) {
        case TYPE_Q8_0: gemm_tiles<TYPE_Q8_0>(w, rowBytes, x, m, n, cols, out, ldo); break;
        case TYPE_Q4_0: gemm_tiles<TYPE_Q4_0>(w, rowBytes, x, m, n, cols, out, ldo); break;
        case TYPE_Q4_K: gemm_tiles<TYPE_Q4_K>(w, rowBytes, x, m, n, cols, out, ldo); break;
        case TYPE_Q5_K: gemm_tiles<TYPE_Q5_K>(w, rowBytes, x, m, n, cols, out, ldo); break;
        case TYPE_Q6_K: gemm_tiles<TYPE_Q6_K>(w, rowBytes, x, m, n, cols, out, ldo); break;
        case TYPE_F16: gemm_tiles<TYPE_F16>(w, rowBytes, x, m, n, cols, out, ldo); break;
        case TYPE_BF16: gemm_tiles<TYPE_BF16>(w, rowBytes, x, m, n, cols, out, ldo); break;
        default: gemm_tiles<TYPE_F32>(w, rowBytes, x, m, n, cols, out, ldo); break;
    }
}

#define MATVEC_MAX_TOKENS 8
#define MATVEC_WARPS 8

// The rows of matvec_q for one weight type, known at compile time (as gemm_tiles).
template <int TYPE>
__device__ __forceinline__ void matvec_rows(const uint8_t* __restrict__ w, long long rowBytes, int rows, int cols,
                                            const float* __restrict__ x, int tokens, float* __restrict__ out) {
    int warp = threadIdx.x / WARP_SIZE;
    int lane = threadIdx.x % WARP_SIZE;
    int o = blockIdx.x * MATVEC_WARPS + warp;
    if (o >= rows) {
        return;
    }
    const uint8_t* row = w + o * rowBytes;
    bool xVector = cols % 4 == 0 && ((unsigned long long) x & 15) == 0;
    float acc[MATVEC_MAX_TOKENS];
#pragma unroll
    for (int t = 0; t < MATVEC_MAX_TOKENS; t++) {
        acc[t] = 0.f;
    }
    int groups = (cols + 7) / 8;
    for (int g = lane; g < groups; g += WARP_SIZE) {
        float y[8];
        dequant8(TYPE, row, g, cols, y);
        int c0 = 8 * g;
        bool whole = xVector && c0 + 8 <= cols;
#pragma unroll
        for (int t = 0; t < MATVEC_MAX_TOKENS; t++) {
            if (t < tokens) {
                const float* xt = x + (long long) t * cols + c0;
                float s = 0.f;
                if (whole) {
                    float4 lo = ((const float4*) xt)[0];
                    float4 hi = ((const float4*) xt)[1];
                    s = fmaf(y[0], lo.x, s);
                    s = fmaf(y[1], lo.y, s);
                    s = fmaf(y[2], lo.z, s);
                    s = fmaf(y[3], lo.w, s);
                    s = fmaf(y[4], hi.x, s);
                    s = fmaf(y[5], hi.y, s);
                    s = fmaf(y[6], hi.z, s);
                    s = fmaf(y[7], hi.w, s);
                } else {
#pragma unroll
                    for (int k = 0; k < 8; k++) {
                        if (c0 + k < cols) {
                            s = fmaf(y[k], xt[k], s);
                        }
                    }
                }
                acc[t] += s;
            }
        }
    }
#pragma unroll
    for (int t = 0; t < MATVEC_MAX_TOKENS; t++) {
        if (t < tokens) {
            float s = warp_sum(acc[t]);
            if (lane == 0) {
                out[(long long) t * rows + o] = s;
            }
        }
    }
}

// out[t][o] = sum_i w[o][i] * x[t][i] for t < tokens (at most MATVEC_MAX_TOKENS), o < rows: one
// warp per weight row. Lane l takes groups l, l + 32, ... of 8 consecutive values, so a warp
// reads 256 consecutive values of the weight row and of each token's input at a time (two
// 16-byte loads per lane where the input is aligned); the weights are read once for all tokens.
extern "C" __global__ void __launch_bounds__(MATVEC_WARPS * WARP_SIZE)
    matvec_q(int type, const uint8_t* __restrict__ w, long long rowBytes, int rows, int cols,
             const float* __restrict__ x, int tokens, float* __restrict__ out) {
    switch (type) {
        case TYPE_Q8_0: matvec_rows<TYPE_Q8_0>(w, rowBytes, rows, cols, x, tokens, out); break;
        case TYPE_Q4_0: matvec_rows<TYPE_Q4_0>(w, rowBytes, rows, cols, x, tokens, out); break;
        case TYPE_Q4_K: matvec_rows<TYPE_Q4_K>(w, rowBytes, rows, cols, x, tokens, out); break;
        case TYPE_Q5_K: matvec_rows<TYPE_Q5_K>(w, rowBytes, rows, cols, x, tokens, out); break;
        case TYPE_Q6_K: matvec_rows<TYPE_Q6_K>(w, rowBytes, rows, cols, x, tokens, out); break;
        case TYPE_F16: matvec_rows<TYPE_F16>(w, rowBytes, rows, cols, x, tokens, out); break;
        case TYPE_BF16: matvec_rows<TYPE_BF16>(w, rowBytes, rows, cols, x, tokens, out); break;
        default: matvec_rows<TYPE_F32>(w, rowBytes, rows, cols, x, tokens, out); break;
    }
}
