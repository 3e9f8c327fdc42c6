// The ops of the qwen35 hybrid layers (QWEN35-HYBRID.md): the gated delta rule of the DeltaNet
// layers, their causal convolution with its state, their gates and gated output norm, and the
// split and sigmoid gate of gated attention. The CPU reference is CpuDeltaNet and CpuHybridOps.
#include "common.cuh"

// Warps per block of the row kernels (one warp per row) and of delta_net (one warp per column).
#define HYBRID_WARPS 4
// delta_net keeps a state column in registers: lane l holds rows l, l + 32, ... of it, so key
// heads of up to 32 * DELTA_ROWS dims.
#define DELTA_ROWS 8

__device__ __forceinline__ float sigmoid_of(float x) {
    return 1.f / (1.f + expf(-x));
}

__device__ __forceinline__ float silu_of(float x) {
    return x / (1.f + expf(-x));
}

// Each of `rows` rows of first + second floats of `packed` into a row of `first` floats of a and
// one of `second` floats of b.
extern "C" __global__ void split_rows(const float* __restrict__ packed, int rows, int first, int second,
                                      float* __restrict__ a, float* __restrict__ b) {
    int width = first + second;
    long long total = (long long) rows * width;
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < total;
         i += (long long) gridDim.x * blockDim.x) {
        long long r = i / width;
        int c = (int) (i % width);
        if (c < first) {
            a[r * first + c] = packed[i];
        } else {
            b[r * second + c - first] = packed[i];
        }
    }
}

// x[i] *= sigmoid(gate[i]).
extern "C" __global__ void sigmoid_mul(float* x, const float* __restrict__ gate, int n) {
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n;
         i += (long long) gridDim.x * blockDim.x) {
        x[i] *= sigmoid_of(gate[i]);
    }
}

// out[t][c] = silu(sum_j w[c][j] u[t - (kernel-1) + j][c]), where input rows before the first
// come from `state` (kernel - 1 rows, oldest first). The outputs do not depend on one another, so
// one thread per output; conv_state_update moves the state on afterwards.
extern "C" __global__ void causal_conv_silu(const float* __restrict__ x, int tokens, int channels,
                                            const float* __restrict__ weight, int kernel,
                                            const float* __restrict__ state, float* __restrict__ out) {
    int history = kernel - 1;
    long long total = (long long) tokens * channels;
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < total;
         i += (long long) gridDim.x * blockDim.x) {
        int t = (int) (i / channels);
        int c = (int) (i % channels);
        float sum = 0.f;
        for (int j = 0; j < kernel; j++) {
            int row = t - history + j;
            float u = row < 0 ? state[(long long) (history + row) * channels + c] : x[(long long) row * channels + c];
            sum = fmaf(weight[(long long) c * kernel + j], u, sum);
        }
        out[i] = silu_of(sum);
    }
}

// The conv state after a call of `tokens` rows: the last kernel - 1 raw inputs of state and x
// together, oldest first. One thread per channel, rows in ascending order: row r may read state
// row tokens + r, which no earlier row has overwritten.
extern "C" __global__ void conv_state_update(const float* __restrict__ x, int tokens, int channels, int kernel,
                                             float* state) {
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= channels) {
        return;
    }
    int history = kernel - 1;
    for (int r = 0; r < history; r++) {
        int row = tokens - history + r;
        state[(long long) r * channels + c] =
                row < 0 ? state[(long long) (history + row) * channels + c] : x[(long long) row * channels + c];
    }
}

// In place for tokens x heads: alpha <- softplus(alpha + dtBias[h]) * a[h], beta <- sigmoid(beta).
extern "C" __global__ void delta_net_gates(float* alpha, float* beta, const float* __restrict__ dtBias,
                                           const float* __restrict__ a, int tokens, int heads) {
    long long total = (long long) tokens * heads;
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < total;
         i += (long long) gridDim.x * blockDim.x) {
        int h = (int) (i % heads);
        float s = alpha[i] + dtBias[h];
        // log(1 + e^s) overflows in e^s long before the result differs from s.
        float softplus = s > 20.f ? s : log1pf(expf(s));
        alpha[i] = softplus * a[h];
        beta[i] = sigmoid_of(beta[i]);
    }
}

