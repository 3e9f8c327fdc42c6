package dev.pflash.runtime.tokenizer;

import java.util.List;

/**
 * A model's chat format: renders a conversation to the text the model was trained on, and frames
 * a single-turn prompt for the engine. Implementations are the formats of the model families
 * this runtime supports, written in Java (no Jinja); {@link #forVocabulary} picks one from the
 * special tokens a vocabulary has.
 */
public sealed interface ChatTemplate permits ChatMlTemplate, Llama3ChatTemplate, PlainChatTemplate {

    /** A short name for logs ("chatml", "llama3", "plain"). */
    String name();

    /**
     * The conversation as the model's prompt text.
     *
     * @param addGenerationPrompt end with the opening of an assistant turn
     * @param enableThinking      false adds an empty thinking block where the format has one
     * @throws IllegalArgumentException for a role the format does not have
     */
    String render(List<ChatMessage> messages, boolean addGenerationPrompt, boolean enableThinking);

    /** Everything before the content of a first user turn: BOS text, system turn (if any), user turn opening. */
    String userTurnHead(String system);

    /** Everything after the content of that user turn up to where the assistant writes. */
    String userTurnTail(boolean enableThinking);

    /**
     * A single user turn whose content is {@code prefix + body + suffix}, cut into the three texts
     * the engine tokenizes separately. The concatenation of the three equals {@link #render} of
     * the same system and user messages with a generation prompt.
     *
     * @param system the system message, or null for none
     */
    default FramedPrompt frame(String system, String prefix, String body, String suffix, boolean enableThinking) {
        String head = userTurnHead(system);
        String tail = userTurnTail(enableThinking);
        return new FramedPrompt(head + prefix, body, suffix + tail, head.length(), tail.length());
    }

    /**
     * ChatML (Qwen) when the vocabulary has {@code <|im_start|>}; Llama-3 when it has
     * {@code <|start_header_id|>}; otherwise a plain "role: text" format without special tokens,
     * so that small test vocabularies still work.
     */
    static ChatTemplate forVocabulary(Vocabulary vocabulary) {
        List<String> tokens = vocabulary.tokens();
        if (tokens.contains(ChatMlTemplate.IM_START)) {
            return new ChatMlTemplate();
        }
        if (tokens.contains(Llama3ChatTemplate.START_HEADER)) {
            String bos = vocabulary.bosId() != Vocabulary.NO_TOKEN
                    ? vocabulary.token(vocabulary.bosId()) : Llama3ChatTemplate.BEGIN_OF_TEXT;
            return new Llama3ChatTemplate(bos);
        }
        return new PlainChatTemplate();
    }
}
