package dev.pflash.runtime.models;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pflash.runtime.gguf.GgmlType;
import dev.pflash.runtime.gguf.GgufFile;
import dev.pflash.runtime.gguf.GgufTensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoModelsTest {
    static final Path COMMITTED = Path.of("..", "sample-data", "models");

    @Test
    void regeneratingTheDemoModelsGivesTheCommittedBytes(@TempDir Path dir) throws IOException {
        Files.copy(COMMITTED.resolve(DemoModels.CORPUS_FILE), dir.resolve(DemoModels.CORPUS_FILE));

        DemoModels.generate(dir);

        for (String name : new String[] {DemoModels.TARGET_FILE, DemoModels.DRAFTER_FILE}) {
            assertThat(Files.mismatch(dir.resolve(name), COMMITTED.resolve(name)))
                    .as("%s differs from a fresh regeneration; rerun the generator and commit", name)
                    .isEqualTo(-1L);
        }
    }

    @Test
    void demoModelsAreSmallLongContextQwen3WithQ8Weights() throws IOException {
        for (String name : new String[] {DemoModels.TARGET_FILE, DemoModels.DRAFTER_FILE}) {
            Path file = COMMITTED.resolve(name);
            assertThat(Files.size(file)).isLessThan(8L << 20);
            try (GgufFile gguf = GgufFile.open(file)) {
                assertThat(gguf.metadata().getString("general.architecture")).isEqualTo("qwen3");
                assertThat(gguf.metadata().getInt("qwen3.context_length")).isGreaterThanOrEqualTo(131072);
                assertThat(gguf.metadata().getBool(DemoModels.KEY_DEMO, false)).isTrue();
                assertThat(gguf.metadata().getStringArray("tokenizer.ggml.tokens")).hasSize(DemoModels.VOCAB_SIZE);
                for (GgufTensorInfo t : gguf.tensorInfos()) {
                    assertThat(t.type()).as(t.name()).isEqualTo(t.dims().length == 1 ? GgmlType.F32 : GgmlType.Q8_0);
                }
            }
        }
    }

    @Test
    void targetAndDrafterShareOneVocabulary() {
        try (GgufFile target = GgufFile.open(COMMITTED.resolve(DemoModels.TARGET_FILE));
                GgufFile drafter = GgufFile.open(COMMITTED.resolve(DemoModels.DRAFTER_FILE))) {
            assertThat(drafter.metadata().getStringArray("tokenizer.ggml.tokens"))
                    .isEqualTo(target.metadata().getStringArray("tokenizer.ggml.tokens"));
            assertThat(drafter.metadata().getStringArray("tokenizer.ggml.merges"))
                    .isEqualTo(target.metadata().getStringArray("tokenizer.ggml.merges"));
        }
    }
}
