"""A plot canvas made of braille characters: 2 x 4 dots in every terminal cell.

Unicode's braille block (U+2800 to U+28FF) has one character for each of the 256 ways to raise
the 8 dots of a braille cell. Each dot is one bit of the code point::

    dot column:  0     1
    row 0       0x01  0x08
    row 1       0x02  0x10
    row 2       0x04  0x20
    row 3       0x40  0x80

so a ``cols x rows`` block of cells is a ``2*cols x 4*rows`` pixel canvas, eight times finer than
drawing with whole characters. A cell has one colour, so where two series cross, the one drawn
last owns the cell.

This module is pure (rich only) so the drawing can be tested without a running app.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

BRAILLE_BASE = 0x2800
_DOT_BITS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))  # [row % 4][column % 2]


class BrailleCanvas:
    """A ``cols x rows`` cell grid addressed in dots: ``x`` in ``[0, 2*cols)``, ``y`` in ``[0, 4*rows)``, y down."""

    def __init__(self, cols: int, rows: int) -> None:
        self.cols, self.rows = cols, rows
        self.width, self.height = 2 * cols, 4 * rows
        self._bits = [[0] * cols for _ in range(rows)]
        self._styles: list[list[Style | str | None]] = [[None] * cols for _ in range(rows)]

    def dot(self, x: int, y: int, style: Style | str) -> None:
        """Raise one dot; dots outside the canvas are ignored (lines may be clipped)."""
        if 0 <= x < self.width and 0 <= y < self.height:
            row, col = y >> 2, x >> 1
            self._bits[row][col] |= _DOT_BITS[y & 3][x & 1]
            self._styles[row][col] = style

    def line(self, x0: int, y0: int, x1: int, y1: int, style: Style | str) -> None:
        """A straight line of dots between two points (Bresenham: integer steps, no gaps)."""
        dx, dy = abs(x1 - x0), -abs(y1 - y0)
        sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
        error = dx + dy
        while True:
            self.dot(x0, y0, style)
            if x0 == x1 and y0 == y1:
                return
            doubled = 2 * error
            if doubled >= dy:
                error += dy
                x0 += sx
            if doubled <= dx:
                error += dx
                y0 += sy

    def row_text(self, row: int) -> Text:
        """One line of the canvas as styled text; empty cells are spaces."""
        text = Text()
        for bits, style in zip(self._bits[row], self._styles[row]):
            text.append(chr(BRAILLE_BASE + bits) if bits else " ", style or "")
        return text
