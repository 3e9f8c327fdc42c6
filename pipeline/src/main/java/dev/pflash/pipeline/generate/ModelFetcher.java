package dev.pflash.pipeline.generate;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives a worker a local file for a model spec. A local path or a {@code synthetic:} name is
 * used where it is; any other URI that Beam's {@link FileSystems} can
 * read ({@code gs://}, {@code s3://}, {@code hdfs://}, ...) is copied once per host into the
 * cache directory, then mapped from there.
 *
 * <p>A copy is verified before it is used: its size must equal the source's, the SHA-256 of the
 * bytes read must equal the SHA-256 of the file written, and, when the source has a
 * {@code <model>.sha256} file beside it, that hash too. The verified hash is recorded beside the
 * copy ({@code <file>.sha256}); a copy without that record is an unfinished one and is made again.
 * A lock (in this JVM, then a file lock for the JVMs on one host) makes concurrent DoFns and
 * executors wait for one copy instead of racing.
 */
public final class ModelFetcher {
    private static final Logger LOG = LoggerFactory.getLogger(ModelFetcher.class);
    private static final Pattern URI_SCHEME = Pattern.compile("^[a-zA-Z][a-zA-Z0-9+.-]*://.*");
    private static final String SYNTHETIC = "synthetic:";
    private static final String HASH_SUFFIX = ".sha256";
    private static final Map<Path, ReentrantLock> LOCKS = new ConcurrentHashMap<>();
    private static final int BUFFER = 1 << 20;

    private final Path cacheDir;

    public ModelFetcher(Path cacheDir) {
        this.cacheDir = cacheDir.toAbsolutePath().normalize();
    }

    /** Whether {@code spec} names a model that has to be copied before it can be mapped. */
    public static boolean isRemote(String spec) {
        return spec != null && URI_SCHEME.matcher(spec).matches()
                && !spec.toLowerCase(Locale.ROOT).startsWith("file:");
    }

    /**
     * The local path for {@code spec}: the spec itself for local files and synthetic models, the
     * verified cached copy for a remote URI.
     */
    public String localSpec(String spec) {
        return spec != null && !spec.startsWith(SYNTHETIC) && isRemote(spec) ? fetch(spec).toString() : spec;
    }

    /** Copies {@code uri} into the cache unless a verified copy is there; returns the copy. */
    public Path fetch(String uri) {
        Path target = cachePath(uri);
        ReentrantLock jvmLock = LOCKS.computeIfAbsent(target, p -> new ReentrantLock());
        jvmLock.lock();
        try {
            Files.createDirectories(target.getParent());
            Path lockFile = target.resolveSibling(target.getFileName() + ".lock");
            try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                    FileLock hostLock = channel.lock()) {
                return fetchLocked(uri, target);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(uri + ": " + WorkerName.current() + " cannot copy the model to " + target
                    + ": " + e.getMessage(), e);
        } finally {
            jvmLock.unlock();
        }
    }

    /**
     * Where the copy of {@code uri} goes: a folder named by the URI's hash, so that two models of
     * one file name from different places never share a copy, and the file's own name in it.
     */
    Path cachePath(String uri) {
        String name = uri.substring(uri.lastIndexOf('/') + 1);
        if (name.isEmpty()) {
            throw new IllegalArgumentException(uri + ": a model URI must name a file, not a directory");
        }
        String folder = sha256Hex(uri.getBytes(StandardCharsets.UTF_8)).substring(0, 16);
        return cacheDir.resolve(folder).resolve(name);
    }

    private Path fetchLocked(String uri, Path target) throws IOException {
        MatchResult.Metadata source = sourceMetadata(uri);
        String expected = publishedHash(uri);
        Path record = target.resolveSibling(target.getFileName() + HASH_SUFFIX);
        if (Files.isRegularFile(target) && Files.isRegularFile(record)) {
            String recorded = readHash(record);
            if (Files.size(target) == source.sizeBytes() && (expected == null || expected.equals(recorded))) {
                LOG.info("Model {} is cached at {} (sha256 {})", uri, target, recorded);
                return target;
            }
            LOG.warn("The cached copy {} of {} no longer matches its source; copying it again", target, uri);
        }
        Files.deleteIfExists(record);
        Path part = target.resolveSibling(target.getFileName() + ".part");
        long start = System.nanoTime();
        String copiedHash = copy(source, part);
        try {
            verify(uri, source.sizeBytes(), expected, copiedHash, part);
        } catch (IllegalStateException e) {
            Files.deleteIfExists(part);
            throw e;
        }
        move(part, target);
        Path recordPart = record.resolveSibling(record.getFileName() + ".part");
        Files.writeString(recordPart, copiedHash + "  " + target.getFileName() + "\n", StandardCharsets.UTF_8);
        move(recordPart, record);
        LOG.info("Copied model {} ({} bytes, sha256 {}) to {} in {} ms on {}", uri, source.sizeBytes(), copiedHash,
                target, (System.nanoTime() - start) / 1_000_000, WorkerName.current());
        return target;
    }

    private static MatchResult.Metadata sourceMetadata(String uri) throws IOException {
        try {
            return FileSystems.matchSingleFileSpec(uri);
        } catch (FileNotFoundException e) {
            throw new FileNotFoundException("no such model file");
        } catch (IllegalArgumentException e) {
            throw new IOException("no Beam file system can read it (" + e.getMessage() + ")", e);
        }
    }

    /** The hash in {@code <uri>.sha256} (sha256sum's format), or null when there is no such file. */
    private static String publishedHash(String uri) throws IOException {
        MatchResult match = FileSystems.match(uri + HASH_SUFFIX);
        if (match.status() != MatchResult.Status.OK || match.metadata().isEmpty()) {
            return null;
        }
        try (InputStream in = Channels.newInputStream(FileSystems.open(match.metadata().get(0).resourceId()))) {
            return parseHash(uri + HASH_SUFFIX, new String(in.readNBytes(4096), StandardCharsets.US_ASCII));
        }
    }

    private static String readHash(Path record) throws IOException {
        return parseHash(record.toString(), Files.readString(record, StandardCharsets.US_ASCII));
    }

    static String parseHash(String file, String text) {
        String hash = text.strip().split("\\s+", 2)[0].toLowerCase(Locale.ROOT);
        if (!hash.matches("[0-9a-f]{64}")) {
            throw new IllegalArgumentException(file + ": expected a SHA-256 (64 hex digits) first, found '"
                    + (hash.length() > 70 ? hash.substring(0, 70) + "..." : hash) + "'");
        }
        return hash;
    }

    /** Streams the source into {@code part}, returning the SHA-256 of the bytes read. */
    private static String copy(MatchResult.Metadata source, Path part) throws IOException {
        MessageDigest digest = sha256();
        try (ReadableByteChannel channel = FileSystems.open(source.resourceId());
                InputStream in = Channels.newInputStream(channel);
                OutputStream out = Files.newOutputStream(part)) {
            byte[] buffer = new byte[BUFFER];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
                out.write(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static void verify(String uri, long expectedSize, String publishedHash, String copiedHash, Path part)
            throws IOException {
        long size = Files.size(part);
        if (size != expectedSize) {
            throw new IllegalStateException(uri + ": the copy on " + WorkerName.current() + " has " + size
                    + " bytes, the source " + expectedSize);
        }
        String written = sha256Of(part);
        if (!written.equals(copiedHash)) {
            throw new IllegalStateException(uri + ": the copy written on " + WorkerName.current() + " to " + part
                    + " has sha256 " + written + ", the bytes read " + copiedHash + " (a disk or file system error)");
        }
        if (publishedHash != null && !publishedHash.equals(copiedHash)) {
            throw new IllegalStateException(uri + ": sha256 " + copiedHash + " differs from " + publishedHash
                    + " in " + uri + HASH_SUFFIX);
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static String sha256Of(Path file) throws IOException {
        MessageDigest digest = sha256();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[BUFFER];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static String sha256Hex(byte[] bytes) {
        return HexFormat.of().formatHex(sha256().digest(bytes));
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JVM", e);
        }
    }
}
