package dev.pflash.pipeline.extract;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Document ids: the first 16 hex digits of the SHA-256 of the document's URI.
 *
 * <p>The id follows the location, not the bytes: two copies of one file at two paths are two
 * documents (each gets its own result row), while {@link ExtractedDocument#sha256()} shows that
 * their content is the same.
 */
public final class DocumentIds {
    private static final int ID_HEX_DIGITS = 16;

    private DocumentIds() {
    }

    public static String forUri(String uri) {
        return sha256Hex(uri.getBytes(StandardCharsets.UTF_8)).substring(0, ID_HEX_DIGITS);
    }

    static String sha256Hex(byte[] bytes) {
        return HexFormat.of().formatHex(sha256().digest(bytes));
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256, which every Java platform must provide", e);
        }
    }
}
