package dev.pflash.runtime.pflash;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.BitSet;
import org.junit.jupiter.api.Test;

class LexicalAnchorsTest {
    /** A prompt of {@code prefix} tokens, a body of 1000 filler tokens (id 1) and a tail of 100 tokens. */
    private static int[] prompt(int[] tail) {
        int[] p = new int[10 + 1000 + tail.length];
        Arrays.fill(p, 1);
        System.arraycopy(tail, 0, p, 1010, tail.length);
        return p;
    }

    private static int[] tailQuoting(int... gram) {
        int[] tail = new int[100];
        Arrays.fill(tail, 2);
        System.arraycopy(gram, 0, tail, 50, gram.length);
        return tail;
    }

    @Test
    void aRareFourGramOfTheTailAnchorsItsChunksAndTwoOnEitherSide() {
        int[] p = prompt(tailQuoting(7, 8, 9, 10));
        // The 4-gram at body position 330 (chunk 10) and 700..703 (chunk 21).
        System.arraycopy(new int[] {7, 8, 9, 10}, 0, p, 10 + 330, 4);
        System.arraycopy(new int[] {7, 8, 9, 10}, 0, p, 10 + 700, 4);

        BitSet anchored = LexicalAnchors.chunks(p, 10, 1000, 32);

        assertThat(anchored.stream().toArray()).containsExactly(8, 9, 10, 11, 12, 19, 20, 21, 22, 23);
    }

    @Test
    void aFourGramSpanningTwoChunksAnchorsAroundBoth() {
        int[] p = prompt(tailQuoting(7, 8, 9, 10));
        System.arraycopy(new int[] {7, 8, 9, 10}, 0, p, 10 + 62, 4);

        assertThat(LexicalAnchors.chunks(p, 10, 1000, 32).stream().toArray()).containsExactly(0, 1, 2, 3, 4);
    }

    @Test
    void aFourGramFoundMoreThanEightTimesAnchorsNothing() {
        int[] p = prompt(tailQuoting(7, 8, 9, 10));
        for (int i = 0; i < 9; i++) {
            System.arraycopy(new int[] {7, 8, 9, 10}, 0, p, 10 + 100 * i, 4);
        }
        assertThat(LexicalAnchors.chunks(p, 10, 1000, 32).isEmpty()).isTrue();
        // Eight are still rare enough.
        Arrays.fill(p, 10 + 800, 10 + 804, 1);
        assertThat(LexicalAnchors.chunks(p, 10, 1000, 32).cardinality()).isPositive();
    }

    @Test
    void onlyTheSuffixQuotesAnchors() {
        // A short suffix: the last 96 tokens reach back into the body, whose own tail must not anchor.
        int[] p = new int[10 + 1000 + 20];
        Arrays.fill(p, 1);
        Arrays.fill(p, 1010, p.length, 2);
        System.arraycopy(new int[] {7, 8, 9, 10}, 0, p, 10 + 990, 4);
        System.arraycopy(new int[] {7, 8, 9, 10}, 0, p, 10 + 500, 4);
        assertThat(LexicalAnchors.chunks(p, 10, 1000, 32).isEmpty()).isTrue();

        System.arraycopy(new int[] {7, 8, 9, 10}, 0, p, 1015, 4);
        assertThat(LexicalAnchors.chunks(p, 10, 1000, 32).stream().toArray())
                .containsExactly(13, 14, 15, 16, 17, 28, 29, 30, 31);
    }

    @Test
    void occurrencesOutsideTheBodyDoNotCount() {
        // The 4-gram only in the prefix and in the tail itself: nothing in the body to anchor.
        int[] p = prompt(tailQuoting(7, 8, 9, 10));
        System.arraycopy(new int[] {7, 8, 9, 10}, 0, p, 2, 4);
        assertThat(LexicalAnchors.chunks(p, 10, 1000, 32).isEmpty()).isTrue();
    }
}
