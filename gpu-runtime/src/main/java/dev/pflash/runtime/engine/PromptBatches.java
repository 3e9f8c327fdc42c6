package dev.pflash.runtime.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Splits a batch of prompts into the groups that the engine prefills together: prompts of one
 * group share their prefix, and the group's sequences hold at most a budget of tokens of KV
 * (prompt plus room for what follows), so that a batch never needs more memory than one sequence
 * filling that budget would.
 */
final class PromptBatches {
    private PromptBatches() {
    }

    /**
     * Indices of {@code prompts} by group, groups in order of their first prompt, prompts in input
     * order; a prompt above the budget on its own forms a group alone.
     */
    static List<List<Integer>> partition(List<Prompt> prompts, int extraTokens, long tokenBudget) {
        Map<PrefixKey, List<Integer>> byPrefix = new LinkedHashMap<>();
        for (int i = 0; i < prompts.size(); i++) {
            byPrefix.computeIfAbsent(new PrefixKey(prompts.get(i).prefixTokens()), k -> new ArrayList<>()).add(i);
        }
        List<List<Integer>> groups = new ArrayList<>();
        for (List<Integer> sharing : byPrefix.values()) {
            List<Integer> group = new ArrayList<>();
            long tokens = 0;
            for (int i : sharing) {
                long need = (long) prompts.get(i).length() + extraTokens;
                if (!group.isEmpty() && tokens + need > tokenBudget) {
                    groups.add(group);
                    group = new ArrayList<>();
                    tokens = 0;
                }
                group.add(i);
                tokens += need;
            }
            groups.add(group);
        }
        return groups;
    }

    /** Prefix token ids compared by value. */
    private record PrefixKey(int[] tokens) {
        @Override
        public boolean equals(Object o) {
            return o instanceof PrefixKey other && Arrays.equals(tokens, other.tokens);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(tokens);
        }

        @Override
        public String toString() {
            return "PrefixKey[" + tokens.length + " tokens]";
        }
    }
}
