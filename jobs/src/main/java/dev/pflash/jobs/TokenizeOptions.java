package dev.pflash.jobs;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;

/** Options of {@code pflash.jar tokenize}. */
public interface TokenizeOptions extends PipelineOptions {
    @Description("Model whose tokenizer to use: a GGUF file or synthetic:<preset>")
    @Default.String("sample-data/models/demo-target.gguf")
    String getModel();

    void setModel(String value);

    @Description("Text to tokenize (give this or --file)")
    String getText();

    void setText(String value);

    @Description("UTF-8 file whose whole content to tokenize (give this or --text)")
    String getFile();

    void setFile(String value);

    @Description("Print only the ids, as [id, id, ...]")
    @Default.Boolean(false)
    boolean getIds();

    void setIds(boolean value);

    @Description("Turn special-token text such as <|im_start|> into the special token, as llama-tokenize does")
    @Default.Boolean(true)
    boolean getParseSpecial();

    void setParseSpecial(boolean value);

    @Description("Never prepend BOS (by default it is prepended when the model's tokenizer asks for it)")
    @Default.Boolean(false)
    boolean getNoBos();

    void setNoBos(boolean value);
}
