package dev.pflash.runtime.pflash;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.BitSet;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class ChunkSelectorTest {
    private static final ChunkSelector PLAIN = new ChunkSelector(32, 0, 0);

    @ParameterizedTest(name = "{0} tokens at {1}: {2} chunks, keep {3}")
    @CsvSource({
        // body tokens, keep ratio, chunks = ceil(S/32), n_keep = max(1, floor(chunks x ratio))
        "1, 0.05, 1, 1",
        "32, 0.05, 1, 1",
        "33, 0.05, 2, 1",
        "640, 0.05, 20, 1",
        "1000, 0.10, 32, 3",
        "4096, 0.05, 128, 6",
        "8192, 0.05, 256, 12",
        "8192, 0.02, 256, 5",
        "32768, 0.05, 1024, 51",
        "32000, 0.05, 1000, 50",
        "131072, 0.02, 4096, 81",
        "3200, 0.29, 100, 29",
        "3200, 1.0, 100, 100",
        "100, 0.5, 4, 2",
    })
    void keptChunksFollowTheFormula(int tokens, double ratio, int chunks, int keep) {
        assertThat(ChunkSelector.chunkCount(tokens, 32)).isEqualTo(chunks);
        assertThat(ChunkSelector.keepCount(tokens, 32, ratio)).isEqualTo(keep);

        float[] scores = new float[chunks];
        SplittableRandom rnd = new SplittableRandom(tokens);
        for (int c = 0; c < chunks; c++) {
            scores[c] = (float) rnd.nextDouble();
        }
        int[] kept = PLAIN.select(scores, keep, new BitSet());
        assertThat(kept).hasSize(keep).isSorted();
        // They are the best ones: no chunk left out scores higher than one kept.
        float worstKept = Float.MAX_VALUE;
        BitSet in = new BitSet();
        for (int c : kept) {
            worstKept = Math.min(worstKept, scores[c]);
            in.set(c);
        }
        for (int c = 0; c < chunks; c++) {
            if (!in.get(c)) {
                assertThat(scores[c]).isLessThanOrEqualTo(worstKept);
            }
        }
    }

    @Test
    void forcedChunksAreKeptBesideTheBestScoredOnesInBodyOrder() {
        ChunkSelector selector = new ChunkSelector(32, 2, 3);
        float[] scores = new float[20];
        scores[0] = 9f;
        scores[7] = 5f;
        scores[12] = 4f;
        scores[18] = 8f;
        BitSet anchors = new BitSet();
        anchors.set(10);

        int[] kept = selector.select(scores, 2, anchors);

        // Head 0,1; tail 17,18,19; anchor 10; then the two best not forced: 7 and 12.
        assertThat(kept).containsExactly(0, 1, 7, 10, 12, 17, 18, 19);
    }

    @Test
    void tiesGoToTheEarlierChunk() {
        assertThat(PLAIN.select(new float[] {1f, 2f, 2f, 2f, 0f}, 2, new BitSet())).containsExactly(1, 2);
    }

    @Test
    void chunkTokensCoverTheKeptChunksAndTheShortLastOne() {
        assertThat(PLAIN.tokens(new int[] {0, 2}, 70)).containsExactly(
                java.util.stream.IntStream.concat(java.util.stream.IntStream.range(0, 32),
                        java.util.stream.IntStream.range(64, 70)).toArray());
    }

    @Test
    void badSizesAreRefused() {
        assertThatThrownBy(() -> new ChunkSelector(0, 8, 24)).hasMessageContaining("chunks of 0 tokens");
    }
}
