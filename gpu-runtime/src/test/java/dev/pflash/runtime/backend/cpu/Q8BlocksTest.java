package dev.pflash.runtime.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pflash.runtime.gguf.Float16;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * q8_0 blocks of a KV cache: exact quants and scales where they can be worked out by hand, every
 * value back within half a step of where it was, saturation past the f16 range, and the vector
 * dequantization equal to the scalar one bit for bit.
 */
class Q8BlocksTest {
    @Test
    void aBlockWhoseLargestMagnitudeIs127HasScaleOneAndRoundsHalfAwayFromZero() {
        float[] x = new float[32];
        x[0] = 127;
        x[1] = -0.5f;
        x[2] = 0.5f;
        x[3] = 2.5f;
        x[4] = -2.5f;
        x[5] = 1.4999999f;
        x[6] = -126.6f;
        x[7] = 0.49999997f;
        byte[] q = new byte[64];
        short[] d = new short[2];
        Q8Blocks.quantize(x, 0, q, d, 32, 32);
        assertThat(d[0]).as("the first block is untouched").isZero();
        assertThat(d[1]).isEqualTo(Float16.fromFloat(1f));
        assertThat(java.util.Arrays.copyOfRange(q, 32, 40)).containsExactly(127, -1, 1, 3, -3, 1, -127, 0);
        float[] back = new float[32];
        Q8Blocks.dequantize(q, d, 32, back, 0, 32);
        assertThat(back[6]).isEqualTo(-127f);
        assertThat(back[8]).isZero();
    }

    @Test
    void everyValueComesBackWithinHalfItsBlocksStep() {
        SplittableRandom rnd = new SplittableRandom(3);
        int n = 32 * 200;
        float[] x = new float[n];
        for (int b = 0; b < 200; b++) {
            double magnitude = Math.pow(10, rnd.nextDouble() * 8 - 4);
            for (int i = 0; i < 32; i++) {
                x[b * 32 + i] = (float) ((rnd.nextDouble() * 2 - 1) * magnitude);
            }
        }
        byte[] q = new byte[n];
        short[] d = new short[n / 32];
        Q8Blocks.quantize(x, 0, q, d, 0, n);
        float[] back = new float[n];
        Q8Blocks.dequantize(q, d, 0, back, 0, n);
        for (int i = 0; i < n; i++) {
            float step = Float16.toFloat(d[i / 32]);
            assertThat(Math.abs(back[i] - x[i])).as("value %d of %s, step %s", i, x[i], step)
                    .isLessThanOrEqualTo(step / 2 * (1 + 1e-6f));
        }
    }

    @Test
    void valuesPastTheHalfRangeKeepTheirSignAtTheLargestScale() {
        float[] x = new float[32];
        x[0] = Float.POSITIVE_INFINITY;
        x[1] = -1e9f;
        x[2] = 1;
        byte[] q = new byte[32];
        short[] d = new short[1];
        Q8Blocks.quantize(x, 0, q, d, 0, 32);
        float[] back = new float[32];
        Q8Blocks.dequantize(q, d, 0, back, 0, 32);
        assertThat(Float16.toFloat(d[0])).isEqualTo(HalfFloats.MAX);
        assertThat(back[0]).isEqualTo(127 * HalfFloats.MAX);
        assertThat(back[1]).isEqualTo(-127 * HalfFloats.MAX);
        assertThat(back[2]).isZero();
    }

    @Test
    void aBlockOfZerosHasScaleZero() {
        byte[] q = new byte[32];
        short[] d = {Float16.fromFloat(5)};
        Q8Blocks.quantize(new float[32], 0, q, d, 0, 32);
        assertThat(d[0]).isZero();
        assertThat(q).containsOnly(0);
    }

    @Test
    void vectorDequantizationEqualsTheScalarBitForBit() {
        SplittableRandom rnd = new SplittableRandom(8);
        byte[] q = new byte[32 * 70];
        rnd.nextBytes(q);
        short[] d = new short[70];
        for (int i = 0; i < d.length; i++) {
            d[i] = Float16.fromFloat((float) (rnd.nextDouble() * 3 - 1));
        }
        d[5] = Float16.fromFloat(HalfFloats.MAX);
        d[6] = (short) 0x0001;
        float[] scalar = new float[32 * 66];
        float[] vector = new float[32 * 66];
        new ScalarAttentionKernel().q8ToFloat(q, d, 64, scalar, 0, 32 * 66);
        VectorAttentionKernel.create().q8ToFloat(q, d, 64, vector, 0, 32 * 66);
        assertThat(vector).containsExactly(scalar);
        assertThat(scalar[32 * 3]).isEqualTo(Float16.toFloat(d[5]) * q[32 * 5]);
    }
}
