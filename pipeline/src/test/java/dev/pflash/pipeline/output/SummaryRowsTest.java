package dev.pflash.pipeline.output;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pflash.pipeline.generate.DocumentSummary;
import dev.pflash.pipeline.generate.EngineUsage;
import dev.pflash.pipeline.generate.FitStrategy;
import dev.pflash.pipeline.generate.GenerationRun;
import dev.pflash.pipeline.generate.KeptSpan;
import dev.pflash.pipeline.generate.ModelIdentity;
import dev.pflash.pipeline.prompt.DocumentMeta;
import dev.pflash.schemas.DocumentTimings;
import dev.pflash.schemas.KeySpanRecord;
import dev.pflash.schemas.SummaryResult;
import java.util.List;
import org.junit.jupiter.api.Test;

class SummaryRowsTest {
    private static final DocumentMeta META = new DocumentMeta("doc-1", "file:///in/a.pdf", "ab12", "application/pdf",
            "A title", "An author", "en", 3, 2048, 1500, true, 12.5);
    private static final EngineUsage USAGE = new EngineUsage(4, 1, 2, 3, 40, 95, 60, 31, 27, 600, 10, 480,
            List.of(new KeptSpan(0, 100, 0.5f)));
    private static final DocumentSummary SUMMARY = new DocumentSummary(META, 7.25, 520, 20, 480, 20,
            new GenerationRun("The summary.", "STOP", 9, FitStrategy.SPLIT, 3, USAGE),
            new ModelIdentity("target.gguf", "t-sha", "drafter.gguf", "d-sha", "cpu", false), 5);

    @Test
    void resultRowCarriesDocumentTokensSummaryAndModels() {
        SummaryResult row = SummaryRows.toResult("run-7", SUMMARY);

        assertThat(row.getRunId()).isEqualTo("run-7");
        assertThat(row.getDocId()).isEqualTo("doc-1");
        assertThat(row.getUri()).isEqualTo("file:///in/a.pdf");
        assertThat(row.getSha256()).isEqualTo("ab12");
        assertThat(row.getContentType()).isEqualTo("application/pdf");
        assertThat(row.getTitle()).isEqualTo("A title");
        assertThat(row.getAuthor()).isEqualTo("An author");
        assertThat(row.getLanguage()).isEqualTo("en");
        assertThat(row.getPageCount()).isEqualTo(3);
        assertThat(row.getSizeBytes()).isEqualTo(2048);
        assertThat(row.getChars()).isEqualTo(1500);
        assertThat(row.getTextTruncated()).isTrue();
        assertThat(row.getPromptTokens()).isEqualTo(520);
        assertThat(row.getPrefixTokens()).isEqualTo(20);
        assertThat(row.getBodyTokens()).isEqualTo(480);
        assertThat(row.getSuffixTokens()).isEqualTo(20);
        assertThat(row.getKeptTokens()).isEqualTo(480);
        assertThat(row.getPrefixTokensReused()).isEqualTo(10);
        assertThat(row.getGeneratedTokens()).isEqualTo(9);
        assertThat(row.getKeySpans()).containsExactly(new KeySpanRecord(0, 100, 0.5f));
        assertThat(row.getSummary()).isEqualTo("The summary.");
        assertThat(row.getFinishReason()).isEqualTo("STOP");
        assertThat(row.getFitStrategy()).isEqualTo("split");
        assertThat(row.getWindows()).isEqualTo(3);
        assertThat(row.getTargetModel()).isEqualTo("target.gguf");
        assertThat(row.getTargetSha256()).isEqualTo("t-sha");
        assertThat(row.getDrafterModel()).isEqualTo("drafter.gguf");
        assertThat(row.getDrafterSha256()).isEqualTo("d-sha");
        assertThat(row.getBackend()).isEqualTo("cpu");
        assertThat(row.getDemoModels()).isFalse();
        assertThat(row.getTtftMs()).isEqualTo(95.0);
    }

    @Test
    void timingsRowCarriesEveryStage() {
        DocumentTimings row = SummaryRows.toTimings("run-7", SUMMARY);

        assertThat(row.getRunId()).isEqualTo("run-7");
        assertThat(row.getDocId()).isEqualTo("doc-1");
        assertThat(row.getUri()).isEqualTo("file:///in/a.pdf");
        assertThat(row.getExtractMs()).isEqualTo(12.5);
        assertThat(row.getTokenizeMs()).isEqualTo(7.25);
        assertThat(row.getPrefixLookupMs()).isEqualTo(1.0);
        assertThat(row.getDraftMs()).isEqualTo(2.0);
        assertThat(row.getSelectMs()).isEqualTo(3.0);
        assertThat(row.getTargetPrefillMs()).isEqualTo(40.0);
        assertThat(row.getTtftMs()).isEqualTo(95.0);
        assertThat(row.getDecodeMs()).isEqualTo(60.0);
        assertThat(row.getGeneratedTokens()).isEqualTo(31);
        assertThat(row.getDecodeTokensPerS()).isEqualTo(27 * 1000.0 / 60);
        assertThat(row.getPrefilledTokens()).isEqualTo(600);
        assertThat(row.getEngineCalls()).isEqualTo(4);
        assertThat(row.getBatchSize()).isEqualTo(5);
    }
}
