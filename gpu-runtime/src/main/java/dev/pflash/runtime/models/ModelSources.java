package dev.pflash.runtime.models;

import dev.pflash.runtime.gguf.GgufException;
import dev.pflash.runtime.gguf.GgufFile;
import dev.pflash.runtime.gguf.ModelFile;
import java.nio.file.Files;
import java.nio.file.Path;

/** Opens a model by the name a user gives: a GGUF file path, or {@code synthetic:<preset>[?type=T]}. */
public final class ModelSources {
    private ModelSources() {
    }

    public static ModelFile open(String spec) {
        if (SyntheticModels.isSynthetic(spec)) {
            return SyntheticModels.open(spec);
        }
        Path path = Path.of(spec);
        if (!Files.isRegularFile(path)) {
            throw new GgufException(spec, "no such model file (give a GGUF path or synthetic:<preset>; presets: "
                    + String.join(", ", SyntheticPreset.names()) + ")");
        }
        return GgufFile.open(path);
    }
}
