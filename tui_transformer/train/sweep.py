"""Sweeps: the experiment loop (change one thing, train, compare) run for every combination at once.

``--vary lr=1e-3,2e-3 --vary pos_encoding=rope,alibi`` makes a grid of 2 x 2 = 4 runs. They train
one after another, each an ordinary run in the runs folder named ``<sweep>-<i>`` (``i`` from 1, in
grid order: the last ``--vary`` changes fastest), with the sweep's name in its config, and are then
ranked by their best val bits per byte (fair across tokenizers; see model.tools.perplexity).

* **Every field ``train`` accepts can be varied**, by its config name (``lr``, ``batch_size``) or the
  model's (``pos_encoding``, ``d_model``), also written as flags are (``seq-len`` for
  ``max_seq_len``). Values are read by the field's type; whole numbers may use ``10k`` and ``2M``.
* **Checked first.** Every run's config is built before the first one trains, so a field that does
  not exist or a value it refuses is one error, and nothing has trained.
* **A manifest** ``.sweeps/<name>.json`` in the runs folder holds the base settings and the grid, so
  ``sweep --resume NAME`` can continue: finished runs are skipped, a stopped or interrupted one is
  resumed from its checkpoint (bitwise, as ``train --resume`` is), and the rest start fresh.
* **Explicit arms** instead of a grid: :func:`plan_arms` takes a list of :class:`Arm`, each a label
  and its overrides, and names the runs ``<sweep>-<label>`` (a lesson's runs: ``induction-seed0``).
  The manifest records the arms, and everything else (running, resuming, ranking) is the same.
"""

from __future__ import annotations

import difflib
import itertools
import json
import re
import time
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, get_type_hints

from tui_transformer.arguments import BOOLEANS
from tui_transformer.atomic import write_bytes_atomic
from tui_transformer.errors import ConfigError, UserError
from tui_transformer.model.config import ModelConfig
from tui_transformer.paths import runs_dir
from tui_transformer.sizes import parse_size
from tui_transformer.train.config import TrainConfig

SWEEPS_FOLDER = ".sweeps"
ALIASES = {"seq_len": "max_seq_len", "name": "run_name"}  # the train flags that differ from their field
NOT_VARIED = ("run_name", "run_dir", "sweep", "model_vocab_size")  # set by the sweep or the tokenizer


@dataclass(frozen=True)
class Axis:
    key: str  # a with_overrides key: "lr" or "model_pos_encoding"
    values: tuple[Any, ...]


def parse_vary(text: str, flag: str = "--vary") -> Axis:
    """``"lr=1e-3,2e-3"`` -> ``Axis("lr", (0.001, 0.002))``, each value read by the field's type.

    ``flag`` names the option in the errors (``bench recipe --arm`` reads its settings here too)."""
    name, sep, raw = text.partition("=")
    field_name = ALIASES.get(name.strip().replace("-", "_"), name.strip().replace("-", "_"))
    if not sep or not raw.strip():
        raise ConfigError(f"{flag} takes field=value1,value2,...; got {text!r}")
    train_types, model_types = get_type_hints(TrainConfig), get_type_hints(ModelConfig)
    if field_name in model_types and field_name not in train_types:
        key, kind = f"model_{field_name}", model_types[field_name]
    elif field_name in train_types and field_name != "model":
        key, kind = field_name, train_types[field_name]
    else:
        known = sorted({f.name for f in fields(TrainConfig)} - {"model"} | {f.name for f in fields(ModelConfig)})
        close = difflib.get_close_matches(field_name, known, n=1)  # the likely typo first: the list is long
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise ConfigError(f"{flag}: no setting called {name.strip()!r}{hint}; known: {', '.join(known)}")
    if key in NOT_VARIED:
        raise ConfigError(f"{flag}: {field_name} is set by the sweep itself, not varied")
    values = tuple(_value(key, kind, part.strip(), flag) for part in raw.split(","))
    if len(set(map(repr, values))) != len(values):
        raise ConfigError(f"{flag} {field_name}: a value is listed twice")
    return Axis(key, values)


def parse_grid(text: str) -> list[Axis]:
    """``"lr=1e-3,2e-3; pos_encoding=rope,alibi"``: several ``--vary`` in one line (the dashboard's form).

    Blank is no axis at all; each part is read by :func:`parse_vary`, so both spellings take the same values.
    """
    return [parse_vary(part) for part in text.split(";") if part.strip()]


