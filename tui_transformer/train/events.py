"""The events a training run emits: one stream, many views.

The trainer calls ``on_event(event)`` for each of these. The headless CLI renders them with rich,
the TUI forwards them to the UI thread as messages, and every run appends them, one JSON object a
line, to ``metrics.jsonl`` in its run directory. That file is how the dashboard attaches to a run
that another process started: it replays the same events.

Every event is a frozen dataclass. ``to_json`` adds ``"event": <class name>`` and
``event_from_json`` turns such a dict back into the dataclass.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from types import UnionType
from typing import Any, Callable, get_args, get_origin, get_type_hints


def _now() -> float:
    return time.time()


@dataclass(frozen=True)
class RunStarted:
    """A run began (or resumed). ``config`` is the effective TrainConfig as a dict."""

    run_dir: str
    run_name: str
    config: dict[str, Any]
    device: str
    preset: str
    preset_reason: str
    n_params: int
    data_notice: str = ""
    resumed_from_step: int = 0
    time: float = field(default_factory=_now)


@dataclass(frozen=True)
class StepMetrics:
    """One optimizer step. ``loss`` is the mean over the accumulated micro-batches."""

    step: int
    max_steps: int
    epoch: int
    loss: float
    ppl: float
    lr: float
    grad_norm: float
    tokens_per_sec: float
    tokens_seen: int
    elapsed_s: float
    eta_s: float | None
    time: float = field(default_factory=_now)


@dataclass(frozen=True)
class EvalResult:
    """Validation on the fixed validation slice. ``verdict`` reads val against train (see train.evaluate)."""

    step: int
    val_loss: float
    val_ppl: float
    train_loss: float
    verdict: str
    val_bpb: float | None = None  # bits per byte (None in runs logged before it existed)
    # the induction probe (interpret.induction): in-context learning in nats, the best head's prefix matching
    in_context_learning: float | None = None
    induction_score: float | None = None
    time: float = field(default_factory=_now)


@dataclass(frozen=True)
class Sample:
    """A short generation from the model in training, to see it learn."""

    step: int
    prompt: str
    text: str
    time: float = field(default_factory=_now)


@dataclass(frozen=True)
class ShardStatus:
    """The data source and its shard cache, as data (see data.shard_cache for the fields of ``status``)."""

    source: str
    description: str
    status: dict[str, Any]
    time: float = field(default_factory=_now)


@dataclass(frozen=True)
class CheckpointSaved:
    step: int
    path: str
    kind: str  # "latest", "best" or "kept" (the weights only, train.kept_checkpoints)
    time: float = field(default_factory=_now)


@dataclass(frozen=True)
class Alert:
    """The training doctor's word on something going wrong (see train.doctor): one line, and the
    Learn page whose idea explains it."""

    step: int
    rule: str  # "worse than guessing", "loss spike", "overfitting", "clipping", "plateau", "not a number"
    message: str
    learn: str
    time: float = field(default_factory=_now)


@dataclass(frozen=True)
class SystemSample:
    """What the machine spends on the run (see train.system), every few seconds."""

    step: int
    cpu_percent: float  # this process; 100 per busy core
    rss_bytes: int
    tokens_per_sec: float
    mfu: float  # model FLOPs utilisation, 0..1
    cuda_allocated: float | None = None
    cuda_reserved: float | None = None
    gpu_util: float | None = None  # percent, where the driver reports it
    time: float = field(default_factory=_now)


@dataclass(frozen=True)
class SetupProgress:
    """How far a slow step of the setup has come (see tui_transformer.progress): ``done`` of ``total``
    ``unit``. Shown live, never written to ``metrics.jsonl``: it says nothing once the run has started."""

    stage: str  # "building the builtin corpus", "tokenizer: learning merges"...
    done: int
    total: int
    unit: str  # "files", "texts", "tokens"
    time: float = field(default_factory=_now)


@dataclass(frozen=True)
class LogMessage:
    level: str  # "info", "warning" or "error"
    message: str
    time: float = field(default_factory=_now)


@dataclass(frozen=True)
class RunFinished:
    """The run ended normally. ``reason`` says which budget ended it, or "stopped" by the user."""

    step: int
    reason: str
    tokens_seen: int
    final_val_loss: float | None
    time: float = field(default_factory=_now)


@dataclass(frozen=True)
class RunFailed:
    """The run ended on an error; ``reason`` is one line for the user. The last good checkpoint stays."""

    step: int
    reason: str
    time: float = field(default_factory=_now)


Event = (RunStarted | StepMetrics | EvalResult | Sample | ShardStatus | CheckpointSaved | Alert | SystemSample
         | SetupProgress | LogMessage | RunFinished | RunFailed)
EventCallback = Callable[[Event], None]

EVENT_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in (RunStarted, StepMetrics, EvalResult, Sample, ShardStatus, CheckpointSaved, Alert, SystemSample,
                SetupProgress, LogMessage, RunFinished, RunFailed)
}


def to_json(event: Event) -> str:
    """One line of ``metrics.jsonl``."""
    return json.dumps({"event": type(event).__name__, **asdict(event)})


def event_from_json(line: str) -> Event:
    """Inverse of :func:`to_json`. Unknown keys are dropped so newer files load in older readers.

    A line that is not an event raises ValueError, the one error readers skip a line on: damaged
    bytes can still parse as JSON (a bare number, an unknown event, a field missing or of the wrong
    type). Every reader, the dashboard included, can then trust the fields' types.
    """
    data = json.loads(line)
    cls = EVENT_TYPES.get(data.get("event")) if isinstance(data, dict) and isinstance(data.get("event"), str) else None
    if cls is None:
        raise ValueError(f"not an event: {line[:80]!r}")
    hints = _FIELD_TYPES[cls]
    values = {k: v for k, v in data.items() if k in hints}
    for name, value in values.items():
        if not _is_a(value, hints[name]):
            raise ValueError(f"{cls.__name__}.{name} should be {hints[name]}, got {value!r:.40}")
    try:
        return cls(**values)
    except TypeError as error:  # a required field is missing
        raise ValueError(f"not a whole {cls.__name__}: {error}") from None


_FIELD_TYPES = {cls: get_type_hints(cls) for cls in EVENT_TYPES.values()}


def _is_a(value: Any, hint: Any) -> bool:
    """Does a JSON value fit a field's annotation (``int``, ``float``, ``str``, ``dict[...]``, ``X | None``)?"""
    if hint is Any:
        return True
    if isinstance(hint, UnionType):
        return any(_is_a(value, option) for option in get_args(hint))
    if hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)  # JSON may write 3.0 as 3
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, get_origin(hint) or hint)
