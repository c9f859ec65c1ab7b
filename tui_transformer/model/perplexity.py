"""Perplexity: how surprised the model is by text it is asked to predict.

For every position the model gives a distribution over the next token. The cross-entropy is the
average negative log-probability it gave the token that actually came next::

    NLL = -(1/N) · Σ_t log p(x_{t+1} | x_0 .. x_t)        (natural log, over all N predictions)
    perplexity = exp(NLL)

A perplexity of ``k`` means the model is, on average, as unsure as if it were choosing uniformly
among ``k`` tokens: a fresh model scores about the vocabulary size, a good one far less.

:func:`mean_loss` is the one evaluation in the project: the trainer's validation and the ``eval``
command both call it. Batches of different sizes are summed token by token before the division,
so every prediction counts equally.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterable

import torch

from tui_transformer.errors import ConfigError
from tui_transformer.model.eval_mode import eval_mode
from tui_transformer.model.loss import lm_loss


def perplexity_of(loss: float) -> float:
    """``exp(loss)``, capped where a float would overflow (past about 709)."""
    return math.exp(min(loss, 700.0))


def mean_loss(model: torch.nn.Module, batches: Iterable,
              autocast: Callable[[], contextlib.AbstractContextManager] | None = None) -> tuple[float, int]:
    """The mean next-token cross-entropy over ``batches`` (NaN if empty), and the number of predictions.

    Each batch is either a pair ``(x, y)`` of LongTensors ``[B, T]`` with ``y`` the targets (as the
    data loader yields them), or one LongTensor ``[B, T + 1]`` that is split into ``x = t[:, :-1]``
    and ``y = t[:, 1:]``. The model runs in eval mode (no dropout), inside ``autocast()`` if given.
    """
    device = next(model.parameters()).device
    total, count = 0.0, 0
    with eval_mode(model), torch.inference_mode():
        for batch in batches:
            x, y = batch if isinstance(batch, (tuple, list)) else (batch[:, :-1], batch[:, 1:])
            x, y = x.to(device), y.to(device)
            with autocast() if autocast else contextlib.nullcontext():
                logits = model(x)
            total += lm_loss(logits, y, reduction="sum").item()
            count += y.numel()
    return (total / count if count else float("nan")), count


def perplexity(model: torch.nn.Module, batches: Iterable) -> float:
    """``exp`` of :func:`mean_loss` over ``batches``; at least one target token is needed."""
    loss, count = mean_loss(model, batches)
    if count == 0:
        raise ConfigError("perplexity needs at least one batch with at least one target token")
    return perplexity_of(loss)
