package dev.pflash.jobs;

import dev.pflash.runtime.engine.CompressionSettings;
import dev.pflash.runtime.engine.EngineConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;

/** Turns the command line's {@link EngineOptions} into the runtime's {@link EngineConfig}, checking each value. */
final class EngineConfigs {
    private static final Set<String> BACKENDS = Set.of("auto", "cpu", "cuda");
    private static final String NO_DRAFTER = "none";
    private static final String SYNTHETIC = "synthetic:";

    private EngineConfigs() {
    }

    /** @throws IllegalArgumentException naming the option and what is wrong with it */
    static EngineConfig from(EngineOptions options) {
        String backend = options.getBackend().strip().toLowerCase(Locale.ROOT);
        if (!BACKENDS.contains(backend)) {
            throw new IllegalArgumentException("--backend=" + options.getBackend() + " is not a backend; use auto,"
                    + " cpu or cuda");
        }
        String drafter = options.getDrafter().strip();
        String systemPrompt = options.getSystemPrompt();
        CompressionSettings compression = CompressionSettings.defaults()
                .withMode(CompressionSettings.Mode.parse(options.getPrefillCompression()))
                .withKeepRatio(options.getKeepRatio()).withAlpha(options.getAlpha())
                .withThreshold(options.getCompressionThreshold());
        String drafterModel = drafter.isEmpty() || drafter.equalsIgnoreCase(NO_DRAFTER) ? null
                : checkModel("--drafter", drafter);
        if (drafterModel == null && compression.mode() == CompressionSettings.Mode.AUTO) {
            // auto means "compress when it pays"; without a drafter it never can.
            compression = compression.withMode(CompressionSettings.Mode.OFF);
        }
        return new EngineConfig(checkModel("--model", options.getModel().strip()), drafterModel, backend, options.getThreads(), systemPrompt.isBlank() ? null : systemPrompt, compression,
                options.getPrefixCacheBytes());
    }

    private static String checkModel(String option, String model) {
        if (!model.startsWith(SYNTHETIC) && !Files.isRegularFile(Path.of(model))) {
            throw new IllegalArgumentException(option + "=" + model + ": no such file. The demo models are in"
                    + " sample-data/models/ of the repository (run from its root); a real model is a GGUF file such"
                    + " as Qwen3-8B-Q4_K_M.gguf");
        }
        return model;
    }
}
