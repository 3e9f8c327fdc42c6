package dev.pflash.jobs;

import dev.pflash.pipeline.extract.ExtractionLimits;
import dev.pflash.pipeline.flow.DocumentFlowOptions;
import dev.pflash.pipeline.output.OutputLayout;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.DefaultValueFactory;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.Validation;

/**
 * Options every document job shares (summarize, classify): the input files, the prompt template,
 * Tika's limits, batching, the output tables, the run id and progress logging. Each job adds the
 * options of its own stage. A property means the same, with the same default, in every command:
 * Beam checks the options of all commands a JVM has parsed against each other.
 */
public interface DocumentJobOptions extends EngineOptions, DocumentFlowOptions {
    @Description("Required. Files to read: a glob such as 'corpus/**' (** crosses directories; quote it for the shell),"
            + " a file, or a directory (every file below it); several, separated by commas")
    @Validation.Required
    List<String> getInput();

    void setInput(List<String> value);

    @Description("Output directory: gets results/, timings/ and errors/ (Parquet) and manifest.json; default"
            + " out/<command> (out/summarize, out/classify)")
    String getOutput();

    void setOutput(String value);

    @Description("Prompt template file (UTF-8): the instructions, then {{document}} where the document text goes,"
            + " then the question; for classify, {{labels}} in the instructions becomes the label list. Empty for the"
            + " command's built-in template")
    @Default.String("")
    String getTemplate();

    void setTemplate(String value);

    @Description("Replace the tables of an earlier run in --output instead of refusing to start")
    @Default.Boolean(false)
    boolean getOverwrite();

    void setOverwrite(boolean value);

    @Description("Rerun into an --output that holds earlier runs: a file whose content (SHA-256) already has a result"
            + " row, or a final error row (stage extract or prompt), for the same output-affecting settings (models and"
            + " their hashes, template, generation and PFlash settings) is skipped; new, changed and renamed-then-changed"
            + " files run. Rows go beside the earlier ones")
    @Default.Boolean(false)
    boolean getResume();

    void setResume(boolean value);

    @Description("Commit the tables in pieces of at most this many rows while the job runs (each piece a complete"
            + " Parquet file, renamed into place)")
    @Default.Integer(OutputLayout.DEFAULT_COMMIT_EVERY)
    int getCommitEvery();

    void setCommitEvery(int value);

    @Description("Commit a piece, full or not, once its first row has waited this many seconds")
    @Default.Integer(OutputLayout.DEFAULT_COMMIT_SECONDS)
    int getCommitSeconds();

    void setCommitSeconds(int value);

    @Description("Parser processes per worker: each file is parsed in one of them, so that a file that hangs a parser"
            + " or exhausts its heap is killed and becomes an error row; 0 parses in the worker's JVM (faster, but such"
            + " a file can stall or end the job)")
    @Default.Integer(2)
    int getParserProcesses();

    void setParserProcesses(int value);

    @Description("Heap of each parser process, in MiB; a file whose parse needs more fails")
    @Default.Integer(ExtractionLimits.DEFAULT_PARSER_HEAP_MB)
    int getParserHeapMb();

    void setParserHeapMb(int value);

    @Description("Prompt tokens per engine batch; prompts that share a prefix and a length bucket are batched")
    @Default.Long(16384)
    long getBatchTokens();

    void setBatchTokens(long value);

    @Description("Tika: extracted text is cut after this many characters (the row says text_truncated)")
    @Default.Integer(ExtractionLimits.DEFAULT_MAX_CHARS)
    int getMaxChars();

    void setMaxChars(int value);

    @Description("Tika: deepest level of embedded documents (attachments, archive members) before a file fails")
    @Default.Integer(ExtractionLimits.DEFAULT_MAX_NESTING_DEPTH)
    int getMaxNestingDepth();

    void setMaxNestingDepth(int value);

    @Description("Tika: characters per input byte above which a file fails as a suspected zip bomb")
    @Default.Long(ExtractionLimits.DEFAULT_MAX_COMPRESSION_RATIO)
    long getMaxCompressionRatio();

    void setMaxCompressionRatio(long value);

    @Description("Tika: seconds allowed to extract one file before it fails")
    @Default.Integer(60)
    int getExtractTimeoutSeconds();

    void setExtractTimeoutSeconds(int value);

    @Description("Pieces of each table written at a time, each by one writer (0 counts as 1)")
    @Default.Integer(1)
    int getShards();

    void setShards(int value);

    @Description("Parquet compression: SNAPPY, ZSTD, GZIP or UNCOMPRESSED")
    @Default.String("SNAPPY")
    String getCompression();

    void setCompression(String value);

    @Description("Run id written on every row and in the manifest; default: the start time and a random suffix")
    @Default.InstanceFactory(RunIdFactory.class)
    String getRunId();

    void setRunId(String value);

    @Description("Seconds between progress lines in the log")
    @Default.Integer(10)
    int getProgressSeconds();

    void setProgressSeconds(int value);

    /** Run ids like {@code 20250101T120000Z-1a2b}: sortable by start time, distinct for runs in the same second. */
    final class RunIdFactory implements DefaultValueFactory<String> {
        private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'");

        @Override
        public String create(PipelineOptions options) {
            return STAMP.format(ZonedDateTime.now(ZoneOffset.UTC)) + "-"
                    + String.format("%04x", ThreadLocalRandom.current().nextInt(0x10000));
        }
    }
}
