package dev.pflash.jobs;

/**
 * One test of {@code bench}, named as llama-bench names them: {@code ppP} prefills P prompt
 * tokens; {@code tgG} decodes G tokens of one sequence after a short prompt, and {@code tgGxS}
 * those of S sequences decoded together; {@code ppP+tgG} prefills P tokens and then decodes G,
 * timed together. Its rate is the tokens it runs through the model over the timed seconds.
 */
record BenchTest(int promptTokens, int genTokens, int sequences) {
    /** Tokens of the untimed prompt a decode test starts from: a short cache, as in llama-bench's tgN. */
    static final int DECODE_PROMPT_TOKENS = 16;

    static BenchTest prefill(int tokens) {
        return new BenchTest(tokens, 0, 1);
    }

    static BenchTest decode(int tokens, int sequences) {
        return new BenchTest(0, tokens, sequences);
    }

    static BenchTest combined(int promptTokens, int genTokens) {
        return new BenchTest(promptTokens, genTokens, 1);
    }

    String name() {
        String pp = "pp" + promptTokens;
        String tg = "tg" + genTokens + (sequences > 1 ? "x" + sequences : "");
        if (genTokens == 0) {
            return pp;
        }
        return promptTokens == 0 ? tg : pp + "+" + tg;
    }

    /** Tokens the timed part runs through the model. */
    long timedTokens() {
        return promptTokens + (long) genTokens * sequences;
    }

    /** The longest sequence the test builds, which must fit the model's context window. */
    int contextTokens() {
        return (promptTokens == 0 ? DECODE_PROMPT_TOKENS : promptTokens) + genTokens;
    }
}
