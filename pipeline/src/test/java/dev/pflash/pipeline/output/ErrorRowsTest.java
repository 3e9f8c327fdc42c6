package dev.pflash.pipeline.output;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pflash.schemas.DocumentError;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.junit.jupiter.api.Test;

class ErrorRowsTest {
    @Test
    void rowCarriesClassMessageAndCauses() {
        Exception error = new IllegalStateException("d: window 2 of 3 failed",
                new UncheckedIOException("disk gone", new IOException("disk gone")));

        DocumentError row = ErrorRows.of("run-1", "d", "file:///d.txt", null, "generate", error);

        assertThat(row.getRunId()).isEqualTo("run-1");
        assertThat(row.getDocId()).isEqualTo("d");
        assertThat(row.getUri()).isEqualTo("file:///d.txt");
        assertThat(row.getStage()).isEqualTo("generate");
        assertThat(row.getErrorClass()).isEqualTo("java.lang.IllegalStateException");
        assertThat(row.getMessage()).isEqualTo("d: window 2 of 3 failed; caused by UncheckedIOException: disk gone");
        assertThat(row.getTimeEpochMs()).isPositive();
    }

    @Test
    void anErrorWithoutMessageIsNamedByItsClass() {
        assertThat(ErrorRows.describe(new NullPointerException())).isEqualTo("NullPointerException");
    }
}
