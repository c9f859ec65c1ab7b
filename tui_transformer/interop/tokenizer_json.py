"""A tiktoken BPE as a Hugging Face ``tokenizer.json``, and a GPT-2 style tokenizer back as tiktoken ranks.

Both libraries run the same algorithm, byte-level BPE, but store it differently:

* **tiktoken** keeps only *ranks*: ``token bytes -> rank``, the rank being also the id. To encode a
  piece of text it starts from single bytes and repeatedly merges the adjacent pair whose
  concatenation has the lowest rank. A piece that is a whole token is taken at once.
* **Hugging Face** keeps a ``vocab`` (``token string -> id``) and an ordered list of ``merges``
  (pairs); it repeatedly applies the earliest merge in the list. Its token strings are bytes
  spelled with printable characters (GPT-2's ``bytes_to_unicode`` table: a space is ``Ġ``).
  ``ignore_merges: true`` takes a piece that is a whole token at once, as tiktoken does.

**Ranks -> merges** (as minbpe's ``recover_merges`` does for GPT-4): a token of rank ``r`` was made
by merging two tokens of lower rank. Which two is found by running BPE on the token's own bytes
with only the ranks below ``r``: it stops at exactly two parts. Listing the merges in rank order
makes the earliest merge the lowest-ranked concatenation, which is tiktoken's rule.

**Merges -> ranks** (importing GPT-2): the id of each merge's result must grow with its position in
the list, so that "lowest rank" and "earliest merge" agree; then the ranks are simply the ids.

Both sides split the text into pieces first with a regex (the *pre-tokenizer*); the same pattern is
written into ``tokenizer.json`` (:func:`hf_regex`). The tests encode the builtin corpus both ways,
with our BPE and with cl100k_base, and compare the ids.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import tiktoken

from tui_transformer.data.tokenizer import Tokenizer
from tui_transformer.errors import UserError

# What Hugging Face's GPT-2 pre-tokenizer (ByteLevel with use_regex=True) splits with: GPT-2's pattern.
GPT2_SPLIT_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


@lru_cache(maxsize=1)
def byte_to_char() -> dict[int, str]:
    """GPT-2's printable spelling of each byte: printable Latin-1 bytes stand for themselves, the
    other 68 (controls, space, ...) are shifted to code points 256 and up (a space becomes ``Ġ``)."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    table = {b: chr(b) for b in printable}
    shifted = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + shifted)
            shifted += 1
    return table


def spell(token: bytes) -> str:
    """Token bytes -> the string Hugging Face stores for them."""
    table = byte_to_char()
    return "".join(table[b] for b in token)


def unspell(text: str) -> bytes:
    """The inverse of :func:`spell`; a character outside the table is a :class:`UserError`."""
    reverse = {c: b for b, c in byte_to_char().items()}
    try:
        return bytes(reverse[c] for c in text)
    except KeyError as error:
        raise UserError(f"token {text!r} is not byte-level BPE (character {error.args[0]!r})") from None


def _split_in_two(token: bytes, ranks: dict[bytes, int]) -> tuple[bytes, bytes] | None:
    """BPE on ``token``'s own bytes using only ranks below its own: the two parts it was merged from."""
    limit = ranks[token]
    parts = [bytes([b]) for b in token]
    while len(parts) > 2:
        pairs = [(ranks.get(parts[i] + parts[i + 1], limit), i) for i in range(len(parts) - 1)]
        rank, i = min(pairs)
        if rank >= limit:
            return None  # no lower-ranked merge leads here: tiktoken can only take it whole
        parts[i:i + 2] = [parts[i] + parts[i + 1]]
    return (parts[0], parts[1]) if len(parts) == 2 else None


def merges_of(ranks: dict[bytes, int]) -> list[tuple[bytes, bytes]]:
    """The merge list, in rank order, that makes Hugging Face's BPE behave like tiktoken's ranks."""
    merges = []
    for token in sorted(ranks, key=ranks.__getitem__):
        if len(token) > 1 and (pair := _split_in_two(token, ranks)) is not None:
            merges.append(pair)
    return merges


BOUNDED_POSSESSIVE = re.compile(r"(\{\d+(?:,\d*)?\})\+")


def hf_regex(pattern: str) -> str:
    r"""tiktoken's split pattern in the dialect of Hugging Face's regex engine (Oniguruma).

    Both read ``?+ *+ ++`` as possessive, but Oniguruma reads ``{1,3}+`` as "one or more runs of
    1 to 3": GPT-4's ``\p{N}{1,3}+`` would then take a whole number at once (measured: 27 of the
    402 validation documents tokenized differently under cl100k_base). Dropping the ``+`` is exact
    when the repeat ends its alternative, as in GPT-4's pattern: with nothing after it, nothing can
    backtrack into it. Elsewhere the pattern is refused rather than approximated.
    """
    for match in BOUNDED_POSSESSIVE.finditer(pattern):
        if match.end() < len(pattern) and pattern[match.end()] != "|":
            raise UserError(f"the split pattern's {match.group(0)!r} (at {match.start()}) has no exact "
                            "equivalent in Hugging Face's regex engine")
    return BOUNDED_POSSESSIVE.sub(r"\1", pattern)


