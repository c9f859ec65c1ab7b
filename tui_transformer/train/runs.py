"""Run directories: where a run keeps its work, how it is named, and how to find it again.

A run directory holds::

    config.toml        the effective TrainConfig (see train.config_file)
    metrics.jsonl      every event, one JSON object a line (see train.metrics)
    samples.txt        the sample generations, readable as they come
    tokenizer.tiktoken a copy of a trained (bpe-N) tokenizer or of a .tiktoken file given by path, so the
                       run works after the cache is cleaned or the file is gone
    checkpoints/       latest.pt (every checkpoint_interval steps and at the end) and best.pt (lowest val loss)
    run.lock, RUNNING  the lock of the process training in it, and that process's pid (see train.run_lock)
    note.txt           the learner's one-line note (``runs note``), if any

Runs live under :func:`tui_transformer.paths.runs_dir` unless ``run_dir`` says otherwise, and are
named ``<preset>-<data>-<MMDD>-<HHMMSS>`` (or ``--name``), so that ``runs list`` reads like a diary.
Anywhere a run is expected, a name under the runs folder or a path to a run directory both work.
A training session holds its directory through a :class:`RunDirectory`; ``runs list`` reads each
one back as a :class:`RunInfo`.
"""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from tui_transformer.atomic import TEMP_PREFIX, remove_stale_temps
from tui_transformer.errors import UserError
from tui_transformer.paths import runs_dir
from tui_transformer.train import config_file
from tui_transformer.train.config import TrainConfig
from tui_transformer.train.metrics import METRICS_FILE
from tui_transformer.train.run_lock import LOCK_FILE, RUNNING_FILE, RunBusy, RunLock, training_pid
from tui_transformer.train.run_scan import scan_metrics
from tui_transformer.train.run_state import RunState

if TYPE_CHECKING:
    from tui_transformer.data.tokenizer import Tokenizer

CONFIG_FILE = "config.toml"
SAMPLES_FILE = "samples.txt"
CHECKPOINTS = "checkpoints"
TOKENIZER_FILE = "tokenizer.tiktoken"
NOTE_FILE = "note.txt"


def _slug(text: str) -> str:
    text = Path(text).stem if ("/" in text or "\\" in text) else text
    return re.sub(r"[^a-zA-Z0-9]+", "-", text).strip("-").lower()[:24] or "data"


def new_run_name(config: TrainConfig, now: float | None = None) -> str:
    stamp = time.strftime("%m%d-%H%M%S", time.localtime(now))
    return f"{_slug(config.preset)}-{_slug(config.data)}-{stamp}"


def check_run_name(name: str) -> str:
    """``name`` if it can name a run folder (one path part, no spaces), else a UserError saying why.

    A leading dot is refused too: hidden folders in the runs folder are its own (``.sweeps``, temporaries).
    """
    if not re.fullmatch(r"[\w.-]+", name):
        raise UserError(f"run name {name!r} may only use letters, digits, '.', '_' and '-'")
    if name.startswith("."):
        raise UserError(f"run name {name!r} may not start with '.' (hidden folders there are the runs folder's own)")
    return name


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


# ---- one training session in a run directory ------------------------------------------------------

