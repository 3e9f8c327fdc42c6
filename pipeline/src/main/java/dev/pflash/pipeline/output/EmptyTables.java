package dev.pflash.pipeline.output;

import dev.pflash.schemas.DocumentError;
import dev.pflash.schemas.DocumentTimings;
import dev.pflash.schemas.SummaryResult;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.WritableByteChannel;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.io.parquet.ParquetIO;
import org.apache.beam.sdk.util.MimeTypes;

/**
 * Beam writes no file for a table that got no rows (a run without errors has no errors file),
 * and readers fail on a folder without files; this writes one Parquet file with the table's
 * schema and no rows into each such folder, so that every table can always be read.
 */
public final class EmptyTables {
    private EmptyTables() {
    }

    /** Gives each of the layout's tables without a Parquet file an empty one; results are summaries. */
    public static void fill(OutputLayout layout) {
        fill(layout, SummaryResult.getClassSchema());
    }

    /** As {@link #fill(OutputLayout)}, with {@code resultsSchema} for the results table. */
    public static void fill(OutputLayout layout, Schema resultsSchema) {
        writeIfMissing(layout, OutputLayout.RESULTS, resultsSchema);
        writeIfMissing(layout, OutputLayout.TIMINGS, DocumentTimings.getClassSchema());
        writeIfMissing(layout, OutputLayout.ERRORS, DocumentError.getClassSchema());
    }

    private static void writeIfMissing(OutputLayout layout, String table, Schema schema) {
        String directory = layout.tableDirectory(table);
        try {
            MatchResult match = FileSystems.match(List.of(directory + "/*.parquet"), EmptyMatchTreatment.ALLOW).get(0);
            if (match.status() == MatchResult.Status.OK && !match.metadata().isEmpty()) {
                return;
            }
            String file = directory + "/" + table + "-00000-of-00001.parquet";
            try (WritableByteChannel channel = FileSystems.create(FileSystems.matchNewResource(file, false),
                    MimeTypes.BINARY)) {
                ParquetIO.Sink sink = ParquetIO.sink(schema).withCompressionCodec(layout.codec());
                sink.open(channel);
                sink.flush();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(directory + ": cannot write the empty " + table + " table: "
                    + e.getMessage(), e);
        }
    }
}
