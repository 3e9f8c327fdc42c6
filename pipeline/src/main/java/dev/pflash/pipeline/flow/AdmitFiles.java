package dev.pflash.pipeline.flow;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.io.range.OffsetRange;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.transforms.splittabledofn.OffsetRangeTracker;
import org.apache.beam.sdk.transforms.splittabledofn.RestrictionTracker;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.joda.time.Duration;

/**
 * Lets the job's files in, each file once (by path, in path order), with at most
 * {@code --documents-in-flight} documents of the run between here and their row
 * ({@link DocumentsInFlight}). Past the limit the
 * feed waits for finished documents without holding a worker thread: it is a splittable
 * {@link DoFn} that checkpoints and asks to be called again. Each call lets in a small group, one
 * bundle, which one worker reads while others read the next groups. Memory then holds the file
 * list (a path per file), never the documents of the whole corpus. Only the Direct runner needs
 * this (see {@link DocumentsInFlight}); on other runners every file goes at once, spread over a
 * fixed number of keys so that all workers read.
 */
public final class AdmitFiles extends PTransform<PCollection<FileIO.ReadableFile>, PCollection<FileIO.ReadableFile>> {
    /** How long the feed waits before it looks again for room, when the run is at its limit. */
    static final Duration RECHECK = Duration.millis(100);
    /**
     * Files let in together, as one bundle. The Direct runner keeps two watermark holds for every
     * bundle of unkeyed elements it ever ran, until the job ends (StructuralKey.empty() is a new
     * key each time), so a bundle per file made its bookkeeping grow by about 1.5 KB a document.
     */
    static final int GROUP = 8;
    private static final int SPREAD_KEYS = 16;
    private static final String ALL_FILES = "files";
    /** The Direct runner's feed reads its run's file list here, not from its element, which it copies at each call. */
    private static final Map<String, List<FileIO.ReadableFile>> WAITING = new ConcurrentHashMap<>();

    private final String runId;

    public AdmitFiles(String runId) {
        this.runId = runId;
    }

    /**
     * {@link DocumentFlowOptions#getDocumentsInFlight()} on the Direct runner; elsewhere the steps of
     * one document run in different JVMs, which cannot count together.
     */
    static int limit(PipelineOptions options) {
        if (!options.getRunner().getName().endsWith(".DirectRunner")) {
            return DocumentsInFlight.UNLIMITED;
        }
        int limit = options.as(DocumentFlowOptions.class).getDocumentsInFlight();
        if (limit < 1) {
            throw new IllegalArgumentException("--documents-in-flight must be at least 1, got " + limit);
        }
        return limit;
    }

    @Override
    public PCollection<FileIO.ReadableFile> expand(PCollection<FileIO.ReadableFile> files) {
        int limit = limit(files.getPipeline().getOptions());
        PCollection<KV<String, Iterable<FileIO.ReadableFile>>> all = files
                .apply("OneList", WithKeys.<String, FileIO.ReadableFile>of(ALL_FILES)
                        .withKeyType(TypeDescriptors.strings()))
                .setCoder(KvCoder.of(StringUtf8Coder.of(), files.getCoder()))
                .apply("AllFiles", GroupByKey.create());
        if (limit == DocumentsInFlight.UNLIMITED) {
            return all.apply("EachFileOnce", ParDo.of(new EachFileOnceFn()))
                    .setCoder(files.getCoder())
                    .apply("SpreadFiles", Reshuffle.<FileIO.ReadableFile>viaRandomKey().withNumBuckets(SPREAD_KEYS));
        }
        return all.apply("QueueFiles", ParDo.of(new QueueFilesFn(runId)))
                .apply("FeedFiles", ParDo.of(new FeedFilesFn(runId, limit)))
                .setCoder(files.getCoder());
    }

    /** The files, each path once, in path order. */
    static List<FileIO.ReadableFile> eachOnce(Iterable<FileIO.ReadableFile> files) {
        TreeMap<String, FileIO.ReadableFile> byPath = new TreeMap<>();
        for (FileIO.ReadableFile file : files) {
            byPath.putIfAbsent(file.getMetadata().resourceId().toString(), file);
        }
        return new ArrayList<>(byPath.values());
    }

    private static final class EachFileOnceFn extends DoFn<KV<String, Iterable<FileIO.ReadableFile>>, FileIO.ReadableFile> {
        @ProcessElement
        public void process(@Element KV<String, Iterable<FileIO.ReadableFile>> all,
                OutputReceiver<FileIO.ReadableFile> out) {
            for (FileIO.ReadableFile file : eachOnce(all.getValue())) {
                out.output(file);
            }
        }
    }

    /** Puts the run's file list where the feed finds it, and hands the feed only its length. */
    private static final class QueueFilesFn extends DoFn<KV<String, Iterable<FileIO.ReadableFile>>, Long> {
        private final String runId;

        QueueFilesFn(String runId) {
            this.runId = runId;
        }

        @ProcessElement
        public void process(@Element KV<String, Iterable<FileIO.ReadableFile>> all, OutputReceiver<Long> out) {
            List<FileIO.ReadableFile> files = eachOnce(all.getValue());
            WAITING.put(runId, files);
            out.output((long) files.size());
        }
    }

    @DoFn.BoundedPerElement
    private static final class FeedFilesFn extends DoFn<Long, FileIO.ReadableFile> {
        private final String runId;
        private final int limit;

        FeedFilesFn(String runId, int limit) {
            this.runId = runId;
            this.limit = limit;
        }

        @GetInitialRestriction
        public OffsetRange all(@Element Long count) {
            return new OffsetRange(0, count);
        }

        @NewTracker
        public OffsetRangeTracker tracker(@Restriction OffsetRange range) {
            return new OffsetRangeTracker(range);
        }

        @GetRestrictionCoder
        public OffsetRange.Coder restrictionCoder() {
            return OffsetRange.Coder.of();
        }

        @ProcessElement
        public ProcessContinuation feed(RestrictionTracker<OffsetRange, Long> tracker,
                OutputReceiver<FileIO.ReadableFile> out) {
            List<FileIO.ReadableFile> files = WAITING.get(runId);
            if (files == null) {
                throw new IllegalStateException("run " + runId + " has no file list in this JVM: admission with a "
                        + "limit needs the Direct runner, where every step runs in one JVM");
            }
            long next = tracker.currentRestriction().getFrom();
            long group = Math.min(Math.min(GROUP, limit), files.size() - next);
            if (DocumentsInFlight.room(runId, limit) < group) {
                return ProcessContinuation.resume().withResumeDelay(RECHECK);
            }
            for (long end = next + group; next < end; next++) {
                if (!tracker.tryClaim(next)) {
                    // The runner took a checkpoint, and calls again for the rest.
                    return ProcessContinuation.stop();
                }
                DocumentsInFlight.admit(runId);
                out.output(files.get((int) next));
            }
            if (next >= files.size()) {
                WAITING.remove(runId);
                return ProcessContinuation.stop();
            }
            return ProcessContinuation.resume();
        }
    }
}
