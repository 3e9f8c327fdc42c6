// Attention of one query and one head in f32, by a block of ROW_WARPS warps: each warp takes every
// ROW_WARPS-th key of the ranges it is given and keeps its own online softmax (running max m,
// sum l, unnormalized output o spread over the lanes, element d at lane d % 32, slot d / 32);
// the warps' states are merged at the end. Head dim at most ROW_MAX_DIM.
#pragma once

#include "common.cuh"

#define ROW_WARPS 4
#define ROW_MAX_DIM 256
#define ROW_SLOTS (ROW_MAX_DIM / WARP_SIZE)

struct RowState {
    float q[ROW_SLOTS];
    float o[ROW_SLOTS];
    float m;
    float l;
};

__device__ __forceinline__ void row_start(RowState& s, const float* q, int headDim, float scale) {
    int lane = threadIdx.x % WARP_SIZE;
#pragma unroll
    for (int i = 0; i < ROW_SLOTS; i++) {
        int d = lane + WARP_SIZE * i;
        s.q[i] = d < headDim ? q[d] * scale : 0.f;
        s.o[i] = 0.f;
    }
    s.m = NEG_INF;
    s.l = 0.f;
}

// Keys [from, to): rows of the cache at stride kvDim, this head's kv head at offset `head`.
__device__ __forceinline__ void row_accumulate(RowState& s, const float* __restrict__ k, const float* __restrict__ v,
                                               int from, int to, int kvDim, int head, int headDim) {
    int warp = threadIdx.x / WARP_SIZE;
    int lane = threadIdx.x % WARP_SIZE;
    for (int j = from + warp; j < to; j += ROW_WARPS) {
        const float* kp = k + (long long) j * kvDim + head;
        float dot = 0.f;
#pragma unroll
        for (int i = 0; i < ROW_SLOTS; i++) {
            int d = lane + WARP_SIZE * i;
            if (d < headDim) {
                dot = fmaf(s.q[i], kp[d], dot);
            }
        }
        dot = warp_sum(dot);
        float mNew = fmaxf(s.m, dot);
        float alpha = exp_diff(s.m, mNew);
        float p = __expf(dot - mNew);
        s.l = s.l * alpha + p;
        const float* vp = v + (long long) j * kvDim + head;
#pragma unroll
        for (int i = 0; i < ROW_SLOTS; i++) {
            int d = lane + WARP_SIZE * i;
            if (d < headDim) {
                s.o[i] = s.o[i] * alpha + p * vp[d];
            }
        }
        s.m = mNew;
    }
}

// Merges the warps' states. With `normalized`, dst[d] = output[d] (d < headDim); otherwise dst
// gets (max, sum, unnormalized output[headDim]) for a later merge across blocks.
__device__ __forceinline__ void row_finish(const RowState& s, int headDim, bool normalized, float* dst) {
    __shared__ float wm[ROW_WARPS];
    __shared__ float wl[ROW_WARPS];
    __shared__ float wo[ROW_WARPS][ROW_MAX_DIM];
    int warp = threadIdx.x / WARP_SIZE;
    int lane = threadIdx.x % WARP_SIZE;
    if (lane == 0) {
        wm[warp] = s.m;
        wl[warp] = s.l;
    }
#pragma unroll
    for (int i = 0; i < ROW_SLOTS; i++) {
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