// out = rmsNorm(x) * w * silu(z), one warp per row of dim; in place when out == x.
extern "C" __global__ void rms_norm_gated(const float* x, const float* __restrict__ w, const float* __restrict__ z,
                                          int rows, int dim, float eps, float* out) {
    int warp = threadIdx.x / WARP_SIZE;
    int lane = threadIdx.x % WARP_SIZE;
    int r = blockIdx.x * HYBRID_WARPS + warp;
    if (r >= rows) {
        return;
    }
    const float* xr = x + (long long) r * dim;
    const float* zr = z + (long long) r * dim;
    float ss = 0.f;
    for (int i = lane; i < dim; i += WARP_SIZE) {
        float v = xr[i];
        ss = fmaf(v, v, ss);
    }
    ss = warp_sum(ss);
    float scale = rsqrtf(ss / (float) dim + eps);
    float* o = out + (long long) r * dim;
    for (int i = lane; i < dim; i += WARP_SIZE) {
        o[i] = w[i] * (xr[i] * scale) * silu_of(zr[i]);
    }
}

// One token's inputs to the delta rule as one lane of a warp sees them: its rows of k and q, the
// value of its warp's column, the log-decay and beta.
struct DeltaToken {
    float k[DELTA_ROWS];
    float q[DELTA_ROWS];
    float v;
    float g;
    float beta;
};

__device__ __forceinline__ void load_delta_token(DeltaToken& in, const float* __restrict__ row, int lane, int keyDim,
                                                 int queryColumn, int keyColumn, int valueColumn,
                                                 const float* __restrict__ g, const float* __restrict__ beta) {
#pragma unroll
    for (int i = 0; i < DELTA_ROWS; i++) {
        int a = lane + i * WARP_SIZE;
        in.k[i] = a < keyDim ? row[keyColumn + a] : 0.f;
        in.q[i] = a < keyDim ? row[queryColumn + a] : 0.f;
    }
    in.v = row[valueColumn];
    in.g = *g;
    in.beta = *beta;
}

// The gated delta rule, token by token, for every token of the call (decode and prefill alike).
// Columns of a value head's state S (keyDim x valueDim) evolve independently:
//   delta_b = beta (v_b - sum_a alpha S_ab k_a);  S_ab <- alpha S_ab + k_a delta_b;  o_b = sum_a S_ab q_a
// so one warp owns one column b of one head (grid: valueHeads x valueDim / HYBRID_WARPS), holds it in
// registers across all tokens, and reduces over a with shuffles; S is read and written once per call.
// The next token's inputs are loaded while the current one is reduced, so a step waits on shuffles
// rather than on memory. q and k (of key head h mod keyHeads) are L2-normalized here, q also
// scaled by 1/sqrt(keyDim).
extern "C" __global__ void delta_net(const float* __restrict__ qkv, const float* __restrict__ g,
                                     const float* __restrict__ beta, int tokens, int keyHeads, int valueHeads,
                                     int keyDim, int valueDim, float eps, float* state, float* __restrict__ out) {
    int lane = threadIdx.x % WARP_SIZE;
    int h = blockIdx.x;
    int b = blockIdx.y * HYBRID_WARPS + threadIdx.x / WARP_SIZE;
    if (b >= valueDim || tokens <= 0) {
        return;
    }
    int keyWidth = keyHeads * keyDim;
    int channels = 2 * keyWidth + valueHeads * valueDim;
    int queryColumn = (h % keyHeads) * keyDim;
    int keyColumn = keyWidth + queryColumn;
    int valueColumn = 2 * keyWidth + h * valueDim + b;
    float queryScale = rsqrtf((float) keyDim);
    float* s = state + (long long) h * keyDim * valueDim + b;
    float column[DELTA_ROWS];
#pragma unroll
    for (int i = 0; i < DELTA_ROWS; i++) {
        int a = lane + i * WARP_SIZE;
        column[i] = a < keyDim ? s[(long long) a * valueDim] : 0.f;
    }
    DeltaToken next;
    load_delta_token(next, qkv, lane, keyDim, queryColumn, keyColumn, valueColumn, g + h, beta + h);
    for (int t = 0; t < tokens; t++) {
        DeltaToken in = next;
        if (t + 1 < tokens) {
            long long n = t + 1;
            load_delta_token(next, qkv + n * channels, lane, keyDim, queryColumn, keyColumn, valueColumn,
                             g + n * valueHeads + h, beta + n * valueHeads + h);
        }
        float kk = 0.f;
        float qq = 0.f;
#pragma unroll
        for (int i = 0; i < DELTA_ROWS; i++) {
            kk = fmaf(in.k[i], in.k[i], kk);
            qq = fmaf(in.q[i], in.q[i], qq);
        }
        float keyScale = 1.f / fmaxf(sqrtf(warp_sum(kk)), eps);
        float qScale = queryScale / fmaxf(sqrtf(warp_sum(qq)), eps);
        float alpha = expf(in.g);
        float projected = 0.f;
#pragma unroll
        for (int i = 0; i < DELTA_ROWS; i++) {
            in.k[i] *= keyScale;
            column[i] *= alpha;
            projected = fmaf(column[i], in.k[i], projected);
        }
        float delta = in.beta * (in.v - warp_sum(projected));
        float o = 0.f;
#pragma unroll
        for (int i = 0; i < DELTA_ROWS; i++) {
            column[i] = fmaf(in.k[i], delta, column[i]);
            o = fmaf(column[i], in.q[i] * qScale, o);
        }
        o = warp_sum(o);
        if (lane == 0) {
            out[(long long) t * valueHeads * valueDim + h * valueDim + b] = o;
        }
    }
#pragma unroll
    for (int i = 0; i < DELTA_ROWS; i++) {
        int a = lane + i * WARP_SIZE;
        if (a < keyDim) {
            s[(long long) a * valueDim] = column[i];
        }
    }
}

