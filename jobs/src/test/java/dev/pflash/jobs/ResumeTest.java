package dev.pflash.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pflash.jobs.corpus.MakeCorpus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --resume}: a rerun into the same output skips what its content and settings already
 * have, and runs what is new, changed, or under other settings.
 */
class ResumeTest {
    private static final Path SAMPLE = Path.of("..", "sample-data").toAbsolutePath().normalize();
    private static final Path TARGET = SAMPLE.resolve("models/demo-target.gguf");
    private static final Path DRAFTER = SAMPLE.resolve("models/demo-drafter.gguf");

    @Test
    void resumeSkipsWhatIsDoneAndRerunsWhatChanged(@TempDir Path dir) throws Exception {
        Path corpus = dir.resolve("corpus");
        List<Path> files = new MakeCorpus(12, 1.0 / 12, 0, 5).writeTo(corpus);
        Path out = dir.resolve("out");

        RunSummary first = SummarizeJob.run(options(corpus, out, "first", TARGET, null));
        assertThat(first.totals().documents()).isEqualTo(12);
        assertThat(first.totals().documentsFailed()).isEqualTo(1);

        RunSummary again = SummarizeJob.run(options(corpus, out, "again", TARGET, null));
        assertThat(again.totals().documents()).isZero();
        assertThat(OutputRows.uris(out)).hasSize(12).doesNotHaveDuplicates();
        JsonNode manifest = new ObjectMapper().readTree(out.resolve("manifest.json").toFile());
        assertThat(manifest.get("skipped").get("skipped_with_result").asLong()).isEqualTo(11);
        assertThat(manifest.get("skipped").get("skipped_with_final_error").asLong()).isEqualTo(1);
        assertThat(manifest.get("runs")).extracting(run -> run.get("run_id").asText()).containsExactly("first", "again");
        assertThat(manifest.get("runs")).extracting(run -> run.get("state").asText()).containsOnly("DONE");

        // A renamed file is the same content: skipped. A changed file is new content: it runs.
        Path renamed = files.get(0);
        Files.move(renamed, renamed.resolveSibling("renamed-" + renamed.getFileName()));
        Path changed = files.get(8);
        assertThat(changed.toString()).endsWith(".txt");
        Files.writeString(changed, "\nA line added after the first run.\n", java.nio.file.StandardOpenOption.APPEND);
        RunSummary edited = SummarizeJob.run(options(corpus, out, "edited", TARGET, null));
        assertThat(edited.totals().documents()).isEqualTo(1);
        assertThat(latestUris(out, "edited")).containsExactly(changed.toString());

        // Other settings change the output: every document runs again.
        Path template = dir.resolve("template.txt");
        Files.writeString(template, "Summarize this in one line.\n{{document}}\nThe one line:");
        RunSummary newTemplate = SummarizeJob.run(options(corpus, out, "template", TARGET, template));
        assertThat(newTemplate.totals().documents()).isEqualTo(12);
        RunSummary newModel = SummarizeJob.run(options(corpus, out, "model", DRAFTER, template));
        assertThat(newModel.totals().documents()).isEqualTo(12);
        List<GenericRecord> results = OutputRows.rows(out.resolve("results"));
        assertThat(results).filteredOn(r -> r.get("run_id").toString().equals("model"))
                .extracting(r -> r.get("target_model").toString()).allMatch(m -> m.contains("demo-drafter"));
    }

    private static List<String> latestUris(Path out, String runId) {
        List<String> uris = new ArrayList<>();
        for (String table : List.of("results", "errors")) {
            OutputRows.rows(out.resolve(table)).stream().filter(r -> r.get("run_id").toString().equals(runId))
                    .forEach(r -> uris.add(r.get("uri").toString()));
        }
        return uris;
    }

    private static SummarizeOptions options(Path corpus, Path out, String runId, Path model, Path template) {
        List<String> args = new ArrayList<>(List.of(
                "--input=" + corpus,
                "--output=" + out,
                "--model=" + model,
                "--drafter=" + DRAFTER,
                "--backend=cpu",
                "--max-new-tokens=2",
                "--parser-processes=0",
                "--resume=true",
                "--run-id=" + runId));
        if (template != null) {
            args.add("--template=" + template);
        }
        return SummarizeJob.parse(args.toArray(String[]::new));
    }
}
