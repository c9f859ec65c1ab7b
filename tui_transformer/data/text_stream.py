"""Streaming decode: token ids in, text out, one piece per token, never half a character.

A byte-level BPE tokenizer (cl100k_base, our trained ``bpe-N``) maps every token to a string of
*bytes*, not of characters. UTF-8 writes a character as 1 to 4 bytes, and a token boundary can fall
inside one: "é" is the two bytes ``c3 a9``, and a model may emit ``c3`` as one token and ``a9`` as
the next. Decoding the first token alone gives the replacement character ``"\\ufffd"`` (``�``);
printing it and then the rest would show ``�`` where the learner should see ``é``.

So a stream keeps the ids it has not turned into text yet (``pending``). After each new id it
decodes them together:

* if the text ends in ``\\ufffd``, the last character may still be incomplete: hold everything back
  and wait for the next token;
* otherwise the pending bytes end on a character boundary: hand the text out and start afresh.

Only the pending ids are decoded, never the whole text so far, so a long generation costs the
same per token as a short one. UTF-8 is a prefix code, which is what makes this sound: the bytes
up to a character boundary decode the same whether or not more bytes follow.

At the end, :meth:`TextStream.flush` hands out whatever is still held: bytes that never became a
character (the model stopped mid-character, or produced invalid UTF-8) then show as ``�``, exactly
what decoding the whole output at once would give.

::

    stream = TextStream(tokenizer)
    for token_id in generate(...):
        print(stream.push(token_id), end="")
    print(stream.flush())
"""

from __future__ import annotations

from typing import Protocol

REPLACEMENT_CHARACTER = "\ufffd"  # what a decoder writes for bytes that are not (yet) a whole character


class Decoder(Protocol):
    """What a stream needs of a tokenizer: ids to text (invalid bytes becoming ``\\ufffd``)."""

    def decode(self, ids: list[int]) -> str: ...


class TextStream:
    """Turns token ids, one at a time, into text pieces that never split a UTF-8 character."""

    def __init__(self, tokenizer: Decoder) -> None:
        self.tokenizer = tokenizer
        self.pending: list[int] = []  # ids since the last piece handed out: their text may be incomplete

    def push(self, token_id: int) -> str:
        """The new text that ``token_id`` completes; ``""`` while a character is still incomplete."""
        self.pending.append(int(token_id))
        text = self.tokenizer.decode(self.pending)
        if text.endswith(REPLACEMENT_CHARACTER):
            return ""
        self.pending = []
        return text

    def flush(self) -> str:
        """Whatever is still held back (the stream has ended): incomplete bytes show as ``\\ufffd``."""
        text = self.tokenizer.decode(self.pending) if self.pending else ""
        self.pending = []
        return text
