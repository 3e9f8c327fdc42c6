// The PFlash ops (PflashOps, PFLASH.md): FlashPrefill block-sparse attention (mean keys, block
// scores, block selection, sparse forward), tail-attention scoring (tail logits, softmax
// probabilities folded into a running maximum over heads and layers), score smoothing and chunk
// scores. Keys and values are token-major rows of kvHeads * headDim elements, f32 or, where
// kvHalf != 0, f16 (a KV cache of ElementType.F16); queries rows of heads * headDim floats;
// query head h reads kv head h / (heads / kvHeads).

#include "flash.cuh"
#include "row_attention.cuh"

// means[n][c] = mean of key rows [n * blockTokens, min((n + 1) * blockTokens, tokens)), for
// n = firstBlock + blockIdx.x; rows summed in order, then scaled by the reciprocal count.
extern "C" __global__ void block_mean_keys(const void* __restrict__ keys, int kvHalf, int tokens, int firstBlock,
                                           int blockTokens, int kvDim, float* __restrict__ means) {
    int n = firstBlock + blockIdx.x;
    int first = n * blockTokens;
    int last = min(first + blockTokens, tokens);
    float inv = 1.f / (float) (last - first);
    for (int c = threadIdx.x; c < kvDim; c += blockDim.x) {
        float sum = 0.f;
        for (int j = first; j < last; j++) {
            sum += kv_load(keys, (long long) j * kvDim + c, kvHalf);
        }
        means[(long long) n * kvDim + c] = sum * inv;
    }
}

#define SCORE_THREADS 256
#define SCORE_CHUNK 16
#define SCORE_MAX_DIM 256

// FlashPrefill block scores of query block b = blockIdx.x (tokens firstIndex + b * blockTokens ..)
// and head h = blockIdx.y: scores[(h * queryBlocks + b) * keyBlocks + n] = log sum_i
// exp(scale * q_i . means[n]) over the block's query rows i, for key blocks n <= m (m = the
// block's index in the sequence), -inf for n > m. One thread per query row (blockTokens <= 256);
// D > 0 keeps the row in registers, D == 0 reads it from memory for any head dim <= 256. Means
// of SCORE_CHUNK key blocks at a time are staged in shared memory, their dots with every row too,
// and each warp reduces some of the chunk's columns.
template <int D>
__device__ __forceinline__ void block_scores(const float* __restrict__ q, int tokens, int firstIndex,
                                             const float* __restrict__ means, int keyBlocks, int heads, int kvHeads,
                                             int headDim, float scale, int blockTokens, float* __restrict__ scores) {
    __shared__ float meanTile[SCORE_CHUNK][SCORE_MAX_DIM];
    __shared__ float dots[SCORE_CHUNK][SCORE_THREADS];
    int queryBlocks = gridDim.x;
    int b = blockIdx.x;
    int h = blockIdx.y;
    int g = h / (heads / kvHeads);
    int dim = D > 0 ? D : headDim;
    int kvDim = kvHeads * dim;
    int m = firstIndex / blockTokens + b;
    int firstRow = b * blockTokens;
    int nq = min(blockTokens, tokens - firstRow);
    int i = threadIdx.x;
    bool valid = i < nq;
    const float* qi = q + (long long) (firstRow + (valid ? i : 0)) * heads * dim + h * dim;
    float qr[D > 0 ? D : 1];
    if (D > 0) {
#pragma unroll
        for (int d = 0; d < (D > 0 ? D : 1); d++) {
            qr[d] = valid ? qi[d] * scale : 0.f;
        }
    }
    int warp = threadIdx.x / WARP_SIZE;
    int lane = threadIdx.x % WARP_SIZE;
    int warps = blockDim.x / WARP_SIZE;
    float* row = scores + ((long long) h * queryBlocks + b) * keyBlocks;

    for (int n0 = 0; n0 <= m; n0 += SCORE_CHUNK) {
        int count = min(SCORE_CHUNK, m + 1 - n0);
        __syncthreads();
        for (int e = threadIdx.x; e < count * dim; e += blockDim.x) {
            meanTile[e / dim][e % dim] = means[(long long) (n0 + e / dim) * kvDim + g * dim + e % dim];
        }
        __syncthreads();
        for (int c = 0; c < count; c++) {
            float s = 0.f;
            if (D > 0) {
#pragma unroll
                for (int d = 0; d < (D > 0 ? D : 1); d++) {
                    s = fmaf(qr[d], meanTile[c][d], s);
                }
            } else if (valid) {
                for (int d = 0; d < dim; d++) {
                    s = fmaf(qi[d] * scale, meanTile[c][d], s);
                }
            }
            dots[c][i] = valid ? s : NEG_INF;
        }
        __syncthreads();
        for (int c = warp; c < count; c += warps) {
            float mx = NEG_INF;
            for (int r = lane; r < blockDim.x; r += WARP_SIZE) {
                mx = fmaxf(mx, dots[c][r]);
            }
            mx = warp_max(mx);
            float sum = 0.f;
            for (int r = lane; r < blockDim.x; r += WARP_SIZE) {
                sum += dots[c][r] == NEG_INF ? 0.f : expf(dots[c][r] - mx);
            }
            sum = warp_sum(sum);
            if (lane == 0) {
                row[n0 + c] = mx + logf(sum);
            }
        }
    }
    for (int n = m + 1 + threadIdx.x; n < keyBlocks; n += blockDim.x) {
        row[n] = NEG_INF;
    }
}

