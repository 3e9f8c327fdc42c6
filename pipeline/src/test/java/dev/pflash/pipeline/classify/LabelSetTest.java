package dev.pflash.pipeline.classify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pflash.pipeline.prompt.PromptTemplate;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class LabelSetTest {
    @Test
    void readsOneLabelPerLineWithAnOptionalDescriptionAfterATab() {
        LabelSet labels = LabelSet.parse("labels.txt",
                "# a comment\r\nfinance\tbudgets and sales\r\n\r\n  nature  \nmeeting minutes\t who decided what \n");

        assertThat(labels.names()).containsExactly("finance", "nature", "meeting minutes");
        assertThat(labels.labels()).extracting(LabelSet.Label::description)
                .containsExactly("budgets and sales", "", "who decided what");
        assertThat(labels.asList()).isEqualTo("- finance: budgets and sales\n- nature\n- meeting minutes: who decided what\n");
    }

    @Test
    void theSampleLabelsFileParses() {
        LabelSet labels = LabelSet.load(Path.of("..", "sample-data", "labels.txt"));
        assertThat(labels.names()).contains("finance", "nature", "meeting minutes", "workplace safety");
        assertThat(labels.labels()).allSatisfy(l -> assertThat(l.description()).isNotEmpty());
    }

    @Test
    void badLabelFilesAreClearErrors() {
        assertThatThrownBy(() -> LabelSet.parse("l.txt", "a\nb\na\tagain\n"))
                .hasMessage("l.txt: line 3 repeats the label 'a' of line 1; labels must be distinct");
        assertThatThrownBy(() -> LabelSet.parse("l.txt", "only\n# comment\n"))
                .hasMessage("l.txt: 1 label; a classification needs at least two, one per line (a tab and a"
                        + " description may follow)");
        assertThatThrownBy(() -> LabelSet.parse("l.txt", "a\n\tno label\n"))
                .hasMessage("l.txt: line 2 has a description but no label; write the label, then a tab, then its"
                        + " description");
        assertThatThrownBy(() -> LabelSet.load(Path.of("no-such-labels.txt")))
                .isInstanceOf(UncheckedIOException.class)
                .hasMessageStartingWith("no-such-labels.txt: cannot read the labels: ");
    }

    @Test
    void theTemplateListsTheLabelsInTheSharedPrefix() {
        LabelSet labels = LabelSet.parse("l.txt", "finance\tmoney\nnature\n");

        PromptTemplate template = ClassifyTemplate.of(labels);

        assertThat(template.prefix()).isEqualTo("Classify the document below. Choose exactly one of these labels:\n"
                + "- finance: money\n- nature\n\n<document>\n");
        assertThat(template.suffix())
                .isEqualTo("\n</document>\n\nWhich label fits the document best? Answer with the label only.");
        PromptTemplate custom = ClassifyTemplate.fromText("t.txt", "Labels:\n{{labels}}Text: {{document}} Label?",
                labels);
        assertThat(custom.prefix()).isEqualTo("Labels:\n- finance: money\n- nature\nText: ");
        assertThatThrownBy(() -> ClassifyTemplate.fromText("t.txt", "{{document}} {{labels}}", labels))
                .hasMessage("t.txt: {{labels}} must come before {{document}}, in the instructions that every prompt"
                        + " shares");
    }
}
