// Matrix multiplies of the forward pass, out[t][o] = sum_i w[o][i] * x[t][i]:
//  - gemm_f16: prefill chunks, on tensor cores (WMMA 16x16x16, f16 inputs, f32 accumulate), from
//    f16 activations and weights dequantized to f16 scratch;
//  - matvec_q: decode steps (a few tokens), reading the quantized weights directly, in f32.

#include <mma.h>

#include "dequant.cuh"

using namespace nvcuda;

#define GEMM_BM 128
#define GEMM_BN 128
#define GEMM_BK 32
#define GEMM_STAGES 3
#define GEMM_THREADS 256
// Row pitch of a shared tile in halfs: 8 halfs of padding shift successive rows across banks and
// keep every 16-row fragment 32-byte aligned (40 halfs = 80 bytes; 16 rows = 1280 bytes).
#define GEMM_PITCH (GEMM_BK + 8)
#define GEMM_STAGE_HALFS ((GEMM_BM + GEMM_BN) * GEMM_PITCH)

__device__ __forceinline__ void cp_async16(void* smem, const void* gmem, bool valid) {
    unsigned int s = (unsigned int) __cvta_generic_to_shared(smem);
    int bytes = valid ? 16 : 0;  // 0 source bytes: the 16 destination bytes are zero-filled
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(s), "l"(gmem), "r"(bytes));
}

__device__ __forceinline__ void cp_async_commit() {
    asm volatile("cp.async.commit_group;\n" ::);
}

template <int N>
__device__ __forceinline__ void cp_async_wait() {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

// One k-tile of A (rows m0.., activations) and B (rows n0.. of the weight) into a pipeline stage.
// Each of the 256 threads copies two 16-byte pieces of each: a tile is 128 rows x 4 pieces.
__device__ __forceinline__ void gemm_load_tile(__half* stage, const __half* a, const __half* b, int m, int n, int lda,
                                               int ldb, int m0, int n0, int k0) {
    __half* as = stage;
    __half* bs = stage + GEMM_BM * GEMM_PITCH;
#pragma unroll
    for (int p = 0; p < 2; p++) {
        int piece = threadIdx.x + p * GEMM_THREADS;
        int r = piece >> 2;
        int c = (piece & 3) * 8;
        bool va = m0 + r < m;
        bool vb = n0 + r < n;
        cp_async16(as + r * GEMM_PITCH + c, va ? a + (long long) (m0 + r) * lda + k0 + c : a, va);
        cp_async16(bs + r * GEMM_PITCH + c, vb ? b + (long long) (n0 + r) * ldb + k0 + c : b, vb);
    }
}

// c[i][j] (row pitch ldc) = sum_k a[i][k] * b[j][k] for i < m, j < n, k < kPadded: a is m x lda and
// b is n x ldb, row-major f16, both zero beyond the real k so kPadded (a multiple of GEMM_BK) may
// exceed it. A block computes a 128x128 tile of c with 8 warps of 64x32 (2 x 4 warps), over a
// 3-stage cp.async pipeline. Dynamic shared memory: GEMM_STAGES * GEMM_STAGE_HALFS halfs.
extern "C" __global__ void __launch_bounds__(GEMM_THREADS)
    gemm_f16(const __half* __restrict__ a, const __half* __restrict__ b, float* __restrict__ c, int m, int n,
             int kPadded, int lda, int ldb, int ldc) {
    extern __shared__ __align__(128) __half smem[];
    int m0 = blockIdx.y * GEMM_BM;
    int n0 = blockIdx.x * GEMM_BN;
    int warp = threadIdx.x / WARP_SIZE;
    int lane = threadIdx.x % WARP_SIZE;
    int wm = (warp >> 2) * 64;  // warp's row offset inside the tile
    int wn = (warp & 3) * 32;   // warp's column offset

    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[4][2];
#pragma unroll
    for (int i = 0; i < 4; i++) {
#pragma unroll
        for (int j = 0; j < 2; j++) {
            wmma::fill_fragment(acc[i][j], 0.f);
        }
    }

    int tiles = kPadded / GEMM_BK;
#pragma unroll
    for (int s = 0; s < GEMM_STAGES - 1; s++) {
        if (s < tiles) {
            gemm_load_tile(smem + s * GEMM_STAGE_HALFS, a, b, m, n, lda, ldb, m0, n0, s * GEMM_BK);
        }
        cp_async_commit();
    }
    for (int kt = 0; kt < tiles; kt++) {
        cp_async_wait<GEMM_STAGES - 2>();
        // Tile kt is in shared memory for all threads, and every warp is done with tile kt - 1,
        // whose stage the next load overwrites.
        __syncthreads();
        int next = kt + GEMM_STAGES - 1;
        if (next < tiles) {
            gemm_load_tile(smem + (next % GEMM_STAGES) * GEMM_STAGE_HALFS, a, b, m, n, lda, ldb, m0, n0,
                           next * GEMM_BK);
        }
        cp_async_commit();

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
                // b(k, j) = weight row j, element k: column-major with the weight's row pitch.
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
    }
    cp_async_wait<0>();
    __syncthreads();

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
                    c[(long long) r * ldc + col] = stage[e];
                }
            }
            __syncwarp();
        }
    }
}

#define MATVEC_MAX_TOKENS 8
#define MATVEC_WARPS 8

// out[t][o] = sum_i w[o][i] * x[t][i] for t < tokens (at most MATVEC_MAX_TOKENS), o < rows: one
// warp per weight row, each lane dequantizing units of 32 elements in place and dotting them
// with every token's input, so the weights are read once for all tokens.
extern "C" __global__ void __launch_bounds__(MATVEC_WARPS * WARP_SIZE)
    matvec_q(int type, const uint8_t* __restrict__ w, long long rowBytes, int rows, int cols,
             const float* __restrict__ x, int tokens, float* __restrict__ out) {
    int warp = threadIdx.x / WARP_SIZE;
    int lane = threadIdx.x % WARP_SIZE;
    int o = blockIdx.x * MATVEC_WARPS + warp;
    if (o >= rows) {
        return;
    }
    const uint8_t* row = w + o * rowBytes;
    float acc[MATVEC_MAX_TOKENS];
#pragma unroll
    for (int t = 0; t < MATVEC_MAX_TOKENS; t++) {
        acc[t] = 0.f;
    }
    int units = (cols + 31) / 32;
    for (int u = lane; u < units; u += WARP_SIZE) {
        float y[32];
        dequant_unit(type, row, u, cols, y);
        int count = min(32, cols - 32 * u);
#pragma unroll
        for (int t = 0; t < MATVEC_MAX_TOKENS; t++) {
            if (t < tokens) {
                const float* xt = x + (long long) t * cols + 32 * u;
                float s = 0.f;
                for (int k = 0; k < count; k++) {
                    s = fmaf(y[k], xt[k], s);
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
