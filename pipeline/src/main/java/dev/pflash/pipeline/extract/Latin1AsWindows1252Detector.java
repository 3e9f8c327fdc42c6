package dev.pflash.pipeline.extract;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import org.apache.tika.detect.EncodingDetector;
import org.apache.tika.metadata.Metadata;

/**
 * Tika's encoding detection, except that ISO-8859-1 is read as windows-1252, as the WHATWG
 * Encoding Standard (and every browser) does.
 *
 * <p>The two differ only in bytes 0x80 to 0x9F: control characters in ISO-8859-1, but €, ‘ ’, “ ”,
 * – and — in windows-1252, where they are common in files from Windows. Tika reports such files as
 * ISO-8859-1, which would turn "5,50 €" into "5,50 \u0080".
 */
final class Latin1AsWindows1252Detector implements EncodingDetector {
    private static final Charset WINDOWS_1252 = Charset.forName("windows-1252");

    private final EncodingDetector delegate;

    Latin1AsWindows1252Detector(EncodingDetector delegate) {
        this.delegate = delegate;
    }

    @Override
    public Charset detect(InputStream input, Metadata metadata) throws IOException {
        Charset detected = delegate.detect(input, metadata);
        return StandardCharsets.ISO_8859_1.equals(detected) ? WINDOWS_1252 : detected;
    }
}
