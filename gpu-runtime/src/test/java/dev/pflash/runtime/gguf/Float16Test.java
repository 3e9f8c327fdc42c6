package dev.pflash.runtime.gguf;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class Float16Test {

    private static short h(int bits) {
        return (short) bits;
    }

    @Test
    void decodesKnownBinary16Patterns() {
        assertThat(Float16.toFloat(h(0x3C00))).isEqualTo(1.0f);
        assertThat(Float16.toFloat(h(0xC000))).isEqualTo(-2.0f);
        assertThat(Float16.toFloat(h(0x3555))).isEqualTo(0.333251953125f);
        assertThat(Float16.toFloat(h(0x7BFF))).isEqualTo(65504f);
        assertThat(Float16.toFloat(h(0x0400))).isEqualTo(0x1p-14f);
        assertThat(Float16.toFloat(h(0x0001))).isEqualTo(0x1p-24f);
        assertThat(Float16.toFloat(h(0x03FF))).isEqualTo(1023 * 0x1p-24f);
        assertThat(Float.floatToRawIntBits(Float16.toFloat(h(0x8000)))).isEqualTo(0x80000000);
        assertThat(Float.floatToRawIntBits(Float16.toFloat(h(0x0000)))).isEqualTo(0);
        assertThat(Float16.toFloat(h(0x7C00))).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(Float16.toFloat(h(0xFC00))).isEqualTo(Float.NEGATIVE_INFINITY);
        assertThat(Float16.toFloat(h(0x7E00))).isNaN();
        assertThat(Float16.toFloat(h(0x7C01))).isNaN();
    }

    @Test
    void encodesKnownValues() {
        assertThat(Float16.fromFloat(1.0f)).isEqualTo(h(0x3C00));
        assertThat(Float16.fromFloat(-2.0f)).isEqualTo(h(0xC000));
        assertThat(Float16.fromFloat(65504f)).isEqualTo(h(0x7BFF));
        assertThat(Float16.fromFloat(0x1p-14f)).isEqualTo(h(0x0400));
        assertThat(Float16.fromFloat(0x1p-24f)).isEqualTo(h(0x0001));
        assertThat(Float16.fromFloat(-0.0f)).isEqualTo(h(0x8000));
        assertThat(Float16.fromFloat(0.0f)).isEqualTo(h(0x0000));
        assertThat(Float16.fromFloat(Float.POSITIVE_INFINITY)).isEqualTo(h(0x7C00));
        assertThat(Float16.fromFloat(Float.NEGATIVE_INFINITY)).isEqualTo(h(0xFC00));
        assertThat(Float16.fromFloat(1e6f)).isEqualTo(h(0x7C00));
        assertThat(Float16.fromFloat(1e-10f)).isEqualTo(h(0x0000));
        assertThat(Float16.toFloat(Float16.fromFloat(Float.NaN))).isNaN();
        // A signalling NaN whose payload lies only in the low 13 bits must stay NaN, not become infinity.
        assertThat(Float16.toFloat(Float16.fromFloat(Float.intBitsToFloat(0x7F800001)))).isNaN();
    }

    @Test
    void roundsTiesToEven() {
        // 1 + 2^-11 lies halfway between 0x3C00 (even) and 0x3C01.
        assertThat(Float16.fromFloat(1 + 0x1p-11f)).isEqualTo(h(0x3C00));
        // 1 + 3 * 2^-11 lies halfway between 0x3C01 and 0x3C02 (even).
        assertThat(Float16.fromFloat(1 + 3 * 0x1p-11f)).isEqualTo(h(0x3C02));
        assertThat(Float16.fromFloat(1 + 0x1p-11f + 0x1p-20f)).isEqualTo(h(0x3C01));
        // 65520 is halfway between 65504 (odd mantissa) and 65536 (infinity, even).
        assertThat(Float16.fromFloat(65520f)).isEqualTo(h(0x7C00));
        assertThat(Float16.fromFloat(65519.99f)).isEqualTo(h(0x7BFF));
        // Subnormal ties: 2^-25 is halfway between 0 and the smallest subnormal; 3 * 2^-25 between 1 and 2 units.
        assertThat(Float16.fromFloat(0x1p-25f)).isEqualTo(h(0x0000));
        assertThat(Float16.fromFloat(Math.nextUp(0x1p-25f))).isEqualTo(h(0x0001));
        assertThat(Float16.fromFloat(3 * 0x1p-25f)).isEqualTo(h(0x0002));
        assertThat(Float16.fromFloat(-3 * 0x1p-25f)).isEqualTo(h(0x8002));
        // Rounding up the largest subnormal carries into the smallest normal.
        assertThat(Float16.fromFloat(1023.5f * 0x1p-24f)).isEqualTo(h(0x0400));
    }

    @Test
    void everyBinary16RoundTrips() {
        for (int bits = 0; bits < 0x10000; bits++) {
            float f = Float16.toFloat((short) bits);
            if (Float.isNaN(f)) {
                assertThat(Float16.toFloat(Float16.fromFloat(f))).isNaN();
            } else {
                assertThat(Float16.fromFloat(f) & 0xFFFF).as("bits %04X", bits).isEqualTo(bits);
            }
        }
    }

    @Test
    void randomFloatsRoundToTheNearestBinary16() {
        SplittableRandom rnd = new SplittableRandom(7);
        for (int i = 0; i < 200_000; i++) {
            float f = Float.intBitsToFloat(rnd.nextInt(0x32800000, 0x47800100)) * (rnd.nextBoolean() ? 1 : -1);
            assertThat(Float16.fromFloat(f)).as("%s", f).isEqualTo(nearestBySearch(f));
        }
    }

    /** The nearest binary16 by binary search over the (monotonic) positive patterns, ties to even. */
    private static short nearestBySearch(float f) {
        double a = Math.abs((double) f);
        int lo = 0;
        int hi = 0x7C00;
        while (hi - lo > 1) {
            int mid = (lo + hi) >>> 1;
            if (Float16.toFloat((short) mid) <= a) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        double below = a - Float16.toFloat((short) lo);
        double above = Float16.toFloat((short) hi) - a;
        if (hi == 0x7C00) {
            // Beyond 65504 the next representable step (65536) rounds to infinity.
            above = 65536 - a;
        }
        int pick = below < above || (below == above && (lo & 1) == 0) ? lo : hi;
        return (short) (pick | (f < 0 ? 0x8000 : 0));
    }

    @Test
    void convertsBfloat16() {
        assertThat(Float16.bf16ToFloat(h(0x3F80))).isEqualTo(1.0f);
        assertThat(Float16.bf16ToFloat(h(0xC040))).isEqualTo(-3.0f);
        assertThat(Float16.bf16ToFloat(h(0x7F80))).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(Float16.bf16ToFloat(h(0x7FC0))).isNaN();
        assertThat(Float16.floatToBf16(1.0f)).isEqualTo(h(0x3F80));
        assertThat(Float16.floatToBf16(-3.0f)).isEqualTo(h(0xC040));
        assertThat(Float16.floatToBf16(-0.0f)).isEqualTo(h(0x8000));
        // Ties: 0x3F808000 is halfway between 0x3F80 (even) and 0x3F81; 0x3F818000 between 0x3F81 and 0x3F82 (even).
        assertThat(Float16.floatToBf16(Float.intBitsToFloat(0x3F808000))).isEqualTo(h(0x3F80));
        assertThat(Float16.floatToBf16(Float.intBitsToFloat(0x3F818000))).isEqualTo(h(0x3F82));
        assertThat(Float16.floatToBf16(Float.intBitsToFloat(0x3F808001))).isEqualTo(h(0x3F81));
        assertThat(Float16.floatToBf16(Float.intBitsToFloat(0x7F7FFFFF))).isEqualTo(h(0x7F80));
        assertThat(Float16.floatToBf16(Float.POSITIVE_INFINITY)).isEqualTo(h(0x7F80));
        assertThat(Float16.bf16ToFloat(Float16.floatToBf16(Float.intBitsToFloat(0x7F800001)))).isNaN();
        assertThat(Float16.bf16ToFloat(Float16.floatToBf16(Float.NaN))).isNaN();
    }
}
