package dev.pflash.runtime.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pflash.runtime.backend.ElementType;
import dev.pflash.runtime.gguf.GgmlType;
import dev.pflash.runtime.gguf.GgufException;
import dev.pflash.runtime.gguf.GgufMetadata;
import dev.pflash.runtime.gguf.GgufTensorInfo;
import dev.pflash.runtime.gguf.GgufValue;
import dev.pflash.runtime.gguf.ModelFile;
import dev.pflash.runtime.gguf.TensorData;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ModelConfigTest {

    /** Real-size models without their bytes: the config reads tensor dims only. */
    private record ShapesOnly(String name, GgufMetadata metadata, List<GgufTensorInfo> tensorInfos) implements ModelFile {
        static ShapesOnly of(String name, Map<String, GgufValue> md, Map<String, long[]> tensors) {
            List<GgufTensorInfo> infos = new ArrayList<>();
            tensors.forEach((n, dims) -> infos.add(new GgufTensorInfo(n, dims, GgmlType.Q8_0, 0)));
            return new ShapesOnly(name, new GgufMetadata(name, md), infos);
        }

        @Override
        public Optional<TensorData> findTensor(String tensorName) {
            return Optional.empty();
        }

        @Override
        public void close() {
        }
    }

    private static Map<String, GgufValue> qwen3Metadata() {
        Map<String, GgufValue> md = new LinkedHashMap<>();
        md.put("general.architecture", GgufValue.ofString("qwen3"));
        md.put("general.name", GgufValue.ofString("Qwen3 0.6B"));
        md.put("qwen3.block_count", GgufValue.ofUInt32(28));
        md.put("qwen3.context_length", GgufValue.ofUInt32(40960));
        md.put("qwen3.embedding_length", GgufValue.ofUInt32(1024));
        md.put("qwen3.feed_forward_length", GgufValue.ofUInt32(3072));
        md.put("qwen3.attention.head_count", GgufValue.ofUInt32(16));
        md.put("qwen3.attention.head_count_kv", GgufValue.ofUInt32(8));
        md.put("qwen3.rope.freq_base", GgufValue.ofFloat32(1_000_000f));
        md.put("qwen3.attention.layer_norm_rms_epsilon", GgufValue.ofFloat32(1e-6f));
        md.put("qwen3.attention.key_length", GgufValue.ofUInt32(128));
        md.put("qwen3.attention.value_length", GgufValue.ofUInt32(128));
        return md;
    }

    private static Map<String, long[]> qwen3Tensors() {
        Map<String, long[]> t = new LinkedHashMap<>();
        t.put("token_embd.weight", new long[] {1024, 151936});
        t.put("blk.0.attn_q.weight", new long[] {1024, 2048});
        t.put("blk.0.attn_k.weight", new long[] {1024, 1024});
        return t;
    }

    private static ModelConfig read(Map<String, GgufValue> md, Map<String, long[]> tensors) {
        ModelFile f = ShapesOnly.of("m.gguf", md, tensors);
        return ModelConfig.fromMetadata(f.metadata(), f);
    }

    @Test
    void qwen3SixHundredMillionShapes() {
        ModelConfig c = read(qwen3Metadata(), qwen3Tensors());
        assertThat(c).isEqualTo(new ModelConfig("Qwen3 0.6B", Architecture.QWEN3, 28, 1024, 3072, 16, 8, 128, 151936,
                40960, 1_000_000f, 128, 1f, 1e-6f, (float) (1 / Math.sqrt(128)), false, false, true));
        assertThat(c.queryDim()).isEqualTo(2048);
        assertThat(c.kvDim()).isEqualTo(1024);
        assertThat(c.kvBytesPerToken(ElementType.F32)).isEqualTo(28L * 2 * 1024 * 4);
        assertThat(c.kvBytesPerToken(ElementType.F16)).as("f16 KV: half of f32").isEqualTo(28L * 2 * 1024 * 2);
        assertThat(c.parameterCount()).isEqualTo(596_049_920L);
    }

    @Test
    void llamaDefaultsHeadDimAndReadsItsScale() {
        Map<String, GgufValue> md = new LinkedHashMap<>();
        md.put("general.architecture", GgufValue.ofString("llama"));
        md.put("llama.block_count", GgufValue.ofUInt32(32));
        md.put("llama.context_length", GgufValue.ofUInt32(131072));
        md.put("llama.embedding_length", GgufValue.ofUInt32(4096));
        md.put("llama.feed_forward_length", GgufValue.ofUInt32(14336));
        md.put("llama.attention.head_count", GgufValue.ofUInt32(32));
        md.put("llama.attention.head_count_kv", GgufValue.ofUInt32(8));
        md.put("llama.rope.freq_base", GgufValue.ofFloat32(500_000f));
        md.put("llama.attention.layer_norm_rms_epsilon", GgufValue.ofFloat32(1e-5f));
        md.put("llama.attention.scale", GgufValue.ofFloat32(0.1f));
        Map<String, long[]> t = new LinkedHashMap<>();
        t.put("token_embd.weight", new long[] {4096, 128256});
        t.put("output.weight", new long[] {4096, 128256});
        t.put("blk.0.attn_q.weight", new long[] {4096, 4096});
        t.put("blk.0.attn_k.weight", new long[] {4096, 1024});
        ModelConfig c = read(md, t);
        assertThat(c.name()).isEqualTo("m.gguf");
        assertThat(c.headDim()).isEqualTo(128);
        assertThat(c.ropeDims()).isEqualTo(128);
        assertThat(c.attentionScale()).isEqualTo(0.1f);
        assertThat(c.tiedOutput()).isFalse();
        // Llama-3.1-8B: 8.03B parameters.
        assertThat(c.parameterCount()).isEqualTo(8_030_261_248L);
    }

    @Test
    void qwen2BiasesAreDetectedFromTheFirstBlock() {
        Map<String, GgufValue> md = new LinkedHashMap<>();
        qwen3Metadata().forEach((k, v) -> md.put(k.replace("qwen3", "qwen2"), v));
        md.remove("qwen2.attention.key_length");
        md.remove("qwen2.attention.value_length");
        md.put("general.architecture", GgufValue.ofString("qwen2"));
        Map<String, long[]> t = new LinkedHashMap<>();
        t.put("token_embd.weight", new long[] {1024, 151936});
        t.put("blk.0.attn_q.weight", new long[] {1024, 1024});
        t.put("blk.0.attn_k.weight", new long[] {1024, 512});
        t.put("blk.0.attn_q.bias", new long[] {1024});
        t.put("output.bias", new long[] {151936});
        ModelConfig c = read(md, t);
        assertThat(c.architecture()).isEqualTo(Architecture.QWEN2);
        assertThat(c.headDim()).isEqualTo(64);
        assertThat(c.attentionBias()).isTrue();
        assertThat(c.outputBias()).isTrue();
    }

    @Test
    void anUnsupportedArchitectureNamesTheSupportedOnes() {
        Map<String, GgufValue> md = qwen3Metadata();
        md.put("general.architecture", GgufValue.ofString("gemma3"));
        assertThatThrownBy(() -> read(md, qwen3Tensors())).isInstanceOf(GgufException.class)
                .hasMessage("m.gguf: unsupported architecture gemma3; supported: qwen3, llama, qwen2, qwen35");
    }

    @Test
    void aTensorThatContradictsTheMetadataIsNamed() {
        Map<String, GgufValue> md = qwen3Metadata();
        md.remove("qwen3.attention.key_length");
        md.remove("qwen3.attention.value_length");
        assertThatThrownBy(() -> read(md, qwen3Tensors())).isInstanceOf(GgufException.class)
                .hasMessage("m.gguf: tensor blk.0.attn_q.weight has dims [1024, 2048], expected [E, H*D] = [1024, 1024]");
        Map<String, long[]> t = qwen3Tensors();
        t.put("token_embd.weight", new long[] {896, 151936});
        assertThatThrownBy(() -> read(qwen3Metadata(), t))
                .hasMessage("m.gguf: tensor token_embd.weight has dims [896, 151936], expected [E, vocab] = [1024, 151936]");
    }

    @Test
    void linearRopeScalingIsReadAndOtherScalingsAreRefused() {
        Map<String, GgufValue> linear = qwen3Metadata();
        linear.put("qwen3.rope.scaling.type", GgufValue.ofString("linear"));
        linear.put("qwen3.rope.scaling.factor", GgufValue.ofFloat32(4f));
        assertThat(read(linear, qwen3Tensors()).ropeScale()).isEqualTo(4f);
        Map<String, GgufValue> yarn = qwen3Metadata();
        yarn.put("qwen3.rope.scaling.type", GgufValue.ofString("yarn"));
        assertThatThrownBy(() -> read(yarn, qwen3Tensors())).isInstanceOf(GgufException.class)
                .hasMessage("m.gguf: qwen3.rope.scaling.type = yarn is not supported; supported: none, linear");
    }

    @Test
    void missingOrInvalidKeysAreNamed() {
        Map<String, GgufValue> noEps = qwen3Metadata();
        noEps.remove("qwen3.attention.layer_norm_rms_epsilon");
        assertThatThrownBy(() -> read(noEps, qwen3Tensors()))
                .hasMessage("m.gguf: missing required metadata key qwen3.attention.layer_norm_rms_epsilon");
        Map<String, GgufValue> badKv = qwen3Metadata();
        badKv.put("qwen3.attention.head_count_kv", GgufValue.ofUInt32(5));
        assertThatThrownBy(() -> read(badKv, qwen3Tensors())).hasMessage(
                "m.gguf: qwen3.attention.head_count = 16 is not a multiple of qwen3.attention.head_count_kv = 5");
        Map<String, GgufValue> zero = qwen3Metadata();
        zero.put("qwen3.block_count", GgufValue.ofUInt32(0));
        assertThatThrownBy(() -> read(zero, qwen3Tensors()))
                .hasMessage("m.gguf: metadata key qwen3.block_count = 0 must be positive");
        Map<String, long[]> noEmbedding = qwen3Tensors();
        noEmbedding.remove("token_embd.weight");
        assertThatThrownBy(() -> read(qwen3Metadata(), noEmbedding))
                .hasMessage("m.gguf: missing required tensor token_embd.weight");
    }
}
