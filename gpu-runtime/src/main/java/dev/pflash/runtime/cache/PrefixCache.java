package dev.pflash.runtime.cache;

import dev.pflash.runtime.backend.Backend;
import dev.pflash.runtime.backend.DeviceBuffer;
import dev.pflash.runtime.backend.ElementType;
import dev.pflash.runtime.model.KvCache;
import dev.pflash.runtime.model.ModelConfig;
import dev.pflash.runtime.model.RecurrentState;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;

/**
 * The KV of prompt prefixes that many prompts share (system prompt, instructions), kept for one
 * model so that each prompt prefills only what follows them.
 *
 * <p>Token ids are cut into blocks of {@link #blockTokens()}; only full blocks are kept. A block's
 * key hashes its tokens together with its parent's key, so it stands for every token from the
 * start of the sequence: the same tokens after a different beginning are another block, as their
 * keys and values differ. A lookup also compares the tokens and the parent, so a hash collision
 * is a miss, never wrong KV.
 *
 * <p>Blocks are evicted least recently used first, so that the blocks always fit the byte budget.
 * Every lookup and store touches the blocks of its chain from the last to the first: a parent is
 * then always more recent than its children, so eviction only ever takes a leaf (a chain is
 * never cut in the middle), and a block that many prompts share is touched by each of them and
 * stays longest.
 *
 * <p>The KV rows of a block are copied out of, and back into, the sequence's own {@link KvCache},
 * on the model's backend, in the caches' own element type (f16 or f32), so a restored prefix holds
 * exactly the bits its first computation stored and the budget counts the bytes really held.
 * Thread-safe: lookups and stores of different threads are serialized.
 *
 * <p>A hybrid (qwen35) model's DeltaNet layers keep no KV rows but a recurrent state that cannot be
 * rebuilt from rows: a block whose last token ends a stored sequence also keeps a snapshot of that
 * state ({@link ModelConfig#recurrentStateBytes()}, counted in the budget), and a lookup resumes
 * only at the end of a block that has one.
 */
public final class PrefixCache implements AutoCloseable {
    public static final int DEFAULT_BLOCK_TOKENS = 16;
    private static final long ROOT_KEY = 0x6A09E667F3BCC909L;

    private final ModelConfig model;
    private final Backend backend;
    private final ElementType type;
    private final long budgetBytes;
    private final int blockTokens;
    private final long blockBytes;
    /** Per layer, its place among the layers that keep KV rows; -1 for a DeltaNet layer. */
    private final int[] kvSlot;
    private int snapshots;
    /** In access order: the eldest entry is the least recently used block. */
    private final LinkedHashMap<Long, Block> blocks = new LinkedHashMap<>(64, 0.75f, true);
    private long lookups;
    private long lookupTokens;
    private long hitTokens;
    private long storedBlocks;
    private long evictedBlocks;

    /**
     * A cache for the KV of {@code model} on {@code backend}, stored as {@code type} (that of the
     * KV caches it serves), holding at most {@code budgetBytes} of blocks of {@code blockTokens}
     * tokens; a budget smaller than one block keeps nothing.
     */
    public PrefixCache(ModelConfig model, Backend backend, ElementType type, long budgetBytes, int blockTokens) {
        if (budgetBytes < 0) {
            throw new IllegalArgumentException("prefix cache budget must be >= 0 bytes, got " + budgetBytes);
        }
        if (blockTokens < 1) {
            throw new IllegalArgumentException("prefix cache blocks must hold >= 1 token, got " + blockTokens);
        }
        this.model = model;
        this.backend = backend;
        this.type = type;
        this.budgetBytes = budgetBytes;
        this.blockTokens = blockTokens;
        this.blockBytes = blockTokens * model.kvBytesPerToken(type);
        this.kvSlot = new int[model.layers()];
        int slot = 0;
        for (int l = 0; l < model.layers(); l++) {
            kvSlot[l] = model.layerKind(l).hasKvCache() ? slot++ : -1;
        }
    }

    /** How the KV of the caches this one serves, and of its blocks, is stored. */
    public ElementType type() {
        return type;
    }

    public int blockTokens() {
        return blockTokens;
    }

    /** Bytes of KV one block holds (keys and values of every layer). */
    public long blockBytes() {
        return blockBytes;
    }

    public long budgetBytes() {
        return budgetBytes;
    }

