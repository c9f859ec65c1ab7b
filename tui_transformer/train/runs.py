"""Run directories: where a run keeps its work, how it is named, and how to find it again.

A run directory holds::

    config.toml        the effective TrainConfig (see train.config_file)
    metrics.jsonl      every event, one JSON object a line (see train.metrics)
    samples.txt        the sample generations, readable as they come
    tokenizer.tiktoken a copy of a trained (bpe-N) tokenizer, so the run works after the cache is cleaned
    checkpoints/       latest.pt (every checkpoint_interval steps and at the end) and best.pt (lowest val loss)
    RUNNING            present while a process trains in it; holds that process's pid

Runs live under :func:`tui_transformer.paths.runs_dir` unless ``run_dir`` says otherwise, and are
named ``<preset>-<data>-<MMDD>-<HHMMSS>`` (or ``--name``), so that ``runs list`` reads like a diary.
Anywhere a run is expected, a name under the runs folder or a path to a run directory both work.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from tui_transformer.errors import UserError
from tui_transformer.paths import runs_dir
from tui_transformer.train import config_file
from tui_transformer.train.config import TrainConfig
from tui_transformer.train.events import Event, RunFailed, RunFinished, RunStarted, StepMetrics
from tui_transformer.train.metrics import METRICS_FILE, read_events, read_head_and_tail_events

CONFIG_FILE = "config.toml"
SAMPLES_FILE = "samples.txt"
CHECKPOINTS = "checkpoints"
RUNNING_FILE = "RUNNING"
TOKENIZER_FILE = "tokenizer.tiktoken"


def _slug(text: str) -> str:
    text = Path(text).stem if ("/" in text or "\\" in text) else text
    return re.sub(r"[^a-zA-Z0-9]+", "-", text).strip("-").lower()[:24] or "data"


def new_run_name(config: TrainConfig, now: float | None = None) -> str:
    stamp = time.strftime("%m%d-%H%M%S", time.localtime(now))
    return f"{_slug(config.preset)}-{_slug(config.data)}-{stamp}"


def create_run_dir(config: TrainConfig) -> Path:
    """A fresh directory for a new run; ``run_dir``/``run_name`` pick its parent and name."""
    parent = Path(config.run_dir).expanduser() if config.run_dir else runs_dir()
    name = config.run_name or new_run_name(config)
    if not re.fullmatch(r"[\w.-]+", name):
        raise UserError(f"run name {name!r} may only use letters, digits, '.', '_' and '-'")
    path = parent / name
    suffix = 1
    while path.exists() and any(path.iterdir()):
        if config.run_name:
            raise UserError(f"run {path} already exists; use --resume {name} to continue it, or another --name")
        suffix += 1
        path = parent / f"{name}-{suffix}"
    (path / CHECKPOINTS).mkdir(parents=True, exist_ok=True)
    return path


def resolve_run(run: str | Path) -> Path:
    """A run name (under the runs folder) or a run directory -> the run directory."""
    candidates = list(dict.fromkeys([Path(run).expanduser(), runs_dir() / str(run)]))
    for path in candidates:
        if (path / CONFIG_FILE).is_file():
            return path
    for path in candidates:
        if path.is_dir() and ((path / METRICS_FILE).is_file() or (path / CHECKPOINTS).is_dir()):
            raise UserError(f"{path} looks like a run but has no {CONFIG_FILE} (deleted?); a run needs it to "
                            "resume, generate or evaluate: copy it back from a backup, or start a new run")
    raise UserError(f"no run called {str(run)!r} (looked for {' and '.join(str(c) for c in candidates)}); "
                    "see `tui-transformer runs list`")


def load_run_config(run: str | Path) -> TrainConfig:
    return config_file.read(resolve_run(run) / CONFIG_FILE)


# ---- the RUNNING marker: tells "in progress" apart from "killed" ---------------------------------

def mark_running(run_dir: Path) -> None:
    (run_dir / RUNNING_FILE).write_text(str(os.getpid()), encoding="utf-8")


def clear_running(run_dir: Path) -> None:
    (run_dir / RUNNING_FILE).unlink(missing_ok=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def is_running(run_dir: Path) -> bool:
    """Whether a live process is training in ``run_dir`` right now."""
    try:
        pid = int((run_dir / RUNNING_FILE).read_text().strip())
    except (OSError, ValueError):
        return False
    return pid != os.getpid() and _pid_alive(pid)  # our own pid: a session of ours that ended without cleanup


# ---- listing -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RunInfo:
    name: str
    path: Path
    preset: str
    last_step: int
    state: str  # "running", "finished (<reason>)", "stopped", "failed: <reason>", "interrupted", "new"
    updated: float  # unix time of the last metrics line (or of the directory)


def run_info(run_dir: Path) -> RunInfo:
    metrics = run_dir / METRICS_FILE
    preset, last_step, state = "?", 0, "new"
    if metrics.is_file():
        for event in _summary_events(metrics):
            if isinstance(event, RunStarted):
                preset, state = event.preset, "interrupted"
                last_step = max(last_step, event.resumed_from_step)
            elif isinstance(event, StepMetrics):
                last_step = event.step
            elif isinstance(event, RunFinished):
                state = "stopped" if event.reason == "stopped" else f"finished ({event.reason})"
            elif isinstance(event, RunFailed):
                state = f"failed: {event.reason}"
    if is_running(run_dir):
        state = "running"
    updated = (metrics if metrics.is_file() else run_dir).stat().st_mtime
    return RunInfo(name=run_dir.name, path=run_dir, preset=preset, last_step=last_step, state=state, updated=updated)


def _summary_events(metrics: Path) -> list[Event]:
    """The events that decide a run's summary: its first and its latest (the whole file if the latest hold no step)."""
    head, tail = read_head_and_tail_events(metrics)
    if not tail or any(isinstance(event, (RunStarted, StepMetrics)) for event in tail):
        return head + tail
    return list(read_events(metrics))  # a tail of only evals or samples: rare, and then worth the full read


def list_runs(root: Path | None = None) -> list[RunInfo]:
    """Every run under ``root`` (the runs folder by default), most recently updated first."""
    root = root or runs_dir()
    if not root.is_dir():
        return []
    runs = [run_info(path) for path in root.iterdir() if (path / CONFIG_FILE).is_file()]
    return sorted(runs, key=lambda info: info.updated, reverse=True)
