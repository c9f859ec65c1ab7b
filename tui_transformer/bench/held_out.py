"""A fixed set of held-out bytes, and a model's bits per byte on it, whatever its tokenizer.

Models with different tokenizers and contexts can only be compared on the same *text*: a count of
tokens means a different amount of text for each. So the text is fixed first, in bytes:

    the validation documents of the source, in the source's order, until ``n_bytes`` UTF-8 bytes;
    the last one cut at the last whole character that fits.

The split is the source's own, by document (:mod:`tui_transformer.data.split`: a hash of each
document's id), so no byte of these documents was trained on.

Each model then reads that text the way it trained: its own tokenizer, documents packed as
``EOT d1 EOT d2 ...`` (:func:`~tui_transformer.data.packing.pack_documents`), cut into windows of its
own context ``T`` that overlap by one token, so every token after the first is predicted once::

    windows = stream[0 : T+1], stream[T : 2T+1], ...      (the last one shorter)

The score is :func:`~tui_transformer.model.tools.perplexity.evaluate`'s bits per byte: summed loss
over the UTF-8 bytes of the predicted tokens. Those tokens spell the documents exactly, so the
denominator is the same ``n_bytes`` for every model (end-of-text counts 0 bytes).
"""

from __future__ import annotations

import torch

from tui_transformer.data.local_source import LocalSource
from tui_transformer.data.packing import pack_documents
from tui_transformer.errors import UserError
from tui_transformer.model.tools.perplexity import Evaluation, evaluate


def held_out_documents(source, n_bytes: int) -> list[str]:
    """The first ``n_bytes`` UTF-8 bytes of ``source``'s validation documents, as documents."""
    if not isinstance(source, LocalSource):
        raise UserError(f"bench recipe scores held-out documents of a source on this machine (builtin, "
                        f"shakespeare or a path), not {source.name}")
    documents, left = [], n_bytes
    for group in source.groups:
        for text in source.split_documents("val", group):
            data = text.encode("utf-8")
            if len(data) >= left:
                documents.append(data[:left].decode("utf-8", errors="ignore"))  # a character cut in two is dropped
                return documents
            documents.append(text)
            left -= len(data)
    held = n_bytes - left
    raise UserError(f"the validation split of {source.description or source.name} holds {held:,} bytes, fewer than "
                    f"the {n_bytes:,} asked for: give a smaller --eval-bytes")


def score(model: torch.nn.Module, tokenizer, documents: list[str], seq_len: int, batch_size: int = 16) -> Evaluation:
    """``model``'s loss and bits per byte on ``documents``, read in windows of ``seq_len`` tokens."""
    stream = torch.from_numpy(pack_documents(tokenizer.encode_batch(documents), tokenizer.eot_id).astype("int64"))
    starts = range(0, len(stream) - 1, seq_len)
    windows = [stream[start:start + seq_len + 1] for start in starts]
    full = [w for w in windows if len(w) == seq_len + 1]
    batches = [torch.stack(full[i:i + batch_size]) for i in range(0, len(full), batch_size)]
    batches += [w[None] for w in windows if len(w) < seq_len + 1]  # the last, shorter window
    return evaluate(model, batches, token_bytes=tokenizer.token_byte_counts())
