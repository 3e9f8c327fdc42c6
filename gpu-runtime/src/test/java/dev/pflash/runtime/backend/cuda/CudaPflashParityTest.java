package dev.pflash.runtime.backend.cuda;

import static dev.pflash.runtime.backend.cuda.GpuTests.maxAbs;
import static dev.pflash.runtime.backend.cuda.GpuTests.randomFloats;
import static dev.pflash.runtime.backend.cuda.GpuTests.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import dev.pflash.runtime.backend.AttentionShape;
import dev.pflash.runtime.backend.Backend;
import dev.pflash.runtime.backend.BlockMask;
import dev.pflash.runtime.backend.BlockSparsity;
import dev.pflash.runtime.backend.DeviceBuffer;
import dev.pflash.runtime.backend.PflashOps;
import dev.pflash.runtime.backend.cpu.CpuPflashOps;
import dev.pflash.runtime.engine.CompressionSettings;
import dev.pflash.runtime.gguf.ModelFile;
import dev.pflash.runtime.model.ModelConfig;
import dev.pflash.runtime.model.Weights;
import dev.pflash.runtime.models.ModelSources;
import dev.pflash.runtime.pflash.CompressionResult;
import dev.pflash.runtime.pflash.SpeculativePrefill;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every PFlash op on CUDA against the CPU reference on the same inputs, and the end result: the
 * body chunks speculative prefill keeps with a drafter on each backend overlap by at least 95%.
 * Tolerances as in {@link CudaOpsParityTest}: f32 kernels differ by summation order, the
 * tensor-core sparse forward by f16 rounding of q, k, v and the probabilities.
 */
class CudaPflashParityTest extends GpuParityTestBase {
    private static PflashOps gpuOps;
    private static PflashOps cpuOps;

    /** Runs after {@link GpuParityTestBase#openBackends}, which JUnit runs first. */
    @BeforeAll
    static void openOps() {
        if (gpu == null) {
            return;
        }
        gpuOps = PflashOps.forBackend(gpu);
        cpuOps = new CpuPflashOps(cpu);
    }

    /** Runs before {@link GpuParityTestBase#closeBackends}, while the CPU backend is still open. */
    @AfterAll
    static void closeOps() {
        if (cpuOps != null) {
            cpuOps.close();
        }
    }

    @Test
    void theCudaBackendHasItsOwnPflashOps() {
        assertThat(gpuOps).isInstanceOf(CudaPflashOps.class);
    }

    @Test
    void blockMeanKeys() {
        int tokens = 300;
        int kvDim = 256;
        float[] keys = randomFloats(tokens * kvDim, 51, 2);
        float[] means = randomFloats(3 * kvDim, 52, 1);
        float[] expected = run(cpu, b -> cpuOps.blockMeanKeys(b[0], tokens, 1, 2, 128, kvDim, b[1]), keys, means)[1];
        float[] got = run(gpu, b -> gpuOps.blockMeanKeys(b[0], tokens, 1, 2, 128, kvDim, b[1]), keys, means)[1];
        assertClose(expected, got, 1e-6f * maxAbs(expected));
    }

    @ParameterizedTest(name = "head dim {0}, blocks of {1}")
    @CsvSource({"64, 128", "128, 128", "96, 64"})
    void blockScores(int headDim, int blockTokens) {
        Scores s = new Scores(headDim, blockTokens);
        float[] expected = s.compute(cpu, cpuOps);
        float[] got = s.compute(gpu, gpuOps);
        for (int i = 0; i < expected.length; i++) {
            if (expected[i] == Float.NEGATIVE_INFINITY) {
                assertThat(got[i]).as("score %d", i).isEqualTo(Float.NEGATIVE_INFINITY);
            } else {
                assertThat(got[i]).as("score %d", i).isCloseTo(expected[i], offset(1e-5f * Math.max(1, Math.abs(expected[i]))));
            }
        }
    }

    @Test
    void blockSelectionFromTheSameScoresIsTheSame() {
        Scores s = new Scores(64, 32);
        BlockSparsity sparsity = new BlockSparsity(32, 0.5, 1, 2, 1);
        BlockMask expected = s.mask(cpu, cpuOps, sparsity);
        BlockMask got = s.mask(gpu, gpuOps, sparsity);
        assertThat(got.selectedPairs()).isEqualTo(expected.selectedPairs()).isLessThan(expected.causalPairs());
        for (int h = 0; h < s.shape.heads(); h++) {
            for (int m = s.firstBlock; m < s.firstBlock + s.queryBlocks; m++) {
                assertThat(got.keyBlocks(h, m)).as("head %d block %d", h, m).containsExactly(expected.keyBlocks(h, m));
            }
        }
    }

