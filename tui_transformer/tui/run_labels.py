"""Short labels for runs shown side by side: what tells their names apart, without what they share.

Runs compared together are often one sweep's, ``sweep-1205-232015-1`` to ``-4``: full names fill
a chart's legend or a diff's header and are then cut to ``sweep-…``, where every run looks alike.
The words (split at ``-``) that all the names share at the start are dropped, so the labels are
``1`` to ``4``, and the shared part is said once (:func:`shared_prefix`).
"""

from __future__ import annotations

SEPARATOR = "-"


def _shared_words(names: list[str]) -> int:
    """How many leading ``-``-separated words every name shares, leaving each name one word at least."""
    split = [name.split(SEPARATOR) for name in names]
    if len(split) < 2:
        return 0
    shortest = min(len(words) for words in split)
    count = 0
    while count < shortest - 1 and len({tuple(words[:count + 1]) for words in split}) == 1:
        count += 1
    return count


def short_names(names: list[str]) -> dict[str, str]:
    """Each name without the words all of them share at the start: ``{"sweep-3-1": "1", "sweep-3-2": "2"}``."""
    shared = _shared_words(names)
    return {name: SEPARATOR.join(name.split(SEPARATOR)[shared:]) for name in names}


def shared_prefix(names: list[str]) -> str:
    """What :func:`short_names` dropped, with its separator (``"sweep-3-"``), or ``""``."""
    shared = _shared_words(names)
    return SEPARATOR.join(names[0].split(SEPARATOR)[:shared]) + SEPARATOR if shared else ""


def middle_cut(name: str, width: int) -> str:
    """``name`` in at most ``width`` cells, cut in the middle (``swe…235959-2``): run names differ at
    the end (a sweep's ``-1``, ``-2``), which a cut at the end would hide."""
    if len(name) <= width:
        return name
    tail = width * 2 // 3
    return name[:width - 1 - tail] + "…" + name[len(name) - tail:]
