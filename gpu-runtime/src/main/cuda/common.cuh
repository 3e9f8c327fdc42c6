// Helpers shared by every kernel file. Kernels take plain device pointers and sizes from the
// Java side (CudaBackend); every entry point is extern "C" so that its PTX name is its C name.
#pragma once

#include <cuda_fp16.h>
#include <stdint.h>

#define WARP_SIZE 32
#define NEG_INF (-__int_as_float(0x7f800000))

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = WARP_SIZE / 2; o > 0; o >>= 1) {
        v += __shfl_xor_sync(0xffffffffu, v, o);
    }
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
    for (int o = WARP_SIZE / 2; o > 0; o >>= 1) {
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    }
    return v;
}

// exp(a - b) that is 0 when both are -inf (an empty running max meets an empty block).
__device__ __forceinline__ float exp_diff(float a, float b) {
    return a == NEG_INF ? 0.f : __expf(a - b);
}

// Unaligned little-endian reads of quantized blocks (Q8_0 and Q6_K blocks are only 2-byte aligned).
__device__ __forceinline__ float load_half(const uint8_t* p) {
    unsigned short bits = (unsigned short) (p[0] | (p[1] << 8));
    return __half2float(__ushort_as_half(bits));
}

// f32 to f16 rounded to nearest even, saturating at +-65504 where the plain conversion would give
// +-inf (and then NaN for a whole softmax row or matrix product): the rule of ElementType.F16.
__device__ __forceinline__ __half half_sat(float x) {
    return __float2half_rn(fminf(fmaxf(x, -65504.f), 65504.f));
}

// Element i of a KV cache buffer, stored as f32 (kvHalf == 0) or f16 (kvHalf != 0).
__device__ __forceinline__ float kv_load(const void* p, long long i, int kvHalf) {
    return kvHalf ? __half2float(((const __half*) p)[i]) : ((const float*) p)[i];
}

__device__ __forceinline__ float bf16_to_float(unsigned short bits) {
    return __uint_as_float(((unsigned int) bits) << 16);
}

// Reductions over a whole block (blockDim.x a multiple of 32, at most 1024); every thread gets
// the result. `scratch` holds 32 floats; the call synchronizes the block twice.
__device__ __forceinline__ float block_max(float v, float* scratch) {
    int warp = threadIdx.x / WARP_SIZE;
    int lane = threadIdx.x % WARP_SIZE;
    int warps = blockDim.x / WARP_SIZE;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) {
        scratch[warp] = v;
    }
    __syncthreads();
    float r = lane < warps ? scratch[lane] : NEG_INF;
    return warp_max(r);
}

__device__ __forceinline__ float block_sum(float v, float* scratch) {
    int warp = threadIdx.x / WARP_SIZE;
    int lane = threadIdx.x % WARP_SIZE;
    int warps = blockDim.x / WARP_SIZE;
    v = warp_sum(v);
    __syncthreads();
    if (lane == 0) {
        scratch[warp] = v;
    }
    __syncthreads();
    float r = lane < warps ? scratch[lane] : 0.f;
    return warp_sum(r);
}
