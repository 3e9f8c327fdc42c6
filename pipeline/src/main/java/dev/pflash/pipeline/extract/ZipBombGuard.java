package dev.pflash.pipeline.extract;

import org.apache.tika.exception.WriteLimitReachedException;
import org.apache.tika.io.TikaInputStream;
import org.apache.tika.sax.SecureContentHandler;
import org.xml.sax.Attributes;
import org.xml.sax.ContentHandler;
import org.xml.sax.SAXException;

/**
 * Tika's zip-bomb checks with {@link ExtractionLimits}, which remember that they fired.
 *
 * <p>Tika records and swallows the failures of embedded documents, so a bomb inside an archive
 * would otherwise come out as a short, apparently healthy document. Once tripped, the guard refuses
 * all further output, which also ends the parse quickly.
 */
final class ZipBombGuard extends SecureContentHandler {
    private SAXException tripped;

    ZipBombGuard(ContentHandler handler, TikaInputStream stream, ExtractionLimits limits) {
        super(handler, stream);
        setOutputThreshold(limits.zipBombThreshold());
        setMaximumCompressionRatio(limits.maxCompressionRatio());
        // Tika fails when the count of nested embedded documents reaches its limit; ours is the
        // deepest level that is still allowed.
        setMaximumPackageEntryDepth(limits.maxNestingDepth() + 1);
    }

    @Override
    protected void advance(int length) throws SAXException {
        if (tripped != null) {
            throw tripped;
        }
        try {
            super.advance(length);
        } catch (SAXException e) {
            tripped = e;
            throw e;
        }
    }

    @Override
    public void startElement(String uri, String localName, String name, Attributes atts) throws SAXException {
        if (tripped != null) {
            throw tripped;
        }
        try {
            super.startElement(uri, localName, name, atts);
        } catch (SAXException e) {
            if (!WriteLimitReachedException.isWriteLimitReached(e)) {
                tripped = e;
            }
            throw e;
        }
    }

    boolean tripped() {
        return tripped != null;
    }

    /** Tika's description of what fired, for example "Suspected zip bomb: 2 levels of package entry nesting". */
    SAXException trip() {
        return tripped;
    }
}
