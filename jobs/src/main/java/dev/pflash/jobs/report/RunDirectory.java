package dev.pflash.jobs.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pflash.pipeline.output.OutputLayout;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.avro.generic.GenericRecord;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;

/**
 * A finished summarize or classify run read back from its output directory: the manifest and the
 * rows of its results, timings and errors tables.
 */
public record RunDirectory(Path directory, JsonNode manifest, List<GenericRecord> results,
        List<GenericRecord> timings, List<GenericRecord> errors) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Reads the run in {@code directory} (a local folder).
     *
     * @throws IllegalArgumentException naming the directory when it holds no finished run
     */
    public static RunDirectory load(Path directory) {
        Path manifest = directory.resolve(OutputLayout.MANIFEST);
        if (!Files.isRegularFile(manifest)) {
            throw new IllegalArgumentException(directory + ": no " + OutputLayout.MANIFEST + " here, so no finished"
                    + " summarize or classify run (a benchmark's runs are its sub-folders)");
        }
        try {
            JsonNode json = JSON.readTree(manifest.toFile());
            return new RunDirectory(directory, json, rows(directory.resolve(OutputLayout.RESULTS)),
                    rows(directory.resolve(OutputLayout.TIMINGS)), rows(directory.resolve(OutputLayout.ERRORS)));
        } catch (IOException e) {
            throw new UncheckedIOException(directory + ": cannot read the run: " + e.getMessage(), e);
        }
    }

    /** Every row of the Parquet files of one table folder, file by file in name order. */
    static List<GenericRecord> rows(Path table) throws IOException {
        List<GenericRecord> rows = new ArrayList<>();
        if (!Files.isDirectory(table)) {
            return rows;
        }
        List<Path> files;
        try (Stream<Path> listing = Files.list(table)) {
            files = listing.filter(f -> f.getFileName().toString().endsWith(".parquet")).sorted().toList();
        }
        for (Path file : files) {
            HadoopInputFile input = HadoopInputFile.fromPath(new org.apache.hadoop.fs.Path(file.toUri()),
                    new Configuration());
            try (ParquetReader<GenericRecord> reader = AvroParquetReader.<GenericRecord>builder(input).build()) {
                for (GenericRecord row = reader.read(); row != null; row = reader.read()) {
                    rows.add(row);
                }
            }
        }
        return rows;
    }

    public String runId() {
        return manifest.path("run_id").asText();
    }

    public String job() {
        return manifest.path("job").asText();
    }

    public Instant startedAt() {
        return Instant.parse(manifest.path("started_at").asText());
    }

    public double wallSeconds() {
        return manifest.path("wall_seconds").asDouble();
    }

    /** Whether the run decoded greedily (temperature 0), so that its outputs are reproducible and comparable. */
    public boolean greedy() {
        JsonNode temperature = manifest.path("options").path("temperature");
        return job().equals("summarize") && temperature.isNumber() && temperature.asDouble() == 0;
    }
}
