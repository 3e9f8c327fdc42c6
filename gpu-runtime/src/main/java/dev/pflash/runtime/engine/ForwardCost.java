package dev.pflash.runtime.engine;

import dev.pflash.runtime.model.ModelConfig;

/**
 * The predicted time of one model's forward pass over a run of tokens on its backend: a count of
 * floating-point operations from the model's shape (the layers' weights once per token; attention
 * once per causal pair of query and key) times the milliseconds per operation that the engine
 * measured on this backend, at start and after every pass it times. Operations rather than a fitted
 * curve, so that one short measurement predicts long prompts: the quadratic term comes from the
 * shape, not from timings too short to show it.
 */
public final class ForwardCost {
    /** Weight of a new measurement against what was known: later passes, on real prompts, count more. */
    private static final double LEARNING_RATE = 0.3;

    private final String model;
    private final double linearFlopsPerToken;
    private final double attentionFlopsPerPair;
    private double msPerFlop;

    ForwardCost(String model, double linearFlopsPerToken, double attentionFlopsPerPair, double msPerFlop) {
        if (!(msPerFlop > 0) || !(linearFlopsPerToken > 0) || attentionFlopsPerPair < 0) {
            throw new IllegalArgumentException("forward cost of " + model + " needs positive figures, got "
                    + msPerFlop + " ms per operation, " + linearFlopsPerToken + " per token, " + attentionFlopsPerPair
                    + " per pair");
        }
        this.model = model;
        this.linearFlopsPerToken = linearFlopsPerToken;
        this.attentionFlopsPerPair = attentionFlopsPerPair;
        this.msPerFlop = msPerFlop;
    }

    /** The cost of {@code config}'s forward pass, measured as {@code ms} for {@code tokens} tokens from position 0. */
    public static ForwardCost measured(ModelConfig config, int tokens, double ms) {
        ForwardCost shape = new ForwardCost(config.name(), linearFlops(config), attentionFlops(config), 1);
        return new ForwardCost(config.name(), shape.linearFlopsPerToken, shape.attentionFlopsPerPair,
                Math.max(ms, 1e-6) / shape.flops(0, tokens));
    }

    /** Multiply-adds of the layers' weight matrices, twice (multiply and add), for one token. */
    private static double linearFlops(ModelConfig c) {
        double e = c.embeddingDim();
        double perLayer = e * c.queryDim() + 2 * e * c.kvDim() + (double) c.queryDim() * e + 3 * e * c.ffnDim();
        return 2 * perLayer * c.layers();
    }

    /** Scores and weighted values of every head for one query against one key, over all layers. */
    private static double attentionFlops(ModelConfig c) {
        return 4.0 * c.layers() * c.heads() * c.headDim();
    }

    /** Operations of a pass over {@code tokens} tokens that follow {@code before} tokens already in the cache. */
    double flops(int before, int tokens) {
        double pairs = (double) tokens * before + (double) tokens * (tokens + 1) / 2;
        return linearFlopsPerToken * tokens + attentionFlopsPerPair * pairs;
    }

    /** Predicted milliseconds of a pass over {@code tokens} tokens after {@code before} cached ones. */
    public synchronized double predictMs(int before, int tokens) {
        return tokens <= 0 ? 0 : msPerFlop * flops(before, tokens);
    }

    /** Folds a timed pass into the rate, so that predictions follow what this backend really does. */
    public synchronized void observe(int before, int tokens, double ms) {
        if (tokens > 0 && ms > 0) {
            msPerFlop += LEARNING_RATE * (ms / flops(before, tokens) - msPerFlop);
        }
    }

    public String model() {
        return model;
    }

    /** Operations per millisecond as measured so far: the backend's throughput on this model. */
    public synchronized double flopsPerMs() {
        return 1 / msPerFlop;
    }
}
