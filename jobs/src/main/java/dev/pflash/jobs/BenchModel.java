package dev.pflash.jobs;

import dev.pflash.runtime.gguf.GgmlType;
import dev.pflash.runtime.gguf.GgufTensorInfo;
import dev.pflash.runtime.gguf.LlamaFileType;
import dev.pflash.runtime.gguf.ModelFile;
import dev.pflash.runtime.models.SyntheticModels;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;

/**
 * What {@code bench} says about a model, as llama-bench does: its name, the bytes of its tensors,
 * its parameter count (every tensor element) and its type: the quantization recipe the file
 * declares ({@code general.file_type}, e.g. Q4_K_M), else the type that holds most of its weight
 * bytes.
 */
record BenchModel(String name, long bytes, long params, String type) {

    static BenchModel of(String spec, ModelFile file) {
        long bytes = 0;
        long params = 0;
        Map<GgmlType, Long> bytesByType = new EnumMap<>(GgmlType.class);
        for (GgufTensorInfo t : file.tensorInfos()) {
            bytes += t.byteSize();
            params += t.elementCount();
            if (t.dims().length >= 2) {
                bytesByType.merge(t.type(), t.byteSize(), Long::sum);
            }
        }
        String name = SyntheticModels.isSynthetic(spec) ? spec : Path.of(spec).getFileName().toString();
        return new BenchModel(name, bytes, params, type(file, bytesByType));
    }

    private static String type(ModelFile file, Map<GgmlType, Long> bytesByType) {
        if (file.metadata().has(LlamaFileType.KEY)) {
            LlamaFileType declared = LlamaFileType.fromId(file.metadata().getInt(LlamaFileType.KEY));
            if (declared != null) {
                return declared.name();
            }
        }
        return bytesByType.entrySet().stream().max(Map.Entry.comparingByValue()).map(e -> e.getKey().name())
                .orElse("none");
    }
}
