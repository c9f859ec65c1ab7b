"""Perplexity: how surprised the model is by text it is asked to predict.

For every position the model gives a distribution over the next token. The cross-entropy is the
average negative log-probability it gave the token that actually came next::

    NLL = -(1/N) · Σ_t log p(x_{t+1} | x_0 .. x_t)        (natural log, over all N predictions)
    perplexity = exp(NLL)

A perplexity of ``k`` means the model is, on average, as unsure as if it were choosing uniformly
among ``k`` tokens: a fresh model scores about the vocabulary size, a good one far less.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
import torch.nn.functional as F

from tui_transformer.errors import ConfigError


def perplexity(model, batches: Iterable) -> float:
    """``exp`` of the mean next-token cross-entropy over ``batches``.

    Each batch is either a pair ``(x, y)`` of LongTensors ``[B, T]`` with ``y`` the targets (as the
    data loader yields them), or one LongTensor ``[B, T + 1]`` that is split into ``x = t[:, :-1]``
    and ``y = t[:, 1:]``. Every prediction counts equally, whatever the batch sizes.
    """
    device = model.embed.weight.device
    total_nll, total_tokens = 0.0, 0
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            for batch in batches:
                x, y = batch if isinstance(batch, (tuple, list)) else (batch[:, :-1], batch[:, 1:])
                x, y = x.to(device), y.to(device)
                logits = model(x)
                nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), y.reshape(-1), reduction="sum")
                total_nll += float(nll)
                total_tokens += y.numel()
    finally:
        model.train(was_training)
    if total_tokens == 0:
        raise ConfigError("perplexity needs at least one batch with at least one target token")
    return math.exp(total_nll / total_tokens)
