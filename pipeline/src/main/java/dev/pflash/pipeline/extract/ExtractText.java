package dev.pflash.pipeline.extract;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Distribution;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;

/**
 * Extracts the text of each file with Tika: every file becomes exactly one {@link #DOCUMENTS}
 * element or one {@link #ERRORS} element.
 *
 * <p>Files are streamed, never loaded whole; the SHA-256 is computed on the way through. With
 * {@link ExtractionLimits#parserProcesses()} above 0 the parsing runs in a {@link ParserProcessPool},
 * so that a file that hangs a parser or exhausts its heap fails alone.
 * Counters (namespace {@code ExtractText}): {@code documentsExtracted}, {@code documentsFailed},
 * {@code documentsTruncated}, {@code charactersExtracted}.
 */
public final class ExtractText extends PTransform<PCollection<FileIO.ReadableFile>, PCollectionTuple> {
    public static final TupleTag<ExtractedDocument> DOCUMENTS = new TupleTag<>() {
    };
    public static final TupleTag<ExtractionError> ERRORS = new TupleTag<>() {
    };

    private final ExtractionLimits limits;

    private ExtractText(ExtractionLimits limits) {
        this.limits = limits;
    }

    public static ExtractText withLimits(ExtractionLimits limits) {
        return new ExtractText(limits);
    }

    public static ExtractText withDefaultLimits() {
        return new ExtractText(ExtractionLimits.defaults());
    }

    @Override
    public PCollectionTuple expand(PCollection<FileIO.ReadableFile> files) {
        PCollectionTuple out = files.apply("ExtractWithTika",
                ParDo.of(new ExtractFn(limits)).withOutputTags(DOCUMENTS, TupleTagList.of(ERRORS)));
        out.get(DOCUMENTS).setCoder(SerializableCoder.of(ExtractedDocument.class));
        out.get(ERRORS).setCoder(SerializableCoder.of(ExtractionError.class));
        return out;
    }

    static final class ExtractFn extends DoFn<FileIO.ReadableFile, ExtractedDocument> {
        private final Counter extracted = Metrics.counter(ExtractText.class, "documentsExtracted");
        private final Counter failed = Metrics.counter(ExtractText.class, "documentsFailed");
        private final Counter truncated = Metrics.counter(ExtractText.class, "documentsTruncated");
        private final Counter characters = Metrics.counter(ExtractText.class, "charactersExtracted");
        private final Distribution extractMs = Metrics.distribution(ExtractText.class, "extractMs");
        private final ExtractionLimits limits;
        private transient TikaTextExtractor extractor;

        ExtractFn(ExtractionLimits limits) {
            this.limits = limits;
        }

        @Setup
        public void setup() {
            extractor = new TikaTextExtractor(limits);
        }

        @ProcessElement
        public void process(@Element FileIO.ReadableFile file, MultiOutputReceiver out) {
            String uri = file.getMetadata().resourceId().toString();
            ExtractedDocument document;
            try {
                document = limits.parserProcesses() > 0 ? extractInProcess(uri, file) : extractHere(uri, file);
            } catch (ExtractionException e) {
                failed.inc();
                out.get(ERRORS).output(ExtractionError.of(e, FileHashes.sha256(file)));
                return;
            }
            extracted.inc();
            characters.inc(document.chars());
            extractMs.update(Math.round(document.extractMs()));
            if (document.truncated()) {
                truncated.inc();
            }
            out.get(DOCUMENTS).output(document);
        }

        private ExtractedDocument extractHere(String uri, FileIO.ReadableFile file) throws ExtractionException {
            try (InputStream content = Channels.newInputStream(file.open())) {
                return extractor.extract(uri, content);
            } catch (IOException e) {
                throw new ExtractionException(uri, "the file could not be opened or closed", e);
            }
        }

        /** In a parser process, which reads a local file: a remote one is copied to a temporary file first. */
        private ExtractedDocument extractInProcess(String uri, FileIO.ReadableFile file) throws ExtractionException {
            ParserProcessPool pool = ParserProcessPool.shared(limits);
            if ("file".equals(file.getMetadata().resourceId().getScheme())) {
                return pool.extract(uri, Path.of(uri));
            }
            Path copy = null;
            try {
                copy = Files.createTempFile("pflash-extract-", ".bin");
                try (InputStream content = Channels.newInputStream(file.open())) {
                    Files.copy(content, copy, StandardCopyOption.REPLACE_EXISTING);
                }
                return pool.extract(uri, copy);
            } catch (IOException e) {
                throw new ExtractionException(uri, "the file could not be copied for its parser process", e);
            } finally {
                deleteQuietly(copy);
            }
        }

        private static void deleteQuietly(Path copy) {
            if (copy != null) {
                try {
                    Files.deleteIfExists(copy);
                } catch (IOException e) {
                    // a leftover in the temporary folder is harmless
                }
            }
        }
    }
}
