package dev.pflash.runtime.pflash;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pflash.runtime.gguf.ModelFile;
import dev.pflash.runtime.models.ModelSources;
import dev.pflash.runtime.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A target (the demo BPE vocabulary) and a drafter (a byte-level vocabulary) that meet through text. */
class VocabularyBridgeTest {
    private static Tokenizer target;
    private static Tokenizer drafter;

    @BeforeAll
    static void load() {
        try (ModelFile t = ModelSources.open("../sample-data/models/demo-target.gguf");
                ModelFile d = ModelSources.open("synthetic:cpu-drafter?ctx=64")) {
            target = Tokenizer.fromMetadata(t.metadata());
            drafter = Tokenizer.fromMetadata(d.metadata());
        }
    }

    @Test
    void sameVocabularyComparesTokenLists() {
        assertThat(VocabularyBridge.sameVocabulary(target, target)).isTrue();
        assertThat(VocabularyBridge.sameVocabulary(target, drafter)).isFalse();
    }

    @Test
    void keptDrafterBytesComeBackAsTheTargetTokensHoldingThem() {
        String prefix = "<|im_start|>user\nRead this.\n";
        String body = "Herons nest along the northern tide pools; volunteers counted 41 nests in May.";
        String suffix = "\nHow many nests?<|im_end|>\n";
        int[] targetBody = target.encode(body, false);
        DraftPrompt prompt = new VocabularyBridge(target, drafter).toDrafter(target.encode(prefix, true), targetBody,
                target.encode(suffix, true));

        // The byte-level drafter reads one token per byte; its prefix keeps the special token as one.
        assertThat(prompt.bodyLength()).isEqualTo(body.getBytes(StandardCharsets.UTF_8).length);
        assertThat(prompt.prefixLength()).isEqualTo(1 + "user\nRead this.\n".length());
        assertThat(prompt.targetBodyLength()).isEqualTo(targetBody.length);

        // Keep the drafter's bytes 20..34 ("e northern tide"): the target tokens overlapping them come back.
        int[] keptBytes = java.util.stream.IntStream.range(20, 35).toArray();
        int[] kept = prompt.toTargetBody(keptBytes);
        List<Integer> expected = new ArrayList<>();
        int offset = 0;
        for (int i = 0; i < targetBody.length; i++) {
            int length = target.decode(new int[] {targetBody[i]}).getBytes(StandardCharsets.UTF_8).length;
            if (offset < 35 && offset + length > 20) {
                expected.add(i);
            }
            offset += length;
        }
        assertThat(kept).containsExactly(expected.stream().mapToInt(Integer::intValue).toArray());
        assertThat(target.decode(java.util.Arrays.stream(kept).map(i -> targetBody[i]).toArray()))
                .contains("e northern tide");
    }
}
