// Normalization, rotary embedding and the elementwise ops of the forward pass (f32).

#include "common.cuh"

#define NORM_WARPS 8

// out[r][i] = w[i] * x[r][i] / sqrt(mean_i(x[r][i]^2) + eps): one warp per row. Works in place.
extern "C" __global__ void rms_norm(const float* x, const float* __restrict__ w, int rows, int dim, float eps,
                                    float* out) {
    int warp = threadIdx.x / WARP_SIZE;
    int lane = threadIdx.x % WARP_SIZE;
    int r = blockIdx.x * NORM_WARPS + warp;
    if (r >= rows) {
        return;
    }
    const float* xr = x + (long long) r * dim;
    float ss = 0.f;
    for (int i = lane; i < dim; i += WARP_SIZE) {
        float v = xr[i];
        ss = fmaf(v, v, ss);
    }
    ss = warp_sum(ss);
    float scale = rsqrtf(ss / (float) dim + eps);
    float* o = out + (long long) r * dim;
    for (int i = lane; i < dim; i += WARP_SIZE) {
        o[i] = w[i] * (xr[i] * scale);
    }
}

// x[r][i] += bias[i] for rows x dim elements.
extern "C" __global__ void add_bias(float* x, const float* __restrict__ bias, int rows, int dim) {
    long long total = (long long) rows * dim;
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < total;
         i += (long long) gridDim.x * blockDim.x) {
        x[i] += bias[i % dim];
    }
}

// x[i] += y[i] for i < n.
extern "C" __global__ void add_inplace(float* x, const float* __restrict__ y, int n) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        x[i] += y[i];
    }
}

// out[i] = silu(gate[i]) * up[i], silu(z) = z / (1 + e^-z). Works in place (out == gate).
extern "C" __global__ void swiglu(const float* gate, const float* __restrict__ up, int n, float* out) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        float z = gate[i];
        out[i] = z / (1.f + expf(-z)) * up[i];
    }
}

// Rotates in place pair p (p < rotatedDims/2) of every head of token t by positions[t] *
// invFreq[p] radians: pairs (x[p], x[p + rotatedDims/2]) when neox, else (x[2p], x[2p+1]).
// One thread per (token, pair), looping over heads; the angle and its sine and cosine are taken
// in double precision, because positions reach 1e5 radians and more.
extern "C" __global__ void rope(float* x, int tokens, int heads, int headDim, const int* __restrict__ positions,
                                const double* __restrict__ invFreq, int rotatedDims, int neox) {
    int half = rotatedDims / 2;
    long long total = (long long) tokens * half;
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < total;
         i += (long long) gridDim.x * blockDim.x) {
        int t = (int) (i / half);
        int p = (int) (i % half);
        double s;
        double c;
        sincos((double) positions[t] * invFreq[p], &s, &c);
        float sn = (float) s;
        float cs = (float) c;
        int ia = neox ? p : 2 * p;
        int ib = neox ? p + half : 2 * p + 1;
        float* base = x + (long long) t * heads * headDim;
        for (int h = 0; h < heads; h++) {
            float* head = base + h * headDim;
            float va = head[ia];
            float vb = head[ib];
            head[ia] = va * cs - vb * sn;
            head[ib] = va * sn + vb * cs;
        }
    }
}
