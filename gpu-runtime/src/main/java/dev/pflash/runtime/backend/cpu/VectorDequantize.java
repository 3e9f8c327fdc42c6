package dev.pflash.runtime.backend.cpu;

import dev.pflash.runtime.gguf.Float16;
import dev.pflash.runtime.gguf.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Dequantization of one weight row on the Vector API, for the types that dominate GGUF files
 * (Q8_0, Q4_0, F16, BF16, Q4_K and Q6_K of the Q4_K_M recipe, Q5_K of Q5_K_M); F32 goes through
 * the reference {@code Dequantize}. Each value is computed with the same float operations as the reference
 * (a widened integer times a scale, minus a min for Q4_K), so the floats are bit-identical and the
 * vector and scalar matmuls see the same weights. Scales are broadcast once per block (C2 leaves
 * the broadcast of a {@code mul(float)} inside the loop). The row's bytes are first copied to a heap
 * array: Java 17 loads vectors from arrays about twice as fast as from a (memory-mapped) buffer.
 */
final class VectorDequantize {
    private static final VectorSpecies<Float> F = VectorMatmul.F;
    private static final int LANES = F.length();
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(LANES * 8));
    /** Bytes of {@link #LANES} 16-bit values. */
    private static final VectorSpecies<Byte> B16 = VectorSpecies.of(byte.class, VectorShape.forBitSize(LANES * 16));
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());

    private VectorDequantize() {
    }

    /** Whether {@link #row} has vector code for {@code type}. */
    static boolean handles(GgmlType type) {
        return switch (type) {
            case Q8_0, Q4_0, Q4_K, Q5_K, Q6_K, F16, BF16 -> true;
            default -> false;
        };
    }

    /** Dequantizes row {@code row} of {@code w} (a type {@link #handles}) into {@code dst[at .. at + cols)}. */
    static void row(CpuScratch s, CpuWeightMatrix w, int row, float[] dst, int at) {
        int blocks = w.cols() / w.type().blockSize();
        int bytes = Math.toIntExact(w.type().byteSize(w.cols()));
        byte[] q = s.bytes(bytes);
        w.buffer(row).get(w.offset(row), q, 0, bytes);
        switch (w.type()) {
            case Q8_0 -> q8_0(q, blocks, dst, at);
            case Q4_0 -> q4_0(q, blocks, dst, at);
            case F16 -> f16(q, w.cols(), dst, at);
            case BF16 -> bf16(q, w.cols(), dst, at);
            case Q4_K, Q5_K, Q6_K -> kQuant(w.type(), q, blocks, dst, at, s.kQuantScales());
            default -> throw new IllegalArgumentException("no vector dequantization for " + w.type());
        }
    }

    /** {@code blocks} blocks of a K-quant {@code type} from {@code q[0 ..]} into {@code y[yo ..]}. */
    private static void kQuant(GgmlType type, byte[] q, int blocks, float[] y, int yo, KQuantScales ks) {
        ks.unpack(type, q, 0, blocks);
        switch (type) {
            case Q4_K -> q4_k(q, 0, blocks, y, yo, ks, 0);
            case Q5_K -> q5_k(q, 0, blocks, y, yo, ks, 0);
            default -> q6_k(q, 0, blocks, y, yo, ks, 0);
        }
    }

    /** The little-endian f16 at byte {@code at}, as a float. */
    static float f16(byte[] q, int at) {
        return Float16.toFloat(shortAt(q, at));
    }

    /** The little-endian 16 bits at byte {@code at}. */
    private static short shortAt(byte[] q, int at) {
        return (short) ((q[at] & 0xFF) | (q[at + 1] << 8));
    }

    /** {@link #LANES} signed bytes, widened to floats. */
    static FloatVector widen(ByteVector b) {
        return (FloatVector) b.convertShape(VectorOperators.B2F, F, 0);
    }

    private static void q8_0(byte[] q, int blocks, float[] y, int yo) {
        for (int k = 0, p = 0; k < blocks; k++, p += 34, yo += 32) {
            FloatVector d = FloatVector.broadcast(F, f16(q, p));
            for (int j = 0; j < 32; j += LANES) {
                widen(ByteVector.fromArray(B, q, p + 2 + j)).mul(d).intoArray(y, yo + j);
            }
        }
    }

    /** d:f16, qs:u8[16]; value j is (low nibble of byte j) - 8, value j + 16 (high nibble) - 8, times d. */
    private static void q4_0(byte[] q, int blocks, float[] y, int yo) {
        for (int k = 0, p = 0; k < blocks; k++, p += 18, yo += 32) {
            FloatVector d = FloatVector.broadcast(F, f16(q, p));
            for (int j = 0; j < 16; j += LANES) {
                ByteVector b = ByteVector.fromArray(B, q, p + 2 + j);
                widen(b.and((byte) 0x0F).sub((byte) 8)).mul(d).intoArray(y, yo + j);
                widen(highNibbles(b).sub((byte) 8)).mul(d).intoArray(y, yo + 16 + j);
            }
        }
    }

    /** {@link #LANES} little-endian 16-bit values from byte {@code at} of {@code q}, as ints (sign-extended). */
    private static IntVector halves(byte[] q, int at) {
        return (IntVector) ByteVector.fromArray(B16, q, at).reinterpretAsShorts()
                .convertShape(VectorOperators.S2I, I, 0);
    }

    /** IEEE binary16 values, exactly ({@link VectorHalfFloats}); the tail through the reference conversion. */
    private static void f16(byte[] q, int n, float[] y, int yo) {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += LANES) {
            VectorHalfFloats.toFloat(halves(q, 2 * i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) {
            y[yo + i] = f16(q, 2 * i);
        }
    }

    /** bfloat16 values: the 16 bits become a float's high half. */
    private static void bf16(byte[] q, int n, float[] y, int yo) {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += LANES) {
            halves(q, 2 * i).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(y, yo + i);
        }
        for (; i < n; i++) {
            y[yo + i] = Float16.bf16ToFloat(shortAt(q, 2 * i));
        }
    }

    /**
     * {@code blocks} Q4_K blocks from byte {@code p}, their scales unpacked in {@code ks} from block
     * {@code block} on. Block layout d, dmin:f16, scales:u8[12], qs:u8[128]; y = d*sc*q - dmin*m per
     * sub-block of 32.
     */
    static void q4_k(byte[] q, int p, int blocks, float[] y, int yo, KQuantScales ks, int block) {
        for (int k = 0; k < blocks; k++, p += 144, yo += 256, block++) {
            int qs = p + 16;
            for (int c = 0; c < 4; c++) {
                FloatVector d1 = FloatVector.broadcast(F, ks.scale(block, 2 * c));
                FloatVector m1 = FloatVector.broadcast(F, ks.min(block, 2 * c));
                FloatVector d2 = FloatVector.broadcast(F, ks.scale(block, 2 * c + 1));
                FloatVector m2 = FloatVector.broadcast(F, ks.min(block, 2 * c + 1));
                int base = yo + 64 * c;
                for (int l = 0; l < 32; l += LANES) {
                    ByteVector b = ByteVector.fromArray(B, q, qs + 32 * c + l);
                    widen(b.and((byte) 0x0F)).mul(d1).sub(m1).intoArray(y, base + l);
                    widen(highNibbles(b)).mul(d2).sub(m2).intoArray(y, base + 32 + l);
                }
            }
        }
    }

    /**
     * The high nibble of each byte. x86 has no byte shift, so a byte-lane shift costs a widening
     * and a narrowing; shifting the same bits as int lanes and masking is two plain instructions.
     */
    private static ByteVector highNibbles(ByteVector b) {
        return b.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0x0F);
    }

    /**
     * {@code blocks} Q5_K blocks from byte {@code p}: as Q4_K plus qh:u8[32] at 16 (qs at 48);
     * sub-block 2c takes bit 2c of {@code qh[l]} as its value's bit 4, sub-block 2c + 1 bit 2c + 1.
     * The bits are put together in int lanes ({@link #q6_k} says why). Scales as {@link #q4_k}.
     */
    static void q5_k(byte[] q, int p, int blocks, float[] y, int yo, KQuantScales ks, int block) {
        for (int k = 0; k < blocks; k++, p += 176, yo += 256, block++) {
            int qh = p + 16;
            int qs = p + 48;
            for (int c = 0; c < 4; c++) {
                FloatVector d1 = FloatVector.broadcast(F, ks.scale(block, 2 * c));
                FloatVector m1 = FloatVector.broadcast(F, ks.min(block, 2 * c));
                FloatVector d2 = FloatVector.broadcast(F, ks.scale(block, 2 * c + 1));
                FloatVector m2 = FloatVector.broadcast(F, ks.min(block, 2 * c + 1));
                int base = yo + 64 * c;
                for (int l = 0; l < 32; l += LANES) {
                    IntVector b = (IntVector) ByteVector.fromArray(B, q, qs + 32 * c + l)
                            .convertShape(VectorOperators.B2I, I, 0);
                    IntVector h = (IntVector) ByteVector.fromArray(B, q, qh + l)
                            .convertShape(VectorOperators.B2I, I, 0);
                    IntVector low = b.and(0x0F)
                            .or(h.lanewise(VectorOperators.LSHR, 2 * c).and(1).lanewise(VectorOperators.LSHL, 4));
                    IntVector high = b.lanewise(VectorOperators.LSHR, 4).and(0x0F)
                            .or(h.lanewise(VectorOperators.LSHR, 2 * c + 1).and(1).lanewise(VectorOperators.LSHL, 4));
                    ((FloatVector) low.convert(VectorOperators.I2F, 0)).mul(d1).sub(m1).intoArray(y, base + l);
                    ((FloatVector) high.convert(VectorOperators.I2F, 0)).mul(d2).sub(m2).intoArray(y, base + 32 + l);
                }
            }
        }
    }

    /**
     * {@code blocks} Q6_K blocks from byte {@code p}, their scales unpacked in {@code ks} from block
     * {@code block} on. Block layout ql:u8[128], qh:u8[64], scales:int8[16], d:f16; 16 sub-blocks
     * of 16, y = d*s*(q6 - 32). The bytes are widened to int lanes first and their bits put
     * together there: x86 has no byte shift, and Java 17's C2 does not compile the reinterpretation
     * of a 64-bit int vector as bytes (it runs the allocating Java fallback instead). No helper of
     * ours takes or returns a vector in here: the JDK's vector methods are always inlined, ours only
     * within C2's inlining budget, which a loop this size exhausts, and a vector passed to a call
     * that is not inlined is allocated. Each half of a block is its own method ({@link #q6kHalf}):
     * with both in one loop C2 unrolled them into a body too large for its vector intrinsics, and
     * the last conversion and store of each ran the allocating fallback (Q6_K pp512 134-140 tok/s
     * that way, 148 split).
     */
    static void q6_k(byte[] q, int p, int blocks, float[] y, int yo, KQuantScales ks, int block) {
        for (int k = 0; k < blocks; k++, p += 210, yo += 256, block++) {
            q6kHalf(q, p, p + 128, y, yo, ks, block, 0);
            q6kHalf(q, p + 64, p + 160, y, yo + 128, ks, block, 8);
        }
    }

    /**
     * Half a Q6_K block: ql at {@code ql}, qh at {@code qh}, sub-blocks from {@code is0}, values at
     * {@code base}. Its four runs of 32 values go through one loop body (value run g takes the low or
     * high nibbles of its ql bytes and bits 2g, 2g + 1 of its qh byte): written out four times, the
     * body outgrew what C2 parses into vector intrinsics in one method, and in most runs the last
     * conversion and store fell back to boxed vectors (PrintInlining: "failed to inline
     * (intrinsic)" in 7 of 10 Q4_K_M runs; none of 6 with one body).
     */
    private static void q6kHalf(byte[] q, int ql, int qh, float[] y, int base, KQuantScales ks, int block, int is0) {
        for (int l = 0; l < 32; l += LANES) {
            int is = is0 + l / 16;
            IntVector high = ((IntVector) ByteVector.fromArray(B, q, qh + l).convertShape(VectorOperators.B2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 4);
            for (int g = 0; g < 4; g++) {
                IntVector low = (IntVector) ByteVector.fromArray(B, q, ql + l + 32 * (g & 1))
                        .convertShape(VectorOperators.B2I, I, 0);
                IntVector quant = low.lanewise(VectorOperators.LSHR, 4 * (g >> 1)).and(0x0F)
                        .or(high.lanewise(VectorOperators.LSHR, 2 * g).and(0x30));
                ((FloatVector) quant.sub(32).convert(VectorOperators.I2F, 0))
                        .mul(FloatVector.broadcast(F, ks.scale(block, is + 2 * g))).intoArray(y, base + l + 32 * g);
            }
        }
    }
}
