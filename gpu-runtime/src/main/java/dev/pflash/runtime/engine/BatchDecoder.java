package dev.pflash.runtime.engine;

import dev.pflash.runtime.model.KvCache;
import dev.pflash.runtime.model.Transformer;
import dev.pflash.runtime.sampling.Sampler;
import dev.pflash.runtime.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Decodes prefilled sequences together: each step runs the next token of every unfinished
 * sequence through the target in one packed forward pass, so the weights are read once per step
 * for the whole batch. Each sequence has its own sampler, seeded from its prompt id, and the
 * target computes each row independently of the others, so a sequence gets exactly the tokens it
 * would get decoded alone. (On the CPU, steps of {@code CpuBackend.PANEL_TOKENS} sequences or more
 * run the matmuls the prefill way: on Q8_0 weights the same bits, on other types logits within
 * float rounding of a step alone, so a near-tie between two tokens could break the other way.)
 */
final class BatchDecoder {
    private final Transformer target;
    private final Tokenizer tokenizer;

    BatchDecoder(Transformer target, Tokenizer tokenizer) {
        this.target = target;
        this.tokenizer = tokenizer;
    }

    /** Decodes each sequence until a stop token, {@code maxNewTokens} or the context window; outcomes in input order. */
    List<EngineOutcome> decode(List<Prefilled> prefilled, GenerationSettings settings) {
        int context = target.config().contextLength();
        long start = System.nanoTime();
        List<Sequence> all = new ArrayList<>(prefilled.size());
        for (Prefilled p : prefilled) {
            all.add(new Sequence(p, sampler(p.prompt(), settings), settings.maxNewTokens(), start));
        }
        if (settings.maxNewTokens() > 0) {
            for (Sequence s : all) {
                s.next = s.sampler.sample(s.prefilled.logits());
                s.firstNanos = System.nanoTime();
            }
            List<Sequence> active = all;
            while (true) {
                List<Sequence> stepping = new ArrayList<>(active.size());
                for (Sequence s : active) {
                    if (s.accept(tokenizer, context)) {
                        stepping.add(s);
                    }
                }
                active = stepping;
                if (active.isEmpty()) {
                    break;
                }
                step(active);
                active.removeIf(s -> s.error != null);
            }
        }
        List<EngineOutcome> out = new ArrayList<>(all.size());
        for (Sequence s : all) {
            out.add(s.outcome(tokenizer));
        }
        return out;
    }

    /** One packed decode step: every active sequence's next token in, its following token sampled. */
    private void step(List<Sequence> active) {
        List<KvCache> caches = new ArrayList<>(active.size());
        List<int[]> tokens = new ArrayList<>(active.size());
        List<int[]> positions = new ArrayList<>(active.size());
        List<float[]> logits = new ArrayList<>(active.size());
        for (Sequence s : active) {
            caches.add(s.prefilled.cache());
            s.token[0] = s.next;
            s.position[0] = s.prefilled.plan().nextPosition() + s.count - 1;
            tokens.add(s.token);
            positions.add(s.position);
            logits.add(s.logits);
        }
        try {
            target.forwardPacked(caches, tokens, positions, logits);
        } catch (RuntimeException e) {
            active.forEach(s -> s.fail(e));
            return;
        }
        for (Sequence s : active) {
            s.next = s.sampler.sample(s.logits);
        }
    }

    private static Sampler sampler(Prompt prompt, GenerationSettings settings) {
        return settings.temperature() == 0f ? Sampler.greedy()
                : new Sampler(settings.temperature(), settings.topK(), settings.topP(),
                        seedFor(prompt.id(), settings.seed()));
    }

    /** A per-prompt seed, so a prompt samples the same tokens whatever else is in its batch. */
    static long seedFor(String promptId, long seed) {
        long h = seed * 0x9E3779B97F4A7C15L + promptId.hashCode();
        h ^= h >>> 33;
        h *= 0xFF51AFD7ED558CCDL;
        return h ^ (h >>> 33);
    }

    /** The decoding state of one sequence. */
    private static final class Sequence {
        final Prefilled prefilled;
        final Sampler sampler;
        final int[] generated;
        /** This sequence's token, position and logits of a step, kept so that a step allocates none of them. */
        final int[] token = new int[1];
        final int[] position = new int[1];
        final float[] logits;
        int count;
        int next;
        long firstNanos;
        long endNanos;
        EngineResult.FinishReason reason = EngineResult.FinishReason.LENGTH;
        RuntimeException error;

        Sequence(Prefilled prefilled, Sampler sampler, int maxNewTokens, long startNanos) {
            this.prefilled = prefilled;
            this.sampler = sampler;
            this.generated = new int[maxNewTokens];
            this.logits = new float[prefilled.logits().length];
            this.firstNanos = startNanos;
            this.endNanos = startNanos;
        }

        /**
         * Takes the sampled token and says whether the sequence goes on (the token must then run
         * through the model) or has finished: a stop token, {@code maxNewTokens} or a full
         * context window.
         */
        boolean accept(Tokenizer tokenizer, int context) {
            boolean goesOn = false;
            if (tokenizer.isStopToken(next)) {
                reason = EngineResult.FinishReason.STOP;
            } else {
                generated[count++] = next;
                if (count == generated.length) {
                    reason = EngineResult.FinishReason.LENGTH;
                } else if (prefilled.cache().length() + 1 >= context) {
                    reason = EngineResult.FinishReason.CONTEXT;
                } else {
                    goesOn = true;
                }
            }
            endNanos = System.nanoTime();
            return goesOn;
        }

        void fail(RuntimeException e) {
            error = e;
        }

        EngineOutcome outcome(Tokenizer tokenizer) {
            Prompt prompt = prefilled.prompt();
            if (error != null) {
                return EngineOutcome.failed(prompt.id(), error);
            }
            int[] out = Arrays.copyOf(generated, count);
            return EngineOutcome.ok(new EngineResult(prompt.id(), tokenizer.decode(out), out, reason,
                    prefilled.tokens(count), prefilled.timings(firstNanos, endNanos),
                    prefilled.plan().selection().spans(), prefilled.plan().decision()));
        }
    }
}
