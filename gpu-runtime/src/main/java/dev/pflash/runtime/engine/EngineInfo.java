package dev.pflash.runtime.engine;

/**
 * What an engine runs: model ids (file name or synthetic name), the SHA-256 of each model file
 * (empty for synthetic models), the backend in use, the target's context window, and whether the
 * models are the random-weight demo models whose text is noise.
 */
public record EngineInfo(String targetModel, String targetSha256, String drafterModel, String drafterSha256,
        String backend, int contextLength, boolean demoModels) {
}
