"""Validation: how well the model predicts text it never trained on.

The loss is the mean cross-entropy over every target token of a *fixed* set of validation batches
(the same batches every time, so two evaluations differ only because the model changed).
Perplexity is ``exp(loss)``: the model is, on average, as unsure as if it picked uniformly among
that many tokens. A uniform guess over a vocabulary of V gives ``loss = ln V``, ``ppl = V``.

Reading val against train (the seed project's rule of thumb), with ``r = val_loss / train_loss``:

==========  =====================================================================
r < 1.05    learning well: what it learns carries over to unseen text
r < 1.15    normal: a small generalisation gap
r <= 1.3    gap widening: worth watching
r > 1.3     possible overfitting: it memorises the training text
==========  =====================================================================
"""

from __future__ import annotations

import contextlib
import math
from typing import Callable, Iterable

import torch
import torch.nn.functional as F


def perplexity_of(loss: float) -> float:
    return math.exp(min(loss, 700.0))  # exp overflows a float past ~709


def verdict(val_loss: float, train_loss: float) -> str:
    if not (math.isfinite(val_loss) and math.isfinite(train_loss)) or train_loss <= 0:
        return "no verdict (loss not finite)"
    ratio = val_loss / train_loss
    if ratio < 1.05:
        return "learning well"
    if ratio < 1.15:
        return "normal"
    if ratio <= 1.3:
        return "gap widening: worth watching"
    return "possible overfitting"


@torch.no_grad()
def evaluate(model: torch.nn.Module, batches: Iterable[tuple[torch.Tensor, torch.Tensor]], device: str,
             autocast: Callable[[], contextlib.AbstractContextManager] | None = None) -> tuple[float, int]:
    """Mean cross-entropy per target token over ``batches``, and the token count.

    The model is put in eval mode (no dropout) and restored to its previous mode afterwards.
    """
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    try:
        for x, y in batches:
            x, y = x.to(device), y.to(device)
            with autocast() if autocast else contextlib.nullcontext():
                logits = model(x)
            loss = F.cross_entropy(logits.float().reshape(-1, logits.size(-1)), y.reshape(-1), reduction="sum")
            total += loss.item()
            count += y.numel()
    finally:
        model.train(was_training)
    return (total / count if count else float("nan")), count
