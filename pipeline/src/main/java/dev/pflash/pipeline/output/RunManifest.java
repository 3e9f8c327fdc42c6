package dev.pflash.pipeline.output;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.pflash.pipeline.generate.ModelIdentity;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.io.fs.ResourceId;
import org.apache.beam.sdk.util.MimeTypes;

/**
 * The small JSON file beside the tables that says what the latest run was: its id, when it started
 * and ended (null while it runs), its options, the models (with file hashes) and backend, the body
 * length from which PFlash {@code auto} compresses by cost (null when it does not decide by cost),
 * the SHA-256 of its output-affecting settings, its counts and what it skipped; and, under
 * {@code runs}, one entry per run that has written into this output, oldest first. A run is
 * {@code RUNNING} from its start and {@code DONE} at its end; one that never reached its end (killed,
 * crashed) is marked {@code INTERRUPTED} by the next run into the output, whose start proves that it
 * no longer runs. Its committed rows stay in the tables, under its run id.
 */
public record RunManifest(String runId, String job, Instant startedAt, Instant finishedAt, String state,
        String input, String output, long filesMatched, Map<String, Object> options, ModelIdentity models,
        int contextLength, Integer compressionCrossover, RunTotals totals, String settingsSha256,
        Map<String, Long> skipped) {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    public static final String RUNNING = "RUNNING";
    public static final String DONE = "DONE";
    public static final String INTERRUPTED = "INTERRUPTED";

    public RunManifest {
        Objects.requireNonNull(runId, "runId");
        Objects.requireNonNull(startedAt, "startedAt");
        options = new LinkedHashMap<>(options);
        skipped = new LinkedHashMap<>(skipped);
    }

    public double wallSeconds() {
        return finishedAt == null ? 0 : Duration.between(startedAt, finishedAt).toMillis() / 1000.0;
    }

    /** This run's entry in the list of runs. */
    Map<String, Object> runEntry() {
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("run_id", runId);
        entry.put("job", job);
        entry.put("state", state);
        entry.put("started_at", startedAt.toString());
        entry.put("finished_at", finishedAt == null ? null : finishedAt.toString());
        entry.put("settings_sha256", settingsSha256);
        entry.put("files_matched", filesMatched);
        entry.put("documents_ok", totals.documentsOk());
        entry.put("documents_failed", totals.documentsFailed());
        entry.put("skipped", skipped);
        return entry;
    }

    /**
     * The manifest with {@code runs}, the entries of earlier runs (this run's replaces its own; an
     * earlier run still {@code RUNNING} becomes {@code INTERRUPTED}).
     */
    public String toJson(List<Map<String, Object>> earlierRuns) {
        List<Map<String, Object>> runs = new ArrayList<>();
        for (Map<String, Object> run : earlierRuns) {
            if (!runId.equals(run.get("run_id"))) {
                runs.add(RUNNING.equals(run.get("state")) ? interrupted(run) : run);
            }
        }
        runs.add(runEntry());
        Map<String, Object> root = toMap();
        root.put("runs", runs);
        return write(root);
    }

    private static Map<String, Object> interrupted(Map<String, Object> run) {
        Map<String, Object> entry = new LinkedHashMap<>(run);
        entry.put("state", INTERRUPTED);
        return entry;
    }

    public String toJson() {
        return toJson(List.of());
    }

    private Map<String, Object> toMap() {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("run_id", runId);
        root.put("job", job);
        root.put("state", state);
        root.put("started_at", startedAt.toString());
        root.put("finished_at", finishedAt == null ? null : finishedAt.toString());
        root.put("settings_sha256", settingsSha256);
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
        root.put("skipped", skipped);
        Map<String, String> tables = new LinkedHashMap<>();
        for (String table : new String[] {OutputLayout.RESULTS, OutputLayout.TIMINGS, OutputLayout.ERRORS}) {
            tables.put(table, table + "/");
        }
        root.put("tables", tables);
        return root;
    }

    private String write(Map<String, Object> root) {
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

    /**
     * Writes the manifest to {@code path} through Beam's file systems (local or remote), keeping
     * the runs listed in the manifest already there; written under a temporary name and renamed,
     * so that a reader never sees half of it.
     */
    public void writeTo(String path) {
        byte[] bytes = toJson(earlierRuns(path)).getBytes(StandardCharsets.UTF_8);
        ResourceId target = FileSystems.matchNewResource(path, false);
        ResourceId temporary = FileSystems.matchNewResource(path + CommitTable.IN_PROGRESS, false);
        try {
            try (WritableByteChannel channel = FileSystems.create(temporary, MimeTypes.TEXT)) {
                channel.write(ByteBuffer.wrap(bytes));
            }
            FileSystems.rename(List.of(temporary), List.of(target));
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": cannot write the run manifest: " + e.getMessage(), e);
        }
    }

    /** The runs listed by the manifest at {@code path}; none when there is no manifest yet. */
    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> earlierRuns(String path) {
        try {
            MatchResult match = FileSystems.match(List.of(path), EmptyMatchTreatment.ALLOW).get(0);
            if (match.status() != MatchResult.Status.OK || match.metadata().isEmpty()) {
                return List.of();
            }
            try (InputStream in = Channels.newInputStream(FileSystems.open(match.metadata().get(0).resourceId()))) {
                Map<String, Object> root = JSON.readValue(in, Map.class);
                Object runs = root.get("runs");
                return runs instanceof List<?> list ? (List<Map<String, Object>>) list : List.of();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": cannot read the run manifest: " + e.getMessage(), e);
        }
    }
}
