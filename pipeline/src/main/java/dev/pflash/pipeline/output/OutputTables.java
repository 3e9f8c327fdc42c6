package dev.pflash.pipeline.output;

import dev.pflash.schemas.DocumentError;
import dev.pflash.schemas.DocumentTimings;
import dev.pflash.schemas.SummaryResult;
import org.apache.beam.sdk.values.TupleTag;

/** Tags of the three output tables in a {@code PCollectionTuple}. */
public final class OutputTables {
    public static final TupleTag<SummaryResult> RESULTS = new TupleTag<>() {
    };
    public static final TupleTag<DocumentTimings> TIMINGS = new TupleTag<>() {
    };
    public static final TupleTag<DocumentError> ERRORS = new TupleTag<>() {
    };

    private OutputTables() {
    }
}
