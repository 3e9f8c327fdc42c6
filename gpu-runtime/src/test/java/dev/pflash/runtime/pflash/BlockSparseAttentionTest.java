package dev.pflash.runtime.pflash;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.pflash.runtime.backend.AttentionShape;
import dev.pflash.runtime.backend.BlockMask;
import dev.pflash.runtime.backend.BlockSparsity;
import dev.pflash.runtime.backend.DeviceBuffer;
import dev.pflash.runtime.backend.PflashOps;
import dev.pflash.runtime.backend.cpu.CpuBackend;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** FlashPrefill's four ops (mean keys, block scores, selection, sparse forward) on the CPU. */
class BlockSparseAttentionTest {
    private static final int BLOCK = 32;
    private static final int TOKENS = 300;
    /** GQA: 4 query heads over 2 kv heads of 16 dims. */
    private static final AttentionShape SHAPE = new AttentionShape(4, 2, 16, 0.25f);

    private static CpuBackend backend;
    private static PflashOps ops;
    private static float[] q;
    private static float[] k;
    private static float[] v;

    @BeforeAll
    static void setUp() {
        backend = new CpuBackend(2);
        ops = PflashOps.forBackend(backend);
        SplittableRandom rnd = new SplittableRandom(7);
        q = random(rnd, TOKENS * SHAPE.queryDim(), 2.0);
        k = random(rnd, TOKENS * SHAPE.kvDim(), 2.0);
        v = random(rnd, TOKENS * SHAPE.kvDim(), 1.0);
        // Some key blocks stand out, so that the block scores differ and alpha has blocks to drop.
        for (int j = 3 * BLOCK; j < 4 * BLOCK; j++) {
            for (int d = 0; d < SHAPE.kvDim(); d++) {
                k[j * SHAPE.kvDim() + d] += 1.5f;
            }
        }
    }

    @AfterAll
    static void tearDown() {
        ops.close();
        backend.close();
    }

