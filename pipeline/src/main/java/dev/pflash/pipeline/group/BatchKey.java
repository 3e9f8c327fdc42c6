package dev.pflash.pipeline.group;

import dev.pflash.pipeline.prompt.DocumentPrompt;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The batch key of a prompt: a hash of its prefix tokens (prompts that share a prefix share its
 * cached KV) and its length bucket (the smallest power of two, at least {@value #MIN_BUCKET},
 * that holds the whole prompt), so that a batch never mixes long and short prompts.
 */
public final class BatchKey {
    public static final int MIN_BUCKET = 256;
    private static final int HASH_BYTES = 8;

    private BatchKey() {
    }

    public static String of(DocumentPrompt prompt) {
        return prefixHash(prompt.prefixTokens()) + "/" + lengthBucket(prompt.length());
    }

    /** The first {@value #HASH_BYTES} bytes of the SHA-256 of the tokens (as big-endian ints), in hex. */
    public static String prefixHash(int[] prefixTokens) {
        ByteBuffer bytes = ByteBuffer.allocate(prefixTokens.length * Integer.BYTES);
        bytes.asIntBuffer().put(prefixTokens);
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(bytes.array());
            return HexFormat.of().formatHex(digest, 0, HASH_BYTES);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }

    public static int lengthBucket(int promptTokens) {
        int bucket = MIN_BUCKET;
        while (bucket < promptTokens && bucket < (1 << 30)) {
            bucket <<= 1;
        }
        return bucket;
    }
}
