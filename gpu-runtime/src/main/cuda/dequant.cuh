// Dequantization of ggml blocks, one group of 8 consecutive row elements at a time, so that the
// lanes of a warp read consecutive bytes of a row. Layouts and formulas: GGUF-QWEN3.md section 2
// (ggml-common.h / ggml-quants.c). Type ids are GGUF's.
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

// Elements [8 * g, 8 * g + 8) of a row of `cols` elements stored from `row` in type `type`, into
// y[0..7]. Every format packs 32-element units, so a group lies inside unit g / 4, at l0 = 8 * (g % 4).
// For the float types, elements at or past `cols` read as 0.
__device__ __forceinline__ void dequant8(int type, const uint8_t* row, int g, int cols, float* y) {
    int unit = g >> 2;
    int l0 = 8 * (g & 3);
    switch (type) {
        case TYPE_Q8_0: {
            const uint8_t* b = row + 34 * unit;
            float d = load_half(b);
            const int8_t* q = (const int8_t*) (b + 2) + l0;
#pragma unroll
            for (int i = 0; i < 8; i++) {
                y[i] = d * (float) q[i];
            }
            break;
        }
        case TYPE_Q4_0: {
            const uint8_t* b = row + 18 * unit;
            float d = load_half(b);
            bool high = l0 >= 16;
            const uint8_t* q = b + 2 + (l0 & 15);
#pragma unroll
            for (int i = 0; i < 8; i++) {
                y[i] = d * (float) ((high ? (q[i] >> 4) : (q[i] & 0x0F)) - 8);
            }
            break;
        }
        case TYPE_Q4_K:
        case TYPE_Q5_K: {
            bool five = type == TYPE_Q5_K;
            const uint8_t* b = row + (five ? 176 : 144) * (unit >> 3);
            int sub = unit & 7;
            bool high = sub & 1;
            float d = load_half(b);
            float dmin = load_half(b + 2);
            int sc;
            int mn;
            k_scale_min(b + 4, sub, &sc, &mn);
            float d1 = d * (float) sc;
            float m1 = dmin * (float) mn;
            const uint8_t* qs = b + (five ? 48 : 16) + 32 * (sub >> 1) + l0;
            const uint8_t* qh = b + 16 + l0;
#pragma unroll
            for (int i = 0; i < 8; i++) {
                int q = high ? (qs[i] >> 4) : (qs[i] & 0x0F);
                if (five && ((qh[i] >> sub) & 1)) {
                    q += 16;
                }
                y[i] = d1 * (float) q - m1;
            }
            break;
        }
        case TYPE_Q6_K: {
            const uint8_t* b = row + 210 * (unit >> 3);
            int u = unit & 7;
            int h = u >> 2;
            int quarter = u & 3;
            const uint8_t* ql = b + 64 * h + ((quarter & 1) ? 32 : 0) + l0;
            const uint8_t* qh = b + 128 + 32 * h + l0;
            int qhShift = 2 * quarter;
            bool highNibble = quarter >= 2;
            // The 8 elements share one 16-element scale.
            float ds = load_half(b + 208) * (float) ((const int8_t*) (b + 192 + 8 * h + 2 * quarter))[l0 >> 4];
#pragma unroll
            for (int i = 0; i < 8; i++) {
                int lo = highNibble ? (ql[i] >> 4) : (ql[i] & 0x0F);
                int q = lo | (((qh[i] >> qhShift) & 3) << 4);
                y[i] = ds * (float) (q - 32);
            }
            break;
        }
        case TYPE_F16: {
            const uint8_t* b = row + 16 * g;
#pragma unroll
            for (int i = 0; i < 8; i++) {
                y[i] = 8 * g + i < cols ? load_half(b + 2 * i) : 0.f;
            }
            break;
        }
        case TYPE_BF16: {
            const uint8_t* b = row + 16 * g;
#pragma unroll
            for (int i = 0; i < 8; i++) {
                y[i] = 8 * g + i < cols ? bf16_to_float((unsigned short) (b[2 * i] | (b[2 * i + 1] << 8))) : 0.f;
            }
            break;
        }
        default: {  // TYPE_F32: rows of 4*cols bytes, 4-byte aligned
            const float* f = (const float*) row + 8 * g;
#pragma unroll
            for (int i = 0; i < 8; i++) {
                y[i] = 8 * g + i < cols ? f[i] : 0.f;
            }
            break;
        }
    }
}
