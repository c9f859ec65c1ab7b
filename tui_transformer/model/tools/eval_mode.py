"""Eval mode for the length of a ``with`` block, then back to the mode the model was in.

``model.eval()`` turns dropout off (and, in other models, freezes batch-norm statistics). Evaluating
or sampling in the middle of training needs it, and must then give the trainer back a model in
training mode; a caller that was already in eval mode must get eval mode back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from torch import nn


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """``with eval_mode(model): ...`` runs the block with ``model.eval()``, then restores its mode."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)
