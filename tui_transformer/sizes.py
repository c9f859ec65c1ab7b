"""Sizes written the way people say them: ``500k`` tokens, ``2M`` steps, a ``1.5G`` cache.

A size is a decimal number followed by an optional suffix that multiplies it by a power of 1000::

    suffix   factor   example
    k        10**3    500k  ->       500_000
    m        10**6    1.5M  ->     1_500_000
    g or b   10**9    2G    -> 2_000_000_000   (and 2b, the same)

Case does not matter, spaces around the number and the suffix are ignored, and ``_`` may group
the digits as in Python (``1_000``).

**The rule for ``b``.** ``b`` means *billion*, exactly like ``g`` ("a 10B-token dataset" is how
token counts are spoken of), and it means that everywhere a size is read: the ``train`` flags, the
Train form and ``TUI_TRANSFORMER_MAX_CACHE_BYTES``. It is never *bytes*: a byte count is a plain
number, so ``2G`` of cache bytes is 2_000_000_000 bytes, and ``500b`` would be 500 billion of them.

The factors are powers of 1000, not 1024: these are counts of tokens and steps first, and the disk
sizes they bound are rough budgets, for which a decimal ``G`` is what a reader expects.

:func:`parse_size` only reads the notation. Each caller decides what it accepts on top (a whole
number, at least 1) and words its own error, since it alone knows which setting was wrong.
"""

from __future__ import annotations

import re

FACTORS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "b": 10**9}

_SIZE = re.compile(r"\s*([0-9][0-9_]*(?:\.[0-9]+)?)\s*([kmgb]?)\s*", re.IGNORECASE)


def parse_size(text: str) -> float:
    """The number that ``text`` writes, its suffix applied: ``"1.5M"`` -> ``1_500_000.0``.

    The result is a float, because ``1.5k`` is a size and ``0.5k`` too; callers that need a whole
    number check it. Raises ``ValueError`` when ``text`` is not a size (``"ten"``, ``"-3"``,
    ``"2 GB"``, ``""``).
    """
    match = _SIZE.fullmatch(text)
    if not match:
        raise ValueError(f"not a size like 5000, 500k, 1.5M or 2G: {text!r}")
    number, suffix = match.groups()
    return float(number.replace("_", "")) * FACTORS[suffix.lower()]
