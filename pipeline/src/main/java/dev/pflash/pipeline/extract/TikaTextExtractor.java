package dev.pflash.pipeline.extract;

import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.tika.config.TikaConfig;
import org.apache.tika.detect.EncodingDetector;
import org.apache.tika.exception.EncryptedDocumentException;
import org.apache.tika.exception.TikaException;
import org.apache.tika.exception.WriteLimitReachedException;
import org.apache.tika.io.TikaInputStream;
import org.apache.tika.metadata.HttpHeaders;
import org.apache.tika.metadata.Metadata;
import org.apache.tika.metadata.Office;
import org.apache.tika.metadata.PagedText;
import org.apache.tika.metadata.Property;
import org.apache.tika.metadata.TikaCoreProperties;
import org.apache.tika.mime.MediaType;
import org.apache.tika.parser.AutoDetectParser;
import org.apache.tika.parser.AutoDetectParserConfig;
import org.apache.tika.parser.ParseContext;
import org.apache.tika.parser.Parser;
import org.apache.tika.parser.ocr.TesseractOCRConfig;
import org.apache.tika.parser.pdf.PDFParserConfig;
import org.apache.tika.sax.BodyContentHandler;
import org.apache.tika.sax.WriteOutContentHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xml.sax.SAXException;

/**
 * Extracts plain text and metadata from one file of any format Tika knows, within
 * {@link ExtractionLimits}.
 *
 * <p>Failures are {@link ExtractionException}s whose message names the file and the problem:
 * an empty file, no text (only whitespace, or a type such as an image that has none), an
 * encrypted document, a suspected zip bomb (too many characters per input byte, or embedded
 * documents nested too deeply), a parse error, a read error, or the time limit. A file's type is
 * detected from its content (its name is only a hint), so a misnamed file is parsed as what it is;
 * when that yields no text the message names both the detected type and the type its name claims.
 *
 * <p>Thread-safe: all instances share one Tika parser and one pool of worker threads per JVM.
 */
public final class TikaTextExtractor {
    private static final Logger LOG = LoggerFactory.getLogger(TikaTextExtractor.class);

    private final ExtractionLimits limits;

    public TikaTextExtractor(ExtractionLimits limits) {
        this.limits = limits;
    }

