package dev.pflash.runtime.gguf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Reference dequantization of every supported {@link GgmlType}: block bytes to floats, layouts as
 * in ggml-common.h / ggml-quants.c (GGUF-QWEN3.md section 2). Reads use absolute gets only, so
 * one buffer may be shared by many threads.
 */
public final class Dequantize {
    private Dequantize() {
    }

    /**
     * Dequantizes {@code n} elements (a whole number of blocks of {@code t}) stored from byte
     * {@code offset} of {@code src} into {@code dst[dstOffset .. dstOffset + n)}.
     *
     * @throws IllegalArgumentException if {@code n} is negative or not a multiple of the block size
     * @throws IndexOutOfBoundsException if the bytes or the destination range are out of bounds
     */
    public static void run(GgmlType t, ByteBuffer src, int offset, float[] dst, int dstOffset, int n) {
        if (n < 0 || n % t.blockSize() != 0) {
            throw new IllegalArgumentException(n + " elements is not a whole number of " + t + " blocks of "
                    + t.blockSize());
        }
        if (dstOffset < 0 || dstOffset > dst.length - n) {
            throw new IndexOutOfBoundsException("destination range " + dstOffset + " + " + n + " outside "
                    + dst.length);
        }
        ByteBuffer b = src.order() == ByteOrder.LITTLE_ENDIAN ? src : src.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int blocks = n / t.blockSize();
        switch (t) {
            case F32 -> f32(b, offset, dst, dstOffset, n);
            case F16 -> f16(b, offset, dst, dstOffset, n);
            case BF16 -> bf16(b, offset, dst, dstOffset, n);
            case Q8_0 -> q8_0(b, offset, dst, dstOffset, blocks);
            case Q4_0 -> q4_0(b, offset, dst, dstOffset, blocks);
            case Q4_K -> q4_k(b, offset, dst, dstOffset, blocks);
            case Q5_K -> q5_k(b, offset, dst, dstOffset, blocks);
            case Q6_K -> q6_k(b, offset, dst, dstOffset, blocks);
        }
    }

    private static void f32(ByteBuffer b, int off, float[] y, int yo, int n) {
        for (int i = 0; i < n; i++) {
            y[yo + i] = b.getFloat(off + 4 * i);
        }
    }

    private static void f16(ByteBuffer b, int off, float[] y, int yo, int n) {
        for (int i = 0; i < n; i++) {
            y[yo + i] = Float16.toFloat(b.getShort(off + 2 * i));
        }
    }

    private static void bf16(ByteBuffer b, int off, float[] y, int yo, int n) {
        for (int i = 0; i < n; i++) {
            y[yo + i] = Float16.bf16ToFloat(b.getShort(off + 2 * i));
        }
    }

    /** d:f16, qs:int8[32]; y = d * q. */
    private static void q8_0(ByteBuffer b, int off, float[] y, int yo, int blocks) {
        for (int k = 0; k < blocks; k++, off += 34, yo += 32) {
            float d = Float16.toFloat(b.getShort(off));
            for (int i = 0; i < 32; i++) {
                y[yo + i] = d * b.get(off + 2 + i);
            }
        }
    }

    /** d:f16, qs:u8[16]; low nibbles are elements 0..15, high nibbles 16..31; y = d * (q - 8). */
    private static void q4_0(ByteBuffer b, int off, float[] y, int yo, int blocks) {
        for (int k = 0; k < blocks; k++, off += 18, yo += 32) {
            float d = Float16.toFloat(b.getShort(off));
            for (int j = 0; j < 16; j++) {
                int q = b.get(off + 2 + j) & 0xFF;
                y[yo + j] = d * ((q & 0x0F) - 8);
                y[yo + j + 16] = d * ((q >>> 4) - 8);
            }
        }
    }

    /**
     * Unpacks the eight 6-bit scales and mins of a Q4_K/Q5_K block (get_scale_min_k4) into
     * {@code sc[0..7]} and {@code mn[0..7]}.
     */
    public static void kScales(ByteBuffer b, int s, int[] sc, int[] mn) {
        for (int k = 0; k < 4; k++) {
            sc[k] = b.get(s + k) & 63;
            mn[k] = b.get(s + k + 4) & 63;
        }
        for (int k = 4; k < 8; k++) {
            int lo = b.get(s + k + 4) & 0xFF;
            sc[k] = (lo & 0x0F) | (((b.get(s + k - 4) & 0xFF) >>> 6) << 4);
            mn[k] = (lo >>> 4) | (((b.get(s + k) & 0xFF) >>> 6) << 4);
        }
    }