def _value(key: str, kind: Any, text: str, flag: str = "--vary") -> Any:
    """``text`` as a value of the field's type (``int | None`` fields take ints; ``none`` unsets them)."""
    options = getattr(kind, "__args__", (kind,))
    if type(None) in options and text.lower() == "none":
        return None
    try:
        if bool in options:
            return BOOLEANS[text.lower()]
        if int in options:
            value = parse_size(text)
            if value != int(value):
                raise ValueError
            return int(value)
        if float in options:
            return float(text)
    except (ValueError, KeyError):
        raise ConfigError(f"{flag} {key.removeprefix('model_')}: {text!r} is not a {options[0].__name__}") from None
    return text


@dataclass(frozen=True)
class Arm:
    """One run of a sweep of explicit arms: its label (the run's name after the sweep's) and overrides."""

    label: str
    values: dict[str, Any]  # with_overrides keys: "lr", "model_pos_encoding"


@dataclass(frozen=True)
class Plan:
    name: str
    configs: tuple[TrainConfig, ...]  # in grid order
    grid: tuple[dict[str, Any], ...]  # each run's varied values
    labels: tuple[str, ...] | None = None  # explicit arms' labels; None: runs are numbered

    def run_name(self, index: int) -> str:
        return f"{self.name}-{self.labels[index] if self.labels else index + 1}"


def default_name() -> str:
    """``sweep-MMDD-HHMMSS``: the name of a sweep not given one."""
    return time.strftime("sweep-%m%d-%H%M%S")


def check_name(name: str) -> str:
    """``name`` if it can name a sweep (it names its runs' folders too); else a UserError saying why."""
    if not re.fullmatch(r"[\w.-]+", name):
        raise UserError(f"sweep name {name!r} may only use letters, digits, '.', '_' and '-'")
    return name


def plan(name: str, base: TrainConfig, axes: list[Axis]) -> Plan:
    """Every run's config, built (and so validated) before anything trains."""
    check_name(name)
    if not axes:
        raise UserError("a sweep needs at least one --vary field=v1,v2,...")
    keys = [axis.key for axis in axes]
    if len(set(keys)) != len(keys):
        raise UserError("--vary names the same field twice; list all its values in one --vary")
    grid = tuple(dict(zip(keys, combination)) for combination in itertools.product(*(a.values for a in axes)))
    return _built(Plan(name, (), grid), base)


def plan_arms(name: str, base: TrainConfig, arms: list[Arm]) -> Plan:
    """A sweep of explicit arms (see the module docstring), every config built before anything trains."""
    check_name(name)
    if not arms:
        raise UserError("a sweep of arms needs at least one arm")
    labels = tuple(check_name(arm.label) for arm in arms)
    if len(set(labels)) != len(labels):
        raise UserError(f"sweep {name}: two arms have the same label")
    for arm in arms:
        unknown = set(arm.values) & set(NOT_VARIED)
        if unknown:
            raise ConfigError(f"sweep {name}, arm {arm.label}: {', '.join(sorted(unknown))} is set by the sweep itself")
    return _built(Plan(name, (), tuple(dict(arm.values) for arm in arms), labels), base)


def _built(sweep: Plan, base: TrainConfig) -> Plan:
    """``sweep`` with each run's config: the base with the run's values, its name and the sweep's."""
    configs = []
    for index, values in enumerate(sweep.grid):
        try:
            configs.append(base.with_overrides(**values, run_name=sweep.run_name(index), sweep=sweep.name))
        except (ConfigError, TypeError) as error:  # TypeError: a key that names no setting
            which = sweep.labels[index] if sweep.labels else index + 1
            raise ConfigError(f"sweep run {which} ({describe(values)}): {error}") from None
    return replace(sweep, configs=tuple(configs))


def describe(values: dict[str, Any]) -> str:
    """``lr=0.001, pos_encoding=rope``: a run's varied values, as a label."""
    return ", ".join(f"{key.removeprefix('model_')}={value}" for key, value in values.items())


# ---- where it lives ------------------------------------------------------------------------------

def parent_folder(config: TrainConfig) -> Path:
    """The folder the sweep's runs (and its manifest) live in."""
    return Path(config.run_dir).expanduser() if config.run_dir else runs_dir()


def run_path(sweep: Plan, index: int) -> Path:
    """The run directory of the sweep's run ``index`` (from 0)."""
    return parent_folder(sweep.configs[index]) / sweep.run_name(index)


# ---- the manifest --------------------------------------------------------------------------------

def manifest_path(name: str, root: Path | None = None) -> Path:
    return (root or runs_dir()) / SWEEPS_FOLDER / f"{name}.json"


