package dev.pflash.runtime.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Hand-built blocks whose expected values were computed by hand from the layouts in GGUF-QWEN3.md. */
class DequantizeTest {

    private static float[] dequantize(GgmlType t, byte[] bytes, int n) {
        float[] out = new float[n];
        t.dequantize(ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN), 0, out, 0, n);
        return out;
    }

    @Test
    void f32F16AndBf16() {
        byte[] f32 = {0, 0, (byte) 0x80, 0x3F, 0, 0, 0, (byte) 0xC0};
        assertThat(dequantize(GgmlType.F32, f32, 2)).containsExactly(1.0f, -2.0f);
        byte[] f16 = {0x00, 0x3C, 0x00, (byte) 0xC0, (byte) 0xFF, 0x7B, 0x01, 0x00};
        assertThat(dequantize(GgmlType.F16, f16, 4)).containsExactly(1.0f, -2.0f, 65504f, 0x1p-24f);
        byte[] bf16 = {(byte) 0x80, 0x3F, 0x40, (byte) 0xC0};
        assertThat(dequantize(GgmlType.BF16, bf16, 2)).containsExactly(1.0f, -3.0f);
    }

    @Test
    void q8_0() {
        byte[] b = new byte[34];
        b[0] = 0x00;
        b[1] = 0x38; // d = 0.5
        b[2] = 1;
        b[3] = -2;
        b[4] = 127;
        b[5] = -128;
        b[33] = 10;
        float[] expected = new float[32];
        expected[0] = 0.5f;
        expected[1] = -1f;
        expected[2] = 63.5f;
        expected[3] = -64f;
        expected[31] = 5f;
        assertThat(dequantize(GgmlType.Q8_0, b, 32)).containsExactly(expected, within(0f));
    }

    @Test
    void q4_0LowNibblesAreTheFirstHalf() {
        byte[] b = new byte[18];
        b[0] = 0x00;
        b[1] = 0x40; // d = 2
        Arrays.fill(b, 2, 18, (byte) 0x88); // both nibbles 8: value 0
        b[2] = (byte) 0x9F; // element 0: (15-8)*2 = 14; element 16: (9-8)*2 = 2
        b[3] = 0x08; // element 1: 0; element 17: (0-8)*2 = -16
        float[] expected = new float[32];
        expected[0] = 14f;
        expected[16] = 2f;
        expected[17] = -16f;
        assertThat(dequantize(GgmlType.Q4_0, b, 32)).containsExactly(expected, within(0f));
    }

    /**
     * d = 1, dmin = 0.5, scales {1, 2, 3, 4, 40, 50, 60, 63}, mins {0, 1, 2, 3, 17, 33, 48, 63}
     * packed by hand into the 12 bytes of get_scale_min_k4.
     */
    @Test
    void q4_kSixBitScalesAndMins() {
        byte[] b = new byte[144];
        b[0] = 0x00;
        b[1] = 0x3C; // d = 1
        b[2] = 0x00;
        b[3] = 0x38; // dmin = 0.5
        byte[] scales = {
            // scale k | (high 2 bits of scale k+4) << 6: 1|2<<6, 2|3<<6, 3|3<<6, 4|3<<6
            (byte) 0x81, (byte) 0xC2, (byte) 0xC3, (byte) 0xC4,
            // min k | (high 2 bits of min k+4) << 6: 0|1<<6, 1|2<<6, 2|3<<6, 3|3<<6
            (byte) 0x40, (byte) 0x81, (byte) 0xC2, (byte) 0xC3,
            // low 4 bits of scale k+4 | low 4 bits of min k+4 << 4: 40,17 -> 0x18; 50,33 -> 0x12; 60,48 -> 0x0C; 63,63 -> 0xFF
            0x18, 0x12, 0x0C, (byte) 0xFF};
        System.arraycopy(scales, 0, b, 4, 12);
        b[16] = 0x52; // chunk 0, l=0: element 0 q=2, element 32 q=5
        b[17] = (byte) 0xF0; // chunk 0, l=1: element 1 q=0, element 33 q=15
        b[16 + 64] = 0x7E; // chunk 2, l=0: element 128 q=14, element 160 q=7
        b[16 + 96] = 0x31; // chunk 3, l=0: element 192 q=1, element 224 q=3
        // With q = 0 an element is -dmin * min of its sub-block.
        float[] minTerm = {0f, -0.5f, -1f, -1.5f, -8.5f, -16.5f, -24f, -31.5f};
        float[] expected = new float[256];
        for (int i = 0; i < 256; i++) {
            expected[i] = minTerm[i / 32];
        }
        expected[0] = 2f; // 1*1*2 - 0.5*0
        expected[32] = 9.5f; // 1*2*5 - 0.5*1
        expected[33] = 29.5f; // 1*2*15 - 0.5*1
        expected[128] = 551.5f; // 1*40*14 - 0.5*17
        expected[160] = 333.5f; // 1*50*7 - 0.5*33
        expected[192] = 36f; // 1*60*1 - 0.5*48
        expected[224] = 157.5f; // 1*63*3 - 0.5*63
        assertThat(dequantize(GgmlType.Q4_K, b, 256)).containsExactly(expected, within(0f));
    }

    /** d = 0.5, dmin = 1, scales {2,2,2,2,3,3,3,3}, mins {1,1,1,1,0,0,0,0}; the 5th bits come from qh. */
    @Test
    void q5_kFifthBit() {
        byte[] b = new byte[176];
        b[0] = 0x00;
        b[1] = 0x38; // d = 0.5
        b[2] = 0x00;
        b[3] = 0x3C; // dmin = 1
        Arrays.fill(b, 4, 8, (byte) 0x02);
        Arrays.fill(b, 8, 12, (byte) 0x01);
        Arrays.fill(b, 12, 16, (byte) 0x03);
        b[16] = 0b0000_0001; // qh[0] bit 0: chunk 0 low nibble, element 0
        b[17] = 0b0000_0010; // qh[1] bit 1: chunk 0 high nibble, element 33
        b[18] = (byte) 0b1000_0000; // qh[2] bit 7: chunk 3 high nibble, element 226
        b[19] = 0b0001_0000; // qh[3] bit 4: chunk 2 low nibble, element 131
        b[48] = 0x21; // element 0 q=1(+16), element 32 q=2
        b[48 + 96 + 2] = (byte) 0xF0; // element 194 q=0, element 226 q=15(+16)
        b[48 + 64 + 3] = 0x05; // element 131 q=5(+16), element 163 q=0
        float[] expected = new float[256];
        for (int i = 0; i < 256; i++) {
            expected[i] = i < 128 ? -1f : 0f;
        }
        expected[0] = 16f; // 0.5*2*17 - 1
        expected[32] = 1f; // 0.5*2*2 - 1
        expected[33] = 15f; // 0.5*2*16 - 1
        expected[131] = 31.5f; // 0.5*3*21
        expected[226] = 46.5f; // 0.5*3*31
        assertThat(dequantize(GgmlType.Q5_K, b, 256)).containsExactly(expected, within(0f));
    }

    /** d = 0.25; every 6-bit value is 32 (zero) except the ones set below; scales int8, some negative. */
    @Test
    void q6_kSignedScalesAndSplitBits() {
        byte[] b = new byte[210];
        Arrays.fill(b, 128, 192, (byte) 0xAA); // all high 2-bit fields = 2, low nibbles 0: q = 32
        byte[] scales = {1, -2, 3, 0, 4, 0, -5, 0, 10, 0, 0, 0, 0, 0, 0, 0};
        System.arraycopy(scales, 0, b, 192, 16);
        b[208] = 0x00;
        b[209] = 0x34; // d = 0.25
        b[0] = 0x7F; // ql[0]: q1 low 15, q3 low 7
        b[32] = 0x31; // ql[32]: q2 low 1, q4 low 3
        b[128] = (byte) 0x93; // qh[0] = 3 | 0<<2 | 1<<4 | 2<<6
        b[16] = 0x0F; // ql[16]: element 16 low 15 (high stays 2): q = 47
        b[64 + 5] = 0x01; // second half, ql[5]: element 133 low 1: q = 33
        float[] expected = new float[256];
        expected[0] = 7.75f; // q1 = 15|3<<4 = 63: 0.25*1*31
        expected[32] = -23.25f; // q2 = 1: 0.25*3*(-31)
        expected[64] = -9f; // q3 = 7|1<<4 = 23: 0.25*4*(-9)
        expected[96] = -3.75f; // q4 = 3|2<<4 = 35: 0.25*(-5)*3
        expected[16] = -7.5f; // scale index 1: 0.25*(-2)*15
        expected[133] = 2.5f; // scale index 8: 0.25*10*1
        assertThat(dequantize(GgmlType.Q6_K, b, 256)).containsExactly(expected, within(0f));
    }

    @Test
    void readsAtAnOffsetIntoADestinationOffsetWhateverTheBufferOrder() {
        byte[] b = new byte[3 + 18];
        b[3] = 0x00;
        b[4] = 0x3C; // d = 1
        Arrays.fill(b, 5, 21, (byte) 0x98); // low nibble 8 -> 0, high nibble 9 -> 1
        float[] out = new float[40];
        Arrays.fill(out, 7f);
        GgmlType.Q4_0.dequantize(ByteBuffer.wrap(b), 3, out, 4, 32); // big-endian buffer: read as little-endian
        assertThat(Arrays.copyOfRange(out, 0, 4)).containsOnly(7f);
        assertThat(Arrays.copyOfRange(out, 4, 20)).containsOnly(0f);
        assertThat(Arrays.copyOfRange(out, 20, 36)).containsOnly(1f);
        assertThat(Arrays.copyOfRange(out, 36, 40)).containsOnly(7f);
    }

    @Test
    void rejectsPartialBlocksAndShortDestinations() {
        ByteBuffer bytes = ByteBuffer.allocate(144);
        assertThatThrownBy(() -> GgmlType.Q4_K.dequantize(bytes, 0, new float[256], 0, 100))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("100 elements");
        assertThatThrownBy(() -> GgmlType.Q4_K.dequantize(bytes, 0, new float[200], 0, 256))
                .isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> GgmlType.Q4_K.dequantize(bytes, 8, new float[256], 0, 256))
                .isInstanceOf(IndexOutOfBoundsException.class);
    }
}
