// Attention of one query and up to ROW_GROUP query heads that share a kv head, in f32, by a block
// of ROW_WARPS warps: each warp takes every ROW_WARPS-th key of the ranges it is given, reads
// the key and value rows once for all the heads, and keeps each head's online softmax (running
// max m, sum l, unnormalized output o spread over the lanes, element d at lane d % 32, slot
// d / 32 of S); the warps' states are merged at the end. Head dim at most 32 * S (S = ROW_SLOTS:
// ROW_MAX_DIM; fewer slots, fewer registers, for heads of 128); keys and values f32, or f16 when
// kvHalf != 0.
#pragma once

#include "common.cuh"

#define ROW_WARPS 4
#define ROW_MAX_DIM 256
#define ROW_SLOTS (ROW_MAX_DIM / WARP_SIZE)
#define ROW_GROUP 4

template <int S>
struct RowState {
    float q[S];
    float o[S];
    float m;
    float l;
};

template <int S>
__device__ __forceinline__ void row_start(RowState<S>& s, const float* q, int headDim, float scale) {
    int lane = threadIdx.x % WARP_SIZE;
#pragma unroll
    for (int i = 0; i < S; i++) {
        int d = lane + WARP_SIZE * i;
        s.q[i] = d < headDim ? q[d] * scale : 0.f;
        s.o[i] = 0.f;
    }
    s.m = NEG_INF;
    s.l = 0.f;
}

// Keys [from, to) for the first `count` (<= G) states: rows of the cache at stride kvDim, the kv
// head at offset `head`.
template <int S, int G>
__device__ __forceinline__ void row_accumulate(RowState<S> (&s)[G], int count, const void* __restrict__ k,
                                               const void* __restrict__ v, int kvHalf, int from, int to, int kvDim,
                                               int head, int headDim) {
    int warp = threadIdx.x / WARP_SIZE;
    int lane = threadIdx.x % WARP_SIZE;
    for (int j = from + warp; j < to; j += ROW_WARPS) {
        long long base = (long long) j * kvDim + head;
        float kr[S];
        float vr[S];
#pragma unroll
        for (int i = 0; i < S; i++) {
            int d = lane + WARP_SIZE * i;
            kr[i] = d < headDim ? kv_load(k, base + d, kvHalf) : 0.f;
            vr[i] = d < headDim ? kv_load(v, base + d, kvHalf) : 0.f;
        }
#pragma unroll
        for (int x = 0; x < G; x++) {
            if (x < count) {
                float dot = 0.f;
#pragma unroll
                for (int i = 0; i < S; i++) {
                    dot = fmaf(s[x].q[i], kr[i], dot);
                }
                dot = warp_sum(dot);
                float mNew = fmaxf(s[x].m, dot);
                float alpha = exp_diff(s[x].m, mNew);
                float p = __expf(dot - mNew);
                s[x].l = s[x].l * alpha + p;
#pragma unroll
                for (int i = 0; i < S; i++) {
                    s[x].o[i] = s[x].o[i] * alpha + p * vr[i];
                }
                s[x].m = mNew;
            }
        }
    }
}

// Merges the warps' states. With `normalized`, dst[d] = output[d] (d < headDim); otherwise dst
// gets (max, sum, unnormalized output[headDim]) for a later merge across blocks. May be called
// again for another state right after.
template <int S>
__device__ __forceinline__ void row_finish(const RowState<S>& s, int headDim, bool normalized, float* dst) {
    __shared__ float wm[ROW_WARPS];
    __shared__ float wl[ROW_WARPS];
    __shared__ float wo[ROW_WARPS][ROW_MAX_DIM];
    int warp = threadIdx.x / WARP_SIZE;
    int lane = threadIdx.x % WARP_SIZE;
    __syncthreads();  // a previous call is done reading
    if (lane == 0) {
        wm[warp] = s.m;
        wl[warp] = s.l;
    }
#pragma unroll
    for (int i = 0; i < S; i++) {
        int d = lane + WARP_SIZE * i;
        if (d < headDim) {
            wo[warp][d] = s.o[i];
        }
    }
    __syncthreads();
    float mAll = NEG_INF;
    for (int w = 0; w < ROW_WARPS; w++) {
        mAll = fmaxf(mAll, wm[w]);
    }
    float lAll = 0.f;
    for (int w = 0; w < ROW_WARPS; w++) {
        lAll += wl[w] * exp_diff(wm[w], mAll);
    }
    for (int d = threadIdx.x; d < headDim; d += blockDim.x) {
        float acc = 0.f;
        for (int w = 0; w < ROW_WARPS; w++) {
            acc += wo[w][d] * exp_diff(wm[w], mAll);
        }
        if (normalized) {
            dst[d] = acc / lAll;
        } else {
            dst[2 + d] = acc;
        }
    }
    if (!normalized && threadIdx.x == 0) {
        dst[0] = mAll;
        dst[1] = lAll;
    }
}
