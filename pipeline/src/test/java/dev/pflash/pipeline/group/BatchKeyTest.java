package dev.pflash.pipeline.group;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pflash.pipeline.prompt.DocumentMeta;
import dev.pflash.pipeline.prompt.DocumentPrompt;
import org.junit.jupiter.api.Test;

class BatchKeyTest {
    @Test
    void lengthBucketIsTheNextPowerOfTwoFrom256() {
        assertThat(BatchKey.lengthBucket(1)).isEqualTo(256);
        assertThat(BatchKey.lengthBucket(256)).isEqualTo(256);
        assertThat(BatchKey.lengthBucket(257)).isEqualTo(512);
        assertThat(BatchKey.lengthBucket(5000)).isEqualTo(8192);
    }

    @Test
    void prefixHashIsSixteenHexDigitsOfSha256() {
        // SHA-256 of no bytes starts e3b0c44298fc1c14
        assertThat(BatchKey.prefixHash(new int[0])).isEqualTo("e3b0c44298fc1c14");
        assertThat(BatchKey.prefixHash(new int[] {1, 2, 3})).isEqualTo(BatchKey.prefixHash(new int[] {1, 2, 3}))
                .isNotEqualTo(BatchKey.prefixHash(new int[] {1, 2, 4}));
    }

    @Test
    void keyJoinsPrefixHashAndBucket() {
        DocumentPrompt prompt = new DocumentPrompt(meta(), new int[0], new int[300], new int[0], 0);

        assertThat(BatchKey.of(prompt)).isEqualTo("e3b0c44298fc1c14/512");
    }

    private static DocumentMeta meta() {
        return new DocumentMeta("d", "file:///d", "00", "text/plain", null, null, null, null, 1, 1, false, 0);
    }
}
