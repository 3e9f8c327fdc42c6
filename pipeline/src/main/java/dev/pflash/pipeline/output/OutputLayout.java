package dev.pflash.pipeline.output;

import java.io.Serializable;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;

/**
 * Where and how the tables are written: {@code directory} gets {@code results/}, {@code timings/}
 * and {@code errors/} (Parquet files named {@code <table>-SSSSS-of-NNNNN.parquet}) and the run
 * manifest; {@code shards} files per table (0 lets the runner decide); Parquet compression codec.
 */
public record OutputLayout(String directory, int shards, String compression) implements Serializable {
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
        compression = compression.toUpperCase(Locale.ROOT);
        if (!COMPRESSIONS.contains(compression)) {
            throw new IllegalArgumentException("--compression=" + compression + " is not supported; use one of "
                    + String.join(", ", COMPRESSIONS.stream().sorted().toList()));
        }
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
