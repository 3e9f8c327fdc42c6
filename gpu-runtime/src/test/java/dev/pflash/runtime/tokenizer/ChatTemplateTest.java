package dev.pflash.runtime.tokenizer;

import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.pflash.runtime.tokenizer.ChatMessage.assistant;
import static dev.pflash.runtime.tokenizer.ChatMessage.system;
import static dev.pflash.runtime.tokenizer.ChatMessage.user;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ChatTemplateTest {
    private final ChatTemplate chatMl = new ChatMlTemplate();

    @Test
    void rendersAConversationAndDropsEarlierThinking() {
        List<ChatMessage> conversation = List.of(
                system("You are helpful."),
                user("Hi"),
                assistant("<think>\nThe user greets.\n</think>\n\nHello!"),
                user("Bye"));
        assertThat(chatMl.render(conversation, true, true)).isEqualTo(
                "<|im_start|>system\nYou are helpful.<|im_end|>\n"
                        + "<|im_start|>user\nHi<|im_end|>\n"
                        + "<|im_start|>assistant\nHello!<|im_end|>\n"
                        + "<|im_start|>user\nBye<|im_end|>\n"
                        + "<|im_start|>assistant\n");
    }

    @Test
    void finalAssistantTurnKeepsItsThinkingBlock() {
        assertThat(chatMl.render(List.of(user("Hi"), assistant("<think>\nplan\n</think>\n\nHello")), false, true))
                .isEqualTo("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\nplan\n</think>\n\nHello<|im_end|>\n");
        assertThat(chatMl.render(List.of(user("Hi"), assistant("Hello")), false, true))
                .isEqualTo("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nHello<|im_end|>\n");
    }

    @Test
    void noThinkVariantAppendsEmptyThinkingBlock() {
        assertThat(chatMl.render(List.of(user("Hi")), true, false))
                .isEqualTo("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");
    }

    @Test
    void toolResultsBecomeOneUserTurn() {
        List<ChatMessage> conversation = List.of(user("q"), assistant("calling"),
                new ChatMessage("tool", "r1"), new ChatMessage("tool", "r2"));
        assertThat(chatMl.render(conversation, true, true)).isEqualTo(
                "<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\ncalling<|im_end|>\n"
                        + "<|im_start|>user\n<tool_response>\nr1\n</tool_response>\n<tool_response>\nr2\n</tool_response><|im_end|>\n"
                        + "<|im_start|>assistant\n");
    }

    @Test
    void unknownRoleIsRejected() {
        assertThatThrownBy(() -> chatMl.render(List.of(new ChatMessage("narrator", "x")), true, true))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("role \"narrator\"");
    }

    @Test
    void framePiecesConcatenateToTheRenderedSingleTurn() {
        for (ChatTemplate template : List.of(chatMl, new Llama3ChatTemplate("<|begin_of_text|>"), new PlainChatTemplate())) {
            for (boolean thinking : new boolean[] {true, false}) {
                for (String sys : new String[] {null, "Be brief."}) {
                    FramedPrompt f = template.frame(sys, "Summarize:\n", "The document text.", "\nAnswer in one line.", thinking);
                    List<ChatMessage> messages = sys == null
                            ? List.of(user("Summarize:\nThe document text.\nAnswer in one line."))
                            : List.of(system(sys), user("Summarize:\nThe document text.\nAnswer in one line."));
                    assertThat(f.fullText()).as("%s thinking=%s system=%s", template.name(), thinking, sys)
                            .isEqualTo(template.render(messages, true, thinking));
                    assertThat(f.userPrefix()).isEqualTo("Summarize:\n");
                    assertThat(f.bodyText()).isEqualTo("The document text.");
                    assertThat(f.userSuffix()).isEqualTo("\nAnswer in one line.");
                }
            }
        }
    }

    @Test
    void frameExposesTheTemplateParts() {
        FramedPrompt f = chatMl.frame("S", "P", "B", "X", false);
        assertThat(f.prefixText()).isEqualTo("<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nP");
        assertThat(f.templateHead()).isEqualTo("<|im_start|>system\nS<|im_end|>\n<|im_start|>user\n");
        assertThat(f.suffixText()).isEqualTo("X<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");
        assertThat(f.templateTail()).isEqualTo("<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");
        assertThat(f.headLength()).isEqualTo(48);
        assertThat(f.tailLength()).isEqualTo(52);
    }

    @Test
    void rendersLlama3() {
        ChatTemplate llama = new Llama3ChatTemplate("<|begin_of_text|>");
        assertThat(llama.render(List.of(system("Sys"), user("  Hi  ")), true, false)).isEqualTo(
                "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nSys<|eot_id|>"
                        + "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\n");
    }

    @Test
    void rendersPlain() {
        assertThat(new PlainChatTemplate().render(List.of(system("S"), user("U"), assistant("A")), true, true))
                .isEqualTo("system: S\nuser: U\nassistant: A\nassistant: ");
    }

    @Test
    void picksTheFormatFromTheVocabulary() {
        assertThat(ChatTemplate.forVocabulary(SampleText.trainedVocabulary())).isInstanceOf(ChatMlTemplate.class);
        assertThat(ChatTemplate.forVocabulary(SampleText.byteVocabulary())).isInstanceOf(PlainChatTemplate.class);
        Vocabulary llama = new Vocabulary(
                new String[] {"a", "<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"},
                new int[] {1, 3, 3, 3, 3}, List.of(), 1, 4, -1, true, "llama-bpe");
        ChatTemplate template = ChatTemplate.forVocabulary(llama);
        assertThat(template).isInstanceOf(Llama3ChatTemplate.class);
        assertThat(template.userTurnHead(null)).isEqualTo("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n");
    }

    @Test
    void renderedTemplateTokenizesToSpecialTokens() {
        Tokenizer t = new Tokenizer(SampleText.trainedVocabulary());
        FramedPrompt f = t.chatTemplate().frame(null, "", "a", "", false);
        int imStart = t.tokenId("<|im_start|>").getAsInt();
        int imEnd = t.tokenId("<|im_end|>").getAsInt();
        int think = t.tokenId("<think>").getAsInt();
        int endThink = t.tokenId("</think>").getAsInt();
        assertThat(t.encode(f.prefixText())).startsWith(imStart).endsWith(t.encode("user\n"));
        int[] tail = t.encode(f.suffixText());
        assertThat(tail).startsWith(imEnd).contains(imStart, think, endThink);
        assertThat(t.decode(tail, true)).isEqualTo(f.suffixText());
    }
}
