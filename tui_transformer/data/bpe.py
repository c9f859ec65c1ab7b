"""Training a byte-level BPE tokenizer, from scratch, in a few seconds.

Byte-pair encoding starts from the 256 possible bytes and repeatedly *merges* the most frequent
adjacent pair of tokens into a new token, until the vocabulary has the requested size. The merges,
in the order they were learned, are the tokenizer: rank ``r`` is the ``r``-th token
(ranks 0..255 are the single bytes). Encoding a text then replays the merges, lowest rank first,
which is exactly what ``tiktoken`` does, so we save the ranks in tiktoken's ``.tiktoken`` format
(``base64(token_bytes) rank`` per line) and let tiktoken's fast Rust encoder do the encoding.

Two ideas make training fast enough for a CPU:

1. **Unique pre-tokens.** The text is first cut by the GPT-4 split pattern into *pre-tokens*
   (words with their leading space, runs of digits, punctuation...). Merges never cross a
   pre-token boundary, so we only need each distinct pre-token once, with its count: about 1 MB of
   English prose has ~200k pre-tokens but only ~30k distinct ones.
2. **Incremental pair counts.** We keep ``pair -> count`` and ``pair -> words that contain it``.
   A merge only touches the words that contain the merged pair, so we update just their pair
   counts instead of recounting the corpus; a heap with lazy deletion finds the best pair.

Both passes report their progress (:mod:`tui_transformer.progress`): the texts counted, then the
vocabulary learnt so far, so a dashboard can show it while a learner waits.

Ties between equally frequent pairs are broken by the smaller (left id, right id), so training is
deterministic: the same text and vocabulary size give the same file on every machine.

Byte-level means the round trip ``decode(encode(text)) == text`` holds for every string that is
valid Unicode (emoji, combining marks, right-to-left text, ``U+FFFD``, noncharacters...): any
byte sequence has an encoding, at worst one token per byte. (A Python string may also hold a lone
surrogate such as ``"\ud800"``, which has no UTF-8 form; tiktoken encodes it as ``U+FFFD``.)
"""

from __future__ import annotations

import base64
import heapq
from collections import Counter
from collections.abc import Iterable

import regex

from tui_transformer.atomic import write_bytes_atomic
from tui_transformer.progress import report

# The GPT-4 (cl100k_base) split pattern: contractions, words with one leading non-letter,
# numbers of at most 3 digits, punctuation runs, and whitespace handled so that " word" keeps its space.
GPT4_SPLIT_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)

Pair = tuple[int, int]
# the stages its progress reports name (tui_transformer.progress): seconds each on a megabyte of text
COUNTING, MERGING = "tokenizer: counting words", "tokenizer: learning merges"


def count_pretokens(texts: Iterable[str], pattern: str = GPT4_SPLIT_PATTERN) -> Counter[bytes]:
    """How often each distinct pre-token (as UTF-8 bytes) occurs in ``texts``."""
    compiled = regex.compile(pattern)
    counts: Counter[str] = Counter()
    texts = list(texts)
    for done, text in enumerate(texts):
        report(COUNTING, done, len(texts), "texts")
        counts.update(compiled.findall(text))
    report(COUNTING, len(texts), len(texts), "texts")
    return Counter({piece.encode("utf-8"): n for piece, n in counts.items()})


def train_bpe(texts: Iterable[str], vocab_size: int, pattern: str = GPT4_SPLIT_PATTERN) -> list[bytes]:
    """Learn merges until there are ``vocab_size`` tokens; return every token's bytes, by rank.

    The result starts with the 256 single bytes. Training stops early when no pair occurs twice
    (nothing left to learn), so a tiny corpus can give fewer tokens than asked for.
    """
    if vocab_size < 256:
        raise ValueError(f"a byte-level vocabulary needs at least 256 tokens, got {vocab_size}")
    counted = count_pretokens(texts, pattern)
    words = [list(piece) for piece in sorted(counted)]  # sorted: a deterministic word order
    freqs = [counted[bytes(w)] for w in words]
    merger = _Merger(words, freqs)
    return merger.run(vocab_size)


