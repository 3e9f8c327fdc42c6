package dev.pflash.runtime.pflash;

import dev.pflash.runtime.tokenizer.ByteLevelCodec;
import dev.pflash.runtime.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries a prompt from the target's vocabulary to a drafter with a different one, through text:
 * the prefix and suffix (trusted template text, special tokens parsed) and the body (document
 * text, special tokens not parsed) are decoded with the target's tokenizer and encoded with the
 * drafter's. Each body token's byte offset in the body's UTF-8, on both sides, lets the drafter's
 * kept tokens come back as target tokens.
 */
final class VocabularyBridge {
    private static final Logger LOG = LoggerFactory.getLogger(VocabularyBridge.class);

    private final Tokenizer target;
    private final Tokenizer drafter;
    private final int[] targetTokenBytes;
    private final int[] drafterTokenBytes;

    VocabularyBridge(Tokenizer target, Tokenizer drafter) {
        this.target = target;
        this.drafter = drafter;
        this.targetTokenBytes = decodedLengths(target);
        this.drafterTokenBytes = decodedLengths(drafter);
    }

    /** Whether the two tokenizers have the same token list: then ids pass through unchanged. */
    static boolean sameVocabulary(Tokenizer a, Tokenizer b) {
        return a.vocabulary().tokens().equals(b.vocabulary().tokens());
    }

    DraftPrompt toDrafter(int[] prefix, int[] body, int[] suffix) {
        int[] targetOffsets = offsets(body, targetTokenBytes);
        String bodyText = target.decode(body);
        int[] drafterBody = drafter.encode(bodyText, false);
        int[] drafterOffsets = offsets(drafterBody, drafterTokenBytes);
        int targetBytes = targetOffsets[body.length];
        int textBytes = drafterOffsets[drafterBody.length];
        if (textBytes != targetBytes) {
            // The body's bytes were not valid UTF-8 (a token split a character), so decoding replaced
            // some; offsets are mapped proportionally rather than exactly.
            LOG.debug("body of {} tokens decodes to {} bytes but re-encodes to {}; aligning proportionally",
                    body.length, targetBytes, textBytes);
            for (int i = 0; i < targetOffsets.length; i++) {
                targetOffsets[i] = targetBytes == 0 ? 0 : (int) ((long) targetOffsets[i] * textBytes / targetBytes);
            }
        }
        return DraftPrompt.aligned(drafter.encode(target.decode(prefix, true), true), drafterBody,
                drafter.encode(target.decode(suffix, true), true), targetOffsets, drafterOffsets);
    }

    private static int[] offsets(int[] tokens, int[] tokenBytes) {
        int[] offsets = new int[tokens.length + 1];
        for (int i = 0; i < tokens.length; i++) {
            offsets[i + 1] = offsets[i] + tokenBytes[tokens[i]];
        }
        return offsets;
    }

    /** Bytes each token adds to {@link Tokenizer#decode(int[])}'s text (control tokens add none). */
    private static int[] decodedLengths(Tokenizer tokenizer) {
        int[] lengths = new int[tokenizer.vocabSize()];
        for (int id = 0; id < lengths.length; id++) {
            String text = tokenizer.tokenText(id);
            lengths[id] = switch (tokenizer.tokenType(id)) {
                case NORMAL, BYTE -> ByteLevelCodec.decode(text).length;
                case USER_DEFINED -> text.getBytes(StandardCharsets.UTF_8).length;
                case CONTROL, UNKNOWN, UNUSED -> 0;
            };
        }
        return lengths;
    }
}