    @ParameterizedTest(name = "head dim {0}, blocks of {1}")
    @CsvSource({"64, 128", "128, 128", "64, 32"})
    void sparseAttention(int headDim, int blockTokens) {
        Scores s = new Scores(headDim, blockTokens);
        BlockMask mask = s.mask(cpu, cpuOps, new BlockSparsity(blockTokens, 0.6, 1, 1, 0));
        assertThat(mask.selectedPairs()).isLessThan(mask.causalPairs());
        float[] out = new float[s.tokens * s.shape.queryDim()];
        float[] expected = run(cpu, b -> cpuOps.sparseAttention(b[0], b[1], b[2], s.tokens, s.firstIndex, s.shape, mask,
                b[3]), s.q, s.keys, s.values, out)[3];
        float[] got = run(gpu, b -> gpuOps.sparseAttention(b[0], b[1], b[2], s.tokens, s.firstIndex, s.shape, mask,
                b[3]), s.q, s.keys, s.values, out)[3];
        boolean tensorCores = blockTokens % 64 == 0;
        assertClose(expected, got, (tensorCores ? 5e-3f : 1e-5f) * maxAbs(s.values));
    }

    @Test
    void tailLogitsAndProbabilityMaxima() {
        AttentionShape shape = new AttentionShape(8, 2, 128, (float) (1 / Math.sqrt(128)));
        int tail = 8;
        int totalKeys = 700;
        int keyRows = 500;
        int firstKey = 100;
        float[] tailQ = randomFloats(tail * shape.queryDim(), 53, 3);
        float[] keys = randomFloats(keyRows * shape.kvDim(), 54, 3);
        float[] logits = randomFloats(tail * shape.heads() * totalKeys, 55, 1);
        float[] expected = run(cpu, b -> cpuOps.tailLogits(b[0], tail, b[1], keyRows, firstKey, shape, totalKeys, b[2]),
                tailQ, keys, logits)[2];
        float[] got = run(gpu, b -> gpuOps.tailLogits(b[0], tail, b[1], keyRows, firstKey, shape, totalKeys, b[2]),
                tailQ, keys, logits)[2];
        assertClose(expected, got, 1e-5f * maxAbs(expected));

        float[] maxProbs = randomFloats(tail * totalKeys, 56, 1e-3);
        for (int i = 0; i < maxProbs.length; i++) {
            maxProbs[i] = Math.abs(maxProbs[i]);
        }
        float[] expectedMax = run(cpu, b -> cpuOps.tailProbabilityMax(b[0], tail, shape.heads(), totalKeys, b[1]),
                expected, maxProbs)[1];
        float[] gotMax = run(gpu, b -> gpuOps.tailProbabilityMax(b[0], tail, shape.heads(), totalKeys, b[1]),
                expected, maxProbs)[1];
        for (int i = 0; i < expectedMax.length; i++) {
            assertThat(gotMax[i]).as("probability %d", i).isCloseTo(expectedMax[i], offset(1e-4f * expectedMax[i] + 1e-9f));
        }
    }

    @Test
    void smoothingAndChunkMeans() {
        int n = 1000;
        float[] x = randomFloats(n, 57, 1);
        float[] pooledCpu = run(cpu, b -> cpuOps.averagePool(b[0], n, 13, b[1]), x, new float[n])[1];
        float[] pooledGpu = run(gpu, b -> gpuOps.averagePool(b[0], n, 13, b[1]), x, new float[n])[1];
        assertClose(pooledCpu, pooledGpu, 1e-6f);
        float[] meansCpu = run(cpu, b -> cpuOps.chunkMeans(b[0], n, 32, b[1]), x, new float[32])[1];
        float[] meansGpu = run(gpu, b -> gpuOps.chunkMeans(b[0], n, 32, b[1]), x, new float[32])[1];
        assertClose(meansCpu, meansGpu, 1e-6f);
    }

