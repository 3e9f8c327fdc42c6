package dev.pflash.pipeline.output;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pflash.pipeline.generate.ModelIdentity;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunManifestTest {
    private static RunManifest manifest(String runId, String state, Instant finished) {
        return new RunManifest(runId, "summarize", Instant.parse("2026-12-02T10:00:00Z"), finished, state, "in/**",
                "out", 3, Map.of(), new ModelIdentity("target.gguf", "t-sha", "drafter.gguf", "d-sha", "cpu", false),
                4096, null, new RunTotals(0, 0, Map.of(), 0, 0, null, null, 0, 0, 0, 0, 0), "settings", Map.of());
    }

    @Test
    void aRunThatNeverEndedIsMarkedInterruptedByTheNextRun(@TempDir Path dir) throws Exception {
        String path = dir.resolve("manifest.json").toString();
        Instant end = Instant.parse("2026-12-02T10:05:00Z");
        manifest("first", RunManifest.RUNNING, null).writeTo(path);
        manifest("first", RunManifest.DONE, end).writeTo(path);
        manifest("killed", RunManifest.RUNNING, null).writeTo(path);
        manifest("resumed", RunManifest.RUNNING, null).writeTo(path);

        JsonNode runs = new ObjectMapper().readTree(dir.resolve("manifest.json").toFile()).get("runs");
        assertThat(runs).extracting(run -> run.get("run_id").asText()).containsExactly("first", "killed", "resumed");
        assertThat(runs).extracting(run -> run.get("state").asText())
                .containsExactly(RunManifest.DONE, RunManifest.INTERRUPTED, RunManifest.RUNNING);
        assertThat(runs.get(1).get("finished_at").isNull()).isTrue();

        manifest("resumed", RunManifest.DONE, end).writeTo(path);
        runs = new ObjectMapper().readTree(dir.resolve("manifest.json").toFile()).get("runs");
        assertThat(runs).extracting(run -> run.get("state").asText())
                .containsExactly(RunManifest.DONE, RunManifest.INTERRUPTED, RunManifest.DONE);
    }
}
