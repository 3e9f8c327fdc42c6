package dev.pflash.runtime.models;

import dev.pflash.runtime.gguf.GgmlType;
import dev.pflash.runtime.gguf.GgufValue;
import dev.pflash.runtime.gguf.GgufWriter;
import dev.pflash.runtime.gguf.InMemoryModelFile;
import dev.pflash.runtime.tokenizer.BpeTrainer;
import dev.pflash.runtime.tokenizer.PreTokenizer;
import dev.pflash.runtime.tokenizer.Vocabulary;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The tiny demo models committed under {@code sample-data/models/}: a qwen3 target and a qwen3
 * drafter sharing one BPE vocabulary trained by {@link BpeTrainer} on the project's sample text,
 * with random Q8_0 weights from a fixed seed. They exercise every mechanism (long contexts
 * included: their window is 131072 tokens) but their text is noise. The same corpus always
 * gives the same bytes, which a test checks against the committed files.
 */
public final class DemoModels {
    public static final String TARGET_FILE = "demo-target.gguf";
    public static final String DRAFTER_FILE = "demo-drafter.gguf";
    public static final String CORPUS_FILE = "tokenizer-corpus.txt";
    /** Metadata key that marks the demo models, so that jobs can say their output is noise. */
    public static final String KEY_DEMO = "pflash.demo";

    static final int VOCAB_SIZE = 4096;
    static final int CONTEXT = 131072;
    static final List<String> SPECIAL_TOKENS = List.of(SyntheticModels.SPECIAL_TOKENS);

    private DemoModels() {
    }

    /** Trains the vocabulary on {@code dir/tokenizer-corpus.txt} and writes both models into {@code dir}. */
    public static void generate(Path dir) {
        String corpus;
        try {
            corpus = Files.readString(dir.resolve(CORPUS_FILE), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the demo tokenizer corpus " + dir.resolve(CORPUS_FILE), e);
        }
        Vocabulary vocab = BpeTrainer.train(corpus, VOCAB_SIZE, PreTokenizer.QWEN2, SPECIAL_TOKENS);
        write(dir.resolve(TARGET_FILE), "pflash-demo-target",
                new SyntheticPreset("demo-target", 4, 256, 768, 4, 2, 64, VOCAB_SIZE, CONTEXT, true), vocab);
        write(dir.resolve(DRAFTER_FILE), "pflash-demo-drafter",
                new SyntheticPreset("demo-drafter", 2, 128, 384, 2, 1, 64, VOCAB_SIZE, CONTEXT, true), vocab);
    }

    private static void write(Path file, String name, SyntheticPreset preset, Vocabulary vocab) {
        InMemoryModelFile model = SyntheticModels.build(name, preset, new WeightTypes(GgmlType.Q8_0, false), CONTEXT, vocab, Map.of(KEY_DEMO, GgufValue.ofBool(true)));
        GgufWriter writer = new GgufWriter();
        model.metadata().asMap().forEach(writer::put);
        for (var info : model.tensorInfos()) {
            writer.addTensor(model.tensor(info.name()));
        }
        writer.write(file);
    }

}