// Grid (query blocks, heads), SCORE_THREADS threads.
extern "C" __global__ void __launch_bounds__(SCORE_THREADS)
    block_scores_d64(const float* q, int tokens, int firstIndex, const float* means, int keyBlocks, int heads,
                     int kvHeads, int headDim, float scale, int blockTokens, float* scores) {
    block_scores<64>(q, tokens, firstIndex, means, keyBlocks, heads, kvHeads, headDim, scale, blockTokens, scores);
}

extern "C" __global__ void __launch_bounds__(SCORE_THREADS)
    block_scores_d128(const float* q, int tokens, int firstIndex, const float* means, int keyBlocks, int heads,
                      int kvHeads, int headDim, float scale, int blockTokens, float* scores) {
    block_scores<128>(q, tokens, firstIndex, means, keyBlocks, heads, kvHeads, headDim, scale, blockTokens, scores);
}

extern "C" __global__ void __launch_bounds__(SCORE_THREADS)
    block_scores_any(const float* q, int tokens, int firstIndex, const float* means, int keyBlocks, int heads,
                     int kvHeads, int headDim, float scale, int blockTokens, float* scores) {
    block_scores<0>(q, tokens, firstIndex, means, keyBlocks, heads, kvHeads, headDim, scale, blockTokens, scores);
}

// The FlashPrefill rule (BlockSparsity.keeps) for query block m = firstQueryBlock + blockIdx.x and
// head blockIdx.y, as bits: bit n % 32 of words[row * wordsPerRow + n / 32] is set when key
// block n is kept. The row's best score is taken over n <= m, the alpha test in double.
extern "C" __global__ void select_blocks(const float* __restrict__ scores, int queryBlocks, int keyBlocks,
                                         int firstQueryBlock, int totalBlocks, double alpha, int sinkBlocks,
                                         int windowBlocks, int denseLastBlocks, unsigned int* __restrict__ words,
                                         int wordsPerRow) {
    __shared__ float scratch[32];
    int b = blockIdx.x;
    int h = blockIdx.y;
    int m = firstQueryBlock + b;
    long long row = (long long) h * queryBlocks + b;
    const float* s = scores + row * keyBlocks;
    float mx = NEG_INF;
    for (int n = threadIdx.x; n <= m; n += blockDim.x) {
        mx = fmaxf(mx, s[n]);
    }
    mx = block_max(mx, scratch);
    bool denseRow = m >= totalBlocks - denseLastBlocks;
    for (int w = threadIdx.x; w < wordsPerRow; w += blockDim.x) {
        unsigned int bits = 0;
        for (int bit = 0; bit < 32; bit++) {
            int n = 32 * w + bit;
            if (n > m) {
                break;
            }
            bool keep = n < sinkBlocks || m - n < windowBlocks || denseRow || alpha == 0.0
                        || exp((double) s[n] - (double) mx) >= alpha;
            if (keep) {
                bits |= 1u << bit;
            }
        }
        words[row * wordsPerRow + w] = bits;
    }
}

