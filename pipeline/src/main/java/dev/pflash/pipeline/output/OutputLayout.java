package dev.pflash.pipeline.output;

import java.io.Serializable;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;

/**
 * Where and how the tables are written: {@code directory} gets {@code results/}, {@code timings/}
 * and {@code errors/} (Parquet files named {@code <table>-<run id>-<piece>.parquet}, committed while
 * the job runs, see {@link CommitTable}) and the run manifest; {@code shards} files written at a
 * time per table (0 for 1); Parquet compression codec; a piece is committed once it holds
 * {@code commitEvery} rows or its first row has waited {@code commitSeconds}; every row is stamped
 * with {@code settingsSha256} (null for none), what a resumed run compares.
 */
public record OutputLayout(String directory, int shards, String compression, int commitEvery, int commitSeconds,
        String settingsSha256) implements Serializable {
    public static final int DEFAULT_COMMIT_EVERY = 100;
    public static final int DEFAULT_COMMIT_SECONDS = 60;
    public static final String RESULTS = "results";
    public static final String TIMINGS = "timings";
    public static final String ERRORS = "errors";
    public static final String MANIFEST = "manifest.json";
    public static final Set<String> COMPRESSIONS = Set.of("UNCOMPRESSED", "SNAPPY", "GZIP", "ZSTD");

    public OutputLayout {
        Objects.requireNonNull(directory, "directory");
        if (directory.isBlank()) {
            throw new IllegalArgumentException("--output must name a directory");
        }
        if (shards < 0) {
            throw new IllegalArgumentException("--shards must be 0 (runner decides) or more, got " + shards);
        }
        if (commitEvery < 1) {
            throw new IllegalArgumentException("--commit-every must be at least 1 document, got " + commitEvery);
        }
        if (commitSeconds < 1) {
            throw new IllegalArgumentException("--commit-seconds must be at least 1, got " + commitSeconds);
        }
        compression = compression.toUpperCase(Locale.ROOT);
        if (!COMPRESSIONS.contains(compression)) {
            throw new IllegalArgumentException("--compression=" + compression + " is not supported; use one of "
                    + String.join(", ", COMPRESSIONS.stream().sorted().toList()));
        }
    }

    /** Default commit cadence, no settings stamp. */
    public OutputLayout(String directory, int shards, String compression) {
        this(directory, shards, compression, DEFAULT_COMMIT_EVERY, DEFAULT_COMMIT_SECONDS, null);
    }

    /** The folder of one table. */
    public String tableDirectory(String table) {
        return join(directory, table);
    }

    public String manifestPath() {
        return join(directory, MANIFEST);
    }

    CompressionCodecName codec() {
        return CompressionCodecName.valueOf(compression);
    }

    private static String join(String directory, String name) {
        return directory.endsWith("/") ? directory + name : directory + "/" + name;
    }
}
