package dev.pflash.jobs;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The summarize job on Flink's embedded local cluster, two task slots, against the Direct runner. */
class FlinkRunnerTest {
    @Test
    void summarizesTheSampleDocumentsAsTheDirectRunnerDoes(@TempDir Path dir) throws Exception {
        RunnerParityCheck.assertSameAsDirect(dir, "--runner=FlinkRunner", "--flinkMaster=[local]", "--parallelism=2");
    }

    @Test
    void theJarsManifestAppliesTheFlagsFlinkNeeds() throws Exception {
        ManifestFlagsCheck.assertManifestAppliesTheListedFlags();
    }
}
