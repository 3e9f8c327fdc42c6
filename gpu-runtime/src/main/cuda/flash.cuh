// Flash attention on tensor cores (mma.sync m16n8k16, f16 inputs, f32 accumulate) with an online
// softmax, causal, over a token-major f32 or f16 KV cache: 64 queries x 1 head per block of 4 warps, keys
// in tiles of 32. Dense (every key up to the query) for Backend.attention, or over the key blocks a
// block mask selects for PflashOps.sparseAttention.
//
// Each warp owns 16 query rows for the whole key loop and keeps everything about them in
// registers: the queries (A fragments), the running output, the softmax statistics and each
// tile's scores and probabilities. In the fragment layout (tensor_core.cuh) lane l holds rows
// l / 4 and l / 4 + 8 and, of every 8 columns, 2 (l % 4) and the next, so a row's max takes two
// shuffles among 4 lanes, and the scores of two 8-key tiles are, once exponentiated to f16,
// exactly the A fragment of P for P V. Only the K and V tiles pass through shared memory, V
// transposed so that its B fragments are pairs of adjacent keys.
#pragma once

#include "common.cuh"
#include "tensor_core.cuh"

#define FA_BQ 64
#define FA_BK 32
#define FA_WARPS 4
// Blocks per SM the d64 kernels are built for: left to itself ptxas 13 gives them 96 registers
// and spills on sm_90 (PtxResourcesTest); at 4 blocks it takes about 110 and spills nothing.
#define FA_D64_BLOCKS_PER_SM 4
#define FA_VP (FA_BK + 8)  // f16 pitch of the transposed V tile: fragment loads free of bank conflicts

// Shared memory of the flash kernel for head dim D, in bytes (FlashAttentionLayout computes the
// same sum on the host): a tile of keys, row-major, and its values, transposed.
template <int D>
struct FlashLayout {
    static constexpr int KP = D + 8;  // f16 pitch of K rows: fragment loads free of bank conflicts
    static constexpr int K_BYTES = FA_BK * KP * 2;
    static constexpr int V_BYTES = D * FA_VP * 2;
    static constexpr int TOTAL = K_BYTES + V_BYTES;
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

// Keys kb .. kb + FA_BK - 1 of one kv head (column `head` of rows kvDim apart) to f16 shared
// memory, K row-major and V transposed; keys from segEnd on are zero. With f16 rows at 16-byte
// aligned addresses (`vectors`), 8 values a load; the lanes of a warp take consecutive keys, so
// that the transposed stores of V fall in distinct banks. Otherwise one value a load, f32 clamped
// to the f16 range.
template <int D>
__device__ __forceinline__ void load_key_tile(const void* __restrict__ k, const void* __restrict__ v, int kvHalf,
                                              bool vectors, int kb, int segEnd, int kvDim, int head,
                                              __half* __restrict__ ks, __half* __restrict__ vt) {
    typedef FlashLayout<D> L;
    if (vectors) {
        for (int i = threadIdx.x; i < FA_BK * D / 8; i += blockDim.x) {
            int j = i % FA_BK;
            int d = i / FA_BK * 8;
            uint4 kq = make_uint4(0, 0, 0, 0);
            uint4 vq = make_uint4(0, 0, 0, 0);
            if (kb + j < segEnd) {
                long long at = (long long) (kb + j) * kvDim + head + d;
                kq = *(const uint4*) ((const __half*) k + at);
                vq = *(const uint4*) ((const __half*) v + at);
            }
            *(uint4*) (ks + j * L::KP + d) = kq;
            unsigned int words[4] = {vq.x, vq.y, vq.z, vq.w};
#pragma unroll
            for (int x = 0; x < 8; x++) {
                vt[(d + x) * FA_VP + j] = __ushort_as_half((unsigned short) (words[x / 2] >> (16 * (x % 2))));
            }
        }
        return;
    }
    for (int i = threadIdx.x; i < FA_BK * D; i += blockDim.x) {
        int j = i / D;
        int d = i % D;
        bool valid = kb + j < segEnd;
        long long at = (long long) (kb + j) * kvDim + head + d;
        __half kh;
        __half vh;
        if (kvHalf) {
            kh = valid ? ((const __half*) k)[at] : __float2half_rn(0.f);
            vh = valid ? ((const __half*) v)[at] : __float2half_rn(0.f);
        } else {
            kh = half_sat(valid ? ((const float*) k)[at] : 0.f);
            vh = half_sat(valid ? ((const float*) v)[at] : 0.f);
        }
        ks[j * L::KP + d] = kh;
        vt[d * FA_VP + j] = vh;
    }
}

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
    __half* ks = (__half*) fa_smem;                 // ks[key * KP + d]
    __half* vt = (__half*) (fa_smem + L::K_BYTES);  // vt[d * FA_VP + key]

