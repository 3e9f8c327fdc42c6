package dev.pflash.pipeline.generate;

import dev.pflash.runtime.engine.GenerationSettings;
import java.io.Serializable;

/**
 * The decoding settings as they travel with the transforms (the engine's
 * {@link GenerationSettings} is not serializable); the same checks apply.
 */
public record DecodeSettings(int maxNewTokens, float temperature, int topK, float topP, long seed)
        implements Serializable {
    public DecodeSettings {
        new GenerationSettings(maxNewTokens, temperature, topK, topP, seed);
    }

    public GenerationSettings toGenerationSettings() {
        return new GenerationSettings(maxNewTokens, temperature, topK, topP, seed);
    }
}
