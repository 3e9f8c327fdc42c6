package dev.pflash.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pflash.pipeline.output.RunTotals;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RunSummaryTest {
    @Test
    void tableListsCountsTokensLatencyAndThroughput() {
        RunTotals totals = new RunTotals(10, 3, Map.of("prompt", 1L, "extract", 2L), 12345, 640, 101.25, 350.0);
        RunSummary summary = new RunSummary("run-1", "out/x", 13, totals, 6.5);

        assertThat(summary.documentsPerSecond()).isEqualTo(2.0);
        assertThat(summary.table()).isEqualTo(String.join(System.lineSeparator(),
                "Run run-1 -> out/x\n  files matched     13",
                "  documents ok      10",
                "  documents failed  3 (extract 2, prompt 1)",
                "  tokens in         12,345",
                "  tokens out        640",
                "  prefix hit rate   0.0% (0 prompt tokens reused)",
                "  PFlash compressed 0 documents",
                "  TTFT p50          101.3 ms",
                "  TTFT p95          350.0 ms",
                "  wall time         6.5 s",
                "  documents/s       2.00",
                ""));
    }

    @Test
    void thePrefixHitRateIsTheShareOfPromptTokensWhoseKvWasReused() {
        RunTotals totals = new RunTotals(4, 0, Map.of(), 8000, 0, 10.0, 20.0, 2500);

        assertThat(new RunSummary("r", "o", 4, totals, 1.0).table())
                .contains("  prefix hit rate   31.3% (2,500 prompt tokens reused)");
    }

    @Test
    void pflashLinesCountCompressedDocumentsKeptTokensAndTheEstimatedSaving() {
        RunTotals totals = new RunTotals(5, 0, Map.of(), 30_000, 40, 10.0, 20.0, 0, 2, 20_000, 1_500, 12_345.0);

        assertThat(new RunSummary("r", "o", 5, totals, 1.0).table())
                .contains("  PFlash compressed 2 documents\n  body tokens kept  1,500 of 20,000 (7.5%)\n"
                        + "  TTFT saved (est.) 12.3 s\n");
    }

    @Test
    void aRunWithoutResultsHasNoTtft() {
        RunSummary summary = new RunSummary("r", "o", 1, new RunTotals(0, 1, Map.of("extract", 1L), 0, 0, null, null),
                0.5);

        assertThat(summary.table()).contains("  TTFT p50          -").contains("  documents/s       2.00");
    }
}
