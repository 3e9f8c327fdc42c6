package dev.pflash.runtime.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pflash.runtime.backend.cpu.CpuBackend;
import dev.pflash.runtime.gguf.GgmlType;
import dev.pflash.runtime.gguf.GgufException;
import dev.pflash.runtime.gguf.InMemoryModelFile;
import dev.pflash.runtime.gguf.ModelFile;
import dev.pflash.runtime.gguf.TensorData;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class WeightsTest {

    @Test
    void loadsEveryTensorOfEachArchitecture() {
        try (CpuBackend backend = new CpuBackend(1)) {
            TinyModel qwen3 = TinyModel.of(TinyModel.QWEN3, 1);
            Weights w = Weights.load(qwen3.file, config(qwen3.file), backend);
            assertThat(w.layers()).hasSize(2);
            assertThat(w.output()).isSameAs(w.tokenEmbedding());
            assertThat(w.layer(1).queryNorm()).isPresent();
            assertThat(w.layer(1).queryBias()).isEmpty();
            assertThat(w.layer(0).query().rows()).isEqualTo(4 * 24);
            assertThat(w.ropeFrequencyDivisors()).isEmpty();

            TinyModel llama = TinyModel.of(TinyModel.LLAMA, 2);
            Weights l = Weights.load(llama.file, config(llama.file), backend);
            assertThat(l.output()).isNotSameAs(l.tokenEmbedding());
            assertThat(l.ropeFrequencyDivisors()).get().satisfies(
                    d -> assertThat(d).containsExactly(llama.weights.get("rope_freqs.weight")));
            assertThat(l.layer(0).keyNorm()).isEmpty();

            TinyModel qwen2 = TinyModel.of(TinyModel.QWEN2, 3);
            Weights q2 = Weights.load(qwen2.file, config(qwen2.file), backend);
            assertThat(q2.layer(1).valueBias()).isPresent();
        }
    }

    @Test
    void aMisshapenOrMissingTensorInALaterLayerIsNamed() {
        TinyModel model = TinyModel.of(TinyModel.QWEN3, 4);
        List<TensorData> tensors = new ArrayList<>();
        for (var info : model.file.tensorInfos()) {
            TensorData t = model.file.tensor(info.name());
            if (info.name().equals("blk.1.ffn_down.weight")) {
                t = TensorData.of(t.name(), GgmlType.F32, new long[] {64, 96}, ByteBuffer.allocate(64 * 96 * 4));
            }
            if (!info.name().equals("blk.1.attn_k_norm.weight")) {
                tensors.add(t);
            }
        }
        InMemoryModelFile bad = new InMemoryModelFile("bad.gguf", model.file.metadata(), tensors);
        try (CpuBackend backend = new CpuBackend(1)) {
            assertThatThrownBy(() -> Weights.load(bad, config(bad), backend)).isInstanceOf(GgufException.class)
                    .hasMessage("bad.gguf: missing required tensor blk.1.attn_k_norm.weight");
            List<TensorData> withNorm = new ArrayList<>(tensors);
            withNorm.add(model.file.tensor("blk.1.attn_k_norm.weight"));
            InMemoryModelFile misshapen = new InMemoryModelFile("bad.gguf", model.file.metadata(), withNorm);
            assertThatThrownBy(() -> Weights.load(misshapen, config(misshapen), backend))
                    .hasMessage("bad.gguf: tensor blk.1.ffn_down.weight has dims [64, 96], expected [F, E] = [96, 64]");
        }
    }

    private static ModelConfig config(ModelFile f) {
        return ModelConfig.fromMetadata(f.metadata(), f);
    }
}
