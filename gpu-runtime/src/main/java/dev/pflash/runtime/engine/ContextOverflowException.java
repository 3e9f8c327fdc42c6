package dev.pflash.runtime.engine;

/**
 * A prompt that does not fit the target's context window (with room for at least one generated
 * token). Callers catch this one to split or compress the document instead of failing it.
 */
public final class ContextOverflowException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final int promptTokens;
    private final int contextLength;

    public ContextOverflowException(String promptId, int promptTokens, int contextLength, String model) {
        super("prompt " + promptId + " has " + promptTokens + " tokens; the context window of " + model + " is "
                + contextLength + " tokens (including generated ones)");
        this.promptTokens = promptTokens;
        this.contextLength = contextLength;
    }

    public int promptTokens() {
        return promptTokens;
    }

    public int contextLength() {
        return contextLength;
    }
}
