// Flash attention on tensor cores (WMMA, f16 inputs, f32 accumulate) with an online softmax,
// causal, over a token-major f32 or f16 KV cache: 64 queries x 1 head per block of 4 warps, keys
// in tiles of 32. Dense (every key up to the query) for Backend.attention, or over the key blocks a
// block mask selects for PflashOps.sparseAttention.
#pragma once

#include <mma.h>

#include "common.cuh"

using namespace nvcuda;

#define FA_BQ 64
#define FA_BK 32
#define FA_WARPS 4
#define FA_SP (FA_BK + 4)  // f32 score pitch
#define FA_PP (FA_BK + 8)  // f16 probability pitch

// Shared memory of the flash kernel for head dim D, in bytes (the host computes the same sum).
// The f16 staging of Q is needed only until each warp holds its queries in fragments, so the
// f32 output rows take the same bytes afterwards.
template <int D>
struct FlashLayout {
    static constexpr int QP = D + 8;  // f16 pitch of Q, K and V rows
    static constexpr int OP = D + 4;  // f32 pitch of output rows
    static constexpr int Q_BYTES = FA_BQ * QP * 2;
    static constexpr int K_BYTES = FA_BK * QP * 2;
    static constexpr int S_BYTES = FA_WARPS * 16 * FA_SP * 4;
    static constexpr int P_BYTES = FA_WARPS * 16 * FA_PP * 2;
    static constexpr int O_BYTES = FA_WARPS * 16 * OP * 4;
    static constexpr int L_BYTES = FA_WARPS * 16 * 4;
    static constexpr int QO_BYTES = Q_BYTES > O_BYTES ? Q_BYTES : O_BYTES;
    static constexpr int TOTAL = QO_BYTES + 2 * K_BYTES + S_BYTES + P_BYTES + L_BYTES;
};

// The key blocks a block mask selects, in compressed rows: row (h * queryBlocks + b) lists, in
// maskList[maskOffsets[row] .. maskOffsets[row + 1]), the key blocks of query block
// firstQueryBlock + b, ascending; blocks are blockTokens keys. A null list means dense.
struct KeyBlocks {
    const int* offsets;
    const int* list;
    int blockTokens;
    int firstQueryBlock;
    int queryBlocks;
};

// A range of keys of a split (dense) flash attention: keys [split * keysPerSplit, ...) of each
// query's causal range, split = blockIdx.z. With one split the block writes normalized output;
// with more, it writes (max, sum, unnormalized output[D]) of query (t, h) to
// partial[((t * heads + h) * splits + split) * (D + 2)] for attention_combine.
struct KeySplit {
    int keysPerSplit;
    float* partial;
};