    /** Whether the budget holds at least one block; a cache that cannot hold one never hits. */
    public boolean enabled() {
        return budgetBytes >= blockBytes;
    }

    /**
     * Fills the empty {@code into} with the KV of the longest run of cached blocks that begins
     * {@code tokens}, and returns how many tokens that is (a multiple of the block size, 0 on a
     * miss). The caller prefills the rest after them.
     *
     * @throws IllegalArgumentException if {@code into} is not empty or belongs to another model
     */
    public synchronized int restore(int[] tokens, KvCache into) {
        checkModel(into);
        if (into.length() != 0) {
            throw new IllegalArgumentException("a prefix is restored into an empty KV cache, not one of "
                    + into.length() + " tokens");
        }
        lookups++;
        lookupTokens += tokens.length;
        List<Block> chain = cachedChain(tokens);
        touch(chain);
        if (hybrid()) {
            while (!chain.isEmpty() && chain.get(chain.size() - 1).state == null) {
                chain.remove(chain.size() - 1);
            }
        }
        int restored = chain.size() * blockTokens;
        if (restored == 0) {
            return 0;
        }
        into.reserve(restored);
        int dim = model.kvDim();
        int rows = blockTokens * dim;
        for (Block block : chain) {
            int start = into.length();
            for (int l = 0; l < model.layers(); l++) {
                if (kvSlot[l] >= 0) {
                    into.store(l, block.kv.slice(keyOffset(l), rows), block.kv.slice(valueOffset(l), rows), start,
                            blockTokens);
                }
            }
            into.commit(blockTokens);
        }
        if (hybrid()) {
            into.recurrent().orElseThrow().copyFrom(chain.get(chain.size() - 1).state);
        }
        hitTokens += restored;
        return restored;
    }

    /**
     * Caches the full blocks of {@code tokens} that are not cached yet, copying their KV from the
     * first rows of {@code from}, which must hold exactly those tokens' KV (rows beyond
     * {@code tokens} are ignored). Evicts least recently used blocks to stay within the budget;
     * stops early when the budget cannot hold the next block without evicting this chain's own.
     * For a hybrid model the last block also gets a snapshot of {@code from}'s recurrent state when
     * {@code from} holds exactly the full blocks of {@code tokens}, no more.
     *
     * @return blocks added
     */
    public synchronized int store(int[] tokens, KvCache from) {
        checkModel(from);
        if (!enabled()) {
            return 0;
        }
        int usable = Math.min(tokens.length, from.length());
        List<Block> chain = new ArrayList<>();
        Set<Block> pinned = Collections.newSetFromMap(new IdentityHashMap<>());
        long key = ROOT_KEY;
        Block parent = null;
        int added = 0;
        for (int start = 0; start + blockTokens <= usable; start += blockTokens) {
            key = chainKey(key, tokens, start, blockTokens);
            Block block = blocks.get(key);
            if (block == null) {
                if (!makeRoom(blockBytes, pinned)) {
                    break;
                }
                block = new Block(key, parent, Arrays.copyOfRange(tokens, start, start + blockTokens),
                        copyOut(from, start));
                blocks.put(key, block);
                storedBlocks++;
                added++;
            } else if (!block.continues(parent, tokens, start)) {
                // Another run of tokens holds this key (a 64-bit collision): keep it, stop here.
                break;
            }
            chain.add(block);
            pinned.add(block);
            parent = block;
        }
        Block last = chain.isEmpty() ? null : chain.get(chain.size() - 1);
        if (hybrid() && last != null && last.state == null && chain.size() * blockTokens == from.length()
                && makeRoom(model.recurrentStateBytes(), pinned)) {
            last.state = from.recurrent().orElseThrow().copy();
            snapshots++;
        }
        touch(chain);
        return added;
    }

    public synchronized PrefixCacheStats stats() {
        return new PrefixCacheStats(lookups, lookupTokens, hitTokens, storedBlocks, evictedBlocks, blocks.size(),
                bytes(), budgetBytes);
    }

    /** Drops every block. */
    public synchronized void clear() {
        blocks.values().forEach(Block::release);
        blocks.clear();
        snapshots = 0;
    }

    @Override
    public void close() {
        clear();
    }

