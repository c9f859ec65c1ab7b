"""A horizontal slider for a number in a range, driven by keyboard or mouse.

Textual ships no slider (and ``textual-slider`` is GPL-3.0 and integer-only), so this is our own.
It draws one line::

    ━━━━━━━━━━●──────────  0.80

The track maps the range ``[minimum, maximum]`` linearly onto its cells: cell 0 is ``minimum``,
the last cell is ``maximum``. Every value is snapped to the grid ``minimum + n * step`` and clamped
to the range, so a slider never holds a value its keys could not reach.

Keys (when focused): ←/→ move one step, shift+←/→ ten steps, Home/End jump to the ends.
Mouse: a click puts the thumb under the pointer; dragging keeps it there until the button is
released (the slider captures the mouse while dragging, so the drag may leave the widget).

Every change of ``value``, by key, mouse or code, posts :class:`Slider.Changed`.
A disabled slider ignores keys and the mouse and is drawn dimmed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

Formatter = Callable[[float], str]


class Slider(Widget, can_focus=True):
    """A float slider: ``Slider(0.8, minimum=0.0, maximum=2.0, step=0.05, format="{:.2f}")``."""

    DEFAULT_CSS = """
    Slider {
        height: 1;
        width: 1fr;
        min-width: 12;
    }
    Slider > .slider--track { color: $foreground 30%; }
    Slider > .slider--fill { color: $primary; }
    Slider > .slider--thumb { color: $foreground; text-style: bold; }
    Slider:focus > .slider--thumb { color: $accent; }
    Slider:focus > .slider--fill { color: $accent; }
    Slider > .slider--value { color: $foreground; }
    Slider:disabled { opacity: 50%; }
    """

    COMPONENT_CLASSES = {"slider--track", "slider--fill", "slider--thumb", "slider--value"}

    BINDINGS = [
        Binding("left", "nudge(-1)", "less", show=False),
        Binding("right", "nudge(1)", "more", show=False),
        Binding("shift+left", "nudge(-10)", "much less", show=False),
        Binding("shift+right", "nudge(10)", "much more", show=False),
        Binding("home", "jump(0)", "minimum", show=False),
        Binding("end", "jump(1)", "maximum", show=False),
    ]

    value: reactive[float] = reactive(0.0, init=False)

    @dataclass
    class Changed(Message):
        """The slider's value changed (by key, mouse or code)."""

        slider: Slider
        value: float

        @property
        def control(self) -> "Slider":
            return self.slider

    def __init__(
        self,
        value: float | None = None,
        *,
        minimum: float = 0.0,
        maximum: float = 1.0,
        step: float = 0.01,
        format: str | Formatter = "{:.2f}",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        if not maximum > minimum:
            raise ValueError(f"slider maximum ({maximum}) must be greater than minimum ({minimum})")
        if not step > 0:
            raise ValueError(f"slider step must be positive, got {step}")
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.minimum = float(minimum)
        self.maximum = float(maximum)
        self.step = float(step)
        self._format: Formatter = format.format if isinstance(format, str) else format
        self._dragging = False
        self.set_reactive(Slider.value, self._snap(minimum if value is None else value))

    # -- the value ---------------------------------------------------------------------------

    def _snap(self, value: float) -> float:
        """Clamp to the range, then round to the nearest grid point ``minimum + n * step``."""
        clamped = min(max(float(value), self.minimum), self.maximum)
        steps = round((clamped - self.minimum) / self.step)
        # round() to 10 places drops float noise such as 0.30000000000000004
        return round(min(self.minimum + steps * self.step, self.maximum), 10)

    def validate_value(self, value: float) -> float:
        return self._snap(value)

    def watch_value(self, value: float) -> None:
        self.post_message(self.Changed(self, value))

    @property
    def fraction(self) -> float:
        """Where the value sits in the range, 0.0 at ``minimum`` to 1.0 at ``maximum``."""
        return (self.value - self.minimum) / (self.maximum - self.minimum)

    def formatted(self, value: float | None = None) -> str:
        return self._format(self.value if value is None else value)

    # -- keys --------------------------------------------------------------------------------

    def action_nudge(self, steps: int) -> None:
        self.value = self.value + steps * self.step

    def action_jump(self, end: int) -> None:
        self.value = self.maximum if end else self.minimum

    # -- mouse -------------------------------------------------------------------------------

    def _value_at(self, x: int) -> float:
        """The value under content column ``x`` of the track (outside columns clamp to the ends)."""
        last_cell = max(self._track_width() - 1, 1)
        fraction = min(max(x / last_cell, 0.0), 1.0)
        return self.minimum + fraction * (self.maximum - self.minimum)

    def on_mouse_down(self, event: events.MouseDown) -> None:
        self._dragging = True
        self.capture_mouse()
        self.focus()
        self.value = self._value_at(event.get_content_offset_capture(self).x)
        event.stop()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self._dragging:
            self.value = self._value_at(event.get_content_offset_capture(self).x)
            event.stop()

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if self._dragging:
            self._dragging = False
            self.release_mouse()
            event.stop()

    # -- drawing -----------------------------------------------------------------------------

    def _label_width(self) -> int:
        """Room for the widest formatted value, so the track does not jump as the value changes."""
        return max(len(self.formatted(v)) for v in (self.minimum, self.maximum, self.value))

    def _track_width(self) -> int:
        return max(self.content_size.width - self._label_width() - 1, 2)

    def render(self) -> Text:
        width = self._track_width()
        thumb = round(self.fraction * (width - 1))
        text = Text(no_wrap=True, end="")
        text.append("━" * thumb, self.get_component_rich_style("slider--fill"))
        text.append("●", self.get_component_rich_style("slider--thumb"))
        text.append("─" * (width - thumb - 1), self.get_component_rich_style("slider--track"))
        text.append(" " + self.formatted().rjust(self._label_width()), self.get_component_rich_style("slider--value"))
        return text