// Sparse forward on tensor cores: as flash_attention_d64/_d128 over the key blocks of the mask.
extern "C" __global__ void __launch_bounds__(FA_WARPS * WARP_SIZE, FA_D64_BLOCKS_PER_SM)
    sparse_flash_attention_d64(const float* q, const void* k, const void* v, int kvHalf, int tokens, int firstIndex,
                               int heads, int kvHeads, float scale, float* out, const int* maskOffsets,
                               const int* maskList, int blockTokens, int firstQueryBlock, int queryBlocks) {
    flash_attention<64>(q, k, v, kvHalf, tokens, firstIndex, heads, kvHeads, scale, out,
                        KeyBlocks{maskOffsets, maskList, blockTokens, firstQueryBlock, queryBlocks},
                        KeySplit{0, nullptr});
}

extern "C" __global__ void __launch_bounds__(FA_WARPS * WARP_SIZE)
    sparse_flash_attention_d128(const float* q, const void* k, const void* v, int kvHalf, int tokens, int firstIndex,
                                int heads, int kvHeads, float scale, float* out, const int* maskOffsets,
                                const int* maskList, int blockTokens, int firstQueryBlock, int queryBlocks) {
    flash_attention<128>(q, k, v, kvHalf, tokens, firstIndex, heads, kvHeads, scale, out,
                         KeyBlocks{maskOffsets, maskList, blockTokens, firstQueryBlock, queryBlocks},
                         KeySplit{0, nullptr});
}

// Sparse forward in f32 for any block size and head dim <= 256: query (t, h) = blockIdx.x over
// the selected key blocks of its query block, keys up to its own row.
extern "C" __global__ void __launch_bounds__(ROW_WARPS * WARP_SIZE)
    sparse_attention_rows(const float* __restrict__ q, const void* __restrict__ k, const void* __restrict__ v,
                          int kvHalf, int tokens, int firstIndex, int heads, int kvHeads, int headDim, float scale,
                          float* __restrict__ out, const int* __restrict__ maskOffsets,
                          const int* __restrict__ maskList, int blockTokens, int firstQueryBlock, int queryBlocks) {
    int t = blockIdx.x / heads;
    int h = blockIdx.x % heads;
    int g = h / (heads / kvHeads);
    int token = firstIndex + t;
    long long maskRow = (long long) h * queryBlocks + token / blockTokens - firstQueryBlock;
    RowState<ROW_SLOTS> s[1];
    row_start(s[0], q + (long long) t * heads * headDim + h * headDim, headDim, scale);
    for (int e = maskOffsets[maskRow]; e < maskOffsets[maskRow + 1]; e++) {
        int from = maskList[e] * blockTokens;
        int to = min(from + blockTokens, token + 1);
        row_accumulate(s, 1, k, v, kvHalf, from, to, kvHeads * headDim, g * headDim, headDim);
    }
    row_finish(s[0], headDim, true, out + (long long) t * heads * headDim + h * headDim);
}

#define TAIL_WARPS 8

