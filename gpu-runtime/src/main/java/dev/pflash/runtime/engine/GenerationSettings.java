package dev.pflash.runtime.engine;

/**
 * How to decode: at most {@code maxNewTokens} tokens; temperature 0 is greedy; topK 0 and topP 1
 * switch those filters off; the seed makes sampling repeatable per prompt.
 */
public record GenerationSettings(int maxNewTokens, float temperature, int topK, float topP, long seed) {
    public GenerationSettings {
        if (maxNewTokens < 0) {
            throw new IllegalArgumentException("maxNewTokens must be >= 0, got " + maxNewTokens);
        }
        if (temperature < 0) {
            throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("topK must be >= 0, got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("topP must be in (0, 1], got " + topP);
        }
    }

    public static GenerationSettings greedy(int maxNewTokens) {
        return new GenerationSettings(maxNewTokens, 0f, 0, 1f, 0L);
    }
}
