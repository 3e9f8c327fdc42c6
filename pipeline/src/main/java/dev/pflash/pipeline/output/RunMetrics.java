package dev.pflash.pipeline.output;

import dev.pflash.pipeline.resume.SkipReason;
import dev.pflash.schemas.DocumentError;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Gauge;
import org.apache.beam.sdk.metrics.GaugeResult;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricQueryResults;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricResults;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PDone;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * The run's Beam metrics, counted from the rows as they are written: the job polls them for
 * progress while the pipeline runs and reads them for its end-of-run table and manifest.
 */
public final class RunMetrics {
    public static final String NAMESPACE = "pflash";
    /** Failures are also counted per stage, one counter per stage name in this namespace. */
    public static final String FAILED_STAGE_NAMESPACE = "pflash.failed_stage";
    public static final String DOCUMENTS_OK = "documents_ok";
    public static final String DOCUMENTS_FAILED = "documents_failed";
    public static final String PROMPT_TOKENS = "prompt_tokens";
    public static final String GENERATED_TOKENS = "generated_tokens";
    public static final String PREFIX_TOKENS_REUSED = "prefix_tokens_reused";
    public static final String DOCUMENTS_COMPRESSED = "documents_compressed";
    public static final String COMPRESSED_BODY_TOKENS = "compressed_body_tokens";
    public static final String COMPRESSED_KEPT_TOKENS = "compressed_kept_tokens";
    /** Counters hold longs: the estimated TTFT saved is counted in microseconds. */
    public static final String TTFT_SAVED_US = "ttft_saved_us";
    private static final String TTFT_COLUMN = "ttft_ms";
    /** Gauges in microseconds: Beam gauges hold longs. */
    public static final String TTFT_P50_US = "ttft_p50_us";
    public static final String TTFT_P95_US = "ttft_p95_us";

    private RunMetrics() {
    }

    /**
     * Counts result rows and their tokens, and publishes the TTFT percentiles once all rows are in.
     * Rows are read by column name ({@code prompt_tokens}, {@code generated_tokens},
     * {@code prefix_tokens_reused}, {@code ttft_ms}; for PFlash {@code body_tokens},
     * {@code kept_tokens} and {@code ttft_saved_ms}), so that every results table counts the same
     * way; a table without a column counts 0 for it.
     */
    public static <T extends GenericRecord> PTransform<PCollection<T>, PDone> countResults() {
        return new PTransform<>() {
            @Override
            public PDone expand(PCollection<T> results) {
                results.apply("CountResults", ParDo.of(new CountResultsFn<T>()));
                results.apply("TtftValues", MapElements.into(TypeDescriptors.doubles())
                                .via((T row) -> ((Number) row.get(TTFT_COLUMN)).doubleValue()))
                        .apply("SortTtft", Combine.globally(new Percentiles.SortedValuesFn()))
                        .apply("PublishTtftPercentiles", ParDo.of(new PublishPercentilesFn()));
                return PDone.in(results.getPipeline());
            }
        };
    }

    /** Counts error rows, in all and per stage. */
    public static PTransform<PCollection<DocumentError>, PDone> countErrors() {
        return new PTransform<>() {
            @Override
            public PDone expand(PCollection<DocumentError> errors) {
                errors.apply("CountErrors", ParDo.of(new CountErrorsFn()));
                return PDone.in(errors.getPipeline());
            }
        };
    }

    /** The totals as the metrics report them now (during a run: so far). */
    public static RunTotals totals(MetricResults metrics) {
        MetricQueryResults counters = metrics.queryMetrics(MetricsFilter.builder()
                .addNameFilter(MetricNameFilter.inNamespace(NAMESPACE))
                .build());
        Map<String, Long> counts = new HashMap<>();
        for (MetricResult<Long> counter : counters.getCounters()) {
            counts.merge(counter.getName().getName(), counter.getAttempted(), Long::sum);
        }
        Map<String, Long> gauges = new HashMap<>();
        for (MetricResult<GaugeResult> gauge : counters.getGauges()) {
            gauges.put(gauge.getName().getName(), gauge.getAttempted().getValue());
        }
        Map<String, Long> byStage = new HashMap<>();
        MetricQueryResults stages = metrics.queryMetrics(MetricsFilter.builder()
                .addNameFilter(MetricNameFilter.inNamespace(FAILED_STAGE_NAMESPACE))
                .build());
        for (MetricResult<Long> counter : stages.getCounters()) {
            byStage.merge(counter.getName().getName(), counter.getAttempted(), Long::sum);
        }
        return new RunTotals(counts.getOrDefault(DOCUMENTS_OK, 0L), counts.getOrDefault(DOCUMENTS_FAILED, 0L), byStage,
                counts.getOrDefault(PROMPT_TOKENS, 0L), counts.getOrDefault(GENERATED_TOKENS, 0L),
                millis(gauges.get(TTFT_P50_US)), millis(gauges.get(TTFT_P95_US)),
                counts.getOrDefault(PREFIX_TOKENS_REUSED, 0L), counts.getOrDefault(DOCUMENTS_COMPRESSED, 0L),
                counts.getOrDefault(COMPRESSED_BODY_TOKENS, 0L), counts.getOrDefault(COMPRESSED_KEPT_TOKENS, 0L),
                counts.getOrDefault(TTFT_SAVED_US, 0L) / 1000.0);
    }

