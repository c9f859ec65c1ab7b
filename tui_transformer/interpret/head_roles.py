"""Head roles: a name for what each attention head does, read from its attention pattern.

For one head, ``A[i, j]`` is how much position ``i`` attends to position ``j`` (each row sums to 1).
Each role is a pattern, and its score is the attention mass the pattern predicts, averaged over
the query positions where the pattern is defined (so every score is in ``[0, 1]``):

=================  ==================================================  ============================
role               score                                               queries
=================  ==================================================  ============================
previous token     ``A[i, i − 1]``                                     ``i >= 1``
self               ``A[i, i]``                                         ``i >= 1``
first token        ``A[i, 0]`` (the "attention sink")                  ``i >= 1``
local window       ``Σ A[i, i − d]`` for ``d = 2 .. LOCAL_WINDOW``      ``i >= LOCAL_WINDOW``
induction          ``A[R + i, i + 1]``, on a sequence repeated with    the second copy
                   period ``R`` (prefix matching, :mod:`.induction`);  (any text: each token
                   on any text, the position after the token's        seen before)
                   latest earlier occurrence
=================  ==================================================  ============================

Position 0 is left out of the first three, where attending to itself, to the first token and to
nothing else are the same thing. The local window starts at distance 2, so that it does not count
the previous token and self twice.

A head's **dominant role** is its highest-scoring role, if that score reaches ``ROLE_THRESHOLD``;
otherwise it has none. A head that spreads its attention evenly over ``n`` tokens scores about
``1/n`` on every role, so the threshold of 0.4 keeps heads whose pattern is real.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from tui_transformer.interpret.induction import prefix_matching, repeat_matching
from tui_transformer.model.inspection import inspect

ROLES = ("previous token", "self", "first token", "local window", "induction")
ROLE_THRESHOLD = 0.4  # at least 40 % of the attention on the pattern
LOCAL_WINDOW = 4


def pattern_scores(weights: torch.Tensor, period: int | None = None, tokens: torch.Tensor | None = None) -> torch.Tensor:
    """``weights [B, H, T, T]`` -> ``[H, len(ROLES)]``, each role's score (see the module docstring).

    ``period`` is the repetition period ``R`` of the tokens, when they are a sequence repeated twice;
    without one the induction score is read from the repeats of ``tokens [B, T]`` (0 where none repeats).
    """
    induction = torch.zeros(weights.shape[1])
    if period is not None and 2 * period <= weights.shape[-1]:
        induction = prefix_matching(weights, period)
    elif period is None and tokens is not None:
        induction = repeat_matching(weights, tokens)
    weights = weights.float().mean(dim=0)  # [H, T, T], averaged over the batch
    n_heads, t, _ = weights.shape
    i = torch.arange(1, t)
    previous = weights[:, i, i - 1].mean(-1)
    itself = weights[:, i, i].mean(-1)
    first = weights[:, i, 0].mean(-1)
    if t > LOCAL_WINDOW:
        q = torch.arange(LOCAL_WINDOW, t)
        local = sum(weights[:, q, q - d] for d in range(2, LOCAL_WINDOW + 1)).mean(-1)
    else:
        local = torch.zeros(n_heads)
    return torch.stack([previous, itself, first, local, induction], dim=-1)


@dataclass(frozen=True)
class HeadRoles:
    scores: torch.Tensor  # [L, H, len(ROLES)]

    def role(self, layer: int, head: int) -> str | None:
        """The head's dominant role, or None (see the module docstring)."""
        best = int(self.scores[layer, head].argmax())
        return ROLES[best] if self.scores[layer, head, best] >= ROLE_THRESHOLD else None

    def heads_with(self, role: str) -> list[tuple[int, int]]:
        """``(layer, head)`` of every head whose dominant role is ``role``."""
        layers, heads, _ = self.scores.shape
        return [(layer, head) for layer in range(layers) for head in range(heads) if self.role(layer, head) == role]

    def table(self) -> list[list[str | None]]:
        """``[layer][head]`` -> dominant role or None."""
        layers, heads, _ = self.scores.shape
        return [[self.role(layer, head) for head in range(heads)] for layer in range(layers)]


def head_roles(model, tokens: torch.Tensor, period: int | None = None) -> HeadRoles:
    """Every head's role scores on ``tokens [B, T]`` (a repeated sequence of ``period``, or any text:
    then its own repeated tokens give the induction score)."""
    seen = inspect(model, tokens)
    return HeadRoles(torch.stack([pattern_scores(weights, period, seen.tokens.cpu()) for weights in seen.attention]))
