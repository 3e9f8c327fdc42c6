package dev.pflash.runtime.tokenizer;

import dev.pflash.runtime.gguf.GgufMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;

/**
 * Byte-level BPE tokenizer with llama.cpp semantics (see GGUF-QWEN3.md section 5):
 * special tokens are cut out first, the rest is split by the {@link PreTokenizer} regex, each
 * piece's UTF-8 bytes become byte-level symbols and are merged lowest merge rank first.
 * Decoding turns tokens back into bytes and UTF-8-decodes the whole stream, since a token may
 * hold part of a character.
 *
 * <p>Thread-safe: all state is immutable except a bounded cache of piece encodings.
 */
public final class Tokenizer {
    private static final Logger LOG = LoggerFactory.getLogger(Tokenizer.class);

    /** Entries in the piece cache before it is emptied; a piece is a word or less, so this is a few MB. */
    private static final int PIECE_CACHE_LIMIT = 1 << 16;
    /** Longer pieces (CJK runs, long white space) rarely repeat and are not cached. */
    private static final int MAX_CACHED_PIECE_CHARS = 64;
    /** End-of-turn tokens of the chat formats this runtime knows; each stops generation if CONTROL. */
    private static final Set<String> END_OF_TURN_TEXTS = Set.of(
            "<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|eom_id|>", "<|end_of_text|>", "<|end|>", "<end_of_turn>");
    private static final byte[] NO_BYTES = new byte[0];

    private final Vocabulary vocabulary;
    private final Map<String, Integer> tokenIds;
    private final BpeMerges merges;
    private final SpecialTokenSplitter specials;
    private final byte[][] tokenBytes;
    private final TokenType[] tokenTypes;
    private final int[] stopTokenIds;
    private final Map<String, int[]> pieceCache = new ConcurrentHashMap<>();

    public Tokenizer(Vocabulary vocabulary) {
        this.vocabulary = vocabulary;
        int n = vocabulary.size();
        this.tokenIds = new HashMap<>(n * 2);
        this.tokenBytes = new byte[n][];
        this.tokenTypes = new TokenType[n];
        Set<Integer> stops = new TreeSet<>();
        if (vocabulary.eosId() != Vocabulary.NO_TOKEN) {
            stops.add(vocabulary.eosId());
        }
        for (int id = 0; id < n; id++) {
            String text = vocabulary.token(id);
            TokenType type = vocabulary.tokenType(id);
            tokenIds.put(text, id);
            tokenTypes[id] = type;
            // A BYTE token in a byte-level vocabulary is one mapped byte character; recent llama.cpp
            // decodes it as that byte rather than dropping it.
            tokenBytes[id] = switch (type) {
                case NORMAL, BYTE -> ByteLevelCodec.decode(text);
                case CONTROL, UNKNOWN, USER_DEFINED -> text.getBytes(StandardCharsets.UTF_8);
                case UNUSED -> NO_BYTES;
            };
            if (type == TokenType.CONTROL && END_OF_TURN_TEXTS.contains(text)) {
                stops.add(id);
            }
        }
        this.stopTokenIds = stops.stream().mapToInt(Integer::intValue).toArray();
        this.merges = new BpeMerges(vocabulary, tokenIds);
        this.specials = new SpecialTokenSplitter(vocabulary);
        LOG.debug("Tokenizer: {} tokens, {} merges, pre-tokenizer {}, {} special tokens, stop ids {}",
                n, vocabulary.merges().size(), vocabulary.preTokenizerName(), specials.size(), stops);
    }

    /** The tokenizer stored in a model's metadata; see {@link Vocabulary#fromMetadata}. */
    public static Tokenizer fromMetadata(GgufMetadata metadata) {
        return new Tokenizer(Vocabulary.fromMetadata(metadata));
    }

    public Vocabulary vocabulary() {
        return vocabulary;
    }

    /** The chat format that fits this vocabulary; see {@link ChatTemplate#forVocabulary}. */
    public ChatTemplate chatTemplate() {
        return ChatTemplate.forVocabulary(vocabulary);
    }

