package dev.pflash.pipeline.resume;

import dev.pflash.pipeline.output.OutputLayout;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.avro.AvroReadSupport;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;

/**
 * The documents an output directory already holds for one set of settings: the contents
 * (SHA-256 of the file's bytes) that have a result row, and those that have a final error row
 * (stage {@code extract} or {@code prompt}: what the content and settings decide; an engine
 * failure at {@code generate} may be passing, so such a document runs again).
 *
 * <p>Kept as sorted arrays of the first 64 bits of each SHA-256 (8 bytes a document), so that a
 * resumed run over a large corpus holds little; a false match needs two contents whose SHA-256
 * agree in 64 bits.
 */
public final class DoneDocuments implements Serializable {
    /** Error stages whose rows are final: rerunning the same content with the same settings fails the same way. */
    public static final Set<String> FINAL_ERROR_STAGES = Set.of("extract", "prompt");
    private static final DoneDocuments NONE = new DoneDocuments(new long[0], new long[0]);

    private final long[] withResult;
    private final long[] withError;

    private DoneDocuments(long[] withResult, long[] withError) {
        this.withResult = withResult;
        this.withError = withError;
    }

    public static DoneDocuments none() {
        return NONE;
    }

    /**
     * Reads the results and errors tables under {@code layout}'s directory and keeps the contents
     * whose rows carry {@code settingsSha256}.
     */
    public static DoneDocuments load(OutputLayout layout, String settingsSha256) {
        long[] results = read(layout.tableDirectory(OutputLayout.RESULTS), settingsSha256, false);
        long[] errors = read(layout.tableDirectory(OutputLayout.ERRORS), settingsSha256, true);
        return new DoneDocuments(results, errors);
    }

    /** Why a file of this content is skipped, or null when it must run. */
    public SkipReason reasonToSkip(String sha256) {
        long key = key(sha256);
        if (Arrays.binarySearch(withResult, key) >= 0) {
            return SkipReason.HAS_RESULT;
        }
        if (Arrays.binarySearch(withError, key) >= 0) {
            return SkipReason.HAS_FINAL_ERROR;
        }
        return null;
    }

    public boolean isEmpty() {
        return withResult.length == 0 && withError.length == 0;
    }

    public int withResult() {
        return withResult.length;
    }

    public int withError() {
        return withError.length;
    }

    private static long[] read(String directory, String settingsSha256, boolean errors) {
        Schema projection = errors
                ? SchemaBuilder.record("ErrorKeys").fields()
                        .optionalString("sha256").optionalString("settings_sha256").requiredString("stage").endRecord()
                : SchemaBuilder.record("ResultKeys").fields()
                        .requiredString("sha256").optionalString("settings_sha256").endRecord();
        // Names of no generated class, read as generic records: parquet-avro would otherwise map the
        // columns onto the generated class of the same name, by position.
        Configuration conf = new Configuration();
        AvroReadSupport.setRequestedProjection(conf, projection);
        AvroReadSupport.setAvroReadSchema(conf, projection);
        long[] keys = new long[1024];
        int count = 0;
        for (String file : parquetFiles(directory)) {
            try (ParquetReader<GenericRecord> reader = AvroParquetReader.<GenericRecord>builder(
                    HadoopInputFile.fromPath(new org.apache.hadoop.fs.Path(file), conf)).withDataModel(GenericData.get())
                    .withConf(conf).build()) {
                for (GenericRecord row = reader.read(); row != null; row = reader.read()) {
                    Object sha = row.get("sha256");
                    Object settings = row.get("settings_sha256");
                    if (sha == null || settings == null || !settingsSha256.equals(settings.toString())
                            || (errors && !FINAL_ERROR_STAGES.contains(row.get("stage").toString()))) {
                        continue;
                    }
                    if (count == keys.length) {
                        keys = Arrays.copyOf(keys, count * 2);
                    }
                    keys[count++] = key(sha.toString());
                }
            } catch (IOException e) {
                throw new UncheckedIOException(file + ": cannot read the rows of an earlier run: " + e.getMessage(), e);
            }
        }
        long[] sorted = Arrays.copyOf(keys, count);
        Arrays.sort(sorted);
        return sorted;
    }

    private static List<String> parquetFiles(String directory) {
        try {
            MatchResult match = FileSystems.match(List.of(directory + "/*.parquet"), EmptyMatchTreatment.ALLOW).get(0);
            if (match.status() != MatchResult.Status.OK) {
                return List.of();
            }
            return match.metadata().stream().map(m -> m.resourceId().toString()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(directory + ": cannot list the tables of an earlier run: " + e.getMessage(), e);
        }
    }

    private static long key(String sha256) {
        return Long.parseUnsignedLong(sha256.substring(0, 16), 16);
    }
}
