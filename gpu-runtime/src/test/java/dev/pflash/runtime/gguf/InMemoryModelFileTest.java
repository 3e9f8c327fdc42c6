package dev.pflash.runtime.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class InMemoryModelFileTest {

    private static TensorData tensor(String name, GgmlType type, long... dims) {
        long n = 1;
        for (long d : dims) {
            n *= d;
        }
        return TensorData.of(name, type, dims, ByteBuffer.allocate((int) type.byteSize(n)));
    }

    @Test
    void listsTensorsWithTheOffsetsAWriterWouldGiveThem() {
        Map<String, GgufValue> meta = new LinkedHashMap<>();
        meta.put("general.architecture", GgufValue.ofString("qwen3"));
        meta.put("qwen3.block_count", GgufValue.ofUInt32(2));
        TensorData norm = tensor("output_norm.weight", GgmlType.F32, 5); // 20 bytes, padded to 32
        TensorData embd = tensor("token_embd.weight", GgmlType.Q8_0, 32, 3); // 102 bytes, padded to 128
        TensorData out = tensor("output.weight", GgmlType.Q6_K, 256, 2);
        try (ModelFile model = new InMemoryModelFile("synthetic:test", meta, List.of(norm, embd, out))) {
            assertThat(model.name()).isEqualTo("synthetic:test");
            assertThat(model.metadata().getInt("qwen3.block_count")).isEqualTo(2);
            assertThat(model.tensorInfos()).extracting(GgufTensorInfo::name)
                    .containsExactly("output_norm.weight", "token_embd.weight", "output.weight");
            assertThat(model.tensorInfos()).extracting(GgufTensorInfo::offset).containsExactly(0L, 32L, 160L);
            assertThat(model.tensorInfos().get(1).dims()).containsExactly(32, 3);
            assertThat(model.tensor("token_embd.weight")).isSameAs(embd);
            assertThat(model.findTensor("blk.0.attn_q.weight")).isEmpty();
            assertThatThrownBy(() -> model.tensor("blk.0.attn_q.weight")).isInstanceOf(GgufException.class)
                    .hasMessage("synthetic:test: missing required tensor blk.0.attn_q.weight");
            assertThatThrownBy(() -> model.metadata().getInt("qwen3.embedding_length"))
                    .hasMessage("synthetic:test: missing required metadata key qwen3.embedding_length");
        }
    }

    @Test
    void rejectsDuplicateTensorNames() {
        TensorData a = tensor("a", GgmlType.F32, 2);
        assertThatThrownBy(() -> new InMemoryModelFile("synthetic:dup", Map.of(), List.of(a, a)))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("synthetic:dup: duplicate tensor a");
    }
}
