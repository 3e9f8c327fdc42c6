package dev.pflash.pipeline.generate;

import java.util.ArrayList;
import java.util.List;

/**
 * Fitting prompts into the target's context window: a prompt fits when it leaves room for
 * {@code maxNewTokens} generated tokens; a body that does not fit is cut into windows of nearly
 * equal size that each fit with the prompt's prefix and suffix.
 */
public final class WindowPlan {
    /** The fewest body tokens a window may hold; below this the template leaves no room for text. */
    public static final int MIN_WINDOW_TOKENS = 16;

    private WindowPlan() {
    }

    /** The context window prompts must fit: the model's, or {@code cap} when that is smaller (0: no cap). */
    public static int contextWindow(int modelContext, int cap) {
        return cap > 0 ? Math.min(cap, modelContext) : modelContext;
    }

    public static boolean fits(int promptTokens, int maxNewTokens, int contextTokens) {
        return promptTokens + maxNewTokens <= contextTokens;
    }

    /**
     * Cuts {@code bodyTokens} into consecutive windows so that {@code frameTokens} (prefix and
     * suffix) + a window + {@code maxNewTokens} fit into {@code contextTokens}.
     */
    public static List<TokenRange> split(int bodyTokens, int frameTokens, int maxNewTokens, int contextTokens) {
        int room = contextTokens - maxNewTokens - frameTokens;
        if (room < MIN_WINDOW_TOKENS) {
            throw new IllegalArgumentException("the prompt template takes " + frameTokens
                    + " tokens (chat framing included) and --max-new-tokens=" + maxNewTokens + " leaves room for "
                    + Math.max(room, 0) + " tokens of document text in the " + contextTokens
                    + "-token context window; at least " + MIN_WINDOW_TOKENS
                    + " are needed: shorten the template or lower --max-new-tokens");
        }
        int windows = Math.max(1, ceilDiv(bodyTokens, room));
        int size = ceilDiv(bodyTokens, windows);
        List<TokenRange> ranges = new ArrayList<>(windows);
        for (int start = 0; start < bodyTokens; start += size) {
            ranges.add(new TokenRange(start, Math.min(start + size, bodyTokens)));
        }
        return ranges;
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    /** Body positions {@code [start, end)}. */
    public record TokenRange(int start, int end) {
    }
}
