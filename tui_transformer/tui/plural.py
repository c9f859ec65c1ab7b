"""Counts in words: ``1 token``, ``2 tokens``. A label a learner reads must not say "1 tokens"."""

from __future__ import annotations


def count_of(count: int, word: str, plural: str | None = None) -> str:
    """``count`` and ``word``, plural unless the count is one (``plural`` for irregular words)."""
    return f"{count:,} {word if count == 1 else plural or word + 's'}"
