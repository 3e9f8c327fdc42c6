package dev.pflash.pipeline;

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
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.Type;

/** Reads tables back with parquet-avro's own reader, independently of the code that wrote them. */
public final class ParquetTables {
    private ParquetTables() {
    }

    /** The Parquet files of one table folder, sorted by name. */
    public static List<Path> files(Path tableDir) {
        try (Stream<Path> files = Files.list(tableDir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".parquet")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** All rows of all Parquet files of one table folder. */
    public static List<GenericRecord> rows(Path tableDir) {
        List<GenericRecord> rows = new ArrayList<>();
        for (Path file : files(tableDir)) {
            try (ParquetReader<GenericRecord> reader =
                    AvroParquetReader.<GenericRecord>builder(inputFile(file)).build()) {
                for (GenericRecord row = reader.read(); row != null; row = reader.read()) {
                    rows.add(row);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return rows;
    }

    /** The column names of a Parquet file, as its footer states them. */
    public static List<String> columns(Path file) {
        try (ParquetFileReader reader = ParquetFileReader.open(inputFile(file))) {
            MessageType schema = reader.getFooter().getFileMetaData().getSchema();
            return schema.getFields().stream().map(Type::getName).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static HadoopInputFile inputFile(Path file) throws IOException {
        return HadoopInputFile.fromPath(new org.apache.hadoop.fs.Path(file.toUri()), new Configuration());
    }
}
