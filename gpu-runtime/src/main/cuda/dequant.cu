// Embedding lookup (rows of a quantized table to f32) and the element type conversions of
// f16 buffers (a KV cache stored in f16, ElementType.F16).

#include "dequant.cuh"

// out[t][c] = dequantized element c of row tokens[t] of the table, for t < n; rows of `cols`
// elements, one group of 8 elements per thread. Token ids were checked on the host.
extern "C" __global__ void embed_rows(int type, const uint8_t* __restrict__ w, long long rowBytes, int cols,
                                      const int* __restrict__ tokens, int n, float* __restrict__ out) {
    int groupsPerRow = (cols + 7) / 8;
    long long total = (long long) n * groupsPerRow;
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < total;
         i += (long long) gridDim.x * blockDim.x) {
        int t = (int) (i / groupsPerRow);
        int g = (int) (i % groupsPerRow);
        float y[8];
        dequant8(type, w + tokens[t] * rowBytes, g, cols, y);
        float* dst = out + (long long) t * cols + 8 * g;
        int count = min(8, cols - 8 * g);
        for (int k = 0; k < count; k++) {
            dst[k] = y[k];
        }
    }
}

// out[i] = x[i] rounded to f16 (nearest even, saturating at +-65504), i < n.
extern "C" __global__ void f32_to_f16(const float* __restrict__ x, long long n, __half* __restrict__ out) {
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n;
         i += (long long) gridDim.x * blockDim.x) {
        out[i] = half_sat(x[i]);
    }
}

// out[i] = x[i], i < n.
extern "C" __global__ void f16_to_f32(const __half* __restrict__ x, long long n, float* __restrict__ out) {
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n;
         i += (long long) gridDim.x * blockDim.x) {
        out[i] = __half2float(x[i]);
    }
}