    /**
     * Token ids of {@code text}, special-token text (such as {@code <|im_end|>}) becoming the
     * special token, without BOS. Use for trusted text such as templates; for document text use
     * {@link #encode(String, boolean)} with {@code parseSpecial = false}.
     */
    public int[] encode(String text) {
        return encode(text, true);
    }

    /**
     * Token ids of {@code text}, without BOS. With {@code parseSpecial} false only USER_DEFINED
     * tokens (such as {@code <think>}) are matched as whole strings; CONTROL token text is
     * encoded as ordinary text, so a document cannot inject turn markers.
     *
     * @throws IllegalArgumentException when the text has a byte for which the vocabulary has no
     *                                  token and no merge, naming the byte
     */
    public int[] encode(String text, boolean parseSpecial) {
        IntList out = new IntList(text.length() / 3 + 8);
        Matcher matcher = vocabulary.preTokenizer().pattern().matcher(text);
        for (SpecialTokenSplitter.Fragment f : specials.split(text, parseSpecial)) {
            if (f.isToken()) {
                out.add(f.tokenId());
                continue;
            }
            // Region bounds are opaque: the look-ahead in "\s+(?!\S)" must not see past the fragment.
            matcher.region(f.start(), f.end());
            while (matcher.find()) {
                out.addAll(encodePiece(text, matcher.start(), matcher.end()));
            }
        }
        return out.toArray();
    }

    /**
     * Like {@link #encode(String)}, with BOS prepended when the vocabulary asks for it
     * ({@link Vocabulary#addBos()}) and the text does not already begin with BOS (a template that
     * writes {@code <|begin_of_text|>} itself does not get a second one).
     */
    public int[] encodeWithBos(String text) {
        return encodeWithBos(text, true);
    }

    /** {@link #encodeWithBos(String)} with the {@code parseSpecial} choice of {@link #encode(String, boolean)}. */
    public int[] encodeWithBos(String text, boolean parseSpecial) {
        int[] ids = encode(text, parseSpecial);
        int bos = vocabulary.bosId();
        if (!vocabulary.addBos() || bos == Vocabulary.NO_TOKEN || (ids.length > 0 && ids[0] == bos)) {
            return ids;
        }
        int[] withBos = new int[ids.length + 1];
        withBos[0] = bos;
        System.arraycopy(ids, 0, withBos, 1, ids.length);
        return withBos;
    }

    /** The text of {@code ids}, CONTROL tokens left out; invalid UTF-8 becomes U+FFFD. */
    public String decode(int[] ids) {
        return decode(ids, false);
    }

