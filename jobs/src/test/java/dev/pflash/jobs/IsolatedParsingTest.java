package dev.pflash.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pflash.jobs.corpus.MakeCorpus;
import java.nio.file.Path;
import java.util.List;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A parse that hangs and one that exhausts its heap become error rows; the other documents finish. */
class IsolatedParsingTest {
    private static final Path SAMPLE = Path.of("..", "sample-data").toAbsolutePath().normalize();

    @Test
    void aHangingAndAHeapExhaustingParseFailAloneInTheirProcesses(@TempDir Path dir) {
        // Nine files, three bad: the generator writes the empty file, the hang and the heap bomb first.
        List<Path> files = new MakeCorpus(9, 3.0 / 9, 0, 3).writeTo(dir.resolve("corpus"));
        Path out = dir.resolve("out");
        RunSummary run = SummarizeJob.run(SummarizeJob.parse(new String[] {
            "--input=" + dir.resolve("corpus"),
            "--output=" + out,
            "--model=" + SAMPLE.resolve("models/demo-target.gguf"),
                "--drafter=" + SAMPLE.resolve("models/demo-drafter.gguf"),
            "--backend=cpu",
            "--max-new-tokens=2",
            "--parser-processes=2",
            "--parser-heap-mb=128",
            "--extract-timeout-seconds=20"
        }));

        assertThat(run.totals().documentsOk()).isEqualTo(6);
        assertThat(OutputRows.rows(out.resolve("results"))).extracting(r -> r.get("uri").toString())
                .containsExactlyInAnyOrderElementsOf(files.subList(0, 6).stream().map(Path::toString).toList());
        List<GenericRecord> errors = OutputRows.rows(out.resolve("errors"));
        assertThat(errors).hasSize(3).extracting(e -> e.get("stage").toString()).containsOnly("extract");
        assertThat(message(errors, "hangs-parser")).contains("time limit of 20000 ms");
        assertThat(message(errors, "heap-bomb")).contains("ran out of its 128 MiB heap");
        assertThat(message(errors, "empty")).contains("the file is empty");
    }

    private static String message(List<GenericRecord> errors, String name) {
        return errors.stream().filter(e -> e.get("uri").toString().contains("/bad/" + name)).findFirst()
                .orElseThrow().get("message").toString();
    }
}