    /** The cached blocks that begin {@code tokens}, first to last. */
    private List<Block> cachedChain(int[] tokens) {
        List<Block> chain = new ArrayList<>();
        long key = ROOT_KEY;
        Block parent = null;
        for (int start = 0; start + blockTokens <= tokens.length; start += blockTokens) {
            key = chainKey(key, tokens, start, blockTokens);
            Block block = blocks.get(key);
            if (block == null || !block.continues(parent, tokens, start)) {
                break;
            }
            chain.add(block);
            parent = block;
        }
        return chain;
    }

    /** Makes each block of the chain most recently used, the first one last, so parents outrank children. */
    private void touch(List<Block> chain) {
        for (int i = chain.size() - 1; i >= 0; i--) {
            blocks.get(chain.get(i).key);
        }
    }

    /** Evicts least recently used blocks, never a pinned one, until {@code needed} more bytes fit; false if not. */
    private boolean makeRoom(long needed, Set<Block> pinned) {
        while (bytes() + needed > budgetBytes) {
            Block victim = null;
            for (Iterator<Block> it = blocks.values().iterator(); it.hasNext(); ) {
                Block b = it.next();
                if (!pinned.contains(b)) {
                    victim = b;
                    it.remove();
                    break;
                }
            }
            if (victim == null) {
                return false;
            }
            if (victim.state != null) {
                snapshots--;
            }
            victim.release();
            evictedBlocks++;
        }
        return true;
    }

    private DeviceBuffer copyOut(KvCache from, int start) {
        int dim = model.kvDim();
        int rows = blockTokens * dim;
        DeviceBuffer kv = backend.allocate(Math.multiplyExact(2 * model.kvLayers(), rows), type);
        for (int l = 0; l < model.layers(); l++) {
            if (kvSlot[l] < 0) {
                continue;
            }
            backend.copy(from.keys(l).slice(start * dim, rows), kv.slice(keyOffset(l), rows));
            backend.copy(from.values(l).slice(start * dim, rows), kv.slice(valueOffset(l), rows));
        }
        return kv;
    }

    /** A block's buffer holds, per layer with KV rows, its keys then its values: {@code blockTokens * kvDim} elements each. */
    private int keyOffset(int layer) {
        return 2 * kvSlot[layer] * blockTokens * model.kvDim();
    }

    private int valueOffset(int layer) {
        return (2 * kvSlot[layer] + 1) * blockTokens * model.kvDim();
    }

    private long bytes() {
        return blocks.size() * blockBytes + snapshots * model.recurrentStateBytes();
    }

    private boolean hybrid() {
        return model.hybrid().isPresent();
    }

    private void checkModel(KvCache cache) {
        if (!cache.config().equals(model)) {
            throw new IllegalArgumentException("this prefix cache holds KV of model " + model.name()
                    + ", not of " + cache.config().name());
        }
        if (cache.type() != type) {
            throw new IllegalArgumentException("this prefix cache holds " + type + " KV, not " + cache.type());
        }
    }

    /**
     * The key of a block: its tokens hashed onto its parent's key (FNV-1a over the ids, then a
     * 64-bit finalizer so that nearby inputs spread over the whole key space).
     */
    static long chainKey(long parentKey, int[] tokens, int from, int count) {
        long h = parentKey;
        for (int i = from; i < from + count; i++) {
            h ^= tokens[i];
            h *= 0x100000001B3L;
        }
        h ^= h >>> 33;
        h *= 0xFF51AFD7ED558CCDL;
        h ^= h >>> 33;
        h *= 0xC4CEB9FE1A85EC53L;
        return h ^ (h >>> 33);
    }

    /**
     * One cached block: its key, the block before it (null for the first), its tokens, their KV rows
     * and, for a hybrid model, possibly the recurrent state after its last token.
     */
    private static final class Block {
        final long key;
        final Block parent;
        final int[] tokens;
        final DeviceBuffer kv;
        RecurrentState state;

        Block(long key, Block parent, int[] tokens, DeviceBuffer kv) {
            this.key = key;
            this.parent = parent;
            this.tokens = tokens;
            this.kv = kv;
        }

        /** Whether this block holds {@code tokens[start ..]} right after {@code expectedParent}. */
        boolean continues(Block expectedParent, int[] tokens, int start) {
            return parent == expectedParent
                    && Arrays.equals(this.tokens, 0, this.tokens.length, tokens, start, start + this.tokens.length);
        }

        void release() {
            kv.close();
            if (state != null) {
                state.close();
            }
        }
    }
}
