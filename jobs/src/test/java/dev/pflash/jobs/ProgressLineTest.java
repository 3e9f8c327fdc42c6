package dev.pflash.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pflash.pipeline.output.RunTotals;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ProgressLineTest {
    @Test
    void saysHowManyAreDoneOfHowManyAndHowFast() {
        RunTotals soFar = new RunTotals(1200, 34, Map.of(), 0, 0, null, null);

        assertThat(ProgressLine.of(soFar, 5000, 617.0))
                .isEqualTo("1,234 of 5,000 documents done (1,200 ok, 34 failed), 2.00 documents/s, 617 s");
    }
}
