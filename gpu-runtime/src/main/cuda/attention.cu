// Causal grouped-query attention over a token-major KV cache of f32 or f16 rows
// (Backend.attention): query t of a chunk is cache row firstIndex + t and sees rows
// 0 .. firstIndex + t; query head h reads kv head h / (heads / kvHeads).
//  - flash_attention_d64 / _d128: prefill chunks, flash attention on tensor cores (mma.sync, f16
//    inputs, f32 accumulate) with an online softmax, 64 queries x 1 head per block, the keys
//    split over gridDim.z blocks when a short chunk meets a long cache;
//  - attention_split (_d128: heads of up to 128): any head dim up to 256, f32, one block per (query, group of heads that
//    share a kv head, key range), for decode steps (split over the cache so long contexts fill
//    the GPU, each key row read once for the group);
//  - attention_combine merges the key ranges of either.
// Flash attention itself is in flash.cuh, the f32 row attention in row_attention.cuh: the PFlash
// sparse forward (pflash.cu) uses both.

#include "flash.cuh"
#include "row_attention.cuh"

// Grid (ceil(tokens / 64), heads, splits), 128 threads, FlashLayout<D>::TOTAL bytes of dynamic
// shared memory. With splits > 1, keys [z * keysPerSplit, ...) per block and partial results
// for attention_combine (KeySplit).
extern "C" __global__ void __launch_bounds__(FA_WARPS * WARP_SIZE, FA_D64_BLOCKS_PER_SM)
    flash_attention_d64(const float* q, const void* k, const void* v, int kvHalf, int tokens, int firstIndex,
                        int heads, int kvHeads, float scale, float* out, int keysPerSplit, float* partial) {
    flash_attention<64>(q, k, v, kvHalf, tokens, firstIndex, heads, kvHeads, scale, out,
                        KeyBlocks{nullptr, nullptr, 1, 0, 0}, KeySplit{keysPerSplit, partial});
}

extern "C" __global__ void __launch_bounds__(FA_WARPS * WARP_SIZE)
    flash_attention_d128(const float* q, const void* k, const void* v, int kvHalf, int tokens, int firstIndex,
                         int heads, int kvHeads, float scale, float* out, int keysPerSplit, float* partial) {
    flash_attention<128>(q, k, v, kvHalf, tokens, firstIndex, heads, kvHeads, scale, out,
                         KeyBlocks{nullptr, nullptr, 1, 0, 0}, KeySplit{keysPerSplit, partial});
}

// Attention of query t and heads g * group + x * headsPerBlock + i (i < headsPerBlock) over keys
// [split * keysPerSplit, ...) of its causal range, where blockIdx.x = (t * kvHeads + g) * (group /
// headsPerBlock) + x (t < tokens) and split = blockIdx.y; headsPerBlock divides group = heads / kvHeads and is
// at most ROW_GROUP. With one split the normalized output goes to out; with more, each split
// writes (max, sum, unnormalized output[headDim]) of query (t, h) to partial[((t * heads + h) *
// splits + split) * (headDim + 2)] for attention_combine. ROW_WARPS * 32 threads; headDim <= 32 * S.
template <int S>
__device__ __forceinline__ void attention_rows(const float* __restrict__ q, const void* __restrict__ k,
                                               const void* __restrict__ v, int kvHalf, int firstIndex, int heads,
                                               int kvHeads, int headDim, int headsPerBlock, float scale,
                                               int keysPerSplit, float* __restrict__ out, float* __restrict__ partial) {
    int perGroup = heads / kvHeads / headsPerBlock;
    int x = blockIdx.x % perGroup;
    int g = blockIdx.x / perGroup % kvHeads;
    int t = blockIdx.x / perGroup / kvHeads;
    int h0 = g * (heads / kvHeads) + x * headsPerBlock;
    int split = blockIdx.y;
    RowState<S> s[ROW_GROUP];
#pragma unroll
    for (int i = 0; i < ROW_GROUP; i++) {
        row_start(s[i], q + (long long) t * heads * headDim + (h0 + min(i, headsPerBlock - 1)) * headDim, headDim,
                  scale);
    }
    int from = split * keysPerSplit;
    int to = min(from + keysPerSplit, firstIndex + t + 1);
    row_accumulate(s, headsPerBlock, k, v, kvHalf, from, to, kvHeads * headDim, g * headDim, headDim);
    bool single = gridDim.y == 1;
#pragma unroll
    for (int i = 0; i < ROW_GROUP; i++) {
        if (i < headsPerBlock) {
            long long th = (long long) t * heads + h0 + i;
            row_finish(s[i], headDim, single,
                       single ? out + th * headDim : partial + (th * gridDim.y + split) * (headDim + 2));
        }
    }
}

// attention_rows for head dims up to ROW_MAX_DIM, and (fewer registers) up to 128.
extern "C" __global__ void __launch_bounds__(ROW_WARPS * WARP_SIZE)
    attention_split(const float* __restrict__ q, const void* __restrict__ k, const void* __restrict__ v, int kvHalf,
                    int tokens, int firstIndex, int heads, int kvHeads, int headDim, int headsPerBlock, float scale,
                    int keysPerSplit, float* __restrict__ out, float* __restrict__ partial) {
    attention_rows<ROW_SLOTS>(q, k, v, kvHalf, firstIndex, heads, kvHeads, headDim, headsPerBlock, scale,
                              keysPerSplit, out, partial);
}

// Six blocks per SM: at ptxas's own choice of 64 registers the kernel spills on sm_90.
extern "C" __global__ void __launch_bounds__(ROW_WARPS * WARP_SIZE, 6)
    attention_split_d128(const float* __restrict__ q, const void* __restrict__ k, const void* __restrict__ v,
                         int kvHalf, int tokens, int firstIndex, int heads, int kvHeads, int headDim, int headsPerBlock,
                         float scale, int keysPerSplit, float* __restrict__ out, float* __restrict__ partial) {
    attention_rows<128 / WARP_SIZE>(q, k, v, kvHalf, firstIndex, heads, kvHeads, headDim, headsPerBlock, scale,
                                    keysPerSplit, out, partial);
}

// out for query (t, h) = blockIdx.x = t * heads + h from the `splits` partial results of
// attention_split or a split flash attention.
extern "C" __global__ void attention_combine(const float* __restrict__ partial, int splits, int heads, int headDim,
                                             float* __restrict__ out) {
    int t = blockIdx.x / heads;
    int h = blockIdx.x % heads;
    const float* base = partial + (long long) blockIdx.x * splits * (headDim + 2);
    float mAll = NEG_INF;
    for (int s = 0; s < splits; s++) {
        mAll = fmaxf(mAll, base[s * (headDim + 2)]);
    }
    float lAll = 0.f;
    for (int s = 0; s < splits; s++) {
        lAll += base[s * (headDim + 2) + 1] * exp_diff(base[s * (headDim + 2)], mAll);
    }
    for (int d = threadIdx.x; d < headDim; d += blockDim.x) {
        float acc = 0.f;
        for (int s = 0; s < splits; s++) {
            acc += base[s * (headDim + 2) + 2 + d] * exp_diff(base[s * (headDim + 2)], mAll);
        }
        out[(long long) t * heads * headDim + h * headDim + d] = acc / lAll;
    }
}
