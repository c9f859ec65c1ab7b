"""Live panel 1, tokenization: the prompt cut into tokens by the run's tokenizer and by cl100k,
and the byte-pair merges that build its longest word.

**BPE, replayed.** The text is first split into words by a regular expression (the pre-tokens;
a word keeps its leading space). Each word starts as single bytes; then, again and again, the
adjacent pair whose concatenation has the lowest rank in the vocabulary (was learned earliest)
is merged, until no adjacent pair is in the vocabulary. :func:`bpe_merges` replays exactly that
with the tokenizer's own ranks, so its last step is the tokenizer's output.

The same text costs a different number of tokens under different vocabularies: a BPE trained on
the run's own corpus with a few thousand entries cuts rarer words into more pieces than
cl100k_base's 100k entries, but its output layer is 12 times smaller.
"""

from __future__ import annotations

from functools import cache

from rich.console import Group
from rich.table import Table
from rich.text import Text

from tui_transformer.tui.learn.style import needs_tokens, note, shown
from tui_transformer.tui.plural import count_of


@cache
def _cl100k():
    from tui_transformer.data import get_tokenizer

    return get_tokenizer("cl100k_base")


def bpe_merges(ranks: dict[bytes, int], word: bytes) -> list[list[bytes]]:
    """The parts of ``word`` after each merge, from single bytes to the final tokens."""
    parts = [bytes([byte]) for byte in word]
    steps = [parts]
    while len(parts) > 1:
        ranked = [(ranks[parts[i] + parts[i + 1]], i) for i in range(len(parts) - 1)
                  if parts[i] + parts[i + 1] in ranks]
        if not ranked:
            break
        _, i = min(ranked)
        parts = parts[:i] + [parts[i] + parts[i + 1]] + parts[i + 2:]
        steps.append(parts)
    return steps


def longest_word(encoding, text: str) -> bytes:
    """The pre-token of ``text`` with the most bytes (the word with the most merges to show)."""
    import regex

    words = regex.findall(encoding._pat_str, text)
    return max(words, key=lambda word: len(word.encode()), default="").encode()


def merge_steps(tokenizer, text: str, max_steps: int = 10) -> Text:
    word = longest_word(tokenizer.encoding, text)
    if not word:
        return Text("")
    steps = bpe_merges(tokenizer.ranks, word)
    text = Text(f"BPE merges of {shown(word.decode(errors='replace'))!r} with {tokenizer.name}: "
                f"{count_of(len(steps) - 1, 'merge')}, {count_of(len(word), 'byte')} → {count_of(len(steps[-1]), 'token')}", style="bold")
    shown_steps = steps if len(steps) <= max_steps else steps[: max_steps - 1] + [steps[-1]]
    for number, parts in enumerate(shown_steps):
        step = number if parts is not steps[-1] else len(steps) - 1
        text.append(f"\n{step:>3} ", style="dim")
        text.append("|".join(shown(part.decode(errors="replace")) for part in parts))
        if step == len(steps) - 1 and len(steps) > max_steps:
            text.append(f"   ({len(steps) - max_steps} steps skipped)", style="dim")
    return text


def token_boxes(pieces: list[str], ids: list[int]) -> Text:
    """``[piece|id]`` on alternating backgrounds, so every boundary shows."""
    text = Text()
    for index, (piece, token_id) in enumerate(zip(pieces, ids)):
        style = "on #1e3a8a" if index % 2 == 0 else "on #713f12"
        text.append(shown(piece), style + " bold")
        text.append(f"{token_id}", style + " dim")
        text.append(" ")
    return text


def live(ctx) -> Group | Text:
    if (empty := needs_tokens(ctx)) is not None:
        return empty
    characters = len(ctx.prompt)
    cl100k = _cl100k()
    cl_ids = cl100k.encode(ctx.prompt)
    table = Table(title="the same text, two vocabularies", title_justify="left", expand=False)
    for column in ("tokenizer", "vocabulary", "tokens", "chars / token"):
        table.add_column(column, justify="right" if column != "tokenizer" else "left")
    all_ids = ctx.tokenizer.encode(ctx.prompt)
    for name, vocab, count in ((f"{ctx.tokenizer.name} (this model)", ctx.tokenizer.vocab_size, len(all_ids)),
                               ("cl100k_base (GPT-4)", cl100k.vocab_size, len(cl_ids))):
        table.add_row(name, f"{vocab:,}", str(count), f"{characters / max(count, 1):.2f}")
    cl_pieces = [cl100k.decode([i]) for i in cl_ids]
    parts = [Text(f"{ctx.tokenizer.name}: {count_of(len(ctx.ids), 'token')} (token text, then its id)", style="bold"),
             token_boxes(ctx.pieces, ctx.ids), Text(""),
             Text(f"cl100k_base: {count_of(len(cl_ids), 'token')}", style="bold"), token_boxes(cl_pieces, cl_ids), Text(""),
             table, Text(""), merge_steps(ctx.tokenizer, ctx.prompt)]
    if len(all_ids) > len(ctx.ids):
        parts.append(note(f"the model sees only the last {len(ctx.ids)} tokens (max_seq_len)"))
    parts.append(note("␣ is a space: most tokens carry the space before a word."))
    return Group(*parts)
