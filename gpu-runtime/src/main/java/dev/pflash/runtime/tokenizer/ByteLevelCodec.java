package dev.pflash.runtime.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * GPT-2's reversible map between bytes and printable characters, in which byte-level BPE
 * vocabularies store their tokens: bytes 0x21-0x7E, 0xA1-0xAC and 0xAE-0xFF stand for themselves,
 * the other 68 bytes (0x00-0x20, 0x7F-0xA0, 0xAD), in increasing byte order, become U+0100 to
 * U+0143. So a space is stored as "Ġ" (U+0120) and a newline as "Ċ" (U+010A).
 */
public final class ByteLevelCodec {
    /** Number of characters the map uses: code points 0 to 0x143. */
    private static final int CHAR_RANGE = 0x144;
    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final short[] CHAR_TO_BYTE = new short[CHAR_RANGE];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, (short) -1);
        int remapped = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (0x100 + remapped++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = (short) b;
        }
    }

    private ByteLevelCodec() {
    }

    /** The character that stands for byte {@code b} (0..255). */
    public static char charOf(int b) {
        return BYTE_TO_CHAR[b & 0xFF];
    }

    /** The byte that character {@code c} stands for, or -1 when {@code c} is not in the map. */
    public static int byteOf(char c) {
        return c < CHAR_RANGE ? CHAR_TO_BYTE[c] : -1;
    }

    /**
     * The 256 byte characters ordered by code point, which is the order GPT-2 style vocabularies
     * give their first 256 ids (id 0 is "!", id 188 is byte 0x00, "Ġ" is id 220).
     */
    public static char[] byteCharsInVocabularyOrder() {
        char[] chars = BYTE_TO_CHAR.clone();
        java.util.Arrays.sort(chars);
        return chars;
    }

    /** The byte-level form of {@code text}: its UTF-8 bytes, each as its map character. */
    public static String encode(String text) {
        return encode(utf8(text, 0, text.length()));
    }

    /** The byte-level form of raw bytes. */
    public static String encode(byte[] bytes) {
        char[] out = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            out[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        }
        return new String(out);
    }

    /**
     * The bytes a byte-level token text stands for. A character outside the map (possible only in
     * hand-written vocabularies) contributes its own UTF-8 bytes, so no text is lost.
     */
    public static byte[] decode(String byteLevelText) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(byteLevelText.length());
        for (int i = 0; i < byteLevelText.length(); i++) {
            char c = byteLevelText.charAt(i);
            int b = byteOf(c);
            if (b >= 0) {
                out.write(b);
            } else {
                int end = Character.isHighSurrogate(c) && i + 1 < byteLevelText.length()
                        && Character.isLowSurrogate(byteLevelText.charAt(i + 1)) ? i + 2 : i + 1;
                out.writeBytes(byteLevelText.substring(i, end).getBytes(StandardCharsets.UTF_8));
                i = end - 1;
            }
        }
        return out.toByteArray();
    }

    /**
     * UTF-8 of {@code text[from, to)}. Unlike {@link String#getBytes}, which writes '?', an
     * unpaired surrogate becomes U+FFFD, the same character a decoder gives back for bad bytes.
     */
    public static byte[] utf8(CharSequence text, int from, int to) {
        byte[] out = new byte[(to - from) * 3];
        int n = 0;
        for (int i = from; i < to; i++) {
            char c = text.charAt(i);
            if (c < 0x80) {
                out[n++] = (byte) c;
            } else if (c < 0x800) {
                out[n++] = (byte) (0xC0 | (c >> 6));
                out[n++] = (byte) (0x80 | (c & 0x3F));
            } else if (Character.isHighSurrogate(c) && i + 1 < to && Character.isLowSurrogate(text.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, text.charAt(++i));
                out[n++] = (byte) (0xF0 | (cp >> 18));
                out[n++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
                out[n++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
                out[n++] = (byte) (0x80 | (cp & 0x3F));
            } else {
                int cp = Character.isSurrogate(c) ? 0xFFFD : c;
                out[n++] = (byte) (0xE0 | (cp >> 12));
                out[n++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
                out[n++] = (byte) (0x80 | (cp & 0x3F));
            }
        }
        return n == out.length ? out : java.util.Arrays.copyOf(out, n);
    }
}
