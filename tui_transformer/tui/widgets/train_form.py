"""The training form: a preset, then the few settings a learner wants to change.

Choosing a preset fills every field with that preset's values; editing a field overrides just
that value, exactly as ``--preset tiny --lr 3e-3`` does on the command line. Each text field is
parsed as it is typed, and a wrong value is explained right under the field, so the start button
never meets a surprise. The final word is :class:`~tui_transformer.train.config.TrainConfig`'s own
validation, whose message is shown the same way.

The model and the run: a collapsed **advanced** section holds the batch size, the model's width
(``d_model``; its feed-forward follows at 4x, as in every preset) and depth (layers), the optimizer
(AdamW, or Muon for the blocks' matrices) and the schedule's shape (cosine or wsd), and the run's
name (blank: one is made up from the preset and the time). The width must split evenly over the
preset's heads; each field says so as it is typed.

Budgets: a run ends at whichever budget is reached first; the form sets one of them, in
optimizer steps, tokens (``500k``, ``2M``) or wall-clock time (``90s``, ``10m``, ``1h``).

Sweeps: the ``vary`` field turns the start button into a sweep, one run per combination, exactly
as ``tui-transformer sweep --vary`` does, and read by the same parser
(:func:`tui_transformer.train.sweep.parse_grid`): ``lr=1e-3,2e-3; pos_encoding=rope,alibi`` is two
``--vary``. Left blank, the form starts one ordinary run. The ``sweep`` field names the sweep
(blank: ``sweep-MMDD-HHMMSS``); a name alone, with ``vary`` blank, continues that sweep, as
``sweep --resume NAME`` does.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Collapsible, Input, Label, Select, Static

from tui_transformer.data.source_factory import check_data_spec
from tui_transformer.data.sources import is_hub_dataset, is_synthetic
from tui_transformer.errors import ConfigError, UserError
from tui_transformer.sizes import parse_size
from tui_transformer.train import sweep
from tui_transformer.train.config import MAX_STEPS, MAX_TOKENS, OPTIMIZERS, SCHEDULES, TrainConfig

DATA_CHOICES = ("auto", "builtin", "fineweb", "path")
TOKENIZER_CHOICES = ("bpe-8192", "bpe-4096", "bpe-2048", "cl100k_base", "gpt2", "o200k_base")
DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")
BUDGET_KINDS = ("steps", "tokens", "time")

_TIME_UNITS = {"": 1, "s": 1, "m": 60, "min": 60, "h": 3600}


def parse_count(text: str, what: str, limit: int | None = None) -> int:
    """A positive whole number up to ``limit``, in the notation of :mod:`tui_transformer.sizes` (``1_000``,
    ``500k``, ``2M``)."""
    try:
        value = parse_size(text)
    except ValueError:
        raise ConfigError(f"{what} must be a whole number like 1000 or 500k, got {text!r}") from None
    if value != int(value) or value < 1:
        raise ConfigError(f"{what} must be a whole number of at least 1, got {text!r}")
    if limit is not None and value > limit:
        raise ConfigError(f"{what} must be at most {limit:,}, got {text!r}")
    return int(value)


def parse_duration(text: str) -> float:
    """Seconds from ``90``, ``90s``, ``10m`` or ``1.5h``."""
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(s|m|min|h)?\s*", text.lower())
    if not match or float(match.group(1)) <= 0:
        raise ConfigError(f"time budget must be a duration like 90s, 10m or 1h, got {text!r}")
    return float(match.group(1)) * _TIME_UNITS[match.group(2) or ""]


def parse_lr(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"learning rate must be a number like 1e-3, got {text!r}") from None
    if not 0 < value < 1:
        raise ConfigError(f"learning rate must be between 0 and 1 (typical: 1e-4 to 3e-3), got {value:g}")
    return value


def parse_data_path(text: str) -> str:
    if is_hub_dataset(text) or is_synthetic(text):  # checked as open_source will read it
        return check_data_spec(text)
    path = Path(text.strip()).expanduser()
    if not text.strip():
        raise ConfigError("data path is empty: give a .txt/.md file, a folder, a .jsonl or a parquet file")
    if not path.exists():
        raise ConfigError(f"data path does not exist: {path}")
    return str(path)


def width_overrides(text: str, n_heads: int) -> dict[str, Any]:
    """The model width and, at 4x, its feed-forward: a whole number that splits over ``n_heads`` heads
    into an even head size (rotary positions turn pairs of numbers)."""
    width = parse_count(text, "model width (d_model)")
    if width % n_heads or (width // n_heads) % 2:
        raise ConfigError(f"model width (d_model) must be a multiple of {2 * n_heads} to split over the preset's "
                          f"{n_heads} heads into an even head size (e.g. {64 * n_heads // 4}, {128 * n_heads // 4}), "
                          f"got {width}")
    return {"model_d_model": width, "model_d_ff": 4 * width}


def run_name_overrides(text: str) -> dict[str, Any]:
    """The run's name as typed (checked as a folder name), or nothing when blank: a made-up one."""
    from tui_transformer.train.runs import check_run_name

    name = text.strip()
    return {"run_name": check_run_name(name)} if name else {}


