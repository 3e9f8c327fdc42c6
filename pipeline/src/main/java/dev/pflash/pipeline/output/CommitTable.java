package dev.pflash.pipeline.output;

import dev.pflash.pipeline.group.BoundedBatches;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.WritableByteChannel;
import java.util.List;
import java.util.UUID;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.MoveOptions;
import org.apache.beam.sdk.io.fs.ResourceId;
import org.apache.beam.sdk.io.parquet.ParquetIO;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.util.MimeTypes;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PDone;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.joda.time.Duration;

/**
 * Writes one table in pieces while the job runs: rows gather into pieces of at most
 * {@link OutputLayout#commitEvery()} rows ({@link BoundedBatches}; a piece also leaves once its first
 * row has waited {@link OutputLayout#commitSeconds()}), and each piece is written as a Parquet file
 * under a hidden temporary name ({@value #IN_PROGRESS} suffix) and renamed into place when complete.
 * A run killed at any moment leaves only complete {@code *.parquet} files, each of which holds
 * rows of finished documents; a resumed run skips those documents.
 *
 * <p>Every row gets the layout's {@link OutputLayout#settingsSha256()} in its
 * {@code settings_sha256} column. Counter {@code pflash/pieces_committed} counts the files.
 */
public final class CommitTable<T extends GenericRecord> extends PTransform<PCollection<T>, PDone> {
    /** Suffix of a piece being written; readers' {@code *.parquet} globs never match it. */
    public static final String IN_PROGRESS = ".inprogress";
    private static final String SETTINGS_COLUMN = "settings_sha256";

    private final OutputLayout layout;
    private final String table;
    private final Schema schema;
    private final String runId;

    public CommitTable(OutputLayout layout, String table, Schema schema, String runId) {
        this.layout = layout;
        this.table = table;
        this.schema = schema;
        this.runId = runId;
    }

    @Override
    public PDone expand(PCollection<T> rows) {
        int writers = Math.max(1, layout.shards());
        String settings = layout.settingsSha256();
        rows.apply("KeyByWriter", MapElements.into(TypeDescriptors.kvs(TypeDescriptors.strings(),
                        TypeDescriptor.of(GenericRecord.class)))
                        .via((T row) -> KV.of(Integer.toString(Math.floorMod(
                                String.valueOf(row.get("uri")).hashCode(), writers)), stamped(row, settings))))
                .setCoder(KvCoder.of(StringUtf8Coder.of(), AvroCoder.of(schema)))
                .apply("Pieces", BoundedBatches.<GenericRecord>of(layout.commitEvery(), row -> 1L)
                        .withMaxBuffering(Duration.standardSeconds(layout.commitSeconds())))
                .apply("Commit", ParDo.of(new CommitFn(layout, table, schema.toString(), runId)));
        return PDone.in(rows.getPipeline());
    }

    /** A copy of the row with this run's settings in {@code settings_sha256}, where the table has that column. */
    private static GenericRecord stamped(GenericRecord row, String settings) {
        if (row.getSchema().getField(SETTINGS_COLUMN) == null) {
            return row;
        }
        GenericRecord copy = GenericData.get().deepCopy(row.getSchema(), row);
        copy.put(SETTINGS_COLUMN, settings);
        return copy;
    }

    private static final class CommitFn extends DoFn<KV<String, Iterable<GenericRecord>>, Void> {
        private final Counter pieces = Metrics.counter(RunMetrics.NAMESPACE, "pieces_committed");
        private final OutputLayout layout;
        private final String table;
        private final String schemaJson;
        private final String runId;
        private transient Schema schema;

        CommitFn(OutputLayout layout, String table, String schemaJson, String runId) {
            this.layout = layout;
            this.table = table;
            this.schemaJson = schemaJson;
            this.runId = runId;
        }

        @Setup
        public void setup() {
            schema = new Schema.Parser().parse(schemaJson);
        }

        @ProcessElement
        public void process(@Element KV<String, Iterable<GenericRecord>> piece) {
            String name = table + "-" + runId + "-" + UUID.randomUUID().toString().substring(0, 13) + ".parquet";
            String directory = layout.tableDirectory(table);
            ResourceId temporary = FileSystems.matchNewResource(directory + "/." + name + IN_PROGRESS, false);
            ResourceId target = FileSystems.matchNewResource(directory + "/" + name, false);
            try {
                try (WritableByteChannel channel = FileSystems.create(temporary, MimeTypes.BINARY)) {
                    ParquetIO.Sink sink = ParquetIO.sink(schema).withCompressionCodec(layout.codec());
                    sink.open(channel);
                    for (GenericRecord row : piece.getValue()) {
                        sink.write(row);
                    }
                    sink.flush();
                }
                FileSystems.rename(List.of(temporary), List.of(target), MoveOptions.StandardMoveOptions.IGNORE_MISSING_FILES);
            } catch (IOException e) {
                throw new UncheckedIOException(directory + ": cannot commit a piece of the " + table + " table: "
                        + e.getMessage(), e);
            }
            pieces.inc();
        }
    }
}
