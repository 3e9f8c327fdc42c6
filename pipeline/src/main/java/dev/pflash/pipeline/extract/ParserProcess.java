package dev.pflash.pipeline.extract;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectOutputStream;
import java.io.PrintStream;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The main class of a parser process started by {@link ParserProcessPool}: it reads requests
 * (a file's URI and a local path to its bytes) from stdin, extracts each with
 * {@link TikaTextExtractor} and answers on stdout (after a {@link #READY} marker, once Tika is
 * loaded) with the serialized {@link ExtractedDocument}
 * or, for a failure, its message and error class (the exceptions behind it, some of which Java
 * cannot serialize, stay here). It runs with {@code -XX:+ExitOnOutOfMemoryError}, so a file
 * that exhausts the heap ends the process, and the pool reports it.
 *
 * <p>Arguments: maxChars maxNestingDepth maxCompressionRatio timeoutMillis.
 */
public final class ParserProcess {
    /** Written on stdout when the process is ready for requests, and before each answer. */
    static final int READY = 0x52454459;
    /** Time allowed to load Tika's configuration and parsers, which a busy machine can take long over. */
    private static final Duration STARTUP = Duration.ofMinutes(3);
    private ParserProcess() {
    }

    public static void main(String[] args) throws IOException {
        // The answers own stdout; anything a parser or a logger prints goes to stderr instead.
        DataOutputStream answers = new DataOutputStream(new BufferedOutputStream(new FileOutputStream(FileDescriptor.out)));
        System.setOut(new PrintStream(new FileOutputStream(FileDescriptor.err), true));
        ExtractionLimits limits = new ExtractionLimits(Integer.parseInt(args[0]), Integer.parseInt(args[1]),
                Long.parseLong(args[2]), Duration.ofMillis(Long.parseLong(args[3])));
        TikaTextExtractor extractor = new TikaTextExtractor(limits);
        warmUp(new TikaTextExtractor(limits.withTimeout(STARTUP)));
        answers.writeInt(READY);
        answers.flush();
        DataInputStream requests = new DataInputStream(new BufferedInputStream(System.in));
        while (true) {
            String uri;
            String path;
            try {
                uri = requests.readUTF();
                path = requests.readUTF();
            } catch (EOFException e) {
                return;
            }
            Serializable answer;
            try (InputStream content = Files.newInputStream(Path.of(path))) {
                answer = extractor.extract(uri, content);
            } catch (ExtractionException e) {
                answer = new String[] {e.getMessage(), e.errorClass()};
            } catch (IOException e) {
                ExtractionException failure = new ExtractionException(uri, "the file could not be opened or closed", e);
                answer = new String[] {failure.getMessage(), failure.errorClass()};
            }
            write(answers, answer);
        }
    }

    /** Loads Tika's configuration and parsers before the first file, whose time limit must not pay for them. */
    private static void warmUp(TikaTextExtractor extractor) {
        try {
            extractor.extract("warm-up.txt", new ByteArrayInputStream("warm up".getBytes(StandardCharsets.US_ASCII)));
        } catch (ExtractionException e) {
            throw new IllegalStateException("the parser process cannot extract plain text: " + e.getMessage(), e);
        }
    }

    private static void write(DataOutputStream answers, Serializable answer) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream objects = new ObjectOutputStream(bytes)) {
            objects.writeObject(answer);
        }
        answers.writeInt(READY);
        answers.writeInt(bytes.size());
        bytes.writeTo(answers);
        answers.flush();
    }
}
