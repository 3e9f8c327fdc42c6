package dev.pflash.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BenchmarkPlanTest {
    @Test
    void presetsAreTheOptionsThatMakeEachConfiguration() {
        List<BenchmarkPlan.Config> plan = BenchmarkPlan.of(List.of("dense", "pflash", "pflash+cache"), Map.of());

        assertThat(plan).extracting(BenchmarkPlan.Config::name).containsExactly("dense", "pflash", "pflash+cache");
        assertThat(plan.get(0).words()).containsExactly("--prefill-compression=off", "--prefix-cache-bytes=0");
        assertThat(plan.get(2).words()).containsExactly("--prefill-compression=auto");
        assertThat(plan).extracting(BenchmarkPlan.Config::folder).containsExactly("dense", "pflash", "pflash-plus-cache");
    }

    @Test
    void sweepsMultiplyConfigurationsAndPflashSweepsLeaveDenseAlone() {
        Map<String, List<String>> sweeps = new LinkedHashMap<>();
        sweeps.put("keep-ratio", List.of("0.03", "0.1"));
        sweeps.put("batch-tokens", List.of("4096", "16384"));

        List<BenchmarkPlan.Config> plan = BenchmarkPlan.of(List.of("dense", "pflash"), sweeps);

        assertThat(plan).extracting(BenchmarkPlan.Config::name).containsExactly(
                "dense batch-tokens=4096", "dense batch-tokens=16384",
                "pflash keep-ratio=0.03 batch-tokens=4096", "pflash keep-ratio=0.03 batch-tokens=16384",
                "pflash keep-ratio=0.1 batch-tokens=4096", "pflash keep-ratio=0.1 batch-tokens=16384");
        assertThat(plan.get(3).words()).containsExactly("--prefill-compression=auto", "--prefix-cache-bytes=0",
                "--keep-ratio=0.03", "--batch-tokens=16384");
        assertThat(plan.get(3).folder()).isEqualTo("pflash-keep-ratio=0.03-batch-tokens=16384");
    }

    @Test
    void aConfigurationOfOnesOwnIsNameColonOptions() {
        BenchmarkPlan.Config c = BenchmarkPlan.of(List.of("tight:prefill-compression=always;keepRatio=0.02"),
                Map.of()).get(0);

        assertThat(c.name()).isEqualTo("tight");
        assertThat(c.words()).containsExactly("--prefill-compression=always", "--keep-ratio=0.02");
    }

    @Test
    void badConfigurationsAreRefusedWithTheirName() {
        assertThatThrownBy(() -> BenchmarkPlan.of(List.of("fast"), Map.of()))
                .hasMessageContaining("'fast' is not a preset");
        assertThatThrownBy(() -> BenchmarkPlan.of(List.of("x:keep-ratio"), Map.of()))
                .hasMessageContaining("'keep-ratio' in 'x:keep-ratio' is not option=value");
        assertThatThrownBy(() -> BenchmarkPlan.of(List.of("dense", "dense"), Map.of()))
                .hasMessageContaining("'dense' appears twice");
        assertThatThrownBy(() -> BenchmarkPlan.of(List.of("dense"), Map.of("model", List.of("a", "b"))))
                .hasMessageContaining("--model cannot take several values");
    }

    @Test
    void progressSaysWhichConfigurationHowFarAndTheTimeLeftInAll() {
        BenchmarkProgress progress = new BenchmarkProgress(3);
        assertThat(progress.line(0, "dense", 0, 10, 5)).isEqualTo(
                "configuration 1 of 3 (dense): 0 of 10 documents, 0.00 documents/s, time left not known yet");
        // 4 of 10 in 20 s: 30 s more for this one, then two more as long as this one (50 s each).
        assertThat(progress.line(0, "dense", 4, 10, 20)).isEqualTo(
                "configuration 1 of 3 (dense): 4 of 10 documents, 0.20 documents/s, about 2 min 10 s left in all");
        progress.finished(60);
        // The second runs at 1 document/s: 5 s more; the third as long as the first took.
        assertThat(progress.line(1, "pflash", 5, 10, 5)).isEqualTo(
                "configuration 2 of 3 (pflash): 5 of 10 documents, 1.00 documents/s, about 1 min 5 s left in all");
    }
}
