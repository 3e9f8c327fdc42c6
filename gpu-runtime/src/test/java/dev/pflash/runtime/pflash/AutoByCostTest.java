package dev.pflash.runtime.pflash;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pflash.runtime.engine.CompressionSettings;
import dev.pflash.runtime.engine.EngineConfig;
import dev.pflash.runtime.engine.EngineResult;
import dev.pflash.runtime.engine.GenerationSettings;
import dev.pflash.runtime.engine.LocalEngine;
import dev.pflash.runtime.engine.Prompt;
import dev.pflash.runtime.engine.PromptText;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** PFlash {@code auto} by cost on the demo pair: measured at start, compressing above the crossover only. */
class AutoByCostTest {
    @Test
    void autoByCostCompressesABodyAboveTheCrossoverAndLeavesOneBelowItAlone() throws IOException {
        String corpus = Files.readString(Path.of("../sample-data/models/tokenizer-corpus.txt"));
        EngineConfig config = new EngineConfig(PflashEngineTest.DEMO_TARGET, PflashEngineTest.DEMO_DRAFTER, "cpu", 2,
                null, CompressionSettings.defaults(), 0);
        try (LocalEngine engine = LocalEngine.open(config)) {
            Integer crossover = engine.info().compressionCrossover();
            assertThat(crossover).isNotNull().isGreaterThan(32 * (8 + 24));
            Prompt shortOne = engine.tokenize("short", new PromptText("Summarize.\n", corpus.substring(0, 1_500),
                    "\nSummary:"));
            // Far above the crossover wherever it is measured: about 11K tokens against 1.3-2.8K seen so far.
            Prompt longOne = engine.tokenize("long", new PromptText("Summarize.\n", corpus.substring(0, 40_000),
                    "\nSummary:"));
            assertThat(shortOne.bodyTokens().length).isLessThan(crossover);
            assertThat(longOne.bodyTokens().length).isGreaterThan(crossover + 512);

            EngineResult below = engine.generate(shortOne, GenerationSettings.greedy(1));
            EngineResult above = engine.generate(longOne, GenerationSettings.greedy(1));

            assertThat(below.compression().columnValue()).isEqualTo("cost:dense");
            assertThat(below.tokens().keptBody()).isEqualTo(shortOne.bodyTokens().length);
            assertThat(below.timings().draftMs()).isZero();
            assertThat(above.compression().columnValue()).isEqualTo("cost:compress");
            assertThat(above.compression().predictedPflashMs()).isLessThan(above.compression().predictedDenseMs());
            assertThat(above.tokens().keptBody()).isLessThan(longOne.bodyTokens().length);
            assertThat(above.keySpans()).isNotEmpty();
        }
    }

    @Test
    void anExplicitThresholdOverridesTheCost() throws IOException {
        String corpus = Files.readString(Path.of("../sample-data/models/tokenizer-corpus.txt"));
        EngineConfig config = new EngineConfig(PflashEngineTest.DEMO_TARGET, PflashEngineTest.DEMO_DRAFTER, "cpu", 2,
                null, CompressionSettings.defaults().withThreshold(1_000_000), 0);
        try (LocalEngine engine = LocalEngine.open(config)) {
            assertThat(engine.info().compressionCrossover()).isNull();
            Prompt longOne = engine.tokenize("long", new PromptText("Summarize.\n", corpus.substring(0, 10_000),
                    "\nSummary:"));
            EngineResult r = engine.generate(longOne, GenerationSettings.greedy(1));
            assertThat(r.compression().columnValue()).isEqualTo("threshold:dense");
            assertThat(r.tokens().keptBody()).isEqualTo(longOne.bodyTokens().length);
        }
    }
}