    int h = blockIdx.y;
    int kvHead = h / (heads / kvHeads);
    int q0 = blockIdx.x * FA_BQ;
    int qDim = heads * D;
    int kvDim = kvHeads * D;
    int warp = threadIdx.x / WARP_SIZE;
    int lane = threadIdx.x % WARP_SIZE;
    int fragRow = lane / 4;        // this lane's rows of every 16: fragRow and fragRow + 8
    int fragCol = 2 * (lane % 4);  // its columns of every 8: fragCol and fragCol + 1

    // Queries of this lane's two rows (i = 0, 1: rows fragRow + 8 i of the warp's 16).
    int qi[2];
    int qRow[2];  // the cache row a query sees up to; -1 for a padding row, which sees no key
#pragma unroll
    for (int i = 0; i < 2; i++) {
        qi[i] = q0 + warp * 16 + fragRow + 8 * i;
        qRow[i] = qi[i] < tokens ? firstIndex + qi[i] : -1;
    }

    // The warp's scaled queries in f16 A fragments, straight from global memory; padding rows zero.
    uint32_t qf[D / 16][4];
#pragma unroll
    for (int kk = 0; kk < D / 16; kk++) {
#pragma unroll
        for (int x = 0; x < 4; x++) {
            int i = x & 1;
            float lo = 0.f;
            float hi = 0.f;
            if (qi[i] < tokens) {
                const float* src = q + (long long) qi[i] * qDim + h * D + 16 * kk + 8 * (x >> 1) + fragCol;
                lo = src[0] * scale;
                hi = src[1] * scale;
            }
            qf[kk][x] = pack_halves(half_sat(lo), half_sat(hi));
        }
    }

    // The unnormalized output of the two rows (o[n]: columns 8n ..), their running max, and this
    // lane's part of their sums (the row's 4 lanes add theirs at the end).
    float o[D / 8][4];
#pragma unroll
    for (int n = 0; n < D / 8; n++) {
#pragma unroll
        for (int x = 0; x < 4; x++) {
            o[n][x] = 0.f;
        }
    }
    float mRow[2] = {NEG_INF, NEG_INF};
    float lPart[2] = {0.f, 0.f};
    int warpLastRow = firstIndex + min(q0 + warp * 16 + 15, tokens - 1);
    // Rows of f16 at 16-byte aligned addresses: every row and head offset is a multiple of 64
    // values, so only the buffers' own addresses (a slice may start anywhere) decide.
    bool kvVectors = kvHalf && ((((uintptr_t) k) | ((uintptr_t) v)) % 16) == 0;
    int keyEnd = firstIndex + min(q0 + FA_BQ, tokens);

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
            load_key_tile<D>(k, v, kvHalf, kvVectors, kb, segEnd, kvDim, kvHead * D, ks, vt);
            __syncthreads();
            if (kb > warpLastRow) {
                continue;  // every key of the tile is later than every query of this warp
            }

            // S = Q K^T: s[n] holds keys kb + 8n .. kb + 8n + 7; B[d][key] = K[key][d].
            float s[FA_BK / 8][4];
#pragma unroll
            for (int n = 0; n < FA_BK / 8; n++) {
#pragma unroll
                for (int x = 0; x < 4; x++) {
                    s[n][x] = 0.f;
                }
                const __half* kRow = ks + (8 * n + fragRow) * L::KP + fragCol;
#pragma unroll
                for (int kk = 0; kk < D / 16; kk++) {
                    uint32_t kf[2] = {load_halves(kRow + 16 * kk), load_halves(kRow + 16 * kk + 8)};
                    mma_16x8x16(s[n], qf[kk], kf);
                }
            }

