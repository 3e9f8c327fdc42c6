package dev.pflash.runtime.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * build-ptx.sh with an nvcc that is present but broken: the normal build warns and goes on with
 * the committed PTX, leaving no partial output; regenerating on purpose (--commit) fails, before
 * writing anything.
 */
class BuildPtxScriptTest {
    private static final Path SCRIPT = Path.of("src", "main", "cuda", "build-ptx.sh");

    record Result(int exitCode, String output) {
    }

    @Test
    void aBrokenNvccIsAWarningForTheBuild(@TempDir Path dir) throws Exception {
        Path nvcc = brokenNvcc(dir);
        Path out = dir.resolve("generated");
        Files.createDirectories(out);
        Files.writeString(out.resolve("matmul.ptx"), "stale");
        Result r = run(nvcc, out.toString());
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("build-ptx: WARNING: " + nvcc + " failed on the kernels")
                .contains("the committed PTX");
        try (var files = Files.list(out)) {
            assertThat(files).as("no partial PTX left for the freshness test to compare").isEmpty();
        }
    }

    @Test
    void aBrokenNvccFailsARegenerationOnPurpose(@TempDir Path dir) throws Exception {
        Path nvcc = dir.resolve("nvcc");
        Files.writeString(nvcc, "#!/bin/sh\necho 'nvcc: error while loading shared libraries' >&2\nexit 127\n");
        assertThat(nvcc.toFile().setExecutable(true)).isTrue();
        Result r = run(nvcc, "--commit");
        assertThat(r.exitCode()).as(r.output()).isEqualTo(1);
        assertThat(r.output()).contains("build-ptx: " + nvcc + " does not run").doesNotContain("WARNING");
    }

    /** An nvcc that reports a version but fails to compile anything. */
    private static Path brokenNvcc(Path dir) throws IOException {
        Path nvcc = dir.resolve("nvcc");
        Files.writeString(nvcc, "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'Cuda compilation tools, release 99.9';"
                + " exit 0; fi\necho 'nvcc fatal: broken install' >&2\nexit 1\n");
        assertThat(nvcc.toFile().setExecutable(true)).isTrue();
        return nvcc;
    }

    private static Result run(Path nvcc, String argument) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder("bash", SCRIPT.toString(), argument).redirectErrorStream(true);
        pb.environment().put("NVCC", nvcc.toString());
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Result(p.exitValue(), output);
    }
}
