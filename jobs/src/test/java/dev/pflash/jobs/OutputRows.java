package dev.pflash.jobs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.avro.generic.GenericRecord;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;

/** The rows of an output's tables, read with parquet-avro as any reader would: every {@code *.parquet} file. */
final class OutputRows {
    private OutputRows() {
    }

    static List<GenericRecord> rows(Path table) {
        List<GenericRecord> rows = new ArrayList<>();
        if (!Files.isDirectory(table)) {
            return rows;
        }
        try (Stream<Path> files = Files.list(table)) {
            for (Path file : files.filter(f -> f.getFileName().toString().endsWith(".parquet")).sorted().toList()) {
                try (ParquetReader<GenericRecord> reader = AvroParquetReader.<GenericRecord>builder(
                        HadoopInputFile.fromPath(new org.apache.hadoop.fs.Path(file.toUri()), new Configuration()))
                        .build()) {
                    for (GenericRecord row = reader.read(); row != null; row = reader.read()) {
                        rows.add(row);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return rows;
    }

    /** The uri column of the results and errors tables together: one entry per row. */
    static List<String> uris(Path output) {
        List<String> uris = new ArrayList<>();
        for (String table : List.of("results", "errors")) {
            rows(output.resolve(table)).forEach(row -> uris.add(row.get("uri").toString()));
        }
        return uris;
    }

    static long committedPieces(Path table) {
        if (!Files.isDirectory(table)) {
            return 0;
        }
        try (Stream<Path> files = Files.list(table)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".parquet")).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