class RunDirectory:
    """A training session's hold on its run directory, from setup to close (rank 0 only under DDP).

    The lifecycle::

        RunDirectory.create(config, tokenizer)   a new run: the folder, its lock, then config.toml
                                                 first, so the run can be listed and resumed from
                                                 the moment it exists (a kill leaves no wedge)
        RunDirectory.resume(path)                an existing run: its lock, before anything is read
        write_run_files(...)                     config.toml again (a resume's new flags) and a copy
                                                 of a trained tokenizer
        started = True                           the session's RunStarted is written
        close()                                  the lock goes; a new run that never started is
                                                 removed again, which frees its name

    A second trainer is refused at the lock (see :mod:`.run_lock`), whichever way it comes in.
    """

    def __init__(self, path: Path, new: bool) -> None:
        self.path = path
        self.new = new  # this session created the folder (not a resume)
        self.lock = RunLock(path)
        self.started = False  # the session's RunStarted is in metrics.jsonl

    @classmethod
    def create(cls, config: TrainConfig, tokenizer: Tokenizer) -> RunDirectory:
        """A new run directory, locked, with its config.toml; ``run_dir``/``run_name`` pick its parent and name."""
        parent = Path(config.run_dir).expanduser() if config.run_dir else runs_dir()
        name = check_run_name(config.run_name or new_run_name(config))
        for suffix in itertools.count(1):
            path = parent / (name if suffix == 1 else f"{name}-{suffix}")
            run = None
            try:
                run = cls._claim(path, named=bool(config.run_name))
                if run is not None:
                    run.write_run_files(config, tokenizer)
                    (path / CHECKPOINTS).mkdir(exist_ok=True)
                    return run
            except OSError as error:  # a full disk, a read-only folder: nothing half-made is left behind
                _abandon(run, path)
                raise UserError(f"cannot set up run {path}: {error.strerror or error}; nothing was kept") from None
        raise AssertionError("unreachable")

    @classmethod
    def _claim(cls, path: Path, named: bool) -> RunDirectory | None:
        """Lock ``path`` for a new run if it is free (absent, empty or a dead setup's leftover), else None.

        A ``--name`` that is taken is an error instead: the user asked for that very folder.
        """
        if not _free_for_a_new_run(path):  # checked before locking, so another run's folder is not touched
            return _taken(path, named)
        path.mkdir(parents=True, exist_ok=True)
        run = cls(path, new=True)
        try:
            run.lock.acquire()
        except RunBusy:
            if named:
                raise
            return None
        if not _free_for_a_new_run(path):  # another process filled it between the look and the lock
            run.lock.release()
            return _taken(path, named)
        _remove_setup_files(path)  # a dead setup's leftover: reused, as if it had never been (our lock stays)
        return run

    @classmethod
    def resume(cls, path: Path) -> RunDirectory:
        """Lock the existing run at ``path``; raises RunBusy if another process is training it."""
        run = cls(path, new=False)
        run.lock.acquire()
        return run

    def write_run_files(self, config: TrainConfig, tokenizer: Tokenizer) -> None:
        config_file.write(config, self.path / CONFIG_FILE)
        copy = self.path / TOKENIZER_FILE
        if (tokenizer.name.startswith("bpe-") or tokenizer.path is not None) and not copy.exists():
            tokenizer.write_ranks_file(copy)  # a trained tokenizer lives in the cache, which may be cleaned

    def close(self) -> None:
        """Let go of the run; a new run whose setup failed or was stopped is removed again."""
        if self.new and not self.started and self.lock.held:
            _remove_setup_files(self.path)  # while still locked: no other process is using them
            self.lock.release()
            (self.path / LOCK_FILE).unlink(missing_ok=True)
            try:
                self.path.rmdir()  # only if empty: anything else in it is not ours to delete
            except OSError:
                pass
            return
        self.lock.release()


# What a setup writes before its first checkpoint: a folder holding only these (and an empty
# checkpoints/) is a setup that died or failed, which a new run may reuse.
SETUP_FILES = (CONFIG_FILE, METRICS_FILE, TOKENIZER_FILE, RUNNING_FILE, LOCK_FILE)


def _taken(path: Path, named: bool) -> None:
    """A folder in use: the next numbered name is tried, unless the user named this one."""
    if named:
        raise UserError(f"run {path} already exists; use --resume {path.name} to continue it, or another --name")


def _is_setup_file(entry: Path) -> bool:
    return entry.name in SETUP_FILES or entry.name.startswith(TEMP_PREFIX)


def _free_for_a_new_run(path: Path) -> bool:
    """Absent, empty, or holding only what a setup that never started leaves (no config.toml, no checkpoint)."""
    if not path.exists():
        return True
    if not path.is_dir() or (path / CONFIG_FILE).exists():
        return False
    for entry in path.iterdir():
        if entry.name == CHECKPOINTS and entry.is_dir() and not any(entry.iterdir()):
            continue
        if not _is_setup_file(entry) or not entry.is_file():
            return False
    return True


def _abandon(run: RunDirectory | None, path: Path) -> None:
    """Undo a new run's setup that failed: its files, its lock and its folder (only if nothing else is in it)."""
    if run is not None:
        run.close()
        return
    try:  # it failed while claiming the folder, which held only a setup's files then
        _remove_setup_files(path)
        (path / LOCK_FILE).unlink(missing_ok=True)
        path.rmdir()
    except OSError:
        pass


def _remove_setup_files(path: Path) -> None:
    """Delete what a setup writes (never anything else), so that the folder can be used afresh.

    The lock's own files stay: it is held while this runs, and ``RUNNING`` names its holder, which
    ``runs list`` reads to say the run is training (the lock removes both itself when released).
    """
    for entry in path.iterdir() if path.is_dir() else ():
        if _is_setup_file(entry) and entry.name not in (LOCK_FILE, RUNNING_FILE) and entry.is_file():
            entry.unlink(missing_ok=True)
    try:
        (path / CHECKPOINTS).rmdir()  # only if empty
    except OSError:
        pass


def has_checkpoint(run_dir: Path) -> bool:
    """Whether ``run_dir`` holds any checkpoint (one without any restarts from step 0 on --resume).

    A save's temp file (``.tmp-<pid>-...-latest.pt``) is not one: a writer killed mid-save leaves it.
    """
    return any(not path.name.startswith(TEMP_PREFIX) for path in (run_dir / CHECKPOINTS).glob("*.pt"))


