"""Text for a terminal line: control bytes made visible, and secondary fields dropped to fit a width.

* :func:`visible`: a prompt or a model's output may hold control characters (``ESC [ 2 J`` clears
  the screen, ``\\r`` overwrites the line). They are shown escaped, as Python writes them in a
  string literal (``\\x1b``, ``\\r``), so that what the model wrote can be read and nothing it
  wrote can drive the terminal. Newlines and tabs stay as they are: they are text.
* :func:`number`: a rounded number never reads ``-0.00``: a value that rounds to zero is zero.
* :func:`fit_fields`: a status line of fields ranked by importance keeps the most important ones
  that fit the width, in their original order, as tqdm and rich's own progress columns do.
"""

from __future__ import annotations

import unicodedata

KEPT_CONTROLS = "\n\t"


def visible(text: str) -> str:
    """``text`` with every control character but newline and tab written as its escape (``\\x1b``)."""
    return "".join(repr(c)[1:-1] if _is_control(c) else c for c in text)


def _is_control(char: str) -> bool:
    return unicodedata.category(char) == "Cc" and char not in KEPT_CONTROLS


def fit_fields(fields: list[tuple[int, str]], width: int, separator: str = "  ") -> str:
    """The fields ``(rank, text)`` that fit in ``width`` characters, lowest rank kept first, shown in
    their given order. A field that does not fit is dropped whole, never cut."""
    kept: set[int] = set()
    used = 0
    for index in sorted(range(len(fields)), key=lambda i: fields[i][0]):
        cost = len(fields[index][1]) + (len(separator) if kept else 0)
        if used + cost <= width:
            kept.add(index)
            used += cost
    return separator.join(text for i, (_, text) in enumerate(fields) if i in kept)


def number(value: float, digits: int, sign: bool = False) -> str:
    """``value`` with ``digits`` decimals (and ``+`` on positives with ``sign``); ``-0.004`` -> ``0.00``."""
    if round(value, digits) == 0:
        value = 0.0
    return f"{value:{'+' if sign else ''}.{digits}f}"