            // Online softmax of both rows over this tile: masked keys to -inf, the row max over
            // the row's 4 lanes, the output and sums rescaled to it.
            float mx[2] = {NEG_INF, NEG_INF};
#pragma unroll
            for (int n = 0; n < FA_BK / 8; n++) {
#pragma unroll
                for (int x = 0; x < 4; x++) {
                    int key = kb + 8 * n + fragCol + (x & 1);
                    int i = x >> 1;
                    if (key > qRow[i] || key >= segEnd) {
                        s[n][x] = NEG_INF;
                    }
                    mx[i] = fmaxf(mx[i], s[n][x]);
                }
            }
            float alpha[2];
#pragma unroll
            for (int i = 0; i < 2; i++) {
                mx[i] = fmaxf(mx[i], __shfl_xor_sync(0xffffffffu, mx[i], 1));
                mx[i] = fmaxf(mx[i], __shfl_xor_sync(0xffffffffu, mx[i], 2));
                float mNew = fmaxf(mRow[i], mx[i]);
                alpha[i] = exp_diff(mRow[i], mNew);
                mRow[i] = mNew;
                lPart[i] *= alpha[i];
            }
#pragma unroll
            for (int n = 0; n < D / 8; n++) {
#pragma unroll
                for (int x = 0; x < 4; x++) {
                    o[n][x] *= alpha[x >> 1];
                }
            }

            // P to f16 in A fragments: keys 16kk .. 16kk + 15 are score tiles 2kk and 2kk + 1. The
            // sums add the rounded values, what the P V product multiplies.
            uint32_t pf[FA_BK / 16][4];
#pragma unroll
            for (int n = 0; n < FA_BK / 8; n++) {
#pragma unroll
                for (int i = 0; i < 2; i++) {
                    float s0 = s[n][2 * i];
                    float s1 = s[n][2 * i + 1];
                    __half p0 = __float2half_rn(s0 == NEG_INF ? 0.f : __expf(s0 - mRow[i]));
                    __half p1 = __float2half_rn(s1 == NEG_INF ? 0.f : __expf(s1 - mRow[i]));
                    lPart[i] += __half2float(p0) + __half2float(p1);
                    pf[n / 2][i + 2 * (n % 2)] = pack_halves(p0, p1);
                }
            }

            // O += P V: B[key][d] = V[key][d], read from the transposed tile.
#pragma unroll
            for (int n = 0; n < D / 8; n++) {
                const __half* vRow = vt + (8 * n + fragRow) * FA_VP + fragCol;
#pragma unroll
                for (int kk = 0; kk < FA_BK / 16; kk++) {
                    uint32_t vf[2] = {load_halves(vRow + 16 * kk), load_halves(vRow + 16 * kk + 8)};
                    mma_16x8x16(o[n], pf[kk], vf);
                }
            }
        }
    }

#pragma unroll
    for (int i = 0; i < 2; i++) {
        lPart[i] += __shfl_xor_sync(0xffffffffu, lPart[i], 1);
        lPart[i] += __shfl_xor_sync(0xffffffffu, lPart[i], 2);
    }
#pragma unroll
    for (int i = 0; i < 2; i++) {
        if (qi[i] >= tokens) {
            continue;
        }
        if (gridDim.z > 1) {
            float* dst = split.partial + (((long long) qi[i] * heads + h) * gridDim.z + blockIdx.z) * (D + 2);
            if (fragCol == 0) {
                dst[0] = mRow[i];
                dst[1] = lPart[i];
            }
#pragma unroll
            for (int n = 0; n < D / 8; n++) {
                dst[2 + 8 * n + fragCol] = o[n][2 * i];
                dst[3 + 8 * n + fragCol] = o[n][2 * i + 1];
            }
        } else {
            float* dst = out + (long long) qi[i] * qDim + h * D;
#pragma unroll
            for (int n = 0; n < D / 8; n++) {
                dst[8 * n + fragCol] = o[n][2 * i] / lPart[i];
                dst[8 * n + fragCol + 1] = o[n][2 * i + 1] / lPart[i];
            }
        }
    }
}