// The chunked (WY) form of the delta rule for prefill, QWEN35-HYBRID.md "Prefill in chunks" and
// CpuDeltaNet.chunked: a chunk of DELTA_CHUNK tokens becomes chunk-sized products instead of
// serial state updates. delta_net_chunk_prepare does what needs no state, every chunk of every
// head at once; delta_net_chunk_state then walks the chunks of a head in order, applying and
// updating the state. The first writes per (head, chunk) one record of DELTA_RECORD floats into
// `work`, chunk n of head h at (h * chunks + n):
//   Q  [C][keyDim]    e^gamma_i q_i                  (q normalized and scaled as in delta_net)
//   W  [C][keyDim]    (I + A)^-1 beta e^gamma K
//   K  [C][keyDim]    e^(gamma_last - gamma_i) k_i
//   U  [C][valueDim]  (I + A)^-1 beta V
//   M  [C][C]         e^(gamma_i - gamma_j) q_i.k_j for j <= i, else 0
//   e^gamma_last
// with gamma the running sum of the log-decays in the chunk and A[i][j] = beta_i e^(gamma_i -
// gamma_j) k_i.k_j for j < i. Rows past the chunk's last token are zeros.
#define DELTA_CHUNK 64
// Value columns of the state one block of delta_net_chunk_state owns (its state tile in shared
// memory: keyDim x DELTA_TILE), so that several blocks share a head.
#define DELTA_TILE 16

__device__ __forceinline__ long long delta_record_floats(int keyDim, int valueDim) {
    return (long long) DELTA_CHUNK * (3 * keyDim + valueDim + DELTA_CHUNK) + 1;
}

