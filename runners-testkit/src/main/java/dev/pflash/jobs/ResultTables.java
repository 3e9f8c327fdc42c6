package dev.pflash.jobs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.avro.generic.GenericRecord;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;

/** Reads the Parquet tables a run wrote under its output directory, for tests. */
public final class ResultTables {
    private final Path output;

    public ResultTables(Path output) {
        this.output = output;
    }

    /** Every row of {@code table} ({@code results}, {@code timings} or {@code errors}), file by file. */
    public List<GenericRecord> rows(String table) throws IOException {
        List<GenericRecord> rows = new ArrayList<>();
        try (Stream<Path> files = Files.list(output.resolve(table))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".parquet")).sorted().toList()) {
                HadoopInputFile input =
                        HadoopInputFile.fromPath(new org.apache.hadoop.fs.Path(file.toUri()), new Configuration());
                try (ParquetReader<GenericRecord> reader = AvroParquetReader.<GenericRecord>builder(input).build()) {
                    for (GenericRecord row = reader.read(); row != null; row = reader.read()) {
                        rows.add(row);
                    }
                }
            }
        }
        return rows;
    }

    /** {@code column} of every row of {@code table}, by the row's {@code uri}. */
    public Map<String, String> byUri(String table, String column) throws IOException {
        Map<String, String> values = new TreeMap<>();
        for (GenericRecord row : rows(table)) {
            String uri = row.get("uri").toString();
            if (values.put(uri, String.valueOf(row.get(column))) != null) {
                throw new AssertionError(output.resolve(table) + " has two rows for " + uri);
            }
        }
        return values;
    }
}
