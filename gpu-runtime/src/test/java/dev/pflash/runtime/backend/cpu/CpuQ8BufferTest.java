package dev.pflash.runtime.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pflash.runtime.backend.DeviceBuffer;
import dev.pflash.runtime.backend.ElementType;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * q8_0 buffers through the CPU backend: stores through the pool give the blocks {@link Q8Blocks}
 * gives (a buffer long enough to be split across threads), copies between q8_0 buffers move the
 * blocks as they are, and what cannot be done is refused with a message that says why.
 */
class CpuQ8BufferTest {
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
    void aStoreThroughThePoolGivesTheBlocksOfTheScalarQuantizerAndReadsBackExactly() {
        int n = 32 * 3000;
        float[] values = new float[n];
        SplittableRandom rnd = new SplittableRandom(4);
        for (int i = 0; i < n; i++) {
            values[i] = (float) ((rnd.nextDouble() - 0.5) * Math.scalb(1.0, rnd.nextInt(-10, 10)));
        }
        byte[] quants = new byte[n];
        short[] scales = new short[n / 32];
        Q8Blocks.quantize(values, 0, quants, scales, 0, n);
        float[] expected = new float[n];
        Q8Blocks.dequantize(quants, scales, 0, expected, 0, n);

        CpuQ8Buffer q = (CpuQ8Buffer) backend.allocate(n + 64, ElementType.Q8_0);
        backend.copy(backend.upload(values), q.slice(32, n));
        assertThat(Arrays.copyOfRange(q.quants, 32, 32 + n)).containsExactly(quants);
        assertThat(Arrays.copyOfRange(q.scales, 1, 1 + n / 32)).containsExactly(scales);
        float[] back = new float[n];
        backend.read(q.slice(32, n), back, 0);
        assertThat(back).containsExactly(expected);

        DeviceBuffer copy = backend.allocate(n, ElementType.Q8_0);
        backend.copy(q.slice(32, n), copy);
        float[] copied = new float[n];
        backend.read(copy, copied, 0);
        assertThat(copied).containsExactly(expected);
        DeviceBuffer f32 = backend.allocate(n);
        backend.copy(copy, f32);
        float[] asF32 = new float[n];
        backend.read(f32, asF32, 0);
        assertThat(asF32).containsExactly(expected);
    }

    @Test
    void aBufferIsMadeAndCutInWholeBlocksOnly() {
        assertThatThrownBy(() -> backend.allocate(40, ElementType.Q8_0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a q8_0 buffer holds whole blocks of 32 elements, not 40");
        DeviceBuffer q = backend.allocate(96, ElementType.Q8_0);
        assertThat(q.slice(32, 64).size()).isEqualTo(64);
        assertThatThrownBy(() -> q.slice(16, 32)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a q8_0 buffer is cut at blocks of 32 elements, not at [16, 16 + 32)");
        assertThatThrownBy(() -> q.slice(64, 64)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void f16ToQ8CopiesAndOtherOpsAreRefused() {
        DeviceBuffer q = backend.allocate(32, ElementType.Q8_0);
        DeviceBuffer h = backend.allocate(32, ElementType.F16);
        assertThatThrownBy(() -> backend.copy(h, q)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("cannot copy CpuHalfBuffer[32 f16] to CpuQ8Buffer[32 q8_0]: q8_0 buffers copy to and"
                        + " from q8_0 and f32 buffers of the CPU backend only");
        assertThatThrownBy(() -> backend.add(q, q, 32)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is q8_0; only copy, read, write and attention take it");
    }
}