    /** Files a resumed run skipped, by {@link dev.pflash.pipeline.resume.SkipReason} counter name. */
    public static Map<String, Long> skipped(MetricResults metrics) {
        Map<String, Long> skipped = new TreeMap<>();
        for (SkipReason reason : SkipReason.values()) {
            skipped.put(reason.counter(), 0L);
        }
        MetricQueryResults counters = metrics.queryMetrics(MetricsFilter.builder()
                .addNameFilter(MetricNameFilter.inNamespace(NAMESPACE)).build());
        for (MetricResult<Long> counter : counters.getCounters()) {
            skipped.computeIfPresent(counter.getName().getName(), (name, sum) -> sum + counter.getAttempted());
        }
        return skipped;
    }

    private static Double millis(Long micros) {
        return micros == null ? null : micros / 1000.0;
    }

    private static final class CountResultsFn<T extends GenericRecord> extends DoFn<T, Void> {
        private final Counter documents = Metrics.counter(NAMESPACE, DOCUMENTS_OK);
        private final Counter promptTokens = Metrics.counter(NAMESPACE, PROMPT_TOKENS);
        private final Counter generatedTokens = Metrics.counter(NAMESPACE, GENERATED_TOKENS);
        private final Counter prefixTokensReused = Metrics.counter(NAMESPACE, PREFIX_TOKENS_REUSED);
        private final Counter compressed = Metrics.counter(NAMESPACE, DOCUMENTS_COMPRESSED);
        private final Counter compressedBody = Metrics.counter(NAMESPACE, COMPRESSED_BODY_TOKENS);
        private final Counter compressedKept = Metrics.counter(NAMESPACE, COMPRESSED_KEPT_TOKENS);
        private final Counter ttftSaved = Metrics.counter(NAMESPACE, TTFT_SAVED_US);

        @ProcessElement
        public void process(@Element T result) {
            documents.inc();
            promptTokens.inc(column(result, PROMPT_TOKENS));
            generatedTokens.inc(column(result, GENERATED_TOKENS));
            prefixTokensReused.inc(column(result, PREFIX_TOKENS_REUSED));
            long body = column(result, "body_tokens");
            long kept = column(result, "kept_tokens");
            if (kept < body) {
                compressed.inc();
                compressedBody.inc(body);
                compressedKept.inc(kept);
                ttftSaved.inc(Math.round(number(result, "ttft_saved_ms") * 1000));
            }
        }

        private static long column(GenericRecord row, String name) {
            return Math.round(number(row, name));
        }

        private static double number(GenericRecord row, String name) {
            return row.getSchema().getField(name) == null ? 0 : ((Number) row.get(name)).doubleValue();
        }
    }

    private static final class CountErrorsFn extends DoFn<DocumentError, Void> {
        private final Counter documents = Metrics.counter(NAMESPACE, DOCUMENTS_FAILED);

        @ProcessElement
        public void process(@Element DocumentError error) {
            documents.inc();
            Metrics.counter(FAILED_STAGE_NAMESPACE, error.getStage()).inc();
        }
    }

    private static final class PublishPercentilesFn extends DoFn<List<Double>, Void> {
        private final Gauge p50 = Metrics.gauge(NAMESPACE, TTFT_P50_US);
        private final Gauge p95 = Metrics.gauge(NAMESPACE, TTFT_P95_US);

        @ProcessElement
        public void process(@Element List<Double> sortedTtftMs) {
            if (!sortedTtftMs.isEmpty()) {
                p50.set(Math.round(Percentiles.nearestRank(sortedTtftMs, 50) * 1000));
                p95.set(Math.round(Percentiles.nearestRank(sortedTtftMs, 95) * 1000));
            }
        }
    }
}
