package dev.pflash.pipeline.output;

import dev.pflash.schemas.ClassifyResult;
import dev.pflash.schemas.DocumentError;
import dev.pflash.schemas.DocumentTimings;
import dev.pflash.schemas.SummaryResult;
import org.apache.beam.sdk.values.TupleTag;

/**
 * Tags of the output tables in a {@code PCollectionTuple}: a run writes results (summaries, or
 * classifications in a classify run), timings and errors.
 */
public final class OutputTables {
    public static final TupleTag<SummaryResult> RESULTS = new TupleTag<>() {
    };
    public static final TupleTag<ClassifyResult> CLASSIFICATIONS = new TupleTag<>() {
    };
    public static final TupleTag<DocumentTimings> TIMINGS = new TupleTag<>() {
    };
    public static final TupleTag<DocumentError> ERRORS = new TupleTag<>() {
    };

    private OutputTables() {
    }
}