def budget_overrides(kind: str, text: str) -> dict[str, Any]:
    """The TrainConfig budget fields for one budget; the other budgets are cleared."""
    cleared: dict[str, Any] = {"max_steps": None, "max_tokens": None, "max_time": None, "epochs": None}
    if kind == "steps":
        return {**cleared, "max_steps": parse_count(text, "steps", MAX_STEPS)}
    if kind == "tokens":
        return {**cleared, "max_tokens": parse_count(text, "tokens", MAX_TOKENS)}
    return {**cleared, "max_time": parse_duration(text)}


def budget_of(config: TrainConfig) -> tuple[str, str]:
    """The budget a config mainly uses, as (kind, text) for the form."""
    if config.max_steps:
        return "steps", str(config.max_steps)
    if config.max_tokens:
        return "tokens", str(config.max_tokens)
    if config.max_time:
        return "time", f"{config.max_time:g}s"
    if config.epochs and config.tokens_per_epoch:
        return "tokens", str(config.epochs * config.tokens_per_epoch)
    return "steps", "1000"


def _options(values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(value, value) for value in values]


def _select(values: tuple[str, ...], value: str, id: str) -> Select:
    # No type-to-search: letters must reach the screen's bindings (s = start) even when a select has focus.
    return Select(_options(values), value=value, allow_blank=False, type_to_search=False, compact=True, id=id)