// Query i of the chunk is cache row firstIndex + i and sees keys up to that row. With a mask,
// the 64 queries of a block must lie in one mask block (blockTokens a multiple of 64, firstIndex
// a multiple of blockTokens). Keys and values are f32, or f16 when kvHalf != 0.
template <int D>
__device__ __forceinline__ void flash_attention(const float* __restrict__ q, const void* __restrict__ k,
                                                const void* __restrict__ v, int kvHalf, int tokens, int firstIndex,
                                                int heads, int kvHeads, float scale, float* __restrict__ out,
                                                KeyBlocks mask, KeySplit split) {
    typedef FlashLayout<D> L;
    extern __shared__ __align__(128) unsigned char fa_smem[];
    __half* qs = (__half*) fa_smem;
    float* os = (float*) fa_smem;
    __half* ks = (__half*) (fa_smem + L::QO_BYTES);
    __half* vs = (__half*) (fa_smem + L::QO_BYTES + L::K_BYTES);
    float* ss = (float*) (fa_smem + L::QO_BYTES + 2 * L::K_BYTES);
    __half* ps = (__half*) (fa_smem + L::QO_BYTES + 2 * L::K_BYTES + L::S_BYTES);
    float* ls = (float*) (fa_smem + L::QO_BYTES + 2 * L::K_BYTES + L::S_BYTES + L::P_BYTES);

    int h = blockIdx.y;
    int g = h / (heads / kvHeads);
    int q0 = blockIdx.x * FA_BQ;
    int qDim = heads * D;
    int kvDim = kvHeads * D;
    int warp = threadIdx.x / WARP_SIZE;
    int lane = threadIdx.x % WARP_SIZE;

    // Scaled queries of the block to f16; rows past the chunk are zero.
    for (int i = threadIdx.x; i < FA_BQ * D; i += blockDim.x) {
        int r = i / D;
        int d = i % D;
        float val = q0 + r < tokens ? q[(long long) (q0 + r) * qDim + h * D + d] * scale : 0.f;
        qs[r * L::QP + d] = half_sat(val);
    }
    __syncthreads();

    wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> qf[D / 16];
#pragma unroll
    for (int kk = 0; kk < D / 16; kk++) {
        wmma::load_matrix_sync(qf[kk], qs + warp * 16 * L::QP + 16 * kk, L::QP);
    }
    __syncthreads();  // every warp has its queries: the output rows may take the staging bytes
    float* ow = os + warp * 16 * L::OP;
    for (int i = lane; i < 16 * D; i += WARP_SIZE) {
        ow[(i / D) * L::OP + i % D] = 0.f;
    }

    // This lane's share of the online softmax: row r of the warp's 16, columns part*16 .. +15.
    int r = lane >> 1;
    int part = lane & 1;
    int qi = q0 + warp * 16 + r;
    int qRow = qi < tokens ? firstIndex + qi : -1;  // -1: a padding row sees no key
    float mRow = NEG_INF;
    float lRow = 0.f;
    int warpLastRow = firstIndex + min(q0 + warp * 16 + 15, tokens - 1);
    int keyEnd = firstIndex + min(q0 + FA_BQ, tokens);
    float* sw = ss + warp * 16 * FA_SP;
    __half* pw = ps + warp * 16 * FA_PP;

    // Key ranges: [0, keyEnd) when dense, else one range per selected key block.
    int segments = 1;
    int denseStart = 0;
    int denseEnd = keyEnd;
    if (gridDim.z > 1) {
        denseStart = blockIdx.z * split.keysPerSplit;
        denseEnd = min(denseStart + split.keysPerSplit, keyEnd);
    }
    const int* selected = nullptr;
    if (mask.list != nullptr) {
        int row = h * mask.queryBlocks + (firstIndex + q0) / mask.blockTokens - mask.firstQueryBlock;
        selected = mask.list + mask.offsets[row];
        segments = mask.offsets[row + 1] - mask.offsets[row];
    }
    for (int seg = 0; seg < segments; seg++) {
        int segStart = selected == nullptr ? denseStart : selected[seg] * mask.blockTokens;
        int segEnd = selected == nullptr ? denseEnd : min(segStart + mask.blockTokens, keyEnd);
        for (int kb = segStart; kb < segEnd; kb += FA_BK) {
            __syncthreads();  // every warp is done with the previous key tile
            for (int i = threadIdx.x; i < FA_BK * D; i += blockDim.x) {
                int j = i / D;
                int d = i % D;
                bool valid = kb + j < segEnd;
                long long at = (long long) (kb + j) * kvDim + g * D + d;
                if (kvHalf) {
                    ks[j * L::QP + d] = valid ? ((const __half*) k)[at] : __float2half_rn(0.f);
                    vs[j * L::QP + d] = valid ? ((const __half*) v)[at] : __float2half_rn(0.f);
                } else {
                    ks[j * L::QP + d] = half_sat(valid ? ((const float*) k)[at] : 0.f);
                    vs[j * L::QP + d] = half_sat(valid ? ((const float*) v)[at] : 0.f);
                }
            }
            __syncthreads();
            if (kb > warpLastRow) {
                continue;  // every key of the tile is later than every query of this warp
            }

            // S = Q K^T for the warp's 16 queries and the tile's 32 keys.
#pragma unroll
            for (int n = 0; n < FA_BK / 16; n++) {
                wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::col_major> kf;
                wmma::fragment<wmma::accumulator, 16, 16, 16, float> sf;
                wmma::fill_fragment(sf, 0.f);
#pragma unroll
                for (int kk = 0; kk < D / 16; kk++) {
                    wmma::load_matrix_sync(kf, ks + 16 * n * L::QP + 16 * kk, L::QP);
                    wmma::mma_sync(sf, qf[kk], kf, sf);
                }
                wmma::store_matrix_sync(sw + 16 * n, sf, FA_SP, wmma::mem_row_major);
            }
            __syncwarp();

            // Online softmax of row r over this tile; P to f16, the row's output rescaled.
            float sv[16];
            float mx = NEG_INF;
#pragma unroll
            for (int c = 0; c < 16; c++) {
                int key = kb + part * 16 + c;
                sv[c] = key <= qRow && key < segEnd ? sw[r * FA_SP + part * 16 + c] : NEG_INF;
                mx = fmaxf(mx, sv[c]);
            }
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
            float mNew = fmaxf(mRow, mx);
            float alpha = exp_diff(mRow, mNew);
            float sum = 0.f;
#pragma unroll
            for (int c = 0; c < 16; c++) {
                __half p = __float2half_rn(sv[c] == NEG_INF ? 0.f : __expf(sv[c] - mNew));
                pw[r * FA_PP + part * 16 + c] = p;
                sum += __half2float(p);  // normalize by what the P x V product multiplies
            }
            sum += __shfl_xor_sync(0xffffffffu, sum, 1);
            lRow = lRow * alpha + sum;
            mRow = mNew;
            for (int d = part * (D / 2); d < (part + 1) * (D / 2); d++) {
                ow[r * L::OP + d] *= alpha;
            }
            __syncwarp();

            // O += P V.
#pragma unroll
            for (int n = 0; n < D / 16; n++) {
                wmma::fragment<wmma::accumulator, 16, 16, 16, float> of;
                wmma::load_matrix_sync(of, ow + 16 * n, L::OP, wmma::mem_row_major);
#pragma unroll
                for (int kk = 0; kk < FA_BK / 16; kk++) {
                    wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> pf;
                    wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::row_major> vf;
                    wmma::load_matrix_sync(pf, pw + 16 * kk, FA_PP);
                    wmma::load_matrix_sync(vf, vs + 16 * kk * L::QP + 16 * n, L::QP);
                    wmma::mma_sync(of, pf, vf, of);
                }
                wmma::store_matrix_sync(ow + 16 * n, of, L::OP, wmma::mem_row_major);
            }
            __syncwarp();
        }
    }

    if (gridDim.z > 1) {
        float* dst = split.partial + (((long long) qi * heads + h) * gridDim.z + blockIdx.z) * (D + 2);
        if (qi < tokens) {
            if (part == 0) {
                dst[0] = mRow;
                dst[1] = lRow;
            }
            for (int d = part * (D / 2); d < (part + 1) * (D / 2); d++) {
                dst[2 + d] = ow[r * L::OP + d];
            }
        }
        return;
    }
    if (part == 0) {
        ls[warp * 16 + r] = lRow;
    }
    __syncwarp();
    for (int i = lane; i < 16 * D; i += WARP_SIZE) {
        int row = i / D;
        int d = i % D;
        int query = q0 + warp * 16 + row;
        if (query < tokens) {
            out[(long long) query * qDim + h * D + d] = ow[row * L::OP + d] / ls[warp * 16 + row];
        }
    }
}