// Grid: valueHeads x chunks (ceil(tokens / DELTA_CHUNK)).
extern "C" __global__ void delta_net_chunk_prepare(const float* __restrict__ qkv, const float* __restrict__ g,
                                                   const float* __restrict__ beta, int tokens, int keyHeads,
                                                   int valueHeads, int keyDim, int valueDim, float eps,
                                                   float* __restrict__ work) {
    __shared__ float a[DELTA_CHUNK][DELTA_CHUNK];
    __shared__ float inverse[DELTA_CHUNK][DELTA_CHUNK];
    __shared__ float gamma[DELTA_CHUNK];
    __shared__ float betas[DELTA_CHUNK];
    __shared__ float keyScale[DELTA_CHUNK];
    __shared__ float queryScale[DELTA_CHUNK];
    // beta_j e^gamma_j / |k_j|: the factor of raw key j in W.
    __shared__ float wScale[DELTA_CHUNK];
    int h = blockIdx.x;
    int t0 = blockIdx.y * DELTA_CHUNK;
    int c = tokens - t0 < DELTA_CHUNK ? tokens - t0 : DELTA_CHUNK;
    int warp = threadIdx.x / WARP_SIZE;
    int lane = threadIdx.x % WARP_SIZE;
    int warps = blockDim.x / WARP_SIZE;
    int keyWidth = keyHeads * keyDim;
    int channels = 2 * keyWidth + valueHeads * valueDim;
    int queryColumn = (h % keyHeads) * keyDim;
    int keyColumn = keyWidth + queryColumn;
    int valueColumn = 2 * keyWidth + h * valueDim;
    const float* rows = qkv + (long long) t0 * channels;
    float* q = work + ((long long) h * gridDim.y + blockIdx.y) * delta_record_floats(keyDim, valueDim);
    float* w = q + DELTA_CHUNK * keyDim;
    float* k = w + DELTA_CHUNK * keyDim;
    float* u = k + DELTA_CHUNK * keyDim;
    float* m = u + DELTA_CHUNK * valueDim;

    for (int i = warp; i < c; i += warps) {
        const float* row = rows + (long long) i * channels;
        float kk = 0.f;
        float qq = 0.f;
        for (int x = lane; x < keyDim; x += WARP_SIZE) {
            kk = fmaf(row[keyColumn + x], row[keyColumn + x], kk);
            qq = fmaf(row[queryColumn + x], row[queryColumn + x], qq);
        }
        kk = warp_sum(kk);
        qq = warp_sum(qq);
        if (lane == 0) {
            keyScale[i] = 1.f / fmaxf(sqrtf(kk), eps);
            queryScale[i] = rsqrtf((float) keyDim) / fmaxf(sqrtf(qq), eps);
        }
    }
    if (threadIdx.x == 0) {
        float sum = 0.f;
        for (int i = 0; i < c; i++) {
            sum += g[(long long) (t0 + i) * valueHeads + h];
            gamma[i] = sum;
            betas[i] = beta[(long long) (t0 + i) * valueHeads + h];
        }
    }
    __syncthreads();
    for (int i = threadIdx.x; i < c; i += blockDim.x) {
        wScale[i] = betas[i] * expf(gamma[i]) * keyScale[i];
    }
    for (int p = threadIdx.x; p < DELTA_CHUNK * DELTA_CHUNK; p += blockDim.x) {
        int i = p / DELTA_CHUNK;
        int j = p % DELTA_CHUNK;
        float av = 0.f;
        float mv = 0.f;
        if (i < c && j <= i) {
            const float* ki = rows + (long long) i * channels + keyColumn;
            const float* qi = rows + (long long) i * channels + queryColumn;
            const float* kj = rows + (long long) j * channels + keyColumn;
            float kk = 0.f;
            float qk = 0.f;
            for (int x = 0; x < keyDim; x++) {
                kk = fmaf(ki[x], kj[x], kk);
                qk = fmaf(qi[x], kj[x], qk);
            }
            float ratio = expf(gamma[i] - gamma[j]);
            if (j < i) {
                av = betas[i] * ratio * kk * keyScale[i] * keyScale[j];
            }
            mv = ratio * qk * queryScale[i] * keyScale[j];
        }
        a[i][j] = av;
        m[p] = mv;
    }
    __syncthreads();
    // (I + A)^-1, unit lower triangular, by forward substitution: one thread per column.
    if (threadIdx.x < DELTA_CHUNK) {
        int j = threadIdx.x;
        for (int i = 0; i < DELTA_CHUNK; i++) {
            float v = i == j ? 1.f : 0.f;
            for (int l = j; l < i; l++) {
                v = fmaf(-a[i][l], inverse[l][j], v);
            }
            inverse[i][j] = v;
        }
    }
    __syncthreads();
    for (int p = threadIdx.x; p < DELTA_CHUNK * valueDim; p += blockDim.x) {
        int i = p / valueDim;
        int x = p % valueDim;
        float sum = 0.f;
        for (int j = 0; j <= i && j < c; j++) {
            sum = fmaf(inverse[i][j] * betas[j], rows[(long long) j * channels + valueColumn + x], sum);
        }
        u[p] = i < c ? sum : 0.f;
    }
    for (int p = threadIdx.x; p < DELTA_CHUNK * keyDim; p += blockDim.x) {
        int i = p / keyDim;
        int x = p % keyDim;
        float wv = 0.f;
        float kv = 0.f;
        float qv = 0.f;
        if (i < c) {
            for (int j = 0; j <= i; j++) {
                wv = fmaf(inverse[i][j] * wScale[j], rows[(long long) j * channels + keyColumn + x], wv);
            }
            const float* row = rows + (long long) i * channels;
            kv = expf(gamma[c - 1] - gamma[i]) * keyScale[i] * row[keyColumn + x];
            qv = expf(gamma[i]) * queryScale[i] * row[queryColumn + x];
        }
        w[p] = wv;
        k[p] = kv;
        q[p] = qv;
    }
    if (threadIdx.x == 0) {
        m[DELTA_CHUNK * DELTA_CHUNK] = expf(gamma[c - 1]);
    }
}

