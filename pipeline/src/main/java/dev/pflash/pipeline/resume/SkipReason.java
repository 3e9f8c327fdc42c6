package dev.pflash.pipeline.resume;

/** Why a resumed run skips a file: its content, under the same settings, already has a row. */
public enum SkipReason {
    HAS_RESULT("skipped_with_result"),
    HAS_FINAL_ERROR("skipped_with_final_error");

    private final String counter;

    SkipReason(String counter) {
        this.counter = counter;
    }

    /** The name of the run counter (namespace {@code pflash}) that counts these skips. */
    public String counter() {
        return counter;
    }
}
