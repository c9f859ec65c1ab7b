"""One writer per run: an exclusive lock on the run directory, held for a whole training session.

Two trainers in one run would interleave their ``metrics.jsonl`` and overwrite each other's
checkpoints. Checking a marker file and writing it a moment later leaves a gap in which both
pass the check, so the guard is a lock instead, which is taken in one step::

    run.lock   an OS file lock (flock, through filelock): exclusive, and dropped by the kernel when
               its process dies, however it dies (kill -9 included): a dead trainer never blocks
    RUNNING    the holder's pid, for the messages: a lock cannot say who holds it. Written just
               after the lock is taken and removed just before it is released, so the two agree

Whether a run is being trained right now (``runs list``, the dashboard) is asked of the lock as
well: a probe that can take it for an instant proves that nobody holds it. The probe only runs
where ``RUNNING`` exists, so listing never adds files to a run that is not training.
"""

from __future__ import annotations

import os
from pathlib import Path

from filelock import FileLock, Timeout

from tui_transformer.errors import UserError
from tui_transformer.process import pid_alive

LOCK_FILE = "run.lock"
RUNNING_FILE = "RUNNING"
WAIT_S = 1.0  # a probe holds a free lock for an instant; a trainer waits this long before calling it taken


class RunBusy(UserError):
    """Another process is training this run."""


class RunLock:
    """The lock of one run directory: :meth:`acquire` before anything is written, :meth:`release` at the end."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self._lock = FileLock(run_dir / LOCK_FILE, timeout=WAIT_S, thread_local=False)

    @property
    def held(self) -> bool:
        return self._lock.is_locked

    def acquire(self) -> None:
        """Take the lock, or raise :class:`RunBusy` naming the process that has it."""
        try:
            self._lock.acquire()
        except Timeout:
            raise RunBusy(busy_message(self.run_dir, _marker_pid(self.run_dir))) from None
        try:
            (self.run_dir / RUNNING_FILE).write_text(str(os.getpid()), encoding="utf-8")
        except OSError:  # a full disk: no half-written marker, and no lock held by a run that never began
            (self.run_dir / RUNNING_FILE).unlink(missing_ok=True)
            self._lock.release()
            raise

    def release(self) -> None:
        if not self.held:
            return
        (self.run_dir / RUNNING_FILE).unlink(missing_ok=True)
        self._lock.release()


def busy_message(run_dir: Path, pid: int | None) -> str:
    """Why ``run_dir`` cannot be changed now, naming its trainer: this very process (the dashboard the
    learner is in), another process by its pid, or, pid unknown, another process."""
    if pid == os.getpid():
        who = f"this process (pid {pid}: it is training here)"
    else:
        who = f"process {pid}" if pid else "another process"
    return f"run {run_dir.name} is being trained right now by {who}; stop it first, or wait for it to end"


def training_pid(run_dir: Path) -> int | None:
    """The pid of the process training in ``run_dir`` right now, or None when none is.

    0 stands for "someone, pid unknown" (the lock is held, the marker not written yet).
    """
    if not (run_dir / RUNNING_FILE).exists():
        return None
    pid = _marker_pid(run_dir)
    if not (run_dir / LOCK_FILE).exists():  # a marker from a version before the lock: trust the pid alone
        return pid if pid and pid_alive(pid) else None
    probe = FileLock(run_dir / LOCK_FILE, timeout=0, thread_local=False)
    try:
        probe.acquire()
    except Timeout:
        return pid or 0
    except OSError:  # a read-only runs folder: the lock cannot be probed, the pid can
        return pid if pid and pid_alive(pid) else None
    probe.release()  # it was free: the marker is a dead process's
    return None


def _marker_pid(run_dir: Path) -> int | None:
    try:
        return int((run_dir / RUNNING_FILE).read_text().strip())
    except (OSError, ValueError):
        return None
