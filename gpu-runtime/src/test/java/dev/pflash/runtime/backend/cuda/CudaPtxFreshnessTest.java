package dev.pflash.runtime.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The committed PTX equals what nvcc makes of src/main/cuda now. The build writes that into the
 * folder of the system property {@code pflash.generatedPtx} when nvcc is on the PATH; without nvcc,
 * or with a different nvcc release than the one that made the committed PTX (whose output may
 * differ for the same source), there is nothing to compare and the test is skipped, saying why.
 */
class CudaPtxFreshnessTest {
    private static final Pattern TOOLKIT = Pattern.compile("(?m)^// Cuda compilation tools, (.*)$");

    @Test
    void committedPtxIsWhatNvccBuildsFromTheSources() throws Exception {
        String dir = System.getProperty("pflash.generatedPtx");
        assumeTrue(dir != null, "the build passed no pflash.generatedPtx folder");
        Path generated = Path.of(dir);
        assumeTrue(Files.isRegularFile(generated.resolve("matmul.ptx")),
                "no PTX was generated in " + generated + ": nvcc is not on the PATH, so the committed PTX is used");
        for (String name : PtxModules.NAMES) {
            String fresh = Files.readString(generated.resolve(name + ".ptx"), StandardCharsets.US_ASCII);
            String committed = PtxModules.source(name);
            assumeTrue(toolkit(fresh).equals(toolkit(committed)), "the committed PTX was made by nvcc "
                    + toolkit(committed) + ", this machine has " + toolkit(fresh) + "; their output may differ");
            assertThat(committed)
                    .as("%s.ptx is stale: run gpu-runtime/src/main/cuda/build-ptx.sh --commit and commit the result",
                            name)
                    .isEqualTo(fresh);
        }
    }

    private static String toolkit(String ptx) {
        Matcher m = TOOLKIT.matcher(ptx);
        return m.find() ? m.group(1) : "(unknown)";
    }
}
