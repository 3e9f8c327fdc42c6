package dev.pflash.runtime.tokenizer;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Turns generated tokens into text as they arrive. A token may end in the middle of a UTF-8
 * character (an emoji is often two or three tokens), so bytes of an incomplete character are held
 * back until the token that completes it; bytes that can never form a character become U+FFFD.
 * The concatenation of all {@link #push} results and {@link #flush()} equals
 * {@link Tokenizer#decode(int[], boolean)} of the same ids. Not thread-safe: one per generation.
 */
public final class TokenDecoder {
    private final Tokenizer tokenizer;
    private final boolean showSpecial;
    private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPLACE)
            .onUnmappableCharacter(CodingErrorAction.REPLACE);
    /** Bytes not yet decoded, in read mode between calls. */
    private ByteBuffer pending = ByteBuffer.allocate(64).flip();

    TokenDecoder(Tokenizer tokenizer, boolean showSpecial) {
        this.tokenizer = tokenizer;
        this.showSpecial = showSpecial;
    }

    /** The text that token {@code id} completes: possibly empty, possibly more than the token's own text. */
    public String push(int id) {
        byte[] bytes = tokenizer.tokenBytes(id, showSpecial);
        if (bytes.length == 0) {
            return "";
        }
        append(bytes);
        return decode(false);
    }

    /** The held-back bytes of an unfinished character as U+FFFD; the decoder can then be reused. */
    public String flush() {
        String rest = decode(true);
        utf8.reset();
        return rest;
    }

    private void append(byte[] bytes) {
        if (pending.capacity() - pending.remaining() < bytes.length) {
            ByteBuffer bigger = ByteBuffer.allocate(Math.max(pending.capacity() * 2, pending.remaining() + bytes.length));
            bigger.put(pending);
            pending = bigger;
        } else {
            pending.compact();
        }
        pending.put(bytes).flip();
    }

    private String decode(boolean endOfInput) {
        CharBuffer out = CharBuffer.allocate(pending.remaining() + 2);
        utf8.decode(pending, out, endOfInput);
        if (endOfInput) {
            utf8.flush(out);
        }
        return out.flip().toString();
    }
}