// The chunks of delta_net_chunk_prepare's records in order, per head, on a tile of DELTA_TILE
// value columns of the state (grid: valueHeads x ceil(valueDim / DELTA_TILE)):
//   Delta = U - W S;  O = Q S + M Delta;  S <- e^gamma_last S + K^T Delta
// The tile stays in shared memory for the whole call; S is read and written once.
extern "C" __global__ void delta_net_chunk_state(const float* __restrict__ work, int tokens, int valueHeads,
                                                 int keyDim, int valueDim, float* state, float* __restrict__ out) {
    __shared__ float s[WARP_SIZE * DELTA_ROWS][DELTA_TILE];
    __shared__ float delta[DELTA_CHUNK][DELTA_TILE];
    int h = blockIdx.x;
    int b0 = blockIdx.y * DELTA_TILE;
    int columns = valueDim - b0 < DELTA_TILE ? valueDim - b0 : DELTA_TILE;
    int chunks = (tokens + DELTA_CHUNK - 1) / DELTA_CHUNK;
    long long record = delta_record_floats(keyDim, valueDim);
    float* tile = state + (long long) h * keyDim * valueDim + b0;
    for (int p = threadIdx.x; p < keyDim * DELTA_TILE; p += blockDim.x) {
        int x = p / DELTA_TILE;
        int b = p % DELTA_TILE;
        s[x][b] = b < columns ? tile[(long long) x * valueDim + b] : 0.f;
    }
    __syncthreads();
    for (int n = 0; n < chunks; n++) {
        int t0 = n * DELTA_CHUNK;
        int c = tokens - t0 < DELTA_CHUNK ? tokens - t0 : DELTA_CHUNK;
        const float* q = work + ((long long) h * chunks + n) * record;
        const float* w = q + DELTA_CHUNK * keyDim;
        const float* k = w + DELTA_CHUNK * keyDim;
        const float* u = k + DELTA_CHUNK * keyDim;
        const float* m = u + DELTA_CHUNK * valueDim;
        for (int p = threadIdx.x; p < c * DELTA_TILE; p += blockDim.x) {
            int i = p / DELTA_TILE;
            int b = p % DELTA_TILE;
            float d = b < columns ? u[i * valueDim + b0 + b] : 0.f;
            for (int x = 0; x < keyDim; x++) {
                d = fmaf(-w[i * keyDim + x], s[x][b], d);
            }
            delta[i][b] = d;
        }
        __syncthreads();
        for (int p = threadIdx.x; p < c * DELTA_TILE; p += blockDim.x) {
            int i = p / DELTA_TILE;
            int b = p % DELTA_TILE;
            float o = 0.f;
            for (int x = 0; x < keyDim; x++) {
                o = fmaf(q[i * keyDim + x], s[x][b], o);
            }
            for (int j = 0; j <= i; j++) {
                o = fmaf(m[i * DELTA_CHUNK + j], delta[j][b], o);
            }
            if (b < columns) {
                out[(long long) (t0 + i) * valueHeads * valueDim + h * valueDim + b0 + b] = o;
            }
        }
        __syncthreads();
        float decay = m[DELTA_CHUNK * DELTA_CHUNK];
        for (int p = threadIdx.x; p < keyDim * DELTA_TILE; p += blockDim.x) {
            int x = p / DELTA_TILE;
            int b = p % DELTA_TILE;
            float v = decay * s[x][b];
            for (int t = 0; t < c; t++) {
                v = fmaf(k[t * keyDim + x], delta[t][b], v);
            }
            s[x][b] = v;
        }
        __syncthreads();
    }
    for (int p = threadIdx.x; p < keyDim * DELTA_TILE; p += blockDim.x) {
        int x = p / DELTA_TILE;
        int b = p % DELTA_TILE;
        if (b < columns) {
            tile[(long long) x * valueDim + b] = s[x][b];
        }
    }
}
