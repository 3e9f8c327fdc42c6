package dev.pflash.runtime.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pflash.runtime.backend.DeviceBuffer;
import dev.pflash.runtime.backend.ElementType;
import dev.pflash.runtime.gguf.Float16;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** f16 conversion as the backend contract states it, and the CPU backend's f16 buffers. */
class HalfFloatsTest {
    private static CpuBackend backend;

    @BeforeAll
    static void startBackend() {
        backend = new CpuBackend(2);
    }

    @AfterAll
    static void stopBackend() {
        backend.close();
    }

    @Test
    void everyFiniteHalfSurvivesTheRoundTripExactly() {
        for (int bits = 0; bits < 1 << 16; bits++) {
            float f = Float16.toFloat((short) bits);
            if (!Float.isNaN(f) && !Float.isInfinite(f)) {
                assertThat(HalfFloats.fromFloat(f) & 0xFFFF).as("f16 bits %04x", bits).isEqualTo(bits);
            }
        }
    }

    @Test
    void roundsToNearestEven() {
        float ulpAtOne = 0x1p-10f;
        assertThat(half(1 + ulpAtOne / 2)).as("tie, down to the even 1").isEqualTo(1f);
        assertThat(half(1 + 3 * ulpAtOne / 2)).as("tie, up to the even 1 + 2 ulp").isEqualTo(1 + 2 * ulpAtOne);
        assertThat(half(1 + ulpAtOne * 0.51f)).as("past the tie").isEqualTo(1 + ulpAtOne);
        assertThat(half(-(1 + ulpAtOne * 0.49f))).isEqualTo(-1f);
        assertThat(half(0x1p-25f)).as("half the smallest subnormal: tie to 0").isEqualTo(0f);
        assertThat(half(3 * 0x1p-26f)).as("three quarters of it").isEqualTo(0x1p-24f);
        assertThat(half(2049f)).as("tie between 2048 and 2050").isEqualTo(2048f);
        assertThat(half(2051f)).isEqualTo(2052f);
    }

    @Test
    void saturatesAtTheLargestFiniteHalfAndKeepsNan() {
        assertThat(half(65504f)).isEqualTo(65504f);
        assertThat(half(65519f)).isEqualTo(65504f);
        assertThat(half(65520f)).as("rounds to infinity without saturation").isEqualTo(65504f);
        assertThat(half(1e9f)).isEqualTo(65504f);
        assertThat(half(Float.POSITIVE_INFINITY)).isEqualTo(65504f);
        assertThat(half(-1e9f)).isEqualTo(-65504f);
        assertThat(half(Float.NEGATIVE_INFINITY)).isEqualTo(-65504f);
        assertThat(half(Float.NaN)).isNaN();
        assertThat(Float.floatToRawIntBits(half(-0f))).isEqualTo(Float.floatToRawIntBits(-0f));
    }

    @Test
    void backendConvertsOnWriteReadAndCopyBetweenTypes() {
        float[] values = {1f, -2.5f, 1 + 0x1p-11f, 70000f, 0.1f, -0f};
        float[] rounded = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            rounded[i] = half(values[i]);
        }
        DeviceBuffer h = backend.allocate(values.length, ElementType.F16);
        assertThat(h.type()).isEqualTo(ElementType.F16);
        backend.write(values, 0, h);
        assertThat(read(h)).containsExactly(rounded);

        DeviceBuffer f = backend.allocate(values.length, ElementType.F32);
        backend.copy(h, f);
        assertThat(read(f)).as("f16 to f32").containsExactly(rounded);

        DeviceBuffer h2 = backend.allocate(values.length + 2, ElementType.F16);
        backend.copy(backend.upload(values), h2.slice(1, values.length));
        assertThat(read(h2.slice(1, values.length))).as("f32 to f16, into a slice").containsExactly(rounded);
        assertThat(read(h2)[0]).isZero();

        DeviceBuffer h3 = backend.allocate(values.length, ElementType.F16);
        backend.copy(h2.slice(1, values.length), h3);
        assertThat(read(h3)).as("f16 to f16").containsExactly(rounded);
    }

    /**
     * A buffer long enough to be converted by both threads, at an odd offset and length: every
     * element gets the bits of the one-value conversion, both ways.
     */
    @Test
    void longBuffersAreConvertedInPiecesWithTheBitsOfOneValueAtATime() {
        int n = 3 * (1 << 15) + 7;
        SplittableRandom rnd = new SplittableRandom(3);
        float[] values = new float[n];
        short[] expected = new short[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) ((rnd.nextDouble() - 0.5) * Math.scalb(1.0, rnd.nextInt(-30, 20)));
            expected[i] = HalfFloats.fromFloat(values[i]);
        }
        DeviceBuffer h = backend.allocate(n + 5, ElementType.F16);
        backend.copy(backend.upload(values), h.slice(3, n));
        short[] stored = Arrays.copyOfRange(((CpuHalfBuffer) h).data, 3, 3 + n);
        assertThat(stored).containsExactly(expected);
        float[] back = new float[n];
        backend.read(h.slice(3, n), back, 0);
        for (int i = 0; i < n; i++) {
            assertThat(Float.floatToRawIntBits(back[i])).as("element %d", i)
                    .isEqualTo(Float.floatToRawIntBits(Float16.toFloat(expected[i])));
        }
    }

    @Test
    void opsOtherThanCopiesAndAttentionRejectF16() {
        DeviceBuffer h = backend.allocate(4, ElementType.F16);
        assertThatThrownBy(() -> backend.add(h, h, 4)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is f16; only copy, read, write and attention take it");
    }

    private static float[] read(DeviceBuffer b) {
        float[] out = new float[b.size()];
        backend.read(b, out, 0);
        return out;
    }

    private static float half(float f) {
        return Float16.toFloat(HalfFloats.fromFloat(f));
    }
}
