package dev.pflash.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pflash.runtime.gguf.GgufFile;
import dev.pflash.runtime.gguf.GgufTensorInfo;
import dev.pflash.runtime.gguf.ModelFile;
import dev.pflash.runtime.gguf.TensorData;
import dev.pflash.runtime.models.SyntheticModels;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code synthetic-gguf}: the written file, read back by the GGUF reader, is the synthetic model byte for byte. */
class SyntheticGgufCommandTest {
    private static final String MODEL = "synthetic:cpu-drafter?type=Q4_K_M";
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @TempDir
    Path dir;

    private int run(String... args) {
        return Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void writesTheSyntheticModelsMetadataAndTensorBytes() {
        Path file = dir.resolve("drafter.gguf");
        assertThat(run("synthetic-gguf", "--model=" + MODEL, "--output=" + file)).isZero();
        try (ModelFile expected = SyntheticModels.open(MODEL); GgufFile actual = GgufFile.open(file)) {
            assertThat(actual.metadata().asMap()).isEqualTo(expected.metadata().asMap());
            assertThat(actual.tensorInfos()).hasSameSizeAs(expected.tensorInfos());
            for (GgufTensorInfo info : expected.tensorInfos()) {
                TensorData e = expected.tensor(info.name());
                TensorData a = actual.tensor(info.name());
                assertThat(a.type()).as(info.name()).isEqualTo(e.type());
                assertThat(a.dims()).as(info.name()).isEqualTo(e.dims());
                assertThat(bytes(a)).as(info.name()).isEqualTo(bytes(e));
            }
        }
        assertThat(dir.resolve("drafter.gguf.part")).doesNotExist();
    }

    @Test
    void refusesAModelThatIsNotSyntheticAndAMissingFolder() {
        assertThat(run("synthetic-gguf", "--model=../sample-data/models/demo-target.gguf",
                "--output=" + dir.resolve("x.gguf"))).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("demo-target.gguf is not a synthetic model");
        assertThat(run("synthetic-gguf", "--model=synthetic:no-such-preset", "--output=" + dir.resolve("y.gguf")))
                .isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("unknown synthetic preset 'no-such-preset'");
        assertThat(run("synthetic-gguf", "--model=" + MODEL, "--output=" + dir.resolve("missing/z.gguf")))
                .isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("does not exist");
        assertThat(run("synthetic-gguf", "--model=" + MODEL)).isEqualTo(2);
        assertThat(dir).isEmptyDirectory();
    }

    /** Every byte of the tensor, row by row. */
    private static byte[] bytes(TensorData t) {
        ByteBuffer all = ByteBuffer.allocate(Math.toIntExact(t.byteSize()));
        long rows = t.rowCount();
        int rowBytes = Math.toIntExact(t.byteSize() / rows);
        byte[] row = new byte[rowBytes];
        for (int r = 0; r < rows; r++) {
            t.buffer(r).get(t.offset(r), row, 0, rowBytes);
            all.put(row);
        }
        return all.array();
    }
}