    /** The text of {@code ids}; with {@code showSpecial} CONTROL and UNKNOWN token text is included. */
    public String decode(int[] ids, boolean showSpecial) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(ids.length * 4);
        for (int id : ids) {
            bytes.writeBytes(tokenBytes(id, showSpecial));
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /** A decoder for tokens arriving one at a time, CONTROL tokens left out. */
    public TokenDecoder newDecoder() {
        return new TokenDecoder(this, false);
    }

    /** A decoder for tokens arriving one at a time. */
    public TokenDecoder newDecoder(boolean showSpecial) {
        return new TokenDecoder(this, showSpecial);
    }

    public int vocabSize() {
        return vocabulary.size();
    }

    /** BOS id, or {@link Vocabulary#NO_TOKEN}. */
    public int bosId() {
        return vocabulary.bosId();
    }

    /** EOS id, or {@link Vocabulary#NO_TOKEN}. */
    public int eosId() {
        return vocabulary.eosId();
    }

    /**
     * Ids that end generation, ascending: EOS and the CONTROL end-of-turn tokens the vocabulary
     * has ({@code <|im_end|>}, {@code <|endoftext|>}, {@code <|eot_id|>}, ...).
     */
    public int[] stopTokenIds() {
        return stopTokenIds.clone();
    }

    public boolean isStopToken(int id) {
        return Arrays.binarySearch(stopTokenIds, id) >= 0;
    }

    /** The id of the token whose stored text is {@code tokenText} (byte-level form for normal tokens). */
    public OptionalInt tokenId(String tokenText) {
        Integer id = tokenIds.get(tokenText);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** The stored text of token {@code id}. */
    public String tokenText(int id) {
        checkId(id);
        return vocabulary.token(id);
    }

    public TokenType tokenType(int id) {
        checkId(id);
        return tokenTypes[id];
    }

    /** The bytes token {@code id} stands for; none for suppressed CONTROL/UNKNOWN and for UNUSED. */
    byte[] tokenBytes(int id, boolean showSpecial) {
        checkId(id);
        TokenType type = tokenTypes[id];
        if (!showSpecial && (type == TokenType.CONTROL || type == TokenType.UNKNOWN)) {
            return NO_BYTES;
        }
        return tokenBytes[id];
    }

    private void checkId(int id) {
        if (id < 0 || id >= tokenBytes.length) {
            throw new IllegalArgumentException("token id " + id + " is out of range: the vocabulary has "
                    + tokenBytes.length + " tokens (ids 0.." + (tokenBytes.length - 1) + ")");
        }
    }

    private int[] encodePiece(String text, int start, int end) {
        if (end - start > MAX_CACHED_PIECE_CHARS) {
            return bpe(text, start, end);
        }
        String piece = text.substring(start, end);
        int[] cached = pieceCache.get(piece);
        if (cached != null) {
            return cached;
        }
        int[] ids = bpe(text, start, end);
        if (pieceCache.size() >= PIECE_CACHE_LIMIT) {
            pieceCache.clear();
        }
        pieceCache.put(piece, ids);
        return ids;
    }

    /**
     * BPE of one piece: repeatedly merge the adjacent pair with the lowest rank (ties: leftmost)
     * until no pair has a rule. A min-heap holds (rank, left position) candidates; an entry is
     * stale when its left symbol was merged away or its right neighbour changed, which is checked
     * by looking the current pair's rank up again.
     */
    private int[] bpe(String text, int start, int end) {
        byte[] bytes = ByteLevelCodec.utf8(text, start, end);
        if (vocabulary.preTokenizer().ignoresMerges()) {
            Integer whole = tokenIds.get(ByteLevelCodec.encode(bytes));
            if (whole != null) {
                return new int[] {whole};
            }
        }
        int n = bytes.length;
        int[] symbols = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0; i < n; i++) {
            symbols[i] = merges.byteSymbol(bytes[i] & 0xFF);
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        LongMinHeap candidates = new LongMinHeap(n);
        for (int i = 0; i + 1 < n; i++) {
            addCandidate(candidates, symbols, i, i + 1);
        }
        while (!candidates.isEmpty()) {
            long top = candidates.poll();
            int rank = (int) (top >>> 32);
            int left = (int) top;
            int right = next[left];
            if (symbols[left] < 0 || right < 0 || merges.rank(symbols[left], symbols[right]) != rank) {
                continue;
            }
            symbols[left] = merges.mergedSymbol(rank);
            symbols[right] = -1;
            int after = next[right];
            next[left] = after;
            if (after >= 0) {
                prev[after] = left;
                addCandidate(candidates, symbols, left, after);
            }
            if (prev[left] >= 0) {
                addCandidate(candidates, symbols, prev[left], left);
            }
        }
        IntList out = new IntList(n);
        for (int i = 0; i >= 0; i = next[i]) {
            if (merges.isToken(symbols[i])) {
                out.add(symbols[i]);
            } else {
                spellOut(merges.extraSymbolText(symbols[i]), out);
            }
        }
        return out.toArray();
    }

    private void addCandidate(LongMinHeap candidates, int[] symbols, int left, int right) {
        int rank = merges.rank(symbols[left], symbols[right]);
        if (rank >= 0) {
            candidates.add(((long) rank << 32) | left);
        }
    }

    /** A symbol that is not a token falls back to one token per byte, as in llama.cpp. */
    private void spellOut(String byteLevelText, IntList out) {
        for (int i = 0; i < byteLevelText.length(); i++) {
            char c = byteLevelText.charAt(i);
            Integer id = tokenIds.get(String.valueOf(c));
            if (id == null) {
                int b = ByteLevelCodec.byteOf(c);
                String what = b >= 0 ? String.format("byte 0x%02X (stored as \"%c\")", b, c) : "symbol \"" + c + "\"";
                throw new IllegalArgumentException("cannot encode text: the vocabulary has no token for " + what
                        + " and no merge that covers it");
            }
            out.add(id);
        }
    }
}
