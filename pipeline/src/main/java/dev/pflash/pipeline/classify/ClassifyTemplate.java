package dev.pflash.pipeline.classify;

import dev.pflash.pipeline.prompt.PromptTemplate;

/**
 * The prompt of a classification run: instructions that list the labels (the prefix, shared by
 * every document, so its KV is computed once), the document (the body), and the question (the
 * suffix) whose answer is the label. The labels are scored as that answer.
 */
public final class ClassifyTemplate {
    /** Where a custom template wants the label list. */
    public static final String LABELS = "{{labels}}";

    private static final String DEFAULT_TEXT = """
            Classify the document below. Choose exactly one of these labels:
            {{labels}}
            <document>
            {{document}}
            </document>

            Which label fits the document best? Answer with the label only.""";

    private ClassifyTemplate() {
    }

    /** The built-in template with {@code labels} listed. */
    public static PromptTemplate of(LabelSet labels) {
        return fromText("the built-in classify template", DEFAULT_TEXT, labels);
    }

    /**
     * A template from text with a {@value PromptTemplate#DOCUMENT} placeholder, and optionally a
     * {@value #LABELS} placeholder before it that becomes the label list; {@code source} names the
     * template in error messages.
     *
     * @throws IllegalArgumentException when the label list would land in the document's body or
     *     the suffix, which are not shared by all prompts
     */
    public static PromptTemplate fromText(String source, String text, LabelSet labels) {
        int labelsAt = text.indexOf(LABELS);
        int documentAt = text.indexOf(PromptTemplate.DOCUMENT);
        if (labelsAt >= 0 && documentAt >= 0 && labelsAt > documentAt) {
            throw new IllegalArgumentException(source + ": " + LABELS + " must come before " + PromptTemplate.DOCUMENT
                    + ", in the instructions that every prompt shares");
        }
        return PromptTemplate.parse(source, text.replace(LABELS, labels.asList()));
    }
}
