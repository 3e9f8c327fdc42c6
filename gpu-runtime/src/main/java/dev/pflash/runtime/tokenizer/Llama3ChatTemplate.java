package dev.pflash.runtime.tokenizer;

import java.util.List;

/**
 * The Llama-3 chat format: BOS text, then per turn
 * {@code <|start_header_id|>{role}<|end_header_id|>\n\n{content}<|eot_id|>} with the content
 * stripped of surrounding white space (the template's {@code | trim}), generation prompt
 * {@code <|start_header_id|>assistant<|end_header_id|>\n\n}. Llama-3 has no thinking block, so
 * {@code enableThinking} changes nothing. The prompt text begins with BOS, so tokenize it with
 * {@link Tokenizer#encodeWithBos}, which then adds no second one.
 */
public final class Llama3ChatTemplate implements ChatTemplate {
    static final String START_HEADER = "<|start_header_id|>";
    static final String BEGIN_OF_TEXT = "<|begin_of_text|>";
    private static final String END_HEADER = "<|end_header_id|>";
    private static final String EOT = "<|eot_id|>";

    private final String bosText;

    /** @param bosText the text of the vocabulary's BOS token, normally {@code <|begin_of_text|>} */
    public Llama3ChatTemplate(String bosText) {
        this.bosText = bosText;
    }

    @Override
    public String name() {
        return "llama3";
    }

    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt, boolean enableThinking) {
        StringBuilder sb = new StringBuilder(bosText);
        for (ChatMessage m : messages) {
            sb.append(header(m.role())).append(m.content().strip()).append(EOT);
        }
        if (addGenerationPrompt) {
            sb.append(header("assistant"));
        }
        return sb.toString();
    }

    /**
     * Framed prompts keep the user's content as given; {@link #render} strips it, so the two agree
     * when prefix and suffix do not start or end the content with white space.
     */
    @Override
    public String userTurnHead(String system) {
        StringBuilder sb = new StringBuilder(bosText);
        if (system != null) {
            sb.append(header("system")).append(system.strip()).append(EOT);
        }
        return sb.append(header("user")).toString();
    }

    @Override
    public String userTurnTail(boolean enableThinking) {
        return EOT + header("assistant");
    }

    private static String header(String role) {
        return START_HEADER + role + END_HEADER + "\n\n";
    }
}
