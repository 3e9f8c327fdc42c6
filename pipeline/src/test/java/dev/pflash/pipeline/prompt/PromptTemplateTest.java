package dev.pflash.pipeline.prompt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pflash.runtime.engine.PromptText;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PromptTemplateTest {
    @Test
    void splitsAtThePlaceholder() {
        PromptTemplate template = PromptTemplate.parse("t.txt", "Read this:\n{{document}}\nWhat is it about?");

        assertThat(template.prefix()).isEqualTo("Read this:\n");
        assertThat(template.suffix()).isEqualTo("\nWhat is it about?");
        assertThat(template.fill("DOC")).isEqualTo(new PromptText("Read this:\n", "DOC", "\nWhat is it about?"));
    }

    @Test
    void placeholderMayOpenOrCloseTheTemplate() {
        assertThat(PromptTemplate.parse("t", "{{document}}")).isEqualTo(new PromptTemplate("", ""));
    }

    @Test
    void rejectsATemplateWithoutPlaceholder() {
        assertThatThrownBy(() -> PromptTemplate.parse("my.txt", "Summarize: {{doc}}"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("my.txt: the prompt template has no {{document}} placeholder");
    }

    @Test
    void rejectsTwoPlaceholders() {
        assertThatThrownBy(() -> PromptTemplate.parse("my.txt", "{{document}} and {{document}}"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("my.txt: the prompt template has more than one {{document}} placeholder;"
                        + " it must appear exactly once");
    }

    @Test
    void defaultTemplateAsksForAConciseSummary() {
        PromptTemplate template = PromptTemplate.defaultSummary();

        assertThat(template.prefix()).startsWith("Summarize the document below.").endsWith("<document>\n");
        assertThat(template.suffix()).startsWith("\n</document>").contains("concise summary");
    }

    @Test
    void loadsAFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("keywords.txt");
        Files.writeString(file, "List keywords of:\n{{document}}\nKeywords:");

        assertThat(PromptTemplate.load(file)).isEqualTo(new PromptTemplate("List keywords of:\n", "\nKeywords:"));
    }

    @Test
    void namesAMissingFile(@TempDir Path dir) {
        Path missing = dir.resolve("nope.txt");

        assertThatThrownBy(() -> PromptTemplate.load(missing))
                .isInstanceOf(UncheckedIOException.class)
                .hasMessageStartingWith(missing + ": cannot read the prompt template");
    }
}
