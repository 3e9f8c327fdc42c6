package dev.pflash.runtime.gguf;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A model built in memory rather than read from a file (synthetic models, tests): a name used in
 * error messages, metadata, and tensors. Tensor infos report the data offsets the tensors would
 * have if written by {@link GgufWriter} with the default alignment of 32.
 */
public final class InMemoryModelFile implements ModelFile {
    private final String name;
    private final GgufMetadata metadata;
    private final List<GgufTensorInfo> tensorInfos;
    private final Map<String, TensorData> tensors;

    /** @param metadata keys in the order they should be listed; values as documented on {@link GgufValue} */
    public InMemoryModelFile(String name, Map<String, GgufValue> metadata, List<TensorData> tensors) {
        this(name, new GgufMetadata(name, metadata), tensors);
    }

    public InMemoryModelFile(String name, GgufMetadata metadata, List<TensorData> tensors) {
        this.name = name;
        this.metadata = metadata;
        Map<String, TensorData> byName = new LinkedHashMap<>();
        List<GgufTensorInfo> infos = new ArrayList<>();
        long offset = 0;
        for (TensorData t : tensors) {
            if (byName.putIfAbsent(t.name(), t) != null) {
                throw new IllegalArgumentException(name + ": duplicate tensor " + t.name());
            }
            infos.add(new GgufTensorInfo(t.name(), t.dims(), t.type(), offset));
            offset += GgufWriter.alignUp(t.byteSize(), GgufFile.DEFAULT_ALIGNMENT);
        }
        this.tensors = Collections.unmodifiableMap(byName);
        this.tensorInfos = Collections.unmodifiableList(infos);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public GgufMetadata metadata() {
        return metadata;
    }

    @Override
    public List<GgufTensorInfo> tensorInfos() {
        return tensorInfos;
    }

    @Override
    public Optional<TensorData> findTensor(String tensorName) {
        return Optional.ofNullable(tensors.get(tensorName));
    }

    /** Nothing to release: the tensors' buffers belong to whoever built them. */
    @Override
    public void close() {
    }

    @Override
    public String toString() {
        return name;
    }
}
