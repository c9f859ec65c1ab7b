"""What a ``--data synthetic:...`` value asks for, read without numpy (a form checks it as it is typed).

The one kind is ``synthetic:repeats`` (see :mod:`.synthetic`); its options follow the name,
separated by colons, which a shell and ``sweep --vary`` (commas) leave alone::

    synthetic:repeats                      32 ids, segments of 4..16, sequences of 64, seed 0
    synthetic:repeats:ids=16:min=2:max=8:len=128:seed=3

Id ``i`` is written as the ``i``-th character of :data:`LETTERS`, which is also the alphabet of
the ``letters-<N>`` tokenizer that the data is read with.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from tui_transformer.data.sources import SYNTHETIC_PREFIX
from tui_transformer.errors import ConfigError

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
KINDS = ("repeats",)


@dataclass(frozen=True)
class RepeatsSpec:
    """``synthetic:repeats``: sequences of ``len`` ids made of segments of ``min..max`` ids drawn from
    ``0..ids-1``, the stream seeded by ``seed``."""

    ids: int = 32
    min: int = 4
    max: int = 16
    len: int = 64
    seed: int = 0

    def __str__(self) -> str:
        return (f"{SYNTHETIC_PREFIX}repeats:ids={self.ids}:min={self.min}:max={self.max}:len={self.len}"
                f":seed={self.seed}")

    @property
    def tokenizer(self) -> str:
        """The tokenizer the ids are written in: one id per letter, and end-of-text."""
        return f"letters-{self.ids}"


def parse_synthetic(spec: str) -> RepeatsSpec:
    """``"synthetic:repeats:ids=16:max=8"`` -> ``RepeatsSpec(ids=16, max=8)``; a bad spec is a ConfigError."""
    kind, *options = spec.strip().removeprefix(SYNTHETIC_PREFIX).split(":")
    if kind not in KINDS:
        raise ConfigError(f"unknown synthetic data {kind!r}: the one kind is synthetic:repeats "
                          "(options :ids=32:min=4:max=16:len=64:seed=0)")
    names = {field.name for field in fields(RepeatsSpec)}
    values: dict[str, int] = {}
    for option in options:
        key, sep, text = option.partition("=")
        if key not in names or not sep:
            raise ConfigError(f"synthetic:repeats option {option!r}: expected ids=N, min=N, max=N, len=N or seed=N, "
                              "separated by ':'")
        try:
            values[key] = int(text)
        except ValueError:
            raise ConfigError(f"synthetic:repeats option {key}: {text!r} is not a whole number") from None
    repeats = RepeatsSpec(**values)
    if not 2 <= repeats.ids <= len(LETTERS):
        raise ConfigError(f"synthetic:repeats ids must be from 2 to {len(LETTERS)} (a letter each), got {repeats.ids}")
    if not 1 <= repeats.min <= repeats.max <= repeats.len // 2:
        raise ConfigError(f"synthetic:repeats needs 1 <= min <= max <= len / 2 (a segment and its copy fit in a "
                          f"sequence), got min={repeats.min}, max={repeats.max}, len={repeats.len}")
    if repeats.seed < 0:
        raise ConfigError(f"synthetic:repeats seed must be >= 0, got {repeats.seed}")
    return repeats
