package dev.pflash.pipeline.output;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.pflash.pipeline.generate.ModelIdentity;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.util.MimeTypes;

/**
 * The small JSON file beside the tables that says what a run was: its id, when it started and
 * ended, its options, the models (with file hashes), the backend and the body length from which
 * PFlash {@code auto} compresses by cost (null when it does not decide by cost), and its counts.
 */
public record RunManifest(String runId, String job, Instant startedAt, Instant finishedAt, String state,
        String input, String output, long filesMatched, Map<String, Object> options, ModelIdentity models,
        int contextLength, Integer compressionCrossover, RunTotals totals) {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public RunManifest {
        Objects.requireNonNull(runId, "runId");
        Objects.requireNonNull(startedAt, "startedAt");
        Objects.requireNonNull(finishedAt, "finishedAt");
        options = new LinkedHashMap<>(options);
    }

    public double wallSeconds() {
        return Duration.between(startedAt, finishedAt).toMillis() / 1000.0;
    }

    public String toJson() {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("run_id", runId);
        root.put("job", job);
        root.put("state", state);
        root.put("started_at", startedAt.toString());
        root.put("finished_at", finishedAt.toString());
        root.put("wall_seconds", wallSeconds());
        root.put("input", input);
        root.put("output", output);
        root.put("options", options);
        root.put("machine", machine());
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("target", models.targetModel());
        model.put("target_sha256", models.targetSha256());
        model.put("drafter", models.drafterModel());
        model.put("drafter_sha256", models.drafterSha256());
        model.put("backend", models.backend());
        model.put("context_length", contextLength);
        model.put("demo_models", models.demoModels());
        model.put("pflash_auto_crossover_body_tokens", compressionCrossover);
        root.put("models", model);
        Map<String, Object> counts = new LinkedHashMap<>();
        counts.put("files_matched", filesMatched);
        counts.put("documents_ok", totals.documentsOk());
        counts.put("documents_failed", totals.documentsFailed());
        counts.put("failed_by_stage", totals.failuresByStage());
        counts.put("prompt_tokens", totals.promptTokens());
        counts.put("generated_tokens", totals.generatedTokens());
        counts.put("prefix_tokens_reused", totals.prefixTokensReused());
        counts.put("ttft_p50_ms", totals.ttftP50Ms());
        counts.put("ttft_p95_ms", totals.ttftP95Ms());
        counts.put("documents_compressed", totals.documentsCompressed());
        counts.put("compressed_body_tokens", totals.compressedBodyTokens());
        counts.put("compressed_kept_tokens", totals.compressedKeptTokens());
        counts.put("ttft_saved_ms", totals.ttftSavedMs());
        root.put("counts", counts);
        Map<String, String> tables = new LinkedHashMap<>();
        for (String table : new String[] {OutputLayout.RESULTS, OutputLayout.TIMINGS, OutputLayout.ERRORS}) {
            tables.put(table, table + "/");
        }
        root.put("tables", tables);
        try {
            return JSON.writeValueAsString(root) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("run manifest of " + runId + " is not serializable: " + e.getMessage(), e);
        }
    }

    /** The machine that ran the job (the driver's): what a benchmark's figures depend on. */
    static Map<String, Object> machine() {
        Map<String, Object> machine = new LinkedHashMap<>();
        machine.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
        machine.put("arch", System.getProperty("os.arch"));
        machine.put("cores", Runtime.getRuntime().availableProcessors());
        machine.put("max_heap_bytes", Runtime.getRuntime().maxMemory());
        machine.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        return machine;
    }

    /** Writes the manifest to {@code path} through Beam's file systems (local or remote). */
    public void writeTo(String path) {
        byte[] bytes = toJson().getBytes(StandardCharsets.UTF_8);
        try (WritableByteChannel channel = FileSystems.create(FileSystems.matchNewResource(path, false),
                MimeTypes.TEXT)) {
            channel.write(ByteBuffer.wrap(bytes));
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": cannot write the run manifest: " + e.getMessage(), e);
        }
    }
}