class TrainForm(Vertical):
    """Preset, data, tokenizer, device, budget, accumulation, LR, eval interval, a sweep, and (advanced)
    the batch size, model width and depth, optimizer, schedule and the run's name, validated as typed."""

    DEFAULT_CSS = """
    TrainForm { height: auto; }
    TrainForm .row { height: 1; margin-bottom: 1; }
    TrainForm .row Label { width: 11; color: $text-muted; }
    TrainForm .row Select, TrainForm .row Input { width: 1fr; }
    TrainForm #budget-kind { width: 10; }
    TrainForm .error { color: $error; height: auto; margin-bottom: 1; display: none; }
    TrainForm .error.-shown { display: block; }
    TrainForm #vary-error { max-height: 4; }  /* a wrong field name lists every known one: the start says it */
    TrainForm #data-path-row { display: none; }
    TrainForm #data-path-row.-shown { display: block; }
    TrainForm #advanced { padding: 0; margin: 0 0 1 0; border: none; background: transparent; }
    TrainForm #advanced Contents { padding: 0; }
    """

    # text fields: id -> (parser, TrainConfig overrides from the parsed value)
    _TEXT_FIELDS: dict[str, Callable[[str], dict[str, Any]]] = {
        "accum": lambda text: {"accumulation_steps": parse_count(text, "accumulation steps")},
        "lr": lambda text: {"lr": parse_lr(text)},
        "eval-interval": lambda text: {"eval_interval": parse_count(text, "eval interval")},
        "data-path": lambda text: {"data": parse_data_path(text)},
        "batch": lambda text: {"batch_size": parse_count(text, "batch size")},
        "layers": lambda text: {"model_n_layers": parse_count(text, "layers (n_layers)")},
        "run-name": run_name_overrides,
    }
    # the sweep's fields, checked as typed like the others; they change no TrainConfig field
    _SWEEP_FIELDS: dict[str, Callable[[str], object]] = {
        "vary": sweep.parse_grid,
        "sweep-name": lambda text: sweep.check_name(text.strip()) if text.strip() else None,  # blank: a default
    }

    def __init__(self, preset_names: tuple[str, ...], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.preset_names = preset_names
        self.n_heads = 4  # the shown preset's heads, which the model width must split over

    def compose(self) -> ComposeResult:
        def row(label: str, widget, row_id: str | None = None) -> Horizontal:
            return Horizontal(Label(label), widget, classes="row", id=row_id)

        yield row("preset", _select(self.preset_names, self.preset_names[0], "preset"))
        yield row("data", _select(DATA_CHOICES, "auto", "data"))
        yield row("path", Input(placeholder="file or folder", compact=True, id="data-path"), row_id="data-path-row")
        yield Static(classes="error", id="data-path-error")
        yield row("tokenizer", _select(TOKENIZER_CHOICES, TOKENIZER_CHOICES[0], "tokenizer"))
        yield row("device", _select(DEVICE_CHOICES, "auto", "device"))
        yield Horizontal(Label("budget"), _select(BUDGET_KINDS, "steps", "budget-kind"),
                         Input(compact=True, id="budget"), classes="row")
        yield Static(classes="error", id="budget-error")
        yield from self._text_field("accum", "accum", "micro-batches per optimizer step")
        yield from self._text_field("LR", "lr", "peak learning rate (after warmup)")
        yield from self._text_field("eval every", "eval-interval", "optimizer steps between evaluations")
        yield from self._text_field("vary", "vary", "a sweep: field=v1,v2 (; another field=...), e.g. lr=1e-3,2e-3",
                                    "blank: one run")
        yield from self._text_field("sweep", "sweep-name", "the sweep's name (its runs are <name>-1, <name>-2...); "
                                    "a name with vary blank continues that sweep", "name (optional)")
        with Collapsible(title="size, optimizer, name", collapsed=True, id="advanced"):
            yield from self._text_field("batch", "batch", "sequences per micro-batch")
            yield from self._text_field("d_model", "d-model", "the model's width; its feed-forward is 4x as wide")
            yield from self._text_field("layers", "layers", "how many transformer blocks (n_layers)")
            yield row("optimizer", _select(OPTIMIZERS, OPTIMIZERS[0], "optimizer"))
            yield row("schedule", _select(SCHEDULES, SCHEDULES[0], "schedule"))
            yield from self._text_field("run name", "run-name", "the run's folder name: letters, digits, '.', '_' "
                                        "and '-'", "blank: made up")

    @staticmethod
    def _text_field(label: str, field_id: str, tooltip: str, placeholder: str = "") -> ComposeResult:
        """A labelled text field, and the line under it where its error shows."""
        yield Horizontal(Label(label), Input(placeholder=placeholder, compact=True, id=field_id, tooltip=tooltip),
                         classes="row")
        yield Static(classes="error", id=f"{field_id}-error")

    # -- filling ------------------------------------------------------------------------------

    def fill_from(self, config: TrainConfig) -> None:
        """Show a config's values (after choosing a preset)."""
        tokenizer = self.query_one("#tokenizer", Select)
        if config.tokenizer not in TOKENIZER_CHOICES:
            tokenizer.set_options(_options((config.tokenizer, *TOKENIZER_CHOICES)))
        tokenizer.value = config.tokenizer
        data = config.data if config.data in DATA_CHOICES else "path"
        self.query_one("#data", Select).value = data
        if data == "path":
            self.query_one("#data-path", Input).value = config.data
        kind, text = budget_of(config)
        self.query_one("#budget-kind", Select).value = kind
        self.query_one("#budget", Input).value = text
        self.query_one("#accum", Input).value = str(config.accumulation_steps)
        self.query_one("#lr", Input).value = f"{config.lr:g}"
        self.query_one("#eval-interval", Input).value = str(config.eval_interval)
        self.query_one("#batch", Input).value = str(config.batch_size)
        self.n_heads = config.model.n_heads
        self.query_one("#d-model", Input).value = str(config.model.d_model)
        self.query_one("#layers", Input).value = str(config.model.n_layers)
        self.query_one("#optimizer", Select).value = config.optimizer
        self.query_one("#schedule", Select).value = config.schedule

    def show_run(self, config: TrainConfig) -> None:
        """Show a run's own config, its preset and device too (a run started from the CLI, a resume)."""
        self.fill_from(config)
        if config.preset in self.preset_names:
            self.query_one("#preset", Select).value = config.preset
        if config.device in DEVICE_CHOICES:
            self.query_one("#device", Select).value = config.device

    def show_resolved(self, resolved: dict[str, str | None]) -> None:
        """Name what ``auto`` became for the run shown: ``{"preset": "tiny", "data": "builtin"}``
        relabels those selects' ``auto`` as ``auto → tiny``, ``auto → builtin`` (None: plain ``auto``).

        Only the label changes: the value stays ``auto``, so the next run resolves it afresh.
        """
        for select_id, became in resolved.items():
            select = self.query_one(f"#{select_id}", Select)
            values = tuple(value for _label, value in select._options)
            value = select.value
            with self.prevent(Select.Changed):
                select.set_options([(f"auto → {became}" if choice == "auto" and became else choice, choice)
                                    for choice in values])
                select.value = value
                select.mutate_reactive(Select.value)  # redraw the label even when the value is the same

    # -- validation ---------------------------------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        self.check_field(event.input.id or "")

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "data":
            self.query_one("#data-path-row").set_class(event.value == "path", "-shown")
            self.check_field("data-path")
        elif event.select.id == "budget-kind":
            self.check_field("budget")

    def _field_overrides(self, field_id: str) -> dict[str, Any]:
        """The config overrides of one field; raises ConfigError with the reason when invalid."""
        if field_id == "budget":
            kind = self.query_one("#budget-kind", Select).value
            return budget_overrides(str(kind), self.query_one("#budget", Input).value)
        if field_id == "data-path" and self.query_one("#data", Select).value != "path":
            return {}
        if field_id == "d-model":
            return width_overrides(self.query_one("#d-model", Input).value, self.n_heads)
        return self._TEXT_FIELDS[field_id](self.query_one(f"#{field_id}", Input).value)

    def check_field(self, field_id: str) -> str | None:
        """Validate one text field, show or clear its error line; returns the error, if any."""
        if field_id not in self._checked_fields():
            return None
        try:
            if field_id in self._SWEEP_FIELDS:
                self._SWEEP_FIELDS[field_id](self.query_one(f"#{field_id}", Input).value)
            else:
                self._field_overrides(field_id)
            error = None
        except UserError as exc:  # a ConfigError, or a sweep's name
            error = str(exc)
        self.show_error(field_id, error)
        return error

    def show_error(self, field_id: str, error: str | None) -> None:
        """Show ``error`` under a field (None clears it): also what the screen found wrong with a sweep."""
        line = self.query_one(f"#{field_id}-error", Static)
        line.update(error or "")
        line.set_class(error is not None, "-shown")
        self.query_one(f"#{field_id}", Input).set_class(error is not None, "-invalid")

    def _checked_fields(self) -> tuple[str, ...]:
        return (*self._TEXT_FIELDS, "budget", "d-model", *self._SWEEP_FIELDS)

    def errors(self) -> list[str]:
        """Every field's current error (shown inline as a side effect)."""
        return [error for field_id in self._checked_fields() if (error := self.check_field(field_id))]

    # -- the result ---------------------------------------------------------------------------

    @property
    def preset(self) -> str:
        return str(self.query_one("#preset", Select).value)

    @property
    def device(self) -> str:
        return str(self.query_one("#device", Select).value)

    def overrides(self) -> dict[str, Any]:
        """TrainConfig overrides for everything the form shows; raises ConfigError on the first bad field."""
        errors = self.errors()
        if errors:
            raise ConfigError(errors[0])
        values: dict[str, Any] = {
            "tokenizer": str(self.query_one("#tokenizer", Select).value),
            "device": self.device,
            "optimizer": str(self.query_one("#optimizer", Select).value),
            "schedule": str(self.query_one("#schedule", Select).value),
        }
        data = str(self.query_one("#data", Select).value)
        values["data"] = data
        for field_id in (*self._TEXT_FIELDS, "budget", "d-model"):
            values.update(self._field_overrides(field_id))
        return values

    def sweep_axes(self) -> list[sweep.Axis]:
        """The ``vary`` field's axes: none for an ordinary run. Raises ConfigError when it is wrong."""
        return sweep.parse_grid(self.query_one("#vary", Input).value)

    @property
    def sweep_field(self) -> str:
        """The ``sweep`` field as typed (trimmed): blank, or a sweep's name."""
        return self.query_one("#sweep-name", Input).value.strip()

    @property
    def sweep_name(self) -> str:
        """The name of a new sweep: the ``sweep`` field, else a fresh ``sweep-MMDD-HHMMSS``."""
        return self.sweep_field or sweep.default_name()