    /**
     * The chunks chosen by score (no forced head, tail or anchor chunks, which would agree
     * trivially) with the drafter on the GPU are at least 95% of those chosen on the CPU.
     */
    @ParameterizedTest
    @ValueSource(strings = {"../sample-data/models/demo-drafter.gguf", "synthetic:cpu-drafter"})
    void speculativePrefillKeepsTheSameChunksOnBothBackends(String drafter) {
        CompressionSettings settings = new CompressionSettings(CompressionSettings.Mode.ALWAYS, 0.25, 0.85, 0, 8, 13, 32,
                128, 2, 4, 2, 0, 0, false, true, false);
        try (ModelFile file = ModelSources.open(drafter)) {
            ModelConfig config = ModelConfig.fromMetadata(file.metadata(), file);
            SplittableRandom rnd = new SplittableRandom(58);
            int[] prefix = rnd.ints(64, 0, config.vocabSize()).toArray();
            int[] body = rnd.ints(8192, 0, config.vocabSize()).toArray();
            int[] suffix = rnd.ints(32, 0, config.vocabSize()).toArray();
            int[] onCpu = keptTokens(file, config, cpu, prefix, body, suffix, settings);
            int[] onGpu = keptTokens(file, config, gpu, prefix, body, suffix, settings);
            Set<Integer> expected = new HashSet<>();
            for (int t : onCpu) {
                expected.add(t);
            }
            int common = 0;
            for (int t : onGpu) {
                common += expected.contains(t) ? 1 : 0;
            }
            assertThat(onGpu.length).isEqualTo(onCpu.length);
            assertThat((double) common / onCpu.length).as("overlap of kept body tokens").isGreaterThanOrEqualTo(0.95);
        }
    }

    private static int[] keptTokens(ModelFile file, ModelConfig config, Backend backend, int[] prefix, int[] body,
            int[] suffix, CompressionSettings settings) {
        try (SpeculativePrefill prefill = SpeculativePrefill.sharingIds(config, Weights.load(file, config, backend),
                backend)) {
            CompressionResult r = prefill.select(prefix, body, suffix, settings, settings.keepRatio(), Integer.MAX_VALUE);
            return r.selection().kept();
        }
    }

    private static void assertClose(float[] expected, float[] got, float tolerance) {
        assertThat(got).hasSameSizeAs(expected);
        for (int i = 0; i < expected.length; i++) {
            assertThat(got[i]).as("element %d", i).isCloseTo(expected[i], offset(tolerance));
        }
    }

    /**
     * Random queries, keys and values of a chunk of 600 tokens after one cached block, their block
     * scores, and masks from random block scores spread widely enough that alpha drops blocks.
     */
    private static final class Scores {
        final AttentionShape shape;
        final int blockTokens;
        final int firstIndex;
        final int firstBlock;
        final int tokens = 600;
        final int queryBlocks;
        final int keyBlocks;
        final float[] q;
        final float[] keys;
        final float[] values;

        Scores(int headDim, int blockTokens) {
            this.shape = new AttentionShape(8, 2, headDim, (float) (1 / Math.sqrt(headDim)));
            this.blockTokens = blockTokens;
            this.firstIndex = blockTokens;
            this.firstBlock = 1;
            this.queryBlocks = (tokens + blockTokens - 1) / blockTokens;
            this.keyBlocks = firstBlock + queryBlocks + 1;
            int rows = firstIndex + tokens;
            this.q = randomFloats(tokens * shape.queryDim(), 59, 2);
            this.keys = randomFloats(rows * shape.kvDim(), 60, 2);
            this.values = randomFloats(rows * shape.kvDim(), 61, 1);
        }

        float[] compute(Backend b, PflashOps ops) {
            int rows = firstIndex + tokens;
            int blocks = firstBlock + queryBlocks;
            float[] means = new float[blocks * shape.kvDim()];
            float[] scores = new float[shape.heads() * queryBlocks * keyBlocks];
            return run(b, buf -> {
                ops.blockMeanKeys(buf[0], rows, 0, blocks, blockTokens, shape.kvDim(), buf[1]);
                ops.blockScores(buf[2], tokens, firstIndex, buf[1], keyBlocks, shape, blockTokens, buf[3]);
            }, keys, means, q, scores)[3];
        }

        BlockMask mask(Backend b, PflashOps ops, BlockSparsity sparsity) {
            float[] scores = randomFloats(shape.heads() * queryBlocks * keyBlocks, 62, 3);
            try (DeviceBuffer buffer = b.upload(scores)) {
                return ops.selectBlocks(buffer, firstBlock, queryBlocks, keyBlocks, shape.heads(),
                        firstBlock + queryBlocks, sparsity);
            }
        }
    }
}
