package dev.pflash.runtime.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pflash.runtime.backend.Backend;
import dev.pflash.runtime.backend.DeviceBuffer;
import dev.pflash.runtime.gguf.GgmlType;
import dev.pflash.runtime.gguf.Quantize;
import dev.pflash.runtime.gguf.TensorData;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * What the GPU parity tests share: opening the device (or skipping each test, with the probe's
 * reason, where there is none), random inputs, and running an op on any backend.
 */
final class GpuTests {
    /** JUnit tag of the tests that need a CUDA device; the GPU bundle runs exactly these. */
    static final String TAG = "gpu";

    private GpuTests() {
    }

    /** Device 0, or null where CUDA is not available; tests then skip through {@link #assumeGpu}. */
    static CudaBackend openIfAvailable() {
        return CudaProbe.get().available() ? CudaBackend.open(0) : null;
    }

    /** Skips the calling test, with the probe's reason, when {@code gpu} is null. */
    static void assumeGpu(CudaBackend gpu) {
        assumeTrue(gpu != null, () -> "no usable CUDA device: " + CudaProbe.get().reason());
    }

    static float[] randomFloats(int n, long seed, double scale) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextDouble(-scale, scale);
        }
        return v;
    }

    /** A random {@code rows x cols} tensor of {@code type}. */
    static TensorData randomTensor(GgmlType type, int cols, int rows, long seed) {
        long elements = (long) cols * rows;
        ByteBuffer bytes = ByteBuffer.allocate(Math.toIntExact(type.byteSize(elements))).order(ByteOrder.LITTLE_ENDIAN);
        Quantize.fillRandom(type, bytes, elements, new SplittableRandom(seed), 1f);
        return TensorData.of("random." + type, type, new long[] {cols, rows}, bytes);
    }

    /** Uploads {@code inputs} to {@code b}, runs {@code op} on the buffers and returns all of them read back. */
    static float[][] run(Backend b, Consumer<DeviceBuffer[]> op, float[]... inputs) {
        DeviceBuffer[] buffers = new DeviceBuffer[inputs.length];
        try {
            for (int i = 0; i < inputs.length; i++) {
                buffers[i] = b.upload(inputs[i]);
            }
            op.accept(buffers);
            float[][] out = new float[inputs.length][];
            for (int i = 0; i < inputs.length; i++) {
                out[i] = new float[inputs[i].length];
                b.read(buffers[i], out[i], 0);
            }
            return out;
        } finally {
            for (DeviceBuffer buffer : buffers) {
                if (buffer != null) {
                    buffer.close();
                }
            }
        }
    }

    /** Every element of {@code got} within {@code tolerance} of {@code expected}'s. */
    static void assertClose(float[] expected, float[] got, float tolerance) {
        assertThat(got).hasSameSizeAs(expected);
        for (int i = 0; i < expected.length; i++) {
            assertThat(got[i]).as("element %d", i).isCloseTo(expected[i], offset(tolerance));
        }
    }

    static float maxAbs(float[] v) {
        float m = 0;
        for (float x : v) {
            m = Math.max(m, Math.abs(x));
        }
        return m;
    }
}
