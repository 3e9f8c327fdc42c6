// Dequantization kernels: weights to f16 scratch for the tensor-core matrix multiply, embedding
// rows to f32, and f32 activations to f16.

#include "dequant.cuh"

// w: `rows` rows of `rowBytes` bytes in type `type`, each `cols` elements. out: rows x ld halfs,
// row-major; columns cols..ld-1 (ld a multiple of 32) are written as zeros so that the matrix
// multiply can run over whole k-tiles.
extern "C" __global__ void dequantize_f16(int type, const uint8_t* __restrict__ w, long long rowBytes, int rows,
                                          int cols, int ld, __half* __restrict__ out) {
    int unitsPerRow = ld / 32;
    int dataUnits = (cols + 31) / 32;
    long long total = (long long) rows * unitsPerRow;
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < total;
         i += (long long) gridDim.x * blockDim.x) {
        int r = (int) (i / unitsPerRow);
        int unit = (int) (i % unitsPerRow);
        float y[32];
        if (unit < dataUnits) {
            dequant_unit(type, w + r * rowBytes, unit, cols, y);
        } else {
#pragma unroll
            for (int k = 0; k < 32; k++) {
                y[k] = 0.f;
            }
        }
        // 32 halfs = 64 bytes = four 16-byte stores; ld is a multiple of 32, so they are aligned.
        uint4* dst = (uint4*) (out + (long long) r * ld + 32 * unit);
#pragma unroll
        for (int q = 0; q < 4; q++) {
            union {
                __half2 h[4];
                uint4 u;
            } pack;
#pragma unroll
            for (int k = 0; k < 4; k++) {
                pack.h[k] = __floats2half2_rn(y[8 * q + 2 * k], y[8 * q + 2 * k + 1]);
            }
            dst[q] = pack.u;
        }
    }
}

// out[t][c] = dequantized element c of row tokens[t] of the table, for t < n; rows of `cols`
// elements. Token ids were checked on the host.
extern "C" __global__ void embed_rows(int type, const uint8_t* __restrict__ w, long long rowBytes, int cols,
                                      const int* __restrict__ tokens, int n, float* __restrict__ out) {
    int unitsPerRow = (cols + 31) / 32;
    long long total = (long long) n * unitsPerRow;
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < total;
         i += (long long) gridDim.x * blockDim.x) {
        int t = (int) (i / unitsPerRow);
        int unit = (int) (i % unitsPerRow);
        float y[32];
        dequant_unit(type, w + tokens[t] * rowBytes, unit, cols, y);
        float* dst = out + (long long) t * cols + 32 * unit;
        int count = min(32, cols - 32 * unit);
        for (int k = 0; k < count; k++) {
            dst[k] = y[k];
        }
    }
}

// out[r][c] = half(x[r][c]) for c < cols, 0 for cols <= c < ld; x has rows of `cols` floats.
extern "C" __global__ void f32_to_f16(const float* __restrict__ x, int rows, int cols, int ld,
                                      __half* __restrict__ out) {
    long long total = (long long) rows * ld;
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < total;
         i += (long long) gridDim.x * blockDim.x) {
        int r = (int) (i / ld);
        int c = (int) (i % ld);
        out[i] = __float2half_rn(c < cols ? x[(long long) r * cols + c] : 0.f);
    }
}
