// Dequantization of ggml blocks, one "unit" of 32 consecutive row elements at a time. Layouts and
// formulas: GGUF-QWEN3.md section 2 (ggml-common.h / ggml-quants.c). Type ids are GGUF's.
#pragma once

#include "common.cuh"

#define TYPE_F32 0
#define TYPE_F16 1
#define TYPE_Q4_0 2
#define TYPE_Q8_0 8
#define TYPE_Q4_K 12
#define TYPE_Q5_K 13
#define TYPE_Q6_K 14
#define TYPE_BF16 30

// 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K block (get_scale_min_k4).
__device__ __forceinline__ void k_scale_min(const uint8_t* s, int j, int* sc, int* mn) {
    if (j < 4) {
        *sc = s[j] & 63;
        *mn = s[j + 4] & 63;
    } else {
        *sc = (s[j + 4] & 0x0F) | ((s[j - 4] >> 6) << 4);
        *mn = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}

// Elements [32*unit, 32*unit + 32) of a row of `cols` elements stored from `row` in type `type`,
// into y[0..31]; for the float types, elements at or past `cols` read as 0.
__device__ __forceinline__ void dequant_unit(int type, const uint8_t* row, int unit, int cols, float* y) {
    switch (type) {
        case TYPE_Q8_0: {
            const uint8_t* b = row + 34 * unit;
            float d = load_half(b);
            const int8_t* q = (const int8_t*) (b + 2);
#pragma unroll
            for (int i = 0; i < 32; i++) {
                y[i] = d * (float) q[i];
            }
            break;
        }
        case TYPE_Q4_0: {
            const uint8_t* b = row + 18 * unit;
            float d = load_half(b);
#pragma unroll
            for (int j = 0; j < 16; j++) {
                int q = b[2 + j];
                y[j] = d * (float) ((q & 0x0F) - 8);
                y[j + 16] = d * (float) ((q >> 4) - 8);
            }
            break;
        }
        case TYPE_Q4_K:
        case TYPE_Q5_K: {
            bool five = type == TYPE_Q5_K;
            const uint8_t* b = row + (five ? 176 : 144) * (unit >> 3);
            int sub = unit & 7;
            int c = sub >> 1;
            bool high = sub & 1;
            float d = load_half(b);
            float dmin = load_half(b + 2);
            int sc;
            int mn;
            k_scale_min(b + 4, sub, &sc, &mn);
            float d1 = d * (float) sc;
            float m1 = dmin * (float) mn;
            const uint8_t* qs = b + (five ? 48 : 16) + 32 * c;
            const uint8_t* qh = b + 16;
#pragma unroll
            for (int l = 0; l < 32; l++) {
                int q = high ? (qs[l] >> 4) : (qs[l] & 0x0F);
                if (five && ((qh[l] >> sub) & 1)) {
                    q += 16;
                }
                y[l] = d1 * (float) q - m1;
            }
            break;
        }
        case TYPE_Q6_K: {
            const uint8_t* b = row + 210 * (unit >> 3);
            int u = unit & 7;
            int h = u >> 2;
            int quarter = u & 3;
            const uint8_t* ql = b + 64 * h + ((quarter & 1) ? 32 : 0);
            const uint8_t* qh = b + 128 + 32 * h;
            const int8_t* sc = (const int8_t*) (b + 192 + 8 * h + 2 * quarter);
            int qhShift = 2 * quarter;
            bool highNibble = quarter >= 2;
            float d = load_half(b + 208);
#pragma unroll
            for (int l = 0; l < 32; l++) {
                int lo = highNibble ? (ql[l] >> 4) : (ql[l] & 0x0F);
                int q = lo | (((qh[l] >> qhShift) & 3) << 4);
                y[l] = d * (float) sc[l >> 4] * (float) (q - 32);
            }
            break;
        }
        case TYPE_F16: {
            const uint8_t* b = row + 64 * unit;
#pragma unroll
            for (int i = 0; i < 32; i++) {
                y[i] = 32 * unit + i < cols ? load_half(b + 2 * i) : 0.f;
            }
            break;
        }
        case TYPE_BF16: {
            const uint8_t* b = row + 64 * unit;
#pragma unroll
            for (int i = 0; i < 32; i++) {
                y[i] = 32 * unit + i < cols ? bf16_to_float((unsigned short) (b[2 * i] | (b[2 * i + 1] << 8))) : 0.f;
            }
            break;
        }
        default: {  // TYPE_F32: rows of 4*cols bytes, 4-byte aligned
            const float* f = (const float*) row + 32 * unit;
#pragma unroll
            for (int i = 0; i < 32; i++) {
                y[i] = 32 * unit + i < cols ? f[i] : 0.f;
            }
            break;
        }
    }
}