    /** d, dmin:f16, scales:u8[12], qs:u8[128]; y = d*sc*q - dmin*m per sub-block of 32. */
    private static void q4_k(ByteBuffer b, int off, float[] y, int yo, int blocks) {
        int[] sc = new int[8];
        int[] mn = new int[8];
        for (int k = 0; k < blocks; k++, off += 144, yo += 256) {
            float d = Float16.toFloat(b.getShort(off));
            float dmin = Float16.toFloat(b.getShort(off + 2));
            kScales(b, off + 4, sc, mn);
            int qs = off + 16;
            for (int c = 0; c < 4; c++) {
                float d1 = d * sc[2 * c];
                float m1 = dmin * mn[2 * c];
                float d2 = d * sc[2 * c + 1];
                float m2 = dmin * mn[2 * c + 1];
                int base = yo + 64 * c;
                for (int l = 0; l < 32; l++) {
                    int q = b.get(qs + 32 * c + l) & 0xFF;
                    y[base + l] = d1 * (q & 0x0F) - m1;
                    y[base + 32 + l] = d2 * (q >>> 4) - m2;
                }
            }
        }
    }

    /** As Q4_K plus qh:u8[32] at 16 (qs at 48): chunk c's low/high nibbles take bits 2c/2c+1 of qh[l] as bit 4. */
    private static void q5_k(ByteBuffer b, int off, float[] y, int yo, int blocks) {
        int[] sc = new int[8];
        int[] mn = new int[8];
        for (int k = 0; k < blocks; k++, off += 176, yo += 256) {
            float d = Float16.toFloat(b.getShort(off));
            float dmin = Float16.toFloat(b.getShort(off + 2));
            kScales(b, off + 4, sc, mn);
            int qh = off + 16;
            int qs = off + 48;
            for (int c = 0; c < 4; c++) {
                float d1 = d * sc[2 * c];
                float m1 = dmin * mn[2 * c];
                float d2 = d * sc[2 * c + 1];
                float m2 = dmin * mn[2 * c + 1];
                int base = yo + 64 * c;
                for (int l = 0; l < 32; l++) {
                    int q = b.get(qs + 32 * c + l) & 0xFF;
                    int h = (b.get(qh + l) & 0xFF) >>> (2 * c);
                    y[base + l] = d1 * ((q & 0x0F) | ((h & 1) << 4)) - m1;
                    y[base + 32 + l] = d2 * ((q >>> 4) | ((h & 2) << 3)) - m2;
                }
            }
        }
    }

    /** ql:u8[128], qh:u8[64], scales:int8[16], d:f16; 16 sub-blocks of 16, y = d*s*(q6 - 32). */
    private static void q6_k(ByteBuffer b, int off, float[] y, int yo, int blocks) {
        float[] ds = new float[16];
        for (int k = 0; k < blocks; k++, off += 210, yo += 256) {
            float d = Float16.toFloat(b.getShort(off + 208));
            for (int j = 0; j < 16; j++) {
                ds[j] = d * b.get(off + 192 + j);
            }
            for (int half = 0; half < 2; half++) {
                int ql = off + 64 * half;
                int qh = off + 128 + 32 * half;
                int s = 8 * half;
                int base = yo + 128 * half;
                for (int l = 0; l < 32; l++) {
                    int is = s + l / 16;
                    int lo0 = b.get(ql + l) & 0xFF;
                    int lo1 = b.get(ql + l + 32) & 0xFF;
                    int h = b.get(qh + l) & 0xFF;
                    int q1 = ((lo0 & 0x0F) | ((h & 3) << 4)) - 32;
                    int q2 = ((lo1 & 0x0F) | (((h >>> 2) & 3) << 4)) - 32;
                    int q3 = ((lo0 >>> 4) | (((h >>> 4) & 3) << 4)) - 32;
                    int q4 = ((lo1 >>> 4) | (((h >>> 6) & 3) << 4)) - 32;
                    y[base + l] = ds[is] * q1;
                    y[base + l + 32] = ds[is + 2] * q2;
                    y[base + l + 64] = ds[is + 4] * q3;
                    y[base + l + 96] = ds[is + 6] * q4;
                }
            }
        }
    }
}