def remove_dead_writers_temps(run_dir: Path) -> None:
    """Delete the temp files that processes killed mid-write left in the run (a live writer's stay)."""
    for folder in (run_dir, run_dir / CHECKPOINTS):
        if folder.is_dir():
            remove_stale_temps(folder)


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
    best_val_loss: float | None = None  # over the whole history (see train.run_scan)
    best_val_bpb: float | None = None
    alerts: int = 0  # the training doctor's alerts (see train.doctor)
    note: str = ""  # the learner's one line about the run (``runs note``)
    tokens_seen: int = 0  # at the last logged step
    elapsed_s: float = 0.0  # training time at the last logged step
    tokens_per_sec: float | None = None  # at the last logged step
    started: float | None = None  # unix time of the first RunStarted
    data: str = "?"  # the config's data, tokenizer and sweep, as the first session recorded them
    tokenizer: str = "?"
    sweep: str | None = None
    n_params: int | None = None

    @property
    def label(self) -> str:
        """The state as ``runs list`` prints it: "finished (max_steps)", "failed: <why>", "stopped", ..."""
        if self.state is RunState.FINISHED:
            return f"finished ({self.reason})"
        if self.state in (RunState.FAILED, RunState.DAMAGED):
            return f"{self.state.value}: {self.reason}"
        return self.state.value


def run_info(run_dir: Path) -> RunInfo:
    """One run's summary: its metrics file scanned (see train.run_scan), its lock, its note.

    A dead writer's temp files are deleted on the way (see :func:`remove_dead_writers_temps`).
    """
    remove_dead_writers_temps(run_dir)
    metrics = run_dir / METRICS_FILE
    scan = scan_metrics(metrics)
    preset, state, reason = scan.preset, scan.state, scan.reason
    if preset == "?":  # no session has started yet (a setup that was killed): the config still says it
        preset = _configured_preset(run_dir)
    if training_pid(run_dir) is not None:
        state, reason = RunState.RUNNING, ""
    updated = (metrics if metrics.is_file() else run_dir).stat().st_mtime
    first, last = scan.first_start, scan.last
    config = first.config if first is not None else {}
    return RunInfo(name=run_dir.name, path=run_dir, preset=preset, last_step=scan.last_step, state=state,
                   reason=reason, updated=updated, val_bpb=scan.val_bpb, best_val_loss=scan.best_val_loss,
                   best_val_bpb=scan.best_val_bpb, alerts=scan.alerts, note=read_note(run_dir),
                   tokens_seen=last.tokens_seen if last else 0, elapsed_s=last.elapsed_s if last else 0.0,
                   tokens_per_sec=last.tokens_per_sec if last else None, started=first.time if first else None,
                   data=str(config.get("data", "?")), tokenizer=str(config.get("tokenizer", "?")),
                   sweep=config.get("sweep") or None, n_params=first.n_params if first else None)


def read_note(run_dir: Path) -> str:
    """The run's note (``runs note``), "" when it has none."""
    try:
        return (run_dir / NOTE_FILE).read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""


def _configured_preset(run_dir: Path) -> str:
    try:
        return str(config_file.read_overrides(run_dir / CONFIG_FILE).get("preset", "?"))
    except UserError:
        return "?"


def list_runs(root: Path | None = None) -> list[RunInfo]:
    """Every run under ``root`` (the runs folder by default), most recently updated first."""
    runs = [run_info(path) if (path / CONFIG_FILE).is_file() else damaged_run_info(path) for path in run_paths(root)]
    return sorted(runs, key=lambda info: info.updated, reverse=True)


def run_paths(root: Path | None = None) -> list[Path]:
    """The run folders under ``root`` (the runs folder by default): one listing, no metrics read,
    so a dashboard can ask every few seconds whether a run has appeared or gone."""
    root = root or runs_dir()
    if not root.is_dir():
        return []
    # hidden folders are the runs folder's own (.sweeps, a run being deleted), never runs
    return [path for path in root.iterdir() if not path.name.startswith(".") and _is_run(path)]


def _is_run(path: Path) -> bool:
    """A run folder: one with its config.toml, or one that lost it but holds a run's work (a checkpoint,
    logged steps); a dead setup's leftover (only setup files) is none, its name free again."""
    if (path / CONFIG_FILE).is_file():
        return True
    looks_like_a_run = (path / METRICS_FILE).is_file() or (path / CHECKPOINTS).is_dir()
    return path.is_dir() and looks_like_a_run and not _free_for_a_new_run(path)


def damaged_run_info(run_dir: Path) -> RunInfo:
    """A run folder without its config.toml: what can be read of it, as ``damaged`` with the reason."""
    return replace(run_info(run_dir), state=RunState.DAMAGED,
                   reason=f"no {CONFIG_FILE} (deleted?): copy it back from a backup to resume, generate or evaluate")
