"""Perplexity: how surprised the model is by text it is asked to predict.

For every position the model gives a distribution over the next token. The cross-entropy is the
average negative log-probability it gave the token that actually came next::

    NLL = -(1/N) · Σ_t log p(x_{t+1} | x_0 .. x_t)        (natural log, over all N predictions)
    perplexity = exp(NLL)

A perplexity of ``k`` means the model is, on average, as unsure as if it were choosing uniformly
among ``k`` tokens: a fresh model scores about the vocabulary size, a good one far less.

**Bits per byte.** A loss per token depends on the tokenizer: a ``bpe-8192`` token and a
``cl100k`` token hold different amounts of text, so their losses cannot be compared. Dividing the
summed loss by the text it predicted makes them comparable (nanochat reports it for that reason)::

    bpb = Σ_t NLL_t / (Σ_t bytes(x_{t+1}) · ln 2)          bits per UTF-8 byte of predicted text

``bytes(id)`` is the token's exact byte length (:meth:`~tui_transformer.data.tokenizer.Tokenizer.token_byte_counts`);
end-of-text stands for no text and counts 0 bytes, so its loss is charged to the text around it.
For a tokenizer whose every token is one byte, bpb is exactly ``loss / ln 2``.

:func:`evaluate` is the one evaluation in the project: the trainer's validation and the ``eval``
command both call it. Batches of different sizes are summed token by token before the division,
so every prediction counts equally.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import torch

from tui_transformer.errors import ConfigError
from tui_transformer.model.tools.eval_mode import eval_mode
from tui_transformer.model.tools.loss import lm_loss


def perplexity_of(loss: float) -> float:
    """``exp(loss)``, capped where a float would overflow (past about 709)."""
    return math.exp(min(loss, 700.0))


@dataclass(frozen=True)
class Evaluation:
    loss: float  # mean next-token cross-entropy in nats (NaN without predictions)
    tokens: int  # predictions made
    bytes: int | None = None  # UTF-8 bytes of the predicted tokens (when their byte counts were given)

    @property
    def bpb(self) -> float | None:
        """Bits per byte (see the module docstring); None without byte counts or bytes."""
        if not self.bytes:
            return None
        return self.loss * self.tokens / (self.bytes * math.log(2))


def evaluate(model: torch.nn.Module, batches: Iterable,
             autocast: Callable[[], contextlib.AbstractContextManager] | None = None,
             token_bytes: Sequence[int] | None = None) -> Evaluation:
    """The mean next-token cross-entropy over ``batches``, with bits per byte when ``token_bytes`` is given.

    Each batch is either a pair ``(x, y)`` of LongTensors ``[B, T]`` with ``y`` the targets (as the
    data loader yields them), or one LongTensor ``[B, T + 1]`` that is split into ``x = t[:, :-1]``
    and ``y = t[:, 1:]``. The model runs in eval mode (no dropout), inside ``autocast()`` if given.
    ``token_bytes[id]`` is the byte length of token ``id``.
    """
    device = next(model.parameters()).device
    byte_table = None if token_bytes is None else torch.as_tensor(token_bytes, dtype=torch.long, device=device)
    total, count, n_bytes = 0.0, 0, 0
    with eval_mode(model), torch.inference_mode():
        for batch in batches:
            x, y = batch if isinstance(batch, (tuple, list)) else (batch[:, :-1], batch[:, 1:])
            x, y = x.to(device), y.to(device)
            with autocast() if autocast else contextlib.nullcontext():
                logits = model(x)
            total += lm_loss(logits, y, reduction="sum").item()
            count += y.numel()
            if byte_table is not None:
                n_bytes += int(byte_table[y].sum())
    return Evaluation(total / count if count else float("nan"), count, n_bytes if byte_table is not None else None)


def perplexity(model: torch.nn.Module, batches: Iterable) -> float:
    """``exp`` of :func:`evaluate`'s loss over ``batches``; at least one target token is needed."""
    result = evaluate(model, batches)
    if result.tokens == 0:
        raise ConfigError("perplexity needs at least one batch with at least one target token")
    return perplexity_of(result.loss)
