"""Validation: how well the model predicts text it never trained on, read against training.

The loss is the mean cross-entropy over every target token of a *fixed* set of validation batches
(the same batches every time, so two evaluations differ only because the model changed); it is
computed by :func:`tui_transformer.model.tools.perplexity.evaluate`, as the ``eval`` command's is.
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

import math


def verdict(val_loss: float, train_loss: float) -> str:
    """The table above, as words for the dashboard and the log."""
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

