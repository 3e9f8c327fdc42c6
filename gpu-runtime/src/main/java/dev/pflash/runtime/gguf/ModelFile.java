package dev.pflash.runtime.gguf;

import java.util.List;
import java.util.Optional;

/**
 * A model's metadata and tensors, whether they come from a memory-mapped GGUF file or were built
 * in memory (synthetic models). Everything above the GGUF layer loads models through this.
 */
public interface ModelFile extends AutoCloseable {
    /** The file path or synthetic name, used in every error message. */
    String name();

    GgufMetadata metadata();

    List<GgufTensorInfo> tensorInfos();

    Optional<TensorData> findTensor(String tensorName);

    default TensorData tensor(String tensorName) {
        return findTensor(tensorName)
                .orElseThrow(() -> new GgufException(name(), "missing required tensor " + tensorName));
    }

    @Override
    void close();
}
