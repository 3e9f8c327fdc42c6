package dev.pflash.pipeline.flow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.runners.direct.DirectRunner;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.testing.CrashingRunner;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** Files are let in once each, and never more of them at once than the limit. */
public class AdmitFilesTest {
    private static final int FILES = 24;
    private static final int LIMIT = 2;

    @Rule
    public final transient TestPipeline pipeline = TestPipeline.create();
    @Rule
    public final transient TemporaryFolder folder = new TemporaryFolder();

    @Test
    public void eachFileEntersOnceAndNoMoreThanTheLimitAreInFlight() throws IOException {
        Path dir = folder.getRoot().toPath();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < FILES; i++) {
            String name = "f" + i + ".txt";
            Files.writeString(dir.resolve(name), "document " + i);
            names.add(name);
        }
        String runId = "admit-" + System.nanoTime();
        pipeline.getOptions().as(DocumentFlowOptions.class).setDocumentsInFlight(LIMIT);

        // The second pattern matches some files again.
        PCollection<String> done = pipeline.apply(Create.of(dir + "/*", dir + "/f1*"))
                .apply(ParDo.of(new MatchPatterns()))
                .apply(FileIO.readMatches())
                .apply(new AdmitFiles(runId))
                .apply(ParDo.of(new SlowRowFn(runId)));
        PAssert.that(done).containsInAnyOrder(names);
        pipeline.run().waitUntilFinish();

        assertThat(DocumentsInFlight.peak(runId)).isBetween(1L, (long) LIMIT);
        assertThat(DocumentsInFlight.now(runId)).isZero();
    }

    @Test
    public void onlyTheDirectRunnerCountsDocumentsInFlight() {
        PipelineOptions direct = PipelineOptionsFactory.create();
        direct.setRunner(DirectRunner.class);
        assertThat(AdmitFiles.limit(direct)).isEqualTo(1024);
        direct.as(DocumentFlowOptions.class).setDocumentsInFlight(0);
        assertThatThrownBy(() -> AdmitFiles.limit(direct)).hasMessage("--documents-in-flight must be at least 1, got 0");

        PipelineOptions other = PipelineOptionsFactory.create();
        other.setRunner(CrashingRunner.class);
        other.as(DocumentFlowOptions.class).setDocumentsInFlight(3);
        assertThat(AdmitFiles.limit(other)).isEqualTo(DocumentsInFlight.UNLIMITED);
    }

    /** Stands for the rest of a job: a document takes a while, then is a row. */
    private static final class SlowRowFn extends DoFn<FileIO.ReadableFile, String> {
        private final String runId;

        SlowRowFn(String runId) {
            this.runId = runId;
        }

        @ProcessElement
        public void process(@Element FileIO.ReadableFile file, OutputReceiver<String> out) throws InterruptedException {
            Thread.sleep(20);
            out.output(file.getMetadata().resourceId().getFilename());
            DocumentsInFlight.finish(runId);
        }
    }
}
