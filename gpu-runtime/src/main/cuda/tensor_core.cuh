// One warp-wide tensor-core product in the register fragments PTX documents (PTX ISA, "Matrix
// Fragments for mma.m16n8k16 with floating point type"), so that a kernel can keep scores and
// probabilities in registers: WMMA's fragment layout is unspecified. mma.m16n8k16 with f16
// inputs needs PTX ISA 7.0 and sm_80.
#pragma once

#include "common.cuh"

// c += A B for one warp: A 16x16 f16 (row-major), B 16x8 f16 (column-major), c 16x8 f32. With
// r = lane / 4 and k = 2 * (lane % 4), a lane holds, two f16 to a register, low half first:
//   a[0] = A[r][k, k+1]      a[1] = A[r+8][k, k+1]    a[2] = A[r][k+8, k+9]    a[3] = A[r+8][k+8, k+9]
//   b[0] = B[k, k+1][r]      b[1] = B[k+8, k+9][r]
//   c[0], c[1] = C[r][k, k+1]                         c[2], c[3] = C[r+8][k, k+1]
__device__ __forceinline__ void mma_16x8x16(float c[4], const uint32_t a[4], const uint32_t b[2]) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%0, %1, %2, %3};"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// Two f16 in one register, lo in the low half: the element order of the fragments above.
__device__ __forceinline__ uint32_t pack_halves(__half lo, __half hi) {
    return (uint32_t) __half_as_ushort(lo) | ((uint32_t) __half_as_ushort(hi) << 16);
}

// Two consecutive f16 of shared memory (4-byte aligned) as one register.
__device__ __forceinline__ uint32_t load_halves(const __half* p) {
    return *(const uint32_t*) p;
}