    /**
     * Extracts the text of the file at {@code uri}, whose bytes {@code content} delivers. Reads
     * {@code content} to its end (for the hash) but does not close it.
     *
     * @throws ExtractionException when the file yields no text or breaks a limit
     */
    public ExtractedDocument extract(String uri, InputStream content) throws ExtractionException {
        long start = System.nanoTime();
        Future<ExtractedDocument> task = Workers.POOL.submit(() -> parse(uri, content, start));
        try {
            return task.get(limits.timeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            task.cancel(true);
            LOG.warn("{}: extraction passed its time limit of {} ms and was interrupted", uri,
                    limits.timeout().toMillis());
            throw new ExtractionException(uri, "extraction did not finish within the time limit of "
                    + limits.timeout().toMillis() + " ms", e);
        } catch (InterruptedException e) {
            task.cancel(true);
            Thread.currentThread().interrupt();
            throw new ExtractionException(uri, "extraction was interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof ExtractionException failure) {
                throw failure;
            }
            throw new ExtractionException(uri, "the parser failed unexpectedly", e.getCause());
        }
    }

    private ExtractedDocument parse(String uri, InputStream content, long start) throws ExtractionException {
        HashingInputStream hashing = new HashingInputStream(content);
        Metadata metadata = new Metadata();
        metadata.set(TikaCoreProperties.RESOURCE_NAME_KEY, fileName(uri));
        WriteOutContentHandler text = new WriteOutContentHandler(limits.maxChars());
        boolean truncated = false;
        try (TikaInputStream tika = TikaInputStream.get(hashing)) {
            if (isEmpty(tika)) {
                throw new ExtractionException(uri, "the file is empty (0 bytes), so there is no text to extract");
            }
            ZipBombGuard guard = new ZipBombGuard(text, tika, limits);
            try {
                Parsers.PARSER.parse(tika, new BodyContentHandler(guard), metadata, parseContext());
            } catch (SAXException | TikaException e) {
                if (!guard.tripped() && !WriteLimitReachedException.isWriteLimitReached(e)) {
                    throw failure(uri, metadata, e);
                }
                truncated = !guard.tripped();
            } catch (IOException e) {
                throw failure(uri, metadata, e);
            }
            if (guard.tripped()) {
                throw new ExtractionException(uri, "rejected as a suspected zip bomb (limits: maxCompressionRatio="
                        + limits.maxCompressionRatio() + ", maxNestingDepth=" + limits.maxNestingDepth() + ")",
                        new TikaException(guard.trip().getMessage(), guard.trip()));
            }
            hashing.drain();
        } catch (IOException e) {
            throw new ExtractionException(uri, "the file could not be read", e);
        }
        String body = text.toString().strip();
        String contentType = metadata.get(Metadata.CONTENT_TYPE);
        if (body.isEmpty()) {
            throw new ExtractionException(uri, "no text extracted: " + whatWasFound(uri, contentType));
        }
        return new ExtractedDocument(DocumentIds.forUri(uri), uri, hashing.sha256Hex(), contentType,
                firstOf(metadata, TikaCoreProperties.TITLE), firstOf(metadata, TikaCoreProperties.CREATOR),
                firstOf(metadata, TikaCoreProperties.LANGUAGE, Property.externalText(HttpHeaders.CONTENT_LANGUAGE)),
                pageCount(metadata), hashing.bytesRead(), body, body.length(), truncated,
                (System.nanoTime() - start) / 1e6);
    }

    private ParseContext parseContext() {
        ParseContext context = new ParseContext();
        context.set(Parser.class, Parsers.PARSER);
        context.set(EncodingDetector.class, Parsers.ENCODING_DETECTOR);
        // Text is what we want, and OCR of every image would blow the time limit on a machine
        // that happens to have tesseract installed.
        TesseractOCRConfig ocr = new TesseractOCRConfig();
        ocr.setSkipOcr(true);
        context.set(TesseractOCRConfig.class, ocr);
        PDFParserConfig pdf = new PDFParserConfig();
        pdf.setOcrStrategy(PDFParserConfig.OCR_STRATEGY.NO_OCR);
        context.set(PDFParserConfig.class, pdf);
        return context;
    }

    private ExtractionException failure(String uri, Metadata metadata, Exception e) {
        if (e instanceof EncryptedDocumentException) {
            return new ExtractionException(uri,
                    "the document is encrypted (password-protected) and cannot be read without its password", e);
        }
        String type = metadata.get(Metadata.CONTENT_TYPE);
        return new ExtractionException(uri, "could not be parsed as " + (type == null ? "any known type" : type), e);
    }

    private static boolean isEmpty(TikaInputStream stream) throws IOException {
        stream.mark(1);
        int first = stream.read();
        stream.reset();
        return first < 0;
    }

    /** The detected type, and the name's claim when the two disagree (a misnamed file). */
    private static String whatWasFound(String uri, String contentType) {
        MediaType detected = contentType == null ? MediaType.OCTET_STREAM : MediaType.parse(contentType);
        Metadata byName = new Metadata();
        byName.set(TikaCoreProperties.RESOURCE_NAME_KEY, fileName(uri));
        MediaType claimed;
        try {
            claimed = Parsers.CONFIG.getMimeRepository().detect(null, byName);
        } catch (IOException e) {
            claimed = MediaType.OCTET_STREAM;
        }
        String found = detected.getBaseType().equals(MediaType.TEXT_PLAIN)
                ? "the file holds only whitespace"
                : "the content is " + detected.getBaseType() + " and holds no text";
        if (!claimed.equals(MediaType.OCTET_STREAM) && !claimed.equals(detected.getBaseType())) {
            found += ", although the file name suggests " + claimed;
        }
        return found;
    }

    private static String fileName(String uri) {
        return uri.substring(uri.lastIndexOf('/') + 1);
    }

    private static String firstOf(Metadata metadata, Property... properties) {
        for (Property property : properties) {
            String value = metadata.get(property);
            if (value != null && !value.isBlank()) {
                return value.strip();
            }
        }
        return null;
    }

    private static Integer pageCount(Metadata metadata) {
        for (Property property : new Property[] {PagedText.N_PAGES, Office.PAGE_COUNT, Office.SLIDE_COUNT}) {
            Integer value = metadata.getInt(property);
            if (value != null && value > 0) {
                return value;
            }
        }
        return null;
    }

    /** One Tika parser per JVM: it is thread-safe and costly to set up. */
    private static final class Parsers {
        static final TikaConfig CONFIG = TikaConfig.getDefaultConfig();
        static final AutoDetectParser PARSER = create();
        static final EncodingDetector ENCODING_DETECTOR = new Latin1AsWindows1252Detector(CONFIG.getEncodingDetector());

        /**
         * Tika's own zip-bomb checks are switched off: {@link ZipBombGuard} applies the limits of
         * each extractor, and unlike Tika's checks it still reports a bomb inside an archive.
         */
        private static AutoDetectParser create() {
            AutoDetectParserConfig config = new AutoDetectParserConfig();
            config.setOutputThreshold(Long.MAX_VALUE);
            config.setMaximumCompressionRatio(Long.MAX_VALUE);
            config.setMaximumPackageEntryDepth(Integer.MAX_VALUE);
            AutoDetectParser parser = new AutoDetectParser(CONFIG);
            parser.setAutoDetectParserConfig(config);
            return parser;
        }
    }

    /** Parses run here so that a file past its time limit can be abandoned and interrupted. */
    private static final class Workers {
        static final ExecutorService POOL = Executors.newCachedThreadPool(new ThreadFactory() {
            private final AtomicInteger count = new AtomicInteger();

            @Override
            public Thread newThread(Runnable task) {
                Thread thread = new Thread(task, "pflash-extract-" + count.incrementAndGet());
                thread.setDaemon(true);
                return thread;
            }
        });
    }
}
