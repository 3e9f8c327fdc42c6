package dev.pflash.pipeline.extract;

import java.io.Serializable;
import java.time.Duration;
import java.util.Objects;

/**
 * Limits that keep one hostile or huge file from stalling or exhausting a worker.
 *
 * @param maxChars            extracted text is cut after this many Java chars (UTF-16 units) and the
 *                            document is marked {@code truncated}
 * @param maxNestingDepth     deepest allowed level of embedded documents (an attachment is level 1, a
 *                            file inside that attachment level 2); deeper nesting fails the file
 * @param maxCompressionRatio once a file has produced {@link #zipBombThreshold()} characters, more
 *                            than this many characters per input byte fails it as a suspected zip bomb
 * @param timeout             wall-clock time allowed for one file; a file that takes longer fails
 * @param parserProcesses     0 parses in the worker's JVM; more runs that many parser processes
 *                            ({@link ParserProcessPool}), so that a parse that hangs or exhausts its
 *                            heap is killed and fails its file instead of the worker
 * @param parserHeapMb        heap of each parser process, in MiB
 */
public record ExtractionLimits(int maxChars, int maxNestingDepth, long maxCompressionRatio, Duration timeout,
        int parserProcesses, int parserHeapMb) implements Serializable {
    public static final int DEFAULT_PARSER_HEAP_MB = 512;
    public static final int DEFAULT_MAX_CHARS = 2_000_000;
    public static final int DEFAULT_MAX_NESTING_DEPTH = 10;
    public static final long DEFAULT_MAX_COMPRESSION_RATIO = 100;
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    /** Tika's own threshold; lowered to maxChars so that truncation never hides a zip bomb. */
    private static final long TIKA_ZIP_BOMB_THRESHOLD = 1_000_000;

    public ExtractionLimits {
        if (maxChars < 1) {
            throw new IllegalArgumentException("maxChars must be at least 1, got " + maxChars);
        }
        if (maxNestingDepth < 1) {
            throw new IllegalArgumentException("maxNestingDepth must be at least 1, got " + maxNestingDepth);
        }
        if (maxCompressionRatio < 1) {
            throw new IllegalArgumentException("maxCompressionRatio must be at least 1, got " + maxCompressionRatio);
        }
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, got " + timeout);
        }
        if (parserProcesses < 0) {
            throw new IllegalArgumentException("parserProcesses must be 0 (parse in this JVM) or more, got "
                    + parserProcesses);
        }
        if (parserHeapMb < 16) {
            throw new IllegalArgumentException("parserHeapMb must be at least 16, got " + parserHeapMb);
        }
    }

    /** Limits that parse in the worker's JVM. */
    public ExtractionLimits(int maxChars, int maxNestingDepth, long maxCompressionRatio, Duration timeout) {
        this(maxChars, maxNestingDepth, maxCompressionRatio, timeout, 0, DEFAULT_PARSER_HEAP_MB);
    }

    public static ExtractionLimits defaults() {
        return new ExtractionLimits(DEFAULT_MAX_CHARS, DEFAULT_MAX_NESTING_DEPTH, DEFAULT_MAX_COMPRESSION_RATIO,
                DEFAULT_TIMEOUT);
    }

    public ExtractionLimits withMaxChars(int value) {
        return new ExtractionLimits(value, maxNestingDepth, maxCompressionRatio, timeout, parserProcesses, parserHeapMb);
    }

    public ExtractionLimits withMaxNestingDepth(int value) {
        return new ExtractionLimits(maxChars, value, maxCompressionRatio, timeout, parserProcesses, parserHeapMb);
    }

    public ExtractionLimits withMaxCompressionRatio(long value) {
        return new ExtractionLimits(maxChars, maxNestingDepth, value, timeout, parserProcesses, parserHeapMb);
    }

    public ExtractionLimits withTimeout(Duration value) {
        return new ExtractionLimits(maxChars, maxNestingDepth, maxCompressionRatio, value, parserProcesses, parserHeapMb);
    }

    /** These limits, parsing in {@code processes} parser processes of {@code heapMb} MiB each. */
    public ExtractionLimits inParserProcesses(int processes, int heapMb) {
        return new ExtractionLimits(maxChars, maxNestingDepth, maxCompressionRatio, timeout, processes, heapMb);
    }

    /** Characters a file may produce before the compression-ratio check starts. */
    public long zipBombThreshold() {
        return Math.min(TIKA_ZIP_BOMB_THRESHOLD, maxChars);
    }
}
