package dev.pflash.jobs;

/**
 * One test of {@code bench}, named as llama-bench names them: {@code ppP} prefills P prompt
 * tokens; {@code tgG} decodes G tokens of one sequence after a short prompt, and {@code tgGxS}
 * those of S sequences decoded together; {@code ppP+tgG} prefills P tokens and then decodes G,
 * timed together. At a depth D ({@code " @ dD"}, llama-bench's {@code -d}) the test starts from
 * D tokens already in the cache, prefilled untimed: decode at depth is what a long prompt's
 * summary costs, attention reading the whole cache at every step. Its rate is the tokens it runs
 * through the model over the timed seconds.
 */
record BenchTest(int promptTokens, int genTokens, int sequences, int depth) {
    /** Tokens of the untimed prompt a decode test starts from: a short cache, as in llama-bench's tgN. */
    static final int DECODE_PROMPT_TOKENS = 16;

    static BenchTest prefill(int tokens, int depth) {
        return new BenchTest(tokens, 0, 1, depth);
    }

    static BenchTest decode(int tokens, int sequences, int depth) {
        return new BenchTest(0, tokens, sequences, depth);
    }

    static BenchTest combined(int promptTokens, int genTokens, int depth) {
        return new BenchTest(promptTokens, genTokens, 1, depth);
    }

    String name() {
        String pp = "pp" + promptTokens;
        String tg = "tg" + genTokens + (sequences > 1 ? "x" + sequences : "");
        String test = genTokens == 0 ? pp : promptTokens == 0 ? tg : pp + "+" + tg;
        return depth == 0 ? test : test + " @ d" + depth;
    }

    /** Tokens in each sequence's cache before the timed part: the depth, or a decode test's short prompt. */
    int untimedTokens() {
        return depth > 0 ? depth : promptTokens == 0 ? DECODE_PROMPT_TOKENS : 0;
    }

    /** Tokens the timed part runs through the model. */
    long timedTokens() {
        return promptTokens + (long) genTokens * sequences;
    }

    /** The longest sequence the test builds, which must fit the model's context window. */
    int contextTokens() {
        return untimedTokens() + promptTokens + genTokens;
    }
}