    private static float[] random(SplittableRandom rnd, int n, double amplitude) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rnd.nextDouble(-amplitude, amplitude);
        }
        return x;
    }

    @Test
    void everyBlockSelectedEqualsDenseAttention() {
        float[] dense = new float[TOKENS * SHAPE.queryDim()];
        try (DeviceBuffer qb = backend.upload(q); DeviceBuffer kb = backend.upload(k); DeviceBuffer vb = backend.upload(v);
                DeviceBuffer out = backend.allocate(dense.length)) {
            backend.attention(qb, kb, vb, TOKENS, 0, SHAPE, out);
            backend.read(out, dense, 0);
        }
        for (int chunk : new int[] {TOKENS, 4 * BLOCK}) {
            float[] sparse = sparseInChunks(BlockSparsity.dense(BLOCK), chunk, k, v);
            assertThat(maxAbsDiff(sparse, dense)).as("chunks of %d", chunk).isLessThanOrEqualTo(1e-5);
        }
        double[] naive = naiveMasked(null);
        for (int i = 0; i < dense.length; i++) {
            assertThat((double) dense[i]).isCloseTo(naive[i], within(1e-5));
        }
    }

    @Test
    void alphaDropsBlocksAndOnlyTheSelectedOnesContribute() {
        BlockSparsity sparsity = new BlockSparsity(BLOCK, 0.9, 1, 1, 0);
        BlockMask[] masks = masksInChunks(sparsity, 4 * BLOCK, k);
        long selected = Arrays.stream(masks).mapToLong(BlockMask::selectedPairs).sum();
        long causal = Arrays.stream(masks).mapToLong(BlockMask::causalPairs).sum();
        assertThat(selected).isLessThan(causal);
        // Every row still reads its sink and diagonal blocks.
        for (BlockMask mask : masks) {
            for (int h = 0; h < SHAPE.heads(); h++) {
                for (int m = mask.firstQueryBlock(); m < mask.firstQueryBlock() + mask.queryBlocks(); m++) {
                    assertThat(mask.keyBlocks(h, m)).contains(0, m);
                }
            }
        }

        float[] sparse = sparseInChunks(sparsity, 4 * BLOCK, k, v);
        double[] naive = naiveMasked(masks);
        double[] dense = naiveMasked(null);
        double worst = 0;
        double fromDense = 0;
        for (int i = 0; i < sparse.length; i++) {
            worst = Math.max(worst, Math.abs(sparse[i] - naive[i]));
            fromDense = Math.max(fromDense, Math.abs(sparse[i] - dense[i]));
        }
        assertThat(worst).isLessThanOrEqualTo(1e-5);
        assertThat(fromDense).as("dropped blocks change the output").isGreaterThan(1e-3);
    }

    @Test
    void noKeyAfterAQueryIsEverAttended() {
        BlockSparsity sparsity = new BlockSparsity(BLOCK, 0.5, 1, 2, 1);
        float[] clean = sparseInChunks(sparsity, 4 * BLOCK, k, v);
        for (int cut : new int[] {1, 17, BLOCK, 45, 4 * BLOCK + 3, TOKENS - 1}) {
            // Keys and values from the cut on become NaN: a query before the cut that touched any of them,
            // even with weight 0, would turn NaN. The selection is taken from the clean keys.
            float[] poisonedK = k.clone();
            float[] poisonedV = v.clone();
            Arrays.fill(poisonedK, cut * SHAPE.kvDim(), poisonedK.length, Float.NaN);
            Arrays.fill(poisonedV, cut * SHAPE.kvDim(), poisonedV.length, Float.NaN);
            BlockMask[] masks = masksInChunks(sparsity, 4 * BLOCK, k);
            float[] poisoned = sparseWithMasks(masks, 4 * BLOCK, poisonedK, poisonedV);
            int before = cut * SHAPE.queryDim();
            assertThat(Arrays.copyOf(poisoned, before)).as("queries before token %d", cut)
                    .containsExactly(Arrays.copyOf(clean, before));
        }
    }

    @Test
    void meanKeysAndBlockScoresFollowTheirDefinitions() {
        int blocks = (TOKENS + BLOCK - 1) / BLOCK;
        float[] means = new float[blocks * SHAPE.kvDim()];
        float[] scores = new float[SHAPE.heads() * blocks * blocks];
        try (DeviceBuffer qb = backend.upload(q); DeviceBuffer kb = backend.upload(k);
                DeviceBuffer mb = backend.allocate(means.length); DeviceBuffer sb = backend.allocate(scores.length)) {
            ops.blockMeanKeys(kb, TOKENS, 0, blocks, BLOCK, SHAPE.kvDim(), mb);
            ops.blockScores(qb, TOKENS, 0, mb, blocks, SHAPE, BLOCK, sb);
            backend.read(mb, means, 0);
            backend.read(sb, scores, 0);
        }
        double[] naiveMeans = new double[means.length];
        for (int n = 0; n < blocks; n++) {
            int last = Math.min(TOKENS, (n + 1) * BLOCK);
            for (int j = n * BLOCK; j < last; j++) {
                for (int d = 0; d < SHAPE.kvDim(); d++) {
                    naiveMeans[n * SHAPE.kvDim() + d] += k[j * SHAPE.kvDim() + d] / (double) (last - n * BLOCK);
                }
            }
        }
        for (int i = 0; i < means.length; i++) {
            assertThat((double) means[i]).isCloseTo(naiveMeans[i], within(1e-5));
        }
        int dim = SHAPE.headDim();
        for (int h = 0; h < SHAPE.heads(); h++) {
            int g = h / SHAPE.groupSize();
            for (int m = 0; m < blocks; m++) {
                for (int n = 0; n < blocks; n++) {
                    float got = scores[(h * blocks + m) * blocks + n];
                    if (n > m) {
                        assertThat(got).isEqualTo(Float.NEGATIVE_INFINITY);
                        continue;
                    }
                    double sum = 0;
                    for (int i = m * BLOCK; i < Math.min(TOKENS, (m + 1) * BLOCK); i++) {
                        double dot = 0;
                        for (int d = 0; d < dim; d++) {
                            dot += q[i * SHAPE.queryDim() + h * dim + d] * naiveMeans[n * SHAPE.kvDim() + g * dim + d];
                        }
                        sum += Math.exp(SHAPE.scale() * dot);
                    }
                    assertThat((double) got).isCloseTo(Math.log(sum), within(1e-4));
                }
            }
        }
    }

    @Test
    void selectionKeepsSinkWindowDenseLastRowsAndBlocksNearTheBest() {
        BlockSparsity s = new BlockSparsity(128, 0.85, 2, 4, 2);
        int total = 20;
        assertThat(s.keeps(10, 11, total, 0f, 0f)).as("a later block").isFalse();
        assertThat(s.keeps(10, 1, total, -50f, 0f)).as("sink").isTrue();
        assertThat(s.keeps(10, 7, total, -50f, 0f)).as("window: 10 - 7 < 4").isTrue();
        assertThat(s.keeps(10, 6, total, -50f, 0f)).as("outside the window").isFalse();
        assertThat(s.keeps(18, 5, total, -50f, 0f)).as("one of the last two rows").isTrue();
        assertThat(s.keeps(10, 5, total, (float) Math.log(0.86), 0f)).as("0.86 of the best").isTrue();
        assertThat(s.keeps(10, 5, total, (float) Math.log(0.84), 0f)).as("0.84 of the best").isFalse();
        assertThat(new BlockSparsity(128, 0, 0, 1, 0).keeps(10, 5, total, -1e30f, 0f)).as("alpha 0").isTrue();
        assertThatThrownBy(() -> new BlockSparsity(128, 1.5, 2, 4, 2)).hasMessageContaining("alpha");
    }

    @Test
    void aMaskWithoutItsDiagonalBlockIsRefused() {
        assertThatThrownBy(() -> new BlockMask(32, 1, 2, 1, new int[][] {{0, 1}}))
                .hasMessageContaining("must include the diagonal block");
        assertThatThrownBy(() -> new BlockMask(32, 1, 2, 1, new int[][] {{1, 0, 2}}))
                .hasMessageContaining("ascending");
    }

    /** Masks of every chunk: mean keys, block scores and selection as the drafter runs them. */
    private BlockMask[] masksInChunks(BlockSparsity sparsity, int chunk, float[] keys) {
        int blocks = sparsity.blocks(TOKENS);
        BlockMask[] masks = new BlockMask[(TOKENS + chunk - 1) / chunk];
        try (DeviceBuffer qb = backend.upload(q); DeviceBuffer kb = backend.upload(keys);
                DeviceBuffer mb = backend.allocate(blocks * SHAPE.kvDim());
                DeviceBuffer sb = backend.allocate(SHAPE.heads() * blocks * blocks)) {
            for (int c = 0; c < masks.length; c++) {
                int from = c * chunk;
                int to = Math.min(TOKENS, from + chunk);
                int firstBlock = from / BLOCK;
                int keyBlocks = sparsity.blocks(to);
                ops.blockMeanKeys(kb, to, firstBlock, keyBlocks - firstBlock, BLOCK, SHAPE.kvDim(), mb);
                ops.blockScores(qb.slice(from * SHAPE.queryDim(), (to - from) * SHAPE.queryDim()), to - from, from, mb,
                        keyBlocks, SHAPE, BLOCK, sb);
                masks[c] = ops.selectBlocks(sb, firstBlock, keyBlocks - firstBlock, keyBlocks, SHAPE.heads(), blocks,
                        sparsity);
            }
        }
        return masks;
    }

    private float[] sparseInChunks(BlockSparsity sparsity, int chunk, float[] keys, float[] values) {
        return sparseWithMasks(masksInChunks(sparsity, chunk, keys), chunk, keys, values);
    }

    private float[] sparseWithMasks(BlockMask[] masks, int chunk, float[] keys, float[] values) {
        float[] out = new float[TOKENS * SHAPE.queryDim()];
        try (DeviceBuffer qb = backend.upload(q); DeviceBuffer kb = backend.upload(keys);
                DeviceBuffer vb = backend.upload(values); DeviceBuffer ob = backend.allocate(out.length)) {
            for (int c = 0; c < masks.length; c++) {
                int from = c * chunk;
                int to = Math.min(TOKENS, from + chunk);
                int qd = SHAPE.queryDim();
                ops.sparseAttention(qb.slice(from * qd, (to - from) * qd), kb, vb, to - from, from, SHAPE, masks[c],
                        ob.slice(from * qd, (to - from) * qd));
            }
            backend.read(ob, out, 0);
        }
        return out;
    }

    /** Double-precision causal attention over the masks' blocks (all blocks when {@code masks} is null). */
    private double[] naiveMasked(BlockMask[] masks) {
        int dim = SHAPE.headDim();
        double[] out = new double[TOKENS * SHAPE.queryDim()];
        for (int i = 0; i < TOKENS; i++) {
            int m = i / BLOCK;
            BlockMask mask = masks == null ? null : Arrays.stream(masks)
                    .filter(x -> m >= x.firstQueryBlock() && m < x.firstQueryBlock() + x.queryBlocks())
                    .findFirst().orElseThrow();
            for (int h = 0; h < SHAPE.heads(); h++) {
                int g = h / SHAPE.groupSize();
                double[] w = new double[i + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j <= i; j++) {
                    if (mask != null && !mask.selects(h, m, j / BLOCK)) {
                        w[j] = Double.NEGATIVE_INFINITY;
                        continue;
                    }
                    double dot = 0;
                    for (int d = 0; d < dim; d++) {
                        dot += q[i * SHAPE.queryDim() + h * dim + d] * k[j * SHAPE.kvDim() + g * dim + d];
                    }
                    w[j] = SHAPE.scale() * dot;
                    max = Math.max(max, w[j]);
                }
                double sum = 0;
                for (int j = 0; j <= i; j++) {
                    w[j] = Math.exp(w[j] - max);
                    sum += w[j];
                }
                for (int j = 0; j <= i; j++) {
                    for (int d = 0; d < dim; d++) {
                        out[i * SHAPE.queryDim() + h * dim + d] += w[j] / sum * v[j * SHAPE.kvDim() + g * dim + d];
                    }
                }
            }
        }
        return out;
    }

    private static double maxAbsDiff(float[] a, float[] b) {
        double worst = 0;
        for (int i = 0; i < a.length; i++) {
            worst = Math.max(worst, Math.abs(a[i] - b[i]));
        }
        return worst;
    }
}
