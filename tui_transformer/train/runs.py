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
A training session holds its directory through a :class:`RunDirectory`; ``runs list`` reads each
one back as a :class:`RunInfo`.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tui_transformer.errors import UserError
from tui_transformer.paths import runs_dir
from tui_transformer.process import pid_alive
from tui_transformer.train import config_file
from tui_transformer.train.config import TrainConfig
from tui_transformer.train.events import EvalResult, Event, RunFailed, RunFinished, RunStarted, StepMetrics
from tui_transformer.train.metrics import METRICS_FILE, read_events, read_head_and_tail_events
from tui_transformer.train.run_state import RunState, ended_state

if TYPE_CHECKING:
    from tui_transformer.data.tokenizer import Tokenizer

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


def is_running(run_dir: Path) -> bool:
    """Whether a live process is training in ``run_dir`` right now."""
    try:
        pid = int((run_dir / RUNNING_FILE).read_text().strip())
    except (OSError, ValueError):
        return False
    return pid != os.getpid() and pid_alive(pid)  # our own pid: a session of ours that ended without cleanup


def refuse_if_running(run_dir: Path) -> None:
    """A run has one trainer at a time: two would interleave their metrics and overwrite each other's checkpoints."""
    if is_running(run_dir):
        raise UserError(f"run {run_dir.name} is being trained right now by another process; stop it first")


# ---- one training session in a run directory ------------------------------------------------------

class RunDirectory:
    """A training session's hold on its run directory, from setup to close (rank 0 only under DDP).

    The lifecycle::

        RunDirectory(path, new)     new: this session created the folder (not a resume)
        mark_running()              RUNNING holds our pid: `runs list` says "running", a second
                                    trainer is refused
        write_run_files(...)        config.toml (the run can now be listed and resumed) and a
                                    copy of a trained tokenizer
        close()                     RUNNING goes; a new run whose setup failed is removed again
    """

    def __init__(self, path: Path, new: bool) -> None:
        self.path = path
        self.new = new
        self.listed = False  # config.toml is there: the run can be listed and resumed

    def mark_running(self) -> None:
        mark_running(self.path)

    def write_run_files(self, config: TrainConfig, tokenizer: Tokenizer) -> None:
        config_file.write(config, self.path / CONFIG_FILE)
        self.listed = True
        copy = self.path / TOKENIZER_FILE
        if tokenizer.name.startswith("bpe-") and not copy.exists():
            tokenizer.write_ranks_file(copy)  # a trained tokenizer lives in the cache, which may be cleaned

    def close(self) -> None:
        clear_running(self.path)
        if self.new and not self.listed:
            self._remove_unstarted()

    def _remove_unstarted(self) -> None:
        """Undo a new run directory whose setup failed (bad data, a tokenizer error, no network).

        Without its config.toml it can be neither listed nor resumed, yet it would keep its
        ``--name`` taken. Only the files setup writes are removed, so nothing else is ever lost.
        """
        for name in (METRICS_FILE, RUNNING_FILE):
            (self.path / name).unlink(missing_ok=True)
        for folder in (self.path / CHECKPOINTS, self.path):
            try:
                folder.rmdir()  # only if empty
            except OSError:
                return


# ---- listing -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RunInfo:
    name: str
    path: Path
    preset: str
    last_step: int
    state: RunState  # new, running, finished, stopped, failed or interrupted
    reason: str  # how the latest session ended: RunFinished's budget (or "stopped"), RunFailed's message; else ""
    updated: float  # unix time of the last metrics line (or of the directory)
    val_bpb: float | None = None  # the latest evaluation's bits per byte

    @property
    def label(self) -> str:
        """The state as ``runs list`` prints it: "finished (max_steps)", "failed: <why>", "stopped", ..."""
        if self.state is RunState.FINISHED:
            return f"finished ({self.reason})"
        if self.state is RunState.FAILED:
            return f"failed: {self.reason}"
        return self.state.value


def run_info(run_dir: Path) -> RunInfo:
    metrics = run_dir / METRICS_FILE
    preset, last_step, state, reason, val_bpb = "?", 0, RunState.NEW, "", None
    if metrics.is_file():
        for event in _summary_events(metrics):
            if isinstance(event, RunStarted):  # a resume starts a new session: its ending is still to come
                preset, state, reason = event.preset, RunState.INTERRUPTED, ""
                last_step = max(last_step, event.resumed_from_step)
            elif isinstance(event, StepMetrics):
                last_step = event.step
            elif isinstance(event, EvalResult):
                val_bpb = event.val_bpb
            elif isinstance(event, RunFinished):
                state, reason = ended_state(event, None), event.reason
            elif isinstance(event, RunFailed):
                state, reason = ended_state(None, event), event.reason
    if is_running(run_dir):
        state, reason = RunState.RUNNING, ""
    updated = (metrics if metrics.is_file() else run_dir).stat().st_mtime
    return RunInfo(name=run_dir.name, path=run_dir, preset=preset, last_step=last_step, state=state, reason=reason,
                   updated=updated, val_bpb=val_bpb)


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
