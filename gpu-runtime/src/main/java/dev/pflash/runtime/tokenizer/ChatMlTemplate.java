package dev.pflash.runtime.tokenizer;

import java.util.List;

/**
 * ChatML as Qwen3's chat template writes it (without tool definitions):
 * {@code <|im_start|>{role}\n{content}<|im_end|>\n} per turn, generation prompt
 * {@code <|im_start|>assistant\n}, and with thinking disabled an empty
 * {@code <think>\n\n</think>\n\n} after it. Assistant turns before the last user query lose
 * their {@code <think>...</think>} part; later ones keep it (the final one always gets a block).
 * Tool results are grouped into user turns wrapped in {@code <tool_response>}.
 */
public final class ChatMlTemplate implements ChatTemplate {
    static final String IM_START = "<|im_start|>";
    static final String IM_END = "<|im_end|>";
    private static final String THINK_OPEN = "<think>";
    private static final String THINK_CLOSE = "</think>";
    private static final String EMPTY_THINKING = "<think>\n\n</think>\n\n";
    private static final String TOOL_RESPONSE_OPEN = "<tool_response>";
    private static final String TOOL_RESPONSE_CLOSE = "</tool_response>";

    @Override
    public String name() {
        return "chatml";
    }

    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt, boolean enableThinking) {
        int lastQuery = lastUserQuery(messages);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < messages.size(); i++) {
            ChatMessage m = messages.get(i);
            switch (m.role()) {
                case "system", "user" -> turn(sb, m.role(), m.content());
                case "assistant" -> assistantTurn(sb, m.content(), i > lastQuery, i == messages.size() - 1);
                case "tool" -> {
                    if (i == 0 || !messages.get(i - 1).role().equals("tool")) {
                        sb.append(IM_START).append("user");
                    }
                    sb.append('\n').append(TOOL_RESPONSE_OPEN).append('\n').append(m.content())
                            .append('\n').append(TOOL_RESPONSE_CLOSE);
                    if (i == messages.size() - 1 || !messages.get(i + 1).role().equals("tool")) {
                        sb.append(IM_END).append('\n');
                    }
                }
                default -> throw new IllegalArgumentException("message " + i + " has role \"" + m.role()
                        + "\"; the ChatML template knows system, user, assistant and tool");
            }
        }
        if (addGenerationPrompt) {
            sb.append(generationPrompt(enableThinking));
        }
        return sb.toString();
    }

    @Override
    public String userTurnHead(String system) {
        StringBuilder sb = new StringBuilder();
        if (system != null) {
            turn(sb, "system", system);
        }
        return sb.append(IM_START).append("user\n").toString();
    }

    @Override
    public String userTurnTail(boolean enableThinking) {
        return IM_END + "\n" + generationPrompt(enableThinking);
    }

    private static String generationPrompt(boolean enableThinking) {
        return IM_START + "assistant\n" + (enableThinking ? "" : EMPTY_THINKING);
    }

    private static void turn(StringBuilder sb, String role, String content) {
        sb.append(IM_START).append(role).append('\n').append(content).append(IM_END).append('\n');
    }

    /** Index of the last user message that is a real query, not a wrapped tool result. */
    private static int lastUserQuery(List<ChatMessage> messages) {
        for (int i = messages.size() - 1; i >= 0; i--) {
            ChatMessage m = messages.get(i);
            String c = m.content();
            if (m.role().equals("user") && !(c.startsWith(TOOL_RESPONSE_OPEN) && c.endsWith(TOOL_RESPONSE_CLOSE))) {
                return i;
            }
        }
        return messages.size() - 1;
    }

    private static void assistantTurn(StringBuilder sb, String content, boolean afterLastQuery, boolean last) {
        String reasoning = "";
        if (content.contains(THINK_CLOSE)) {
            String beforeClose = content.substring(0, content.indexOf(THINK_CLOSE));
            String thought = stripTrailingNewlines(beforeClose);
            int open = thought.lastIndexOf(THINK_OPEN);
            reasoning = stripLeadingNewlines(open >= 0 ? thought.substring(open + THINK_OPEN.length()) : thought);
            content = stripLeadingNewlines(content.substring(content.lastIndexOf(THINK_CLOSE) + THINK_CLOSE.length()));
        }
        sb.append(IM_START).append("assistant\n");
        if (afterLastQuery && (last || !reasoning.isEmpty())) {
            sb.append(THINK_OPEN).append('\n').append(stripTrailingNewlines(stripLeadingNewlines(reasoning)))
                    .append('\n').append(THINK_CLOSE).append("\n\n").append(stripLeadingNewlines(content));
        } else {
            sb.append(content);
        }
        sb.append(IM_END).append('\n');
    }

    private static String stripLeadingNewlines(String s) {
        int i = 0;
        while (i < s.length() && s.charAt(i) == '\n') {
            i++;
        }
        return s.substring(i);
    }

    private static String stripTrailingNewlines(String s) {
        int end = s.length();
        while (end > 0 && s.charAt(end - 1) == '\n') {
            end--;
        }
        return s.substring(0, end);
    }
}