// logits[(t * heads + h) * totalKeys + firstKey + r] = scale * tailQ[t, h] . keys[r, kv(h)]: one
// warp per key row r, over every tail query and head.
extern "C" __global__ void __launch_bounds__(TAIL_WARPS * WARP_SIZE)
    tail_logits(const float* __restrict__ tailQ, int tailTokens, const void* __restrict__ keys, int kvHalf, int keyRows,
                int firstKey, int heads, int kvHeads, int headDim, float scale, int totalKeys,
                float* __restrict__ logits) {
    int warp = threadIdx.x / WARP_SIZE;
    int lane = threadIdx.x % WARP_SIZE;
    int r = blockIdx.x * TAIL_WARPS + warp;
    if (r >= keyRows) {
        return;
    }
    int group = heads / kvHeads;
    long long kr = (long long) r * kvHeads * headDim;
    for (int t = 0; t < tailTokens; t++) {
        for (int h = 0; h < heads; h++) {
            const float* qh = tailQ + (long long) t * heads * headDim + h * headDim;
            long long kh = kr + (h / group) * headDim;
            float s = 0.f;
            for (int d = lane; d < headDim; d += WARP_SIZE) {
                s = fmaf(qh[d], kv_load(keys, kh + d, kvHalf), s);
            }
            s = warp_sum(s);
            if (lane == 0) {
                logits[((long long) t * heads + h) * totalKeys + firstKey + r] = scale * s;
            }
        }
    }
}

// Softmax statistics of row (t, h) = blockIdx.x of the tail logits over its visible keys
// (totalKeys - tailTokens + t + 1 of them): stats[2 * row] = max, stats[2 * row + 1] = 1 / sum exp.
extern "C" __global__ void tail_softmax_stats(const float* __restrict__ logits, int tailTokens, int heads,
                                              int totalKeys, float* __restrict__ stats) {
    __shared__ float scratch[32];
    int row = blockIdx.x;
    int t = row / heads;
    int visible = totalKeys - tailTokens + t + 1;
    const float* l = logits + (long long) row * totalKeys;
    float mx = NEG_INF;
    for (int j = threadIdx.x; j < visible; j += blockDim.x) {
        mx = fmaxf(mx, l[j]);
    }
    mx = block_max(mx, scratch);
    float sum = 0.f;
    for (int j = threadIdx.x; j < visible; j += blockDim.x) {
        sum += expf(l[j] - mx);
    }
    sum = block_sum(sum, scratch);
    if (threadIdx.x == 0) {
        stats[2 * row] = mx;
        stats[2 * row + 1] = 1.f / sum;
    }
}

// maxProbs[t * totalKeys + j] = max(itself, max over heads of the softmax probability of key j
// for tail query t), for the keys the query sees.
extern "C" __global__ void tail_probability_max(const float* __restrict__ logits, const float* __restrict__ stats,
                                                int tailTokens, int heads, int totalKeys, float* __restrict__ maxProbs) {
    long long total = (long long) tailTokens * totalKeys;
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < total;
         i += (long long) gridDim.x * blockDim.x) {
        int t = (int) (i / totalKeys);
        int j = (int) (i % totalKeys);
        if (j >= totalKeys - tailTokens + t + 1) {
            continue;
        }
        float best = maxProbs[i];
        for (int h = 0; h < heads; h++) {
            long long row = (long long) t * heads + h;
            float p = expf(logits[row * totalKeys + j] - stats[2 * row]) * stats[2 * row + 1];
            best = fmaxf(best, p);
        }
        maxProbs[i] = best;
    }
}

// out[i] = mean of x[j] for |j - i| <= kernel / 2 and 0 <= j < n (edges divided by the taps there).
extern "C" __global__ void average_pool(const float* __restrict__ x, int n, int kernel, float* __restrict__ out) {
    int half = kernel / 2;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        int lo = max(0, i - half);
        int hi = min(n, i + half + 1);
        double sum = 0.0;
        for (int j = lo; j < hi; j++) {
            sum += x[j];
        }
        out[i] = (float) (sum / (hi - lo));
    }
}

// out[c] = mean of x[c * chunkTokens .. min((c + 1) * chunkTokens, n)).
extern "C" __global__ void chunk_means(const float* __restrict__ x, int n, int chunkTokens, float* __restrict__ out) {
    int chunks = (n + chunkTokens - 1) / chunkTokens;
    for (int c = blockIdx.x * blockDim.x + threadIdx.x; c < chunks; c += gridDim.x * blockDim.x) {
        int lo = c * chunkTokens;
        int hi = min(n, lo + chunkTokens);
        double sum = 0.0;
        for (int i = lo; i < hi; i++) {
            sum += x[i];
        }
        out[c] = (float) (sum / (hi - lo));
    }
}
