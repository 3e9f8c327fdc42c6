package dev.pflash.runtime.tokenizer;

import java.util.Objects;

/**
 * A single-turn prompt in a chat template, as three texts the engine tokenizes separately:
 * {@code prefixText} = template head (system turn, start of the user turn) + the caller's prefix;
 * {@code bodyText} = the document; {@code suffixText} = the caller's suffix + template tail (end
 * of the user turn, start of the assistant turn). {@code headLength} and {@code tailLength} are
 * the lengths in chars of the template's fixed parts, so a caller can tokenize those with
 * special tokens parsed and the user parts without ({@link Tokenizer#encode(String, boolean)}).
 */
public record FramedPrompt(String prefixText, String bodyText, String suffixText, int headLength, int tailLength) {
    public FramedPrompt {
        Objects.requireNonNull(prefixText, "prefixText");
        Objects.requireNonNull(bodyText, "bodyText");
        Objects.requireNonNull(suffixText, "suffixText");
        if (headLength < 0 || headLength > prefixText.length() || tailLength < 0 || tailLength > suffixText.length()) {
            throw new IllegalArgumentException("head length " + headLength + " / tail length " + tailLength
                    + " do not fit prefix of " + prefixText.length() + " and suffix of " + suffixText.length() + " chars");
        }
    }

    /** The template's text before the caller's prefix. */
    public String templateHead() {
        return prefixText.substring(0, headLength);
    }

    /** The caller's prefix, without the template head. */
    public String userPrefix() {
        return prefixText.substring(headLength);
    }

    /** The caller's suffix, without the template tail. */
    public String userSuffix() {
        return suffixText.substring(0, suffixText.length() - tailLength);
    }

    /** The template's text after the caller's suffix. */
    public String templateTail() {
        return suffixText.substring(suffixText.length() - tailLength);
    }

    /** The whole prompt text. */
    public String fullText() {
        return prefixText + bodyText + suffixText;
    }
}
