package dev.pflash.jobs.report;

import dev.pflash.schemas.BenchmarkRow;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.io.parquet.ParquetIO;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;

/**
 * The rows of {@code benchmark.parquet}: one per document and configuration, joined from a run's
 * results, timings and errors tables.
 */
public final class BenchmarkRows {
    private BenchmarkRows() {
    }

    /** The rows of one configuration's run: each result with its timings, then each error. */
    public static List<BenchmarkRow> of(ReportedRun run) {
        RunDirectory dir = run.directory();
        Map<String, GenericRecord> timings = new HashMap<>();
        for (GenericRecord t : dir.timings()) {
            timings.put(text(t, "doc_id"), t);
        }
        long started = dir.startedAt().toEpochMilli();
        List<BenchmarkRow> rows = new ArrayList<>();
        for (GenericRecord r : dir.results()) {
            String docId = text(r, "doc_id");
            GenericRecord t = timings.get(docId);
            if (t == null) {
                throw new IllegalArgumentException(dir.directory() + ": result of " + docId + " has no timings row");
            }
            int body = integer(r, "body_tokens");
            int kept = integer(r, "kept_tokens");
            long finished = ((Number) t.get("finished_epoch_ms")).longValue();
            rows.add(base(run).setDocId(docId).setUri(text(r, "uri")).setOk(true).setErrorStage(null)
                    .setPromptTokens(integer(r, "prompt_tokens")).setPrefixTokens(integer(r, "prefix_tokens"))
                    .setBodyTokens(body).setSuffixTokens(integer(r, "suffix_tokens")).setKeptTokens(kept)
                    .setKeepRatio(body == 0 ? 1 : (double) kept / body)
                    .setPrefixTokensReused(integer(r, "prefix_tokens_reused"))
                    .setGeneratedTokens(integer(t, "generated_tokens"))
                    .setCompressionDecision(has(r, "compression_decision") ? text(r, "compression_decision") : "off:dense")
                    .setFitStrategy(has(r, "fit_strategy") ? text(r, "fit_strategy") : null)
                    .setExtractMs(number(t, "extract_ms")).setTokenizeMs(number(t, "tokenize_ms"))
                    .setPrefixLookupMs(number(t, "prefix_lookup_ms")).setDraftMs(number(t, "draft_ms"))
                    .setSelectMs(number(t, "select_ms")).setTargetPrefillMs(number(t, "target_prefill_ms"))
                    .setTtftMs(number(t, "ttft_ms")).setDecodeMs(number(t, "decode_ms"))
                    .setDecodeTokensPerS(number(t, "decode_tokens_per_s"))
                    .setPrefilledTokens(integer(t, "prefilled_tokens")).setEngineCalls(integer(t, "engine_calls"))
                    .setBatchSize(integer(t, "batch_size"))
                    .setPredictedDenseTtftMs(has(r, "predicted_dense_ttft_ms")
                            ? (Double) r.get("predicted_dense_ttft_ms") : null)
                    .setTtftSavedMs(has(r, "ttft_saved_ms") ? number(r, "ttft_saved_ms") : 0)
                    .setFinishedS(finished == 0 ? 0 : (finished - started) / 1000.0)
                    .setOutputTokenIds(tokenIds(r))
                    .setTopLabel(has(r, "top_label") ? text(r, "top_label") : null)
                    .build());
        }
        for (GenericRecord e : dir.errors()) {
            rows.add(base(run).setDocId(e.get("doc_id") == null ? null : text(e, "doc_id")).setUri(text(e, "uri"))
                    .setOk(false).setErrorStage(text(e, "stage")).setPromptTokens(0).setPrefixTokens(0)
                    .setBodyTokens(0).setSuffixTokens(0).setKeptTokens(0).setKeepRatio(1).setPrefixTokensReused(0)
                    .setGeneratedTokens(0).setCompressionDecision("").setFitStrategy(null).setExtractMs(0)
                    .setTokenizeMs(0).setPrefixLookupMs(0).setDraftMs(0).setSelectMs(0).setTargetPrefillMs(0)
                    .setTtftMs(0).setDecodeMs(0).setDecodeTokensPerS(0).setPrefilledTokens(0).setEngineCalls(0)
                    .setBatchSize(0).setPredictedDenseTtftMs(null).setTtftSavedMs(0)
                    .setFinishedS((((Number) e.get("time_epoch_ms")).longValue() - started) / 1000.0)
                    .setOutputTokenIds(List.of()).setTopLabel(null).build());
        }
        return rows;
    }

    private static BenchmarkRow.Builder base(ReportedRun run) {
        return BenchmarkRow.newBuilder().setConfig(run.name()).setConfigIndex(run.index())
                .setConfigOptions(run.options()).setRunId(run.directory().runId())
                .setRunDir(run.directory().directory().toString()).setJob(run.directory().job());
    }

    /** Writes {@code rows} to one Parquet file at {@code file}, replacing it. */
    public static void write(List<BenchmarkRow> rows, Path file) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ParquetIO.Sink sink = ParquetIO.sink(BenchmarkRow.getClassSchema())
                    .withCompressionCodec(CompressionCodecName.SNAPPY);
            sink.open(channel);
            for (BenchmarkRow row : rows) {
                sink.write(row);
            }
            sink.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot write the benchmark table: " + e.getMessage(), e);
        }
    }

    private static List<Integer> tokenIds(GenericRecord r) {
        if (!has(r, "summary_token_ids")) {
            return List.of();
        }
        List<Integer> ids = new ArrayList<>();
        for (Object id : (Iterable<?>) r.get("summary_token_ids")) {
            ids.add(((Number) id).intValue());
        }
        return ids;
    }

    private static boolean has(GenericRecord row, String column) {
        return row.getSchema().getField(column) != null && row.get(column) != null;
    }

    private static String text(GenericRecord row, String column) {
        return row.get(column).toString();
    }

    private static int integer(GenericRecord row, String column) {
        return ((Number) row.get(column)).intValue();
    }

    private static double number(GenericRecord row, String column) {
        return ((Number) row.get(column)).doubleValue();
    }
}
