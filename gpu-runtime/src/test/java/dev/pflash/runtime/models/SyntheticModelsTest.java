package dev.pflash.runtime.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pflash.runtime.gguf.GgmlType;
import dev.pflash.runtime.gguf.GgufException;
import dev.pflash.runtime.gguf.GgufTensorInfo;
import dev.pflash.runtime.gguf.LlamaFileType;
import dev.pflash.runtime.gguf.ModelFile;
import dev.pflash.runtime.gguf.TensorData;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class SyntheticModelsTest {

    @Test
    void qwen3PresetsHaveTheRealTensorCountsAndParameterCounts() {
        // GGUF-QWEN3.md section 6: 0.6B and 1.7B are tied (310 tensors), 8B untied (399).
        assertThat(specs("qwen3-0.6b", "Q8_0")).hasSize(310);
        assertThat(specs("qwen3-1.7b", "Q8_0")).hasSize(310);
        assertThat(specs("qwen3-4b", "Q8_0")).hasSize(398);
        assertThat(specs("qwen3-8b", "Q8_0")).hasSize(399);
        assertThat(parameters("qwen3-0.6b") / 1e9).isCloseTo(0.596, org.assertj.core.data.Offset.offset(0.001));
        assertThat(parameters("qwen3-1.7b") / 1e9).isCloseTo(1.721, org.assertj.core.data.Offset.offset(0.001));
        assertThat(parameters("qwen3-8b") / 1e9).isCloseTo(8.191, org.assertj.core.data.Offset.offset(0.001));
    }

    @Test
    void q4kmRecipeMatchesLlamaCppForQwen3_8b() {
        List<SyntheticModels.TensorSpec> specs = specs("qwen3-8b", "Q4_K_M");
        Map<GgmlType, Long> counts = specs.stream().collect(Collectors.groupingBy(SyntheticModels.TensorSpec::type,
                Collectors.counting()));
        assertThat(counts).containsEntry(GgmlType.F32, 145L).containsEntry(GgmlType.Q4_K, 217L)
                .containsEntry(GgmlType.Q6_K, 37L);
        TreeSet<Integer> upgraded = IntStream.range(0, 36).filter(l -> WeightTypes.useMoreBits(l, 36)).boxed()
                .collect(Collectors.toCollection(TreeSet::new));
        assertThat(upgraded).containsExactly(0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 31, 32, 33, 34, 35);
    }

    @Test
    void buildsTheSameBytesEveryTimeWithTheRequestedTypes() {
        try (ModelFile a = SyntheticModels.open("synthetic:cpu-drafter?type=Q4_K");
                ModelFile b = SyntheticModels.open("synthetic:cpu-drafter?type=Q4_K")) {
            assertThat(a.metadata().getInt("qwen3.block_count")).isEqualTo(2);
            assertThat(a.metadata().getBool(SyntheticModels.KEY_SYNTHETIC, false)).isTrue();
            Map<String, GgufTensorInfo> infos = a.tensorInfos().stream()
                    .collect(Collectors.toMap(GgufTensorInfo::name, Function.identity()));
            assertThat(infos.get("blk.1.ffn_up.weight").type()).isEqualTo(GgmlType.Q4_K);
            assertThat(infos.get("blk.1.ffn_up.weight").dims()).containsExactly(256L, 768L);
            assertThat(infos.get("output_norm.weight").type()).isEqualTo(GgmlType.F32);
            for (GgufTensorInfo info : a.tensorInfos()) {
                TensorData x = a.tensor(info.name());
                TensorData y = b.tensor(info.name());
                float[] row = new float[x.rowLength()];
                float[] other = new float[y.rowLength()];
                x.dequantizeRow(x.rowCount() - 1, row, 0);
                y.dequantizeRow(y.rowCount() - 1, other, 0);
                assertThat(row).as(info.name()).containsExactly(other);
                for (float v : row) {
                    assertThat(Float.isFinite(v)).isTrue();
                }
            }
            assertThat(a.tensor("blk.0.attn_norm.weight").toFloatArray()).containsOnly(1f);
        }
    }

    @Test
    void theFileTypeNamesLlamaCppsRecipeWhereOneExists() {
        try (ModelFile q4km = SyntheticModels.open("synthetic:cpu-drafter?type=Q4_K_M");
                ModelFile q80 = SyntheticModels.open("synthetic:cpu-drafter");
                ModelFile q4k = SyntheticModels.open("synthetic:cpu-drafter?type=Q4_K")) {
            assertThat(q4km.metadata().getInt(LlamaFileType.KEY)).isEqualTo(15);
            assertThat(q80.metadata().getInt(LlamaFileType.KEY)).isEqualTo(7);
            assertThat(q4k.metadata().has(LlamaFileType.KEY)).isFalse();
        }
    }

    @Test
    void qwen36PresetHasTheHybridShapesAndFitsItsMappedSize() {
        List<SyntheticModels.TensorSpec> specs = specs("qwen3.6-27b", "Q4_K_M");
        // Per DeltaNet layer 14 tensors, per attention layer 11, plus embedding, output norm and head.
        assertThat(specs).hasSize(48 * 14 + 16 * 11 + 3);
        Map<String, SyntheticModels.TensorSpec> byName = specs.stream()
                .collect(Collectors.toMap(SyntheticModels.TensorSpec::name, Function.identity()));
        assertThat(byName.get("blk.0.attn_qkv.weight").dims()).containsExactly(5120L, 10240L);
        assertThat(byName.get("blk.0.attn_qkv.weight").type()).isEqualTo(GgmlType.Q5_K);
        assertThat(byName.get("blk.0.ssm_conv1d.weight").dims()).containsExactly(4L, 10240L);
        assertThat(byName.get("blk.3.attn_q.weight").dims()).containsExactly(5120L, 2L * 24 * 256);
        assertThat(byName.get("output.weight").type()).isEqualTo(GgmlType.Q6_K);
        assertThat(byName).doesNotContainKey("blk.0.attn_q.weight");
        assertThat(parameters("qwen3.6-27b") / 1e9).isBetween(26.0, 28.0);
        // The Q4_K_M tensor data a CPU run maps: about 16 GiB.
        long bytes = specs.stream().mapToLong(s -> s.type().byteSize(s.dims()[0]) * (s.dims().length > 1 ? s.dims()[1] : 1))
                .sum();
        assertThat(bytes / (double) (1L << 30)).isBetween(15.0, 18.0);
    }

    @Test
    void qwen35SmallLoadsAsAHybridModel() {
        try (ModelFile m = SyntheticModels.open("synthetic:qwen35-small?ctx=256")) {
            assertThat(m.metadata().getString("general.architecture")).isEqualTo("qwen35");
            assertThat(m.metadata().getInt("qwen35.full_attention_interval")).isEqualTo(4);
            assertThat(m.tensor("blk.0.ssm_a").toFloatArray()).containsOnly(-1f);
            assertThat(m.tensor("blk.3.attn_q.weight").dims()).containsExactly(512L, 1024L);
        }
    }

    @Test
    void contextLengthCanBeOverridden() {
        try (ModelFile m = SyntheticModels.open("synthetic:cpu-drafter?ctx=64")) {
            assertThat(m.metadata().getInt("qwen3.context_length")).isEqualTo(64);
        }
    }

    @Test
    void badNamesGiveClearErrors() {
        assertThatThrownBy(() -> SyntheticModels.open("synthetic:qwen9-70b")).isInstanceOf(GgufException.class)
                .hasMessageContaining("unknown synthetic preset 'qwen9-70b'").hasMessageContaining("qwen3-8b");
        assertThatThrownBy(() -> SyntheticModels.open("synthetic:qwen3-0.6b?type=IQ2_XS"))
                .isInstanceOf(GgufException.class).hasMessageContaining("unknown weight type 'IQ2_XS'")
                .hasMessageContaining("Q4_K_M");
        assertThatThrownBy(() -> SyntheticModels.open("synthetic:qwen3-0.6b?ctx=-3"))
                .isInstanceOf(GgufException.class).hasMessageContaining("ctx must be a positive integer");
        assertThatThrownBy(() -> ModelSources.open("/no/such/model.gguf")).isInstanceOf(GgufException.class)
                .hasMessageStartingWith("/no/such/model.gguf: no such model file");
    }

    private static List<SyntheticModels.TensorSpec> specs(String preset, String type) {
        return SyntheticModels.tensorSpecs(SyntheticPreset.find(preset), WeightTypes.parse(preset, type));
    }

    private static long parameters(String preset) {
        long n = 0;
        for (SyntheticModels.TensorSpec s : specs(preset, "F32")) {
            long e = 1;
            for (long d : s.dims()) {
                e *= d;
            }
            n += e;
        }
        return n;
    }
}
