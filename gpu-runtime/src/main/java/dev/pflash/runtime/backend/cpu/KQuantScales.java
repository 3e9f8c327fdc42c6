package dev.pflash.runtime.backend.cpu;

import dev.pflash.runtime.gguf.GgmlType;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The sub-block scales of consecutive Q4_K, Q5_K or Q6_K blocks as floats, unpacked with a few
 * vector operations per block before the blocks are dequantized. Picked apart one at a time with
 * scalar code inside the dequantization loop, the scales took about as many instructions as the
 * block's vector work (bounds checks, branches on the index, an int-to-float conversion and a
 * broadcast each; read from the compiled code). Each float is the integer scale times the block's
 * f16 factor, the product the reference dequantization forms, so the weights keep their bits.
 * Unpacking is a loop of its own, not part of the dequantization loops: vector code added to those
 * pushed C2 past its inlining budget there, and the vector calls it left out ran the allocating
 * Java fallback (decode 3-5x slower, on some runs only). A per-thread scratch ({@link CpuScratch}).
 */
final class KQuantScales {
    private static final VectorSpecies<Float> F = VectorMatmul.F;
    private static final int LANES = F.length();
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(LANES * 8));
    private static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final int LOW_SIX = 0x3F3F3F3F;
    private static final int LOW_FOUR = 0x0F0F0F0F;
    private static final int LOW_TWO = 0x03030303;
    /** Floats per block: scales times d from 0, mins times dmin from {@link #MINS}; other lanes unused. */
    private static final int STRIDE = 32;
    private static final int MINS = 24;
    private static final int BLOCK = 256;

    /** Per block, the 6-bit scales (bytes 0-7) and mins (8-15) of a Q4_K/Q5_K block. */
    private byte[] unpacked = new byte[0];
    private float[] values = new float[0];

    /** Unpacks the scales of {@code blocks} blocks of {@code type} (Q4_K, Q5_K or Q6_K) from {@code q[p ..]}. */
    void unpack(GgmlType type, byte[] q, int p, int blocks) {
        int blockBytes = Math.toIntExact(type.byteSize(BLOCK));
        if (type == GgmlType.Q6_K) {
            unpackK6(q, p, blockBytes, blocks);
        } else {
            unpackK4(q, p, blockBytes, blocks);
        }
    }

    /**
     * The 6-bit scales and mins of Q4_K or Q5_K blocks (get_scale_min_k4 of all eight sub-blocks at
     * once, on 32-bit words), times each block's d and dmin. Two passes: a vector load right after
     * the four scalar stores it reads cannot take their data from the store buffer, and stalled (12%
     * of a Q4_K_M decode).
     */
    private void unpackK4(byte[] q, int p, int blockBytes, int blocks) {
        float[] v = room(blocks);
        for (int k = 0, at = p; k < blocks; k++, at += blockBytes) {
            int w0 = (int) INT_LE.get(q, at + 4);
            int w1 = (int) INT_LE.get(q, at + 8);
            int w2 = (int) INT_LE.get(q, at + 12);
            INT_LE.set(unpacked, 16 * k, w0 & LOW_SIX);
            INT_LE.set(unpacked, 16 * k + 4, (w2 & LOW_FOUR) | (((w0 >>> 6) & LOW_TWO) << 4));
            INT_LE.set(unpacked, 16 * k + 8, w1 & LOW_SIX);
            INT_LE.set(unpacked, 16 * k + 12, ((w2 >>> 4) & LOW_FOUR) | (((w1 >>> 6) & LOW_TWO) << 4));
        }
        for (int k = 0, at = p; k < blocks; k++, at += blockBytes) {
            float d = VectorDequantize.f16(q, at);
            float dmin = VectorDequantize.f16(q, at + 2);
            for (int h = 0; h < 16; h += LANES) {
                FloatVector s = VectorDequantize.widen(ByteVector.fromArray(B, unpacked, 16 * k + h));
                s.mul(d).intoArray(v, k * STRIDE + h);
                s.mul(dmin).intoArray(v, k * STRIDE + MINS - 8 + h);
            }
        }
    }

    /** The 16 signed 8-bit scales of Q6_K blocks, times each block's d. */
    private void unpackK6(byte[] q, int p, int blockBytes, int blocks) {
        float[] v = room(blocks);
        for (int k = 0; k < blocks; k++, p += blockBytes) {
            float d = VectorDequantize.f16(q, p + 208);
            for (int h = 0; h < 16; h += LANES) {
                VectorDequantize.widen(ByteVector.fromArray(B, q, p + 192 + h)).mul(d).intoArray(v, k * STRIDE + h);
            }
        }
    }

    private float[] room(int blocks) {
        if (values.length < blocks * STRIDE) {
            values = new float[blocks * STRIDE];
            unpacked = new byte[blocks * 16];
        }
        return values;
    }

    /** Scale {@code j} of unpacked block {@code block}, times d: of 8 for Q4_K/Q5_K, of 16 for Q6_K. */
    float scale(int block, int j) {
        return values[block * STRIDE + j];
    }

    /** Min {@code j} (of 8) of unpacked Q4_K/Q5_K block {@code block}, times dmin. */
    float min(int block, int j) {
        return values[block * STRIDE + MINS + j];
    }
}
