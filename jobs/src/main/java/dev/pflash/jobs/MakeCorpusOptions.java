package dev.pflash.jobs;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.Validation;

/** Options of {@code make-corpus}. */
public interface MakeCorpusOptions extends PipelineOptions {
    @Description("Files to write in all, good and bad")
    @Default.Integer(100)
    int getDocs();

    void setDocs(int value);

    @Description("Share of the files that are bad (corrupt, encrypted, zip bomb, misnamed, empty, random bytes,"
            + " whitespace only, one that hangs a parser, one that exhausts a parser's heap)")
    @Default.Double(0.1)
    double getBadFraction();

    void setBadFraction(double value);

    @Description("Share of the good documents that are long (40 to 60 paragraphs, enough for PFlash to compress)")
    @Default.Double(0.05)
    double getLongFraction();

    void setLongFraction(double value);

    @Description("Seed of every choice: the same options write the same bytes")
    @Default.Long(1)
    long getSeed();

    void setSeed(long value);

    @Description("Required. Directory to write: good documents go to <dir>/docs, bad files to <dir>/bad")
    @Validation.Required
    String getOutput();

    void setOutput(String value);
}
