// Causal grouped-query attention over a token-major f32 KV cache (Backend.attention): query t of
// a chunk is cache row firstIndex + t and sees rows 0 .. firstIndex + t; query head h reads kv
// head h / (heads / kvHeads).
//  - flash_attention_d64 / _d128: prefill chunks, flash attention on tensor cores (WMMA, f16
//    inputs, f32 accumulate) with an online softmax, 64 queries x 1 head per block;
//  - attention_split + attention_combine: any head dim up to 256, f32, one block per (query,
//    head, key range), for decode steps (split over the cache so long contexts fill the GPU).
// Flash attention itself is in flash.cuh, the f32 row attention in row_attention.cuh: the PFlash
// sparse forward (pflash.cu) uses both.

#include "flash.cuh"
#include "row_attention.cuh"

// Grid (ceil(tokens / 64), heads), 128 threads, FlashLayout<D>::TOTAL bytes of dynamic shared memory.
extern "C" __global__ void __launch_bounds__(FA_WARPS * WARP_SIZE)
    flash_attention_d64(const float* q, const float* k, const float* v, int tokens, int firstIndex, int heads,
                        int kvHeads, float scale, float* out) {
    flash_attention<64>(q, k, v, tokens, firstIndex, heads, kvHeads, scale, out, KeyBlocks{nullptr, nullptr, 1, 0, 0});
}

extern "C" __global__ void __launch_bounds__(FA_WARPS * WARP_SIZE)
    flash_attention_d128(const float* q, const float* k, const float* v, int tokens, int firstIndex, int heads,
                         int kvHeads, float scale, float* out) {
    flash_attention<128>(q, k, v, tokens, firstIndex, heads, kvHeads, scale, out, KeyBlocks{nullptr, nullptr, 1, 0, 0});
}

// Attention of query (t, h) = blockIdx.x over keys [split * keysPerSplit, ...) of its causal range,
// split = blockIdx.y. With one split the normalized output goes to out; with more, each split
// writes (max, sum, unnormalized output[headDim]) to partial[(blockIdx.x * splits + split) *
// (headDim + 2)] for attention_combine. ROW_WARPS * 32 threads; headDim <= ROW_MAX_DIM.
extern "C" __global__ void __launch_bounds__(ROW_WARPS * WARP_SIZE)
    attention_split(const float* __restrict__ q, const float* __restrict__ k, const float* __restrict__ v, int tokens,
                    int firstIndex, int heads, int kvHeads, int headDim, float scale, int keysPerSplit,
                    float* __restrict__ out, float* __restrict__ partial) {
    int t = blockIdx.x / heads;
    int h = blockIdx.x % heads;
    int g = h / (heads / kvHeads);
    int split = blockIdx.y;
    RowState s;
    row_start(s, q + (long long) t * heads * headDim + h * headDim, headDim, scale);
    int from = split * keysPerSplit;
    int to = min(from + keysPerSplit, firstIndex + t + 1);
    row_accumulate(s, k, v, from, to, kvHeads * headDim, g * headDim, headDim);
    bool single = gridDim.y == 1;
    row_finish(s, headDim, single,
               single ? out + (long long) t * heads * headDim + h * headDim
                      : partial + ((long long) blockIdx.x * gridDim.y + split) * (headDim + 2));
}

// out for query (t, h) = blockIdx.x from the `splits` partial results of attention_split.
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
