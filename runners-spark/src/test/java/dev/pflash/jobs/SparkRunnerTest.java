package dev.pflash.jobs;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The summarize job on Spark in local mode with two executor threads, against the Direct runner. */
class SparkRunnerTest {
    @Test
    void summarizesTheSampleDocumentsAsTheDirectRunnerDoes(@TempDir Path dir) throws Exception {
        RunnerParityCheck.assertSameAsDirect(dir, "--runner=SparkRunner", "--sparkMaster=local[2]");
    }

    @Test
    void theJarsManifestAppliesTheFlagsSparkNeeds() throws Exception {
        ManifestFlagsCheck.assertManifestAppliesTheListedFlags();
    }
}
