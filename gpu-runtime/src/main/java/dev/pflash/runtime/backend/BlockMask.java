package dev.pflash.runtime.backend;

import java.util.Arrays;

/**
 * Which key blocks each query block reads, per query head, for a run of consecutive query blocks
 * {@code firstQueryBlock ..}: ascending block indices, the diagonal block always among them (a query
 * always sees itself). Held on the host: a few bits per block pair, tiny beside the keys it selects.
 */
public final class BlockMask {
    private final int blockTokens;
    private final int heads;
    private final int firstQueryBlock;
    private final int queryBlocks;
    private final int[][] keyBlocks;

    /**
     * @param keyBlocks one ascending array per (head, query block), index {@code head * queryBlocks + b}
     *                  for query block {@code firstQueryBlock + b}
     * @throws IllegalArgumentException if a list is not ascending, reaches past its diagonal block or lacks it
     */
    public BlockMask(int blockTokens, int heads, int firstQueryBlock, int queryBlocks, int[][] keyBlocks) {
        if (blockTokens < 1 || heads < 1 || firstQueryBlock < 0 || queryBlocks < 0) {
            throw new IllegalArgumentException("block mask of " + heads + " heads, " + queryBlocks
                    + " query blocks from " + firstQueryBlock + ", blocks of " + blockTokens + " tokens");
        }
        if (keyBlocks.length != heads * queryBlocks) {
            throw new IllegalArgumentException(keyBlocks.length + " key block lists for " + heads + " heads x "
                    + queryBlocks + " query blocks");
        }
        this.blockTokens = blockTokens;
        this.heads = heads;
        this.firstQueryBlock = firstQueryBlock;
        this.queryBlocks = queryBlocks;
        this.keyBlocks = new int[keyBlocks.length][];
        for (int i = 0; i < keyBlocks.length; i++) {
            int m = firstQueryBlock + i % queryBlocks;
            int[] list = keyBlocks[i].clone();
            for (int j = 0; j < list.length; j++) {
                if (list[j] < 0 || list[j] > m || (j > 0 && list[j] <= list[j - 1])) {
                    throw new IllegalArgumentException("key blocks of query block " + m + " must be ascending in [0, "
                            + m + "]: " + Arrays.toString(list));
                }
            }
            if (list.length == 0 || list[list.length - 1] != m) {
                throw new IllegalArgumentException("key blocks of query block " + m
                        + " must include the diagonal block: " + Arrays.toString(list));
            }
            this.keyBlocks[i] = list;
        }
    }

    /** Every causal block of every row. */
    public static BlockMask dense(int blockTokens, int heads, int firstQueryBlock, int queryBlocks) {
        int[][] lists = new int[heads * queryBlocks][];
        for (int i = 0; i < lists.length; i++) {
            int[] all = new int[firstQueryBlock + i % queryBlocks + 1];
            Arrays.setAll(all, n -> n);
            lists[i] = all;
        }
        return new BlockMask(blockTokens, heads, firstQueryBlock, queryBlocks, lists);
    }

    public int blockTokens() {
        return blockTokens;
    }

    public int heads() {
        return heads;
    }

    public int firstQueryBlock() {
        return firstQueryBlock;
    }

    public int queryBlocks() {
        return queryBlocks;
    }

    /**
     * The key blocks that query block {@code queryBlock} (absolute index) reads for {@code head},
     * ascending; do not modify.
     */
    public int[] keyBlocks(int head, int queryBlock) {
        return keyBlocks[index(head, queryBlock)];
    }

    public boolean selects(int head, int queryBlock, int keyBlock) {
        return Arrays.binarySearch(keyBlocks[index(head, queryBlock)], keyBlock) >= 0;
    }

    /** Selected (head, query block, key block) triples. */
    public long selectedPairs() {
        long n = 0;
        for (int[] list : keyBlocks) {
            n += list.length;
        }
        return n;
    }

    /** Causal (head, query block, key block) triples: what dense attention reads. */
    public long causalPairs() {
        long n = 0;
        for (int b = 0; b < queryBlocks; b++) {
            n += firstQueryBlock + b + 1;
        }
        return n * heads;
    }

    private int index(int head, int queryBlock) {
        int b = queryBlock - firstQueryBlock;
        if (head < 0 || head >= heads || b < 0 || b >= queryBlocks) {
            throw new IndexOutOfBoundsException("head " + head + ", query block " + queryBlock + " outside a mask of "
                    + heads + " heads and query blocks " + firstQueryBlock + ".."
                    + (firstQueryBlock + queryBlocks - 1));
        }
        return head * queryBlocks + b;
    }
}
