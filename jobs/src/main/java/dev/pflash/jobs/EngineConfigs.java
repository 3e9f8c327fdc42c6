package dev.pflash.jobs;

import dev.pflash.pipeline.generate.EngineOpener;
import dev.pflash.pipeline.generate.ModelFetcher;
import dev.pflash.pipeline.generate.WorkerEngineOpener;
import dev.pflash.runtime.backend.ElementType;
import dev.pflash.runtime.engine.CompressionSettings;
import dev.pflash.runtime.engine.EngineConfig;
import dev.pflash.runtime.engine.Engines;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import org.apache.beam.sdk.io.FileSystems;

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
        // The target first: a missing target is the error to report, whatever the drafter.
        String model = checkModel("--model", options.getModel().strip());
        String drafter = options.getDrafter().strip();
        String systemPrompt = options.getSystemPrompt();
        CompressionSettings compression = CompressionSettings.defaults()
                .withMode(CompressionSettings.Mode.parse(options.getPrefillCompression()))
                .withKeepRatio(options.getKeepRatio()).withAlpha(options.getAlpha())
                .withThreshold(options.getCompressionThreshold() == null ? CompressionSettings.BY_COST
                        : options.getCompressionThreshold());
        String drafterModel = drafter.isEmpty() || drafter.equalsIgnoreCase(NO_DRAFTER) ? null
                : checkModel("--drafter", drafter);
        if (drafterModel == null && compression.mode() == CompressionSettings.Mode.AUTO) {
            // auto means "compress when it pays"; without a drafter it never can.
            compression = compression.withMode(CompressionSettings.Mode.OFF);
        }
        return new EngineConfig(model, drafterModel, backend, options.getThreads(),
                systemPrompt.isBlank() ? null : systemPrompt, compression, options.getPrefixCacheBytes(),
                kvCacheType(options.getKvCacheType()));
    }

    private static ElementType kvCacheType(String value) {
        try {
            return ElementType.parse(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--kv-cache-type=" + value
                    + " is not a KV cache type; use f16, f32 or q8_0",
                    e);
        }
    }

    /**
     * How workers open the engine: remote models copied to {@code --model-cache-dir} first, the
     * engine kept loaded for {@code --engine-keep-alive-seconds} after its last user.
     */
    static EngineOpener opener(EngineOptions options) {
        if (options.getEngineKeepAliveSeconds() < 0) {
            throw new IllegalArgumentException("--engine-keep-alive-seconds must be 0 or more, got "
                    + options.getEngineKeepAliveSeconds());
        }
        return new WorkerEngineOpener(Engines::open, options.getModelCacheDir().strip(),
                Duration.ofSeconds(options.getEngineKeepAliveSeconds()));
    }

    private static String checkModel(String option, String model) {
        if (ModelFetcher.isRemote(model)) {
            return checkRemoteModel(option, model);
        }
        if (!model.startsWith(SYNTHETIC) && !Files.isRegularFile(Path.of(model))) {
            throw new IllegalArgumentException(option + "=" + model + ": no such file. The demo models are in"
                    + " sample-data/models/ of the repository (run from its root); a real model is a GGUF file such"
                    + " as Qwen3-8B-Q4_K_M.gguf");
        }
        return model;
    }

    /** A model on a Beam file system: it must exist now, though only the workers copy it. */
    private static String checkRemoteModel(String option, String model) {
        try {
            FileSystems.matchSingleFileSpec(model);
            return model;
        } catch (FileNotFoundException e) {
            throw new IllegalArgumentException(option + "=" + model + ": no such file", e);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(option + "=" + model + ": no file system in this jar reads it ("
                    + e.getMessage() + ")", e);
        } catch (IOException e) {
            throw new IllegalArgumentException(option + "=" + model + ": cannot be read: " + e.getMessage(), e);
        }
    }
}
