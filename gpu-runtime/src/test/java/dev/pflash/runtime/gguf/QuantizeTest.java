package dev.pflash.runtime.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

class QuantizeTest {

    /** Values of mixed sign and magnitude, with a few all-positive, all-negative and all-zero blocks. */
    private static float[] sample(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            int block = i / 256;
            float scale = (float) Math.pow(10, (block % 5) - 2);
            x[i] = switch (block % 4) {
                case 0 -> (float) rnd.nextGaussian() * scale;
                case 1 -> (float) rnd.nextDouble(0.1, 1) * scale;
                case 2 -> -(float) rnd.nextDouble(0.1, 1) * scale;
                default -> block == 3 ? 0f : (float) (rnd.nextDouble(-1, 1) * scale + 0.3 * scale);
            };
        }
        return x;
    }

    private static float[] dequantize(GgmlType t, ByteBuffer bytes, int n) {
        float[] out = new float[n];
        t.dequantize(bytes, 0, out, 0, n);
        return out;
    }

    @Test
    void floatTypesConvertEachValue() {
        float[] x = sample(512, 1);
        assertThat(dequantize(GgmlType.F32, Quantize.quantize(GgmlType.F32, x), 512)).containsExactly(x);
        float[] f16 = dequantize(GgmlType.F16, Quantize.quantize(GgmlType.F16, x), 512);
        float[] bf16 = dequantize(GgmlType.BF16, Quantize.quantize(GgmlType.BF16, x), 512);
        for (int i = 0; i < x.length; i++) {
            assertThat(f16[i]).isEqualTo(Float16.toFloat(Float16.fromFloat(x[i])));
            assertThat(bf16[i]).isEqualTo(Float16.bf16ToFloat(Float16.floatToBf16(x[i])));
        }
    }

    @Test
    void q4_0MatchesTheReferenceQuantizerOnAHandExample() {
        float[] x = new float[32];
        for (int i = 0; i < 32; i++) {
            x[i] = i - 16; // largest magnitude: -16 at i = 0, so d = -16 / -8 = 2
        }
        ByteBuffer b = Quantize.quantize(GgmlType.Q4_0, x);
        assertThat(b.getShort(0)).isEqualTo((short) 0x4000);
        // q = min(15, trunc(x/2 + 8.5)): x=-16 -> 0, x=-15 -> 1; x=0 -> 8, x=1 -> 9; x=14 -> 15, x=15 -> 15 (clipped)
        assertThat(b.get(2)).isEqualTo((byte) 0x80); // element 0 (q 0) and element 16 (q 8)
        assertThat(b.get(3)).isEqualTo((byte) 0x91); // element 1 (q 1) and element 17 (q 9)
        assertThat(b.get(17)).isEqualTo((byte) 0xF8); // element 15 (x -1: q 8) and element 31 (x 15: q 15)
        float[] y = dequantize(GgmlType.Q4_0, b, 32);
        assertThat(y[0]).isEqualTo(-16f);
        assertThat(y[31]).isEqualTo(14f);
    }

    @Test
    void q8_0MatchesTheReferenceQuantizerOnAHandExample() {
        float[] x = new float[32];
        x[0] = 127;
        x[1] = -63.5f; // tie: rounds away from zero to -64
        x[2] = 0.49f;
        ByteBuffer b = Quantize.quantize(GgmlType.Q8_0, x);
        assertThat(b.getShort(0)).isEqualTo((short) 0x3C00); // d = 127/127 = 1
        assertThat(b.get(2)).isEqualTo((byte) 127);
        assertThat(b.get(3)).isEqualTo((byte) -64);
        assertThat(b.get(4)).isEqualTo((byte) 0);
    }

    /**
     * Stated errors: Q8_0 half a step plus the f16 rounding of d (under 0.57 d in all); Q4_0 one
     * step |d|; K-quants half a step of their sub-block, bounded from the data as below.
     */
    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void roundTripErrorStaysWithinTheStatedBound(GgmlType t) {
        int n = 256 * 12;
        float[] x = sample(n, 42);
        ByteBuffer bytes = Quantize.quantize(t, x);
        assertThat(bytes.capacity()).isEqualTo(t.byteSize(n));
        float[] y = dequantize(t, bytes, n);
        for (int i = 0; i < n; i++) {
            float err = Math.abs(x[i] - y[i]);
            assertThat(err).as("%s element %d: %s -> %s", t, i, x[i], y[i]).isLessThanOrEqualTo(bound(t, x, bytes, i));
        }
    }

    private static float bound(GgmlType t, float[] x, ByteBuffer bytes, int i) {
        return switch (t) {
            case F32 -> 0f;
            case F16 -> Math.abs(x[i]) * 0x1p-11f + 0x1p-25f;
            case BF16 -> Math.abs(x[i]) * 0x1p-8f;
            case Q8_0 -> 0.57f * amax(x, i / 32 * 32, 32) / 127 * 1.001f;
            case Q4_0 -> Math.abs(Float16.toFloat(bytes.getShort(i / 32 * 18))) * 1.0001f;
            case Q4_K, Q5_K -> {
                int nmax = t == GgmlType.Q4_K ? 15 : 31;
                int block = i / 256 * t.typeSize();
                float d = Float16.toFloat(bytes.getShort(block));
                float dmin = Float16.toFloat(bytes.getShort(block + 2));
                int sub = i / 32 * 32;
                float lo = Math.min(0, min(x, sub, 32));
                float hi = max(x, sub, 32);
                // step = d * scale <= (range + dmin) / nmax + d, since mins and then scales round up by under one unit
                yield 0.5f * ((hi - lo + dmin) / nmax + d) * 1.001f + 1e-7f;
            }
            case Q6_K -> {
                float d = Float16.toFloat(bytes.getShort(i / 256 * 210 + 208));
                yield 0.5f * (amax(x, i / 16 * 16, 16) / 31.5f + d) * 1.001f + 1e-7f;
            }
        };
    }

    private static float amax(float[] x, int from, int n) {
        float m = 0;
        for (int i = from; i < from + n; i++) {
            m = Math.max(m, Math.abs(x[i]));
        }
        return m;
    }

    private static float min(float[] x, int from, int n) {
        float m = Float.MAX_VALUE;
        for (int i = from; i < from + n; i++) {
            m = Math.min(m, x[i]);
        }
        return m;
    }

    private static float max(float[] x, int from, int n) {
        float m = -Float.MAX_VALUE;
        for (int i = from; i < from + n; i++) {
            m = Math.max(m, x[i]);
        }
        return m;
    }

    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void rmsErrorOnUnitGaussiansMatchesTheFormatsPrecision(GgmlType t) {
        int n = 256 * 16;
        SplittableRandom rnd = new SplittableRandom(3);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        float[] y = dequantize(t, Quantize.quantize(t, x), n);
        double se = 0;
        for (int i = 0; i < n; i++) {
            se += (x[i] - y[i]) * (x[i] - y[i]);
        }
        double rmse = Math.sqrt(se / n);
        // Measured with this seed, plus 20%: Q4_0 0.086, Q4_K 0.079, Q5_K 0.039, Q6_K 0.020, Q8_0 0.0053.
        double limit = switch (t) {
            case F32 -> 0;
            case F16 -> 2.5e-4;
            case BF16 -> 2e-3;
            case Q8_0 -> 0.0065;
            case Q6_K -> 0.024;
            case Q5_K -> 0.047;
            case Q4_K -> 0.095;
            case Q4_0 -> 0.104;
        };
        assertThat(rmse).as("%s RMS error", t).isLessThanOrEqualTo(limit);
    }

    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void zerosStayZero(GgmlType t) {
        float[] y = dequantize(t, Quantize.quantize(t, new float[512]), 512);
        for (float v : y) {
            assertThat(v).isZero();
        }
    }

    @Test
    void rejectsPartialBlocks() {
        assertThatThrownBy(() -> Quantize.quantize(GgmlType.Q4_K, new float[255]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("255");
    }

    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void fillRandomWritesValidBlocksOfAboutTheScale(GgmlType t) {
        int n = 256 * 64;
        int bytes = (int) t.byteSize(n);
        // Big-endian direct buffer with a non-zero position: the fill must honour both and change neither.
        ByteBuffer buffer = ByteBuffer.allocateDirect(bytes + 16);
        buffer.position(8);
        for (int i = 0; i < buffer.capacity(); i++) {
            buffer.put(i, (byte) 0x5A);
        }
        Quantize.fillRandom(t, buffer, n, new SplittableRandom(11), 0.5f);
        assertThat(buffer.position()).isEqualTo(8);
        assertThat(buffer.order()).isEqualTo(ByteOrder.BIG_ENDIAN);
        for (int i : new int[] {0, 7, bytes + 8, bytes + 15}) {
            assertThat(buffer.get(i)).as("byte %d outside the range", i).isEqualTo((byte) 0x5A);
        }
        float[] y = new float[n];
        t.dequantize(buffer.slice(8, bytes), 0, y, 0, n);
        double sumAbs = 0;
        for (float v : y) {
            assertThat(Float.isFinite(v)).isTrue();
            sumAbs += Math.abs(v);
        }
        double meanAbs = sumAbs / n;
        assertThat(meanAbs).as("%s mean |value|", t).isBetween(0.05, 1.5);
        if (t.isQuantized()) {
            for (int block = 0; block < n / t.blockSize(); block++) {
                int at = 8 + block * t.typeSize() + (t == GgmlType.Q6_K ? 208 : 0);
                float d = Float16.toFloat(buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN).getShort(at));
                assertThat(Float.isFinite(d) && d > 0).as("%s block %d scale %s", t, block, d).isTrue();
            }
        }
    }

    @Test
    void fillRandomOnDisjointSlicesFromSeveralThreads() throws Exception {
        GgmlType t = GgmlType.Q8_0;
        int blocksPerThread = 1000;
        int bytesPerThread = blocksPerThread * t.typeSize();
        ByteBuffer buffer = ByteBuffer.allocate(2 * bytesPerThread);
        SplittableRandom root = new SplittableRandom(5);
        SplittableRandom[] rnds = {root.split(), root.split()};
        Thread[] threads = new Thread[2];
        for (int k = 0; k < 2; k++) {
            ByteBuffer slice = buffer.slice(k * bytesPerThread, bytesPerThread);
            SplittableRandom rnd = rnds[k];
            threads[k] = new Thread(() -> Quantize.fillRandom(t, slice, blocksPerThread * 32L, rnd, 1f));
            threads[k].start();
        }
        for (Thread thread : threads) {
            thread.join();
        }
        float[] y = new float[2 * blocksPerThread * 32];
        t.dequantize(buffer, 0, y, 0, y.length);
        // Every block of both halves has a real scale: neither thread's range was skipped or overwritten.
        for (int block = 0; block < 2 * blocksPerThread; block++) {
            assertThat(Float16.toFloat(buffer.order(ByteOrder.LITTLE_ENDIAN).getShort(block * 34))).isPositive();
        }
    }

    @Test
    void fillRandomRejectsABadScaleOrTooSmallBuffer() {
        ByteBuffer small = ByteBuffer.allocate(100);
        assertThatThrownBy(() -> Quantize.fillRandom(GgmlType.Q4_K, small, 256, new SplittableRandom(1), 1f))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("144 bytes");
        assertThatThrownBy(() -> Quantize.fillRandom(GgmlType.F32, small, 4, new SplittableRandom(1), Float.NaN))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("scale");
    }
}