def save_manifest(name: str, base: TrainConfig, runs: list[Axis] | list[Arm], root: Path | None = None) -> None:
    """The base settings and the grid's axes, or the arms (``runs`` holds one kind or the other)."""
    data: dict[str, Any] = {"name": name, "base": base.to_dict()}
    if runs and isinstance(runs[0], Arm):
        data["arms"] = [{"label": arm.label, "values": arm.values} for arm in runs]
    else:
        data["axes"] = [{"key": a.key, "values": list(a.values)} for a in runs]
    write_bytes_atomic(manifest_path(name, root), json.dumps(data, indent=1).encode())


def load_manifest(name: str, root: Path | None = None) -> tuple[TrainConfig, list[Axis] | list[Arm]]:
    """The base settings, and the axes of a grid or the arms of a sweep of arms."""
    path = manifest_path(name, root)
    try:
        data = json.loads(path.read_text())
        base = TrainConfig.from_dict(data["base"])
        if "arms" in data:
            return base, [Arm(str(arm["label"]), dict(arm["values"])) for arm in data["arms"]]
        return base, [Axis(a["key"], tuple(a["values"])) for a in data["axes"]]
    except FileNotFoundError:
        raise UserError(f"no sweep called {name!r} (looked for {path})") from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise UserError(f"the sweep manifest {path} is damaged ({type(error).__name__}: {error})") from None


def new_sweep(name: str, base: TrainConfig, runs: list[Axis] | list[Arm]) -> Plan:
    """A sweep that has not run yet (a grid of axes, or a list of arms): checked (name free, every
    config valid), then its manifest saved.

    Nothing is written when anything is wrong, so a refused sweep leaves no trace.
    """
    root = parent_folder(base)
    if manifest_path(name, root).exists():
        raise UserError(f"a sweep called {name!r} exists: pick another name, or continue it "
                        f"(sweep --resume {name}; in the dashboard, its name with vary blank)")
    sweep = _plan_of(name, base, runs)
    save_manifest(name, base, runs, root)
    return sweep


def resume_plan(name: str, root: Path | None = None) -> Plan:
    """The sweep ``name`` as its manifest describes it, ready to continue with :func:`run_sweep`."""
    base, runs = load_manifest(name, root)
    return _plan_of(name, base, runs)


def _plan_of(name: str, base: TrainConfig, runs: list[Axis] | list[Arm]) -> Plan:
    return plan_arms(name, base, runs) if runs and isinstance(runs[0], Arm) else plan(name, base, runs)


# ---- running it ----------------------------------------------------------------------------------

def run_sweep(sweep: Plan, on_run_start=None, on_event=None, stop=None, pause=None) -> list[dict[str, Any]]:
    """Train each run of ``sweep`` that is not finished yet; returns the ranked results (see :func:`ranked`).

    The one sequencing loop of both views: the ``sweep`` command and the dashboard's Train screen.
    ``on_run_start(index, total, values, action)`` is told before each run ("start", "resume" or
    "skip"). A set ``stop`` ends the current run with its checkpoint, and the sweep after it; a set
    ``pause`` holds the current run between steps, as it does a single run.
    """
    from tui_transformer.train.run_state import RunState
    from tui_transformer.train.runs import CONFIG_FILE, run_info
    from tui_transformer.train.trainer import run_training

    for index, (config, values) in enumerate(zip(sweep.configs, sweep.grid)):
        if stop is not None and stop.is_set():
            break
        path = run_path(sweep, index)
        exists = (path / CONFIG_FILE).is_file()
        if exists and run_info(path).state is RunState.FINISHED:
            action = "skip"
        else:
            action = "resume" if exists else "start"
        if on_run_start:
            on_run_start(index, len(sweep.configs), values, action)
        if action != "skip":
            run_training(config, on_event=on_event, stop=stop, pause=pause, resume=str(path) if exists else None,
                         preset_reason=f"sweep {sweep.name}, run {index + 1}: {describe(values)}")
    return ranked(sweep)


def ranked(sweep: Plan) -> list[dict[str, Any]]:
    """One row per run that has trained: its varied values and results, best val bpb first."""
    from tui_transformer.train.run_compare import metric_history, summary
    from tui_transformer.train.runs import CONFIG_FILE, run_info

    rows = []
    for index, values in enumerate(sweep.grid):
        path = run_path(sweep, index)
        if not (path / CONFIG_FILE).is_file():
            continue
        rows.append({"run": path.name, "label": sweep.labels[index] if sweep.labels else None, "values": {k.removeprefix("model_"): v for k, v in values.items()},
                     "state": run_info(path).label, **summary(metric_history(path))})
    return sorted(rows, key=lambda row: (row["best_val_bpb"] is None, row["best_val_bpb"] or 0.0))
