"""Changing a run after it ran: rename it, give it a one-line note, delete it.

``runs rename``, ``runs note`` and ``runs delete`` on the command line and the Runs screen's keys
all call these three functions, so both refuse the same things with the same words:

* **a run being trained** is never renamed or deleted. Each of the two takes the run's lock
  (:mod:`tui_transformer.train.run_lock`) for the whole change, the same lock a trainer holds, so
  the refusal names the training process, and no trainer can start in the run halfway through;
* **delete** only removes runs inside the runs folder: a path typed by mistake (``runs delete ~``)
  must not become ``rm -rf``. The folder is first renamed to a hidden name, in one step, then
  removed, so a listing never shows a half-deleted run;
* **rename** keeps everything (checkpoints, metrics, samples, the note) because it moves the
  folder, and refuses a name that is taken: that run would be lost under the other.

A note is a line of its own file, ``note.txt``, so that writing it never touches the trainer's
files, and a note can be added while the run trains.
"""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from tui_transformer.atomic import write_bytes_atomic
from tui_transformer.errors import ConfigError, UserError
from tui_transformer.paths import runs_dir
from tui_transformer.train import config_file
from tui_transformer.train.run_lock import RunLock
from tui_transformer.train.runs import CONFIG_FILE, NOTE_FILE, check_run_name, resolve_run

DELETING_PREFIX = ".deleting-"  # a run on its way out: hidden from listings (see list_runs)
MAX_NOTE = 200  # characters: a note is one line in a table, not a diary


@contextmanager
def _locked(run_dir: Path) -> Iterator[RunLock]:
    """Hold ``run_dir``'s lock (RunBusy if a trainer has it). The caller may move the folder meanwhile:
    it sets ``lock.run_dir`` to the new place, so the release cleans up there."""
    lock = RunLock(run_dir)
    lock.acquire()
    try:
        yield lock
    finally:
        lock.release()


def rename_run(run: str | Path, new_name: str) -> Path:
    """Rename a run (a name or a run directory) to ``new_name`` in the same folder; returns its new path."""
    old = resolve_run(run)
    check_run_name(new_name)
    new = old.parent / new_name
    if new.exists() or new.is_symlink():
        raise UserError(f"cannot rename {old.name} to {new_name}: {new} already exists; pick another name")
    with _locked(old) as lock:
        # (os.rename would also replace an empty folder of that name: the check above keeps it for the user.)
        os.rename(old, new)
        lock.run_dir = new
        _rename_in_config(new, new_name)
    return new


def _rename_in_config(run_dir: Path, new_name: str) -> None:
    """A run named with ``--name`` records that name in its config.toml: keep it equal to the folder's."""
    path = run_dir / CONFIG_FILE
    try:
        config = config_file.read(path)
    except ConfigError:
        return  # a damaged config stays as it is; the folder's name is what names the run
    if config.run_name is not None:
        config_file.write(config.with_overrides(run_name=new_name), path)


def set_note(run: str | Path, text: str) -> Path:
    """Give a run a one-line note (an empty ``text`` removes it); returns the run directory."""
    run_dir = resolve_run(run)
    note = text.strip()
    if "\n" in note or "\r" in note:
        raise UserError("a note is one line; put the longer story in a file of your own")
    if len(note) > MAX_NOTE:
        raise UserError(f"a note holds at most {MAX_NOTE} characters (this one has {len(note)})")
    if note:
        write_bytes_atomic(run_dir / NOTE_FILE, (note + "\n").encode("utf-8"))
    else:
        (run_dir / NOTE_FILE).unlink(missing_ok=True)
    return run_dir


def deletable_run(run: str | Path) -> Path:
    """The run directory ``delete_run`` would remove, or a UserError saying why it will not."""
    run_dir = resolve_run(run)
    root = runs_dir().resolve()
    if run_dir.resolve().parent != root or run_dir.is_symlink():
        raise UserError(f"{run_dir} is not a run in the runs folder ({root}); `runs delete` removes only those, "
                        "so delete it yourself if you mean it")
    return run_dir


def delete_run(run: str | Path) -> Path:
    """Delete a run of the runs folder, with its checkpoints; returns the path it had."""
    run_dir = deletable_run(run)
    with _locked(run_dir) as lock:
        doomed = run_dir.with_name(f"{DELETING_PREFIX}{run_dir.name}-{os.getpid()}")
        os.rename(run_dir, doomed)
        lock.run_dir = doomed
        try:
            shutil.rmtree(doomed)
        except OSError as error:
            raise UserError(f"could not delete all of {run_dir.name} ({error.strerror or error}); "
                            f"what is left is in {doomed}") from error
    return run_dir
