package dev.pflash.jobs;

import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.Validation;

/** Options of {@code classify}, given as {@code --name=value}; {@code classify --help} lists them. */
public interface ClassifyOptions extends DocumentJobOptions {
    @Description("Required. Labels file (UTF-8): one label per line, optionally a tab and a description that the"
            + " prompt shows; lines starting with # are comments. sample-data/labels.txt fits the sample documents")
    @Validation.Required
    String getLabels();

    void setLabels(String value);
}
