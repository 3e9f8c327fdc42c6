package dev.pflash.pipeline.output;

import dev.pflash.pipeline.generate.EngineUsage;
import dev.pflash.pipeline.prompt.DocumentMeta;
import dev.pflash.schemas.DocumentTimings;

/** Builds rows of the timings table, which summarize and classify runs share. */
public final class TimingRows {
    private TimingRows() {
    }

    /** The timings of one document: extraction, tokenization, and what the engine spent on it. */
    public static DocumentTimings of(String runId, DocumentMeta meta, double tokenizeMs, EngineUsage usage,
            int batchSize) {
        return DocumentTimings.newBuilder()
                .setRunId(runId)
                .setDocId(meta.docId())
                .setUri(meta.uri())
                .setExtractMs(meta.extractMs())
                .setTokenizeMs(tokenizeMs)
                .setPrefixLookupMs(usage.prefixLookupMs())
                .setDraftMs(usage.draftMs())
                .setSelectMs(usage.selectMs())
                .setTargetPrefillMs(usage.targetPrefillMs())
                .setTtftMs(usage.ttftMs())
                .setDecodeMs(usage.decodeMs())
                .setGeneratedTokens(usage.generatedTokens())
                .setDecodeTokensPerS(usage.decodeTokensPerSecond())
                .setPrefilledTokens(usage.prefilledTokens())
                .setEngineCalls(usage.calls())
                .setBatchSize(batchSize)
                .setFinishedEpochMs(System.currentTimeMillis())
                .build();
    }
}
