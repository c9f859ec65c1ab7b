"""One rule for every seed the user gives: a whole number from 0 to 2**63 - 1.

A seed feeds several generators: ``torch.manual_seed`` (a 64-bit number), NumPy's ``SeedSequence``
(which refuses negative numbers) and Python's ``random``. The trainer also derives seeds from it
(``seed + rank`` for dropout, ``seed + step`` for the samples). The range ``[0, 2**63)`` is one that
all of them take, with room left for those sums, so ``train --seed`` and ``generate --seed`` (and
the Playground's seed field) accept and refuse the same numbers.
"""

from __future__ import annotations

from tui_transformer.errors import ConfigError

SEED_LIMIT = 2**63  # exclusive


def check_seed(seed: object, what: str = "seed") -> None:
    """Raise a ConfigError naming ``what`` unless ``seed`` is a whole number in ``[0, 2**63)``."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < SEED_LIMIT:
        raise ConfigError(f"{what} must be a whole number from 0 to 2**63 - 1, got {seed!r}")
