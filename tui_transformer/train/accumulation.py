"""Gradient accumulation: a big batch as a sum of small ones that fit in memory.

The loss of a batch of ``n * b`` sequences is the mean of the losses of its ``n`` micro-batches of
``b`` (all the same size). Gradients are linear, so::

    grad(mean_i loss_i) = sum_i grad(loss_i / n)

Running backward on ``loss_i / n`` for each micro-batch adds exactly that sum into ``.grad``,
one micro-batch at a time, so memory holds only one micro-batch's activations. Forgetting the
``/ n`` makes the gradient ``n`` times too large, which is the classic accumulation bug.

A *partial* cycle (the epoch ended after ``k < n`` micro-batches) is stepped, not dropped: it was
scaled by ``1/n`` but holds ``k`` terms, so the gradients are multiplied by ``n / k`` to make them the
mean over the ``k`` micro-batches actually seen.

Under DDP every backward would all-reduce the gradients across ranks; only the last micro-batch of
a cycle needs that, so the others run inside ``model.no_sync()``.
"""

from __future__ import annotations

import contextlib
from typing import Callable, Sequence

import torch

Batch = tuple[torch.Tensor, torch.Tensor]


def accumulate_gradients(model: torch.nn.Module, micro_batches: Sequence[Batch], expected: int,
                         device: str | torch.device = "cpu",
                         autocast: Callable[[], contextlib.AbstractContextManager] | None = None,
                         scaler: torch.amp.GradScaler | None = None) -> float:
    """Add the gradient of the mean loss over ``micro_batches`` into ``.grad``; returns that mean loss.

    ``expected`` is the accumulation count of a full cycle; fewer batches make a partial cycle.
    The caller zeroes the gradients before and steps the optimizer after.
    """
    count = len(micro_batches)
    if not 1 <= count <= expected:
        raise ValueError(f"got {count} micro-batches for a cycle of {expected}")
    total = torch.zeros((), device=device)  # summed on the device: one .item() (a GPU sync) per step, not per batch
    for index, (x, y) in enumerate(micro_batches):
        last = index == count - 1
        sync = contextlib.nullcontext() if last or not hasattr(model, "no_sync") else model.no_sync()
        with sync:
            with autocast() if autocast else contextlib.nullcontext():
                loss = model(x.to(device, non_blocking=True), targets=y.to(device, non_blocking=True))
            scaled = loss / expected
            (scaler.scale(scaled) if scaler else scaled).backward()
        total += loss.detach().float()
    if count < expected:
        for param in model.parameters():
            if param.grad is not None:
                param.grad.mul_(expected / count)
    return total.item() / count
