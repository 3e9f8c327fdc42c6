package dev.pflash.runtime.backend.cuda;

import static dev.pflash.runtime.backend.cuda.GpuTests.assertClose;
import static dev.pflash.runtime.backend.cuda.GpuTests.maxAbs;
import static dev.pflash.runtime.backend.cuda.GpuTests.randomFloats;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pflash.runtime.backend.AttentionShape;
import dev.pflash.runtime.backend.Backend;
import dev.pflash.runtime.backend.BlockMask;
import dev.pflash.runtime.backend.DeviceBuffer;
import dev.pflash.runtime.backend.ElementType;
import dev.pflash.runtime.backend.PflashOps;
import dev.pflash.runtime.backend.cpu.CpuPflashOps;
import dev.pflash.runtime.gguf.Float16;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * f16 buffers (a KV cache of {@link ElementType#F16}) on the GPU: writes, reads and copies round
 * to nearest even and saturate at +-65504, and attention and the PFlash ops over f16 keys and
 * values match the CPU's ops over the same values in f32 (the f16 values, widened).
 */
class CudaF16BufferParityTest extends GpuParityTestBase {
    /** x as an f16 buffer stores it: nearest even, saturating at +-65504. */
    static float half(float x) {
        return Float16.toFloat(Float16.fromFloat(Math.max(-65504f, Math.min(65504f, x))));
    }

    static float[] halves(float[] x) {
        float[] h = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            h[i] = half(x[i]);
        }
        return h;
    }

    @Test
    void writesReadsAndCopiesConvertBetweenF32AndF16() {
        float[] values = randomFloats(1001, 60, 3);
        values[0] = 70_000f;
        values[1] = -1e9f;
        values[2] = 65_519f;
        values[3] = 1e-6f;
        try (DeviceBuffer h = gpu.allocate(values.length, ElementType.F16);
                DeviceBuffer f = gpu.upload(values);
                DeviceBuffer back = gpu.allocate(values.length)) {
            assertThat(h.type()).isEqualTo(ElementType.F16);
            float[] zeros = new float[values.length];
            gpu.read(h, zeros, 0);
            assertThat(zeros).containsOnly(0f);

            gpu.write(values, 0, h);
            float[] read = new float[values.length];
            gpu.read(h, read, 0);
            assertThat(read).containsExactly(halves(values));
            assertThat(read[0]).isEqualTo(65504f);
            assertThat(read[1]).isEqualTo(-65504f);

            try (DeviceBuffer h2 = gpu.allocate(values.length, ElementType.F16)) {
                // f32 -> f16 into an odd-offset window, f16 -> f16, f16 -> f32.
                gpu.copy(f.slice(0, 500), h2.slice(1, 500));
                gpu.copy(h2.slice(1, 500), h.slice(501, 500));
                gpu.copy(h, back);
                gpu.read(back, read, 0);
                for (int i = 0; i < values.length; i++) {
                    float expected = i >= 501 ? half(values[i - 501]) : half(values[i]);
                    assertThat(read[i]).as("element %d", i).isEqualTo(expected);
                }
            }
        }
    }

    @Test
    void opsOtherThanTheKvCacheReadersRejectF16Buffers() {
        try (DeviceBuffer h = gpu.allocate(8, ElementType.F16); DeviceBuffer f = gpu.allocate(8)) {
            assertThatThrownBy(() -> gpu.add(f, h, 8)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("is F16; this op takes F32 buffers");
            assertThatThrownBy(() -> gpu.attention(f, h, f, 1, 0, new AttentionShape(1, 1, 8, 1f), f))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("keys are F16 but values F32");
        }
    }

    // offset: where the keys and values start in their allocations. Flash attention loads f16 rows
    // at 16-byte aligned addresses 8 values at a time and others (a slice off that alignment) one
    // value at a time.
    @ParameterizedTest(name = "{0} queries after {1} cached, {2}/{3} heads of {4}, K/V at element {5}")
    @CsvSource({"100, 0, 8, 2, 64, 0", "64, 5000, 4, 1, 128, 0", "1, 3000, 16, 4, 128, 0", "3, 200, 6, 2, 96, 0",
        "90, 33, 4, 2, 128, 1", "50, 70, 2, 1, 64, 3"})
    void attentionOverF16KeysAndValuesMatchesTheCpuOverTheSameValues(int tokens, int firstIndex, int heads, int kvHeads,
            int headDim, int offset) {
        AttentionShape shape = new AttentionShape(heads, kvHeads, headDim, (float) (1 / Math.sqrt(headDim)));
        int rows = firstIndex + tokens;
        float[] q = randomFloats(tokens * shape.queryDim(), 61, 2);
        float[] k = randomFloats(rows * shape.kvDim(), 62, 2);
        float[] v = randomFloats(rows * shape.kvDim(), 63, 1);
        float[] expected = new float[tokens * shape.queryDim()];
        try (DeviceBuffer qb = cpu.upload(q); DeviceBuffer kb = cpu.upload(halves(k)); DeviceBuffer vb = cpu.upload(halves(v));
                DeviceBuffer ob = cpu.allocate(expected.length)) {
            cpu.attention(qb, kb, vb, tokens, firstIndex, shape, ob);
            cpu.read(ob, expected, 0);
        }
        float[] got = new float[expected.length];
        try (DeviceBuffer qb = gpu.upload(q); DeviceBuffer kb = f16(gpu, k, offset); DeviceBuffer vb = f16(gpu, v, offset);
                DeviceBuffer ob = gpu.allocate(got.length)) {
            gpu.attention(qb, kb.slice(offset, k.length), vb.slice(offset, v.length), tokens, firstIndex, shape, ob);
            gpu.read(ob, got, 0);
        }
        boolean flash = tokens >= CudaBackend.FLASH_MIN_QUERIES && (headDim == 64 || headDim == 128);
        assertClose(expected, got, (flash ? 5e-3f : 1e-5f) * maxAbs(v));
    }

    @Test
    void pflashOpsReadF16KeysAndValues() {
        AttentionShape shape = new AttentionShape(4, 2, 64, 0.125f);
        int tokens = 256;
        int blockTokens = 64;
        float[] q = randomFloats(tokens * shape.queryDim(), 64, 1);
        float[] k = randomFloats(tokens * shape.kvDim(), 65, 1);
        float[] v = randomFloats(tokens * shape.kvDim(), 66, 1);
        int blocks = tokens / blockTokens;
        float[] expectedMeans = new float[blocks * shape.kvDim()];
        float[] gotMeans = new float[expectedMeans.length];
        float[] expectedLogits = new float[2 * shape.heads() * tokens];
        float[] gotLogits = new float[expectedLogits.length];
        float[] expectedOut = new float[tokens * shape.queryDim()];
        float[] gotOut = new float[expectedOut.length];
        int[][] lists = new int[shape.heads() * blocks][];
        for (int h = 0; h < shape.heads(); h++) {
            for (int b = 0; b < blocks; b++) {
                lists[h * blocks + b] = b == 0 ? new int[] {0} : new int[] {0, b};
            }
        }
        BlockMask mask = new BlockMask(blockTokens, shape.heads(), 0, blocks, lists);
        try (PflashOps cpuOps = new CpuPflashOps(cpu)) {
            run(cpu, cpuOps, cpu.upload(halves(k)), cpu.upload(halves(v)), q, shape, tokens, blockTokens, mask,
                    expectedMeans, expectedLogits, expectedOut);
        }
        run(gpu, gpu.pflash(), f16(gpu, k), f16(gpu, v), q, shape, tokens, blockTokens, mask, gotMeans, gotLogits,
                gotOut);
        assertClose(expectedMeans, gotMeans, 1e-6f);
        assertClose(expectedLogits, gotLogits, 1e-5f * maxAbs(expectedLogits));
        assertClose(expectedOut, gotOut, 5e-3f * maxAbs(v));
    }

    private static void run(Backend b, PflashOps ops, DeviceBuffer keys, DeviceBuffer values, float[] q, AttentionShape shape,
            int tokens, int blockTokens, BlockMask mask, float[] means, float[] logits, float[] out) {
        int blocks = tokens / blockTokens;
        try (keys; values; DeviceBuffer qb = b.upload(q); DeviceBuffer mb = b.allocate(means.length);
                DeviceBuffer lb = b.allocate(logits.length); DeviceBuffer ob = b.allocate(out.length)) {
            ops.blockMeanKeys(keys, tokens, 0, blocks, blockTokens, shape.kvDim(), mb);
            ops.tailLogits(qb.slice((tokens - 2) * shape.queryDim(), 2 * shape.queryDim()), 2, keys, tokens, 0,
                    shape, tokens, lb);
            ops.sparseAttention(qb, keys, values, tokens, 0, shape, mask, ob);
            b.read(mb, means, 0);
            b.read(lb, logits, 0);
            b.read(ob, out, 0);
        }
    }

    private static DeviceBuffer f16(CudaBackend b, float[] values) {
        return f16(b, values, 0);
    }

    /** An f16 allocation holding the values from element offset on. */
    private static DeviceBuffer f16(CudaBackend b, float[] values, int offset) {
        DeviceBuffer h = b.allocate(offset + values.length, ElementType.F16);
        b.write(values, 0, h.slice(offset, values.length));
        return h;
    }
}