class _Merger:
    """The incremental merge loop over distinct pre-tokens (see the module docstring)."""

    def __init__(self, words: list[list[int]], freqs: list[int]) -> None:
        self.words = words
        self.freqs = freqs
        self.vocab: list[bytes] = [bytes([b]) for b in range(256)]
        self.ids: dict[bytes, int] = {tok: i for i, tok in enumerate(self.vocab)}
        self.pair_counts: Counter[Pair] = Counter()
        self.where: dict[Pair, set[int]] = {}
        for index, word in enumerate(words):
            self._count_pairs(index, word)
        self.heap = [(-count, pair) for pair, count in self.pair_counts.items()]
        heapq.heapify(self.heap)

    def _count_pairs(self, index: int, word: list[int]) -> None:
        for pair in zip(word, word[1:]):
            self.pair_counts[pair] += self.freqs[index]
            self.where.setdefault(pair, set()).add(index)

    def _best_pair(self) -> Pair | None:
        """Pop stale heap entries until the top one matches the current count."""
        while self.heap:
            neg_count, pair = self.heap[0]
            if self.pair_counts.get(pair, 0) == -neg_count:
                return pair if -neg_count >= 2 else None
            heapq.heappop(self.heap)
        return None

    def run(self, vocab_size: int) -> list[bytes]:
        while len(self.vocab) < vocab_size:
            report(MERGING, len(self.vocab), vocab_size, "tokens")
            pair = self._best_pair()
            if pair is None:
                break
            self._merge(pair)
        report(MERGING, vocab_size, vocab_size, "tokens")  # done (early, when nothing was left to merge)
        return self.vocab

    def _merge(self, pair: Pair) -> None:
        merged = self.vocab[pair[0]] + self.vocab[pair[1]]
        # Two different pairs can spell the same bytes ("ab"+"c" and "a"+"bc"); reuse the token.
        new_id = self.ids.get(merged)
        if new_id is None:
            new_id = len(self.vocab)
            self.vocab.append(merged)
            self.ids[merged] = new_id
        delta: dict[Pair, int] = {}  # net change of each pair's count over the affected words
        for index in sorted(self.where.pop(pair, ())):
            word = self.words[index]
            new_word = _replace_pair(word, pair, new_id)
            if len(new_word) == len(word):
                continue  # a stale entry: this word no longer contains the pair
            freq = self.freqs[index]
            for old_pair in zip(word, word[1:]):
                delta[old_pair] = delta.get(old_pair, 0) - freq
            for new_pair in zip(new_word, new_word[1:]):
                delta[new_pair] = delta.get(new_pair, 0) + freq
                self.where.setdefault(new_pair, set()).add(index)
            self.words[index] = new_word
        for changed, change in delta.items():
            if change == 0:
                continue
            count = self.pair_counts[changed] + change
            if count > 0:
                self.pair_counts[changed] = count
                heapq.heappush(self.heap, (-count, changed))
            else:
                self.pair_counts.pop(changed, None)
        self.pair_counts.pop(pair, None)


def _replace_pair(word: list[int], pair: Pair, new_id: int) -> list[int]:
    """``word`` with every non-overlapping occurrence of ``pair``, left to right, replaced by ``new_id``."""
    out: list[int] = []
    i = 0
    a, b = pair
    while i < len(word):
        if i + 1 < len(word) and word[i] == a and word[i + 1] == b:
            out.append(new_id)
            i += 2
        else:
            out.append(word[i])
            i += 1
    return out


def write_tiktoken_file(path, tokens: list[bytes]) -> None:
    """Write ranks in tiktoken's format: one ``base64(bytes) rank`` line per token (atomically)."""
    lines = [f"{base64.b64encode(tok).decode('ascii')} {rank}\n" for rank, tok in enumerate(tokens)]
    write_bytes_atomic(path, "".join(lines).encode("ascii"))


def read_tiktoken_file(path) -> dict[bytes, int]:
    """Parse a ``.tiktoken`` ranks file (the inverse of :func:`write_tiktoken_file`)."""
    ranks: dict[bytes, int] = {}
    for number, line in enumerate(path.read_text(encoding="ascii").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            token, rank = line.split()
            ranks[base64.b64decode(token, validate=True)] = int(rank)
        except ValueError as error:
            raise ValueError(f"{path}: line {number} is not 'base64 rank': {line[:60]!r}") from error
    return ranks