def tokenizer_json(tokenizer: Tokenizer) -> dict[str, Any]:
    """Our tokenizer as the ``tokenizer.json`` object that ``tokenizers.Tokenizer.from_file`` reads."""
    ranks = tokenizer.ranks
    specials = tokenizer.encoding._special_tokens  # noqa: SLF001  tiktoken keeps them private
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": token_id, "content": text, "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": False, "special": True}
            for text, token_id in sorted(specials.items(), key=lambda item: item[1])
        ],
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": hf_regex(tokenizer.encoding._pat_str)}, "behavior": "Isolated",  # noqa: SLF001
             "invert": False},
            byte_level,
        ]},
        "post_processor": None,
        "decoder": byte_level,
        "model": {
            "type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
            "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": True,
            "vocab": {spell(token): rank for token, rank in sorted(ranks.items(), key=lambda item: item[1])},
            "merges": [[spell(a), spell(b)] for a, b in merges_of(ranks)],
        },
    }


def tokenizer_config(tokenizer: Tokenizer, max_len: int) -> dict[str, Any]:
    """``tokenizer_config.json``: the generic fast tokenizer class, no custom code, end-of-text as BOS/EOS."""
    eot = tokenizer.encoding.decode_single_token_bytes(tokenizer.eot_id).decode("utf-8")
    return {"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": eot, "eos_token": eot, "pad_token": None,
            "unk_token": None, "model_max_length": max_len, "clean_up_tokenization_spaces": False,
            "add_prefix_space": False}


# ---- the other way: a GPT-2 style Hugging Face tokenizer as tiktoken ranks -----------------------

def read_hf_tokenizer(folder: Path, name: str) -> Tokenizer:
    """The byte-level BPE tokenizer of a Hugging Face folder (``tokenizer.json``, or ``vocab.json`` +
    ``merges.txt``) as one of ours; one clear line when it has no exact tiktoken equivalent."""
    if (folder / "tokenizer.json").is_file():
        data = _read_json(folder / "tokenizer.json")
        model = data.get("model") or {}
        if model.get("type") != "BPE":
            raise UserError(f"{folder}/tokenizer.json is a {model.get('type')!r} tokenizer, not byte-level BPE")
        vocab, merges = model.get("vocab") or {}, model.get("merges") or []
        pattern = _split_pattern(data.get("pre_tokenizer"), folder)
        specials = {t["content"]: t["id"] for t in data.get("added_tokens", []) if t.get("special")}
    elif (folder / "vocab.json").is_file() and (folder / "merges.txt").is_file():
        vocab = _read_json(folder / "vocab.json")
        lines = (folder / "merges.txt").read_text(encoding="utf-8").splitlines()
        merges = [line for line in lines if line and not line.startswith("#version")]
        pattern = GPT2_SPLIT_PATTERN
        specials = {t: i for t, i in vocab.items() if t == "<|endoftext|>"}
    else:
        raise UserError(f"{folder} has no tokenizer (tokenizer.json, or vocab.json and merges.txt)")
    return _tokenizer_from(vocab, merges, pattern, specials, name, folder)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UserError(f"cannot read {path} as JSON: {error}") from None


def _split_pattern(pre_tokenizer: dict | None, folder: Path) -> str:
    """The regex a ``tokenizer.json`` pre-tokenizer splits with: GPT-2's built-in one, or a Split's."""
    steps = (pre_tokenizer or {}).get("pretokenizers", [pre_tokenizer] if pre_tokenizer else [])
    kinds = [step.get("type") for step in steps]
    if kinds == ["ByteLevel"] and steps[0].get("use_regex", True) and not steps[0].get("add_prefix_space"):
        return GPT2_SPLIT_PATTERN
    if (kinds == ["Split", "ByteLevel"] and "Regex" in steps[0].get("pattern", {})
            and steps[0].get("behavior") == "Isolated" and not steps[1].get("use_regex", True)):
        return steps[0]["pattern"]["Regex"]
    raise UserError(f"{folder}/tokenizer.json pre-tokenizes with {kinds}, which tiktoken cannot reproduce exactly "
                    "(supported: GPT-2's ByteLevel, or a regex Split then ByteLevel)")


def _tokenizer_from(vocab: dict[str, int], merges: list, pattern: str, specials: dict[str, int], name: str,
                    folder: Path) -> Tokenizer:
    ranks = {unspell(text): token_id for text, token_id in vocab.items() if text not in specials}
    last = -1
    for merge in merges:
        left, right = merge.split(" ") if isinstance(merge, str) else merge
        token_id = vocab.get(left + right)
        if token_id is None or token_id <= last:
            raise UserError(f"{folder}: the merge {left!r} + {right!r} is not in id order, so tiktoken's ranks "
                            "cannot reproduce this tokenizer exactly")
        last = token_id
    if any(bytes([b]) not in ranks for b in range(256)):
        raise UserError(f"{folder}: the vocabulary lacks some of the 256 single bytes; not a byte-level BPE")
    if "<|endoftext|>" not in specials:
        raise UserError(f"{folder}: the tokenizer has no <|endoftext|> token")
    encoding = tiktoken.Encoding(name=name, pat_str=pattern, mergeable_ranks=ranks, special_tokens=specials)
    return Tokenizer(name, encoding, eot_id=specials["<|endoftext|>"])
