package dev.pflash.jobs;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;

/**
 * Options of {@code make-corpus}. Beam checks a property against every options interface a JVM
 * has parsed, so {@code seed} and {@code output} carry the other commands' defaults and
 * annotations; the command itself insists on {@code --output}.
 */
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
    @Default.Long(42)
    long getSeed();

    void setSeed(long value);

    @Description("Required. Directory to write: good documents go to <dir>/docs, bad files to <dir>/bad")
    String getOutput();

    void setOutput(String value);
}
