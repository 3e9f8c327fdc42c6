package dev.pflash.runtime.engine;

/**
 * What an engine runs: model ids (file name or synthetic name), the SHA-256 of each model file
 * (empty for synthetic models), the backend in use, the target's context window, and whether the
 * models are the random-weight demo models whose text is noise; with PFlash {@code auto} by cost,
 * the shortest body (no prefix or suffix) it compresses as predicted at start (-1: none), else null.
 */
public record EngineInfo(String targetModel, String targetSha256, String drafterModel, String drafterSha256,
        String backend, int contextLength, boolean demoModels, Integer compressionCrossover) {

    /** What an engine that does not decide compression by cost runs. */
    public EngineInfo(String targetModel, String targetSha256, String drafterModel, String drafterSha256,
            String backend, int contextLength, boolean demoModels) {
        this(targetModel, targetSha256, drafterModel, drafterSha256, backend, contextLength, demoModels, null);
    }
}
