package dev.pflash.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pflash.jobs.corpus.MakeCorpus;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The nightly run in small: 500 generated files, 10% of them bad (one hangs a parser, one exhausts
 * its heap), summarized with the demo models; the job is killed (SIGKILL) twice part-way and
 * resumed; in the end every input has exactly one row, and every bad file an extract error row.
 */
class SoakTest {
    private static final Path SAMPLE = Path.of("..", "sample-data").toAbsolutePath().normalize();
    private static final int FILES = 500;

    @Test
    void aKilledRunResumedTwiceEndsWithOneRowPerInput(@TempDir Path dir) throws Exception {
        Path corpus = dir.resolve("corpus");
        MakeCorpus make = new MakeCorpus(FILES, 0.1, 0.01, 42);
        List<Path> files = make.writeTo(corpus);
        Path out = dir.resolve("out");

        JobProcess first = JobProcess.start(dir.resolve("first.log"), args(corpus, out, false));
        assertThat(first.killWhen(() -> OutputRows.committedPieces(out.resolve("results")) >= 2, 600)).isTrue();
        int afterFirstKill = OutputRows.uris(out).size();
        assertThat(afterFirstKill).isBetween(1, FILES - 1);

        JobProcess second = JobProcess.start(dir.resolve("second.log"), args(corpus, out, true));
        int target = afterFirstKill + 1;
        assertThat(second.killWhen(() -> OutputRows.uris(out).size() > target, 600)).isTrue();

        List<String> resume = args(corpus, out, true);
        RunSummary last = SummarizeJob.run(SummarizeJob.parse(resume.subList(1, resume.size()).toArray(String[]::new)));

        List<String> uris = OutputRows.uris(out);
        assertThat(uris).hasSize(FILES).doesNotHaveDuplicates();
        assertThat(uris).containsExactlyInAnyOrderElementsOf(files.stream().map(Path::toString).toList());
        assertThat(last.totals().documents()).isLessThan(FILES);
        Set<String> bad = files.stream().filter(f -> f.getParent().getFileName().toString().equals("bad"))
                .map(Path::toString).collect(Collectors.toSet());
        assertThat(bad).hasSize(make.badFiles());
        List<GenericRecord> errors = OutputRows.rows(out.resolve("errors"));
        assertThat(errors).extracting(e -> e.get("uri").toString()).containsExactlyInAnyOrderElementsOf(bad);
        assertThat(errors).extracting(e -> e.get("stage").toString()).containsOnly("extract");
    }

    /** The command line; with {@code resume} a run adds to {@code out}. */
    private static List<String> args(Path corpus, Path out, boolean resume) {
        return new ArrayList<>(List.of("summarize",
                "--input=" + corpus,
                "--output=" + out,
                "--model=" + SAMPLE.resolve("models/demo-target.gguf"),
                "--drafter=" + SAMPLE.resolve("models/demo-drafter.gguf"),
                "--backend=cpu",
                "--max-new-tokens=2",
                "--parser-processes=2",
                "--parser-heap-mb=128",
                "--extract-timeout-seconds=10",
                "--commit-every=20",
                "--commit-seconds=2",
                "--resume=" + resume));
    }
}
