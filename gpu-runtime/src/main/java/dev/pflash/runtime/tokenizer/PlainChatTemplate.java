package dev.pflash.runtime.tokenizer;

import java.util.List;

/**
 * A format without special tokens, for vocabularies that have none (small test and demo
 * vocabularies): one line {@code {role}: {content}} per turn, generation prompt
 * {@code assistant: }. No model was trained on it; it only keeps the framing mechanics testable.
 */
public final class PlainChatTemplate implements ChatTemplate {
    private static final String GENERATION_PROMPT = "assistant: ";

    @Override
    public String name() {
        return "plain";
    }

    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt, boolean enableThinking) {
        StringBuilder sb = new StringBuilder();
        for (ChatMessage m : messages) {
            sb.append(m.role()).append(": ").append(m.content()).append('\n');
        }
        if (addGenerationPrompt) {
            sb.append(GENERATION_PROMPT);
        }
        return sb.toString();
    }

    @Override
    public String userTurnHead(String system) {
        return (system != null ? "system: " + system + "\n" : "") + "user: ";
    }

    @Override
    public String userTurnTail(boolean enableThinking) {
        return "\n" + GENERATION_PROMPT;
    }
}
