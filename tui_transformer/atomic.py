"""Atomic file writes: a reader sees the old file or the whole new one, never half of either.

A write goes to a temp file beside the target, is flushed to the disk (``fsync``), then renamed
over the target. ``os.replace`` is atomic within one filesystem, so a process killed at any moment
leaves either the old file or the new one. Then the folder is fsynced, so the rename itself
survives a power cut.

A kill mid-write leaves the temp file behind. Temp files carry their writer's pid
(``.tmp-<pid>-<random>-<name>``), so :func:`remove_stale_temps` can delete those whose writer is
dead while leaving a live writer's file alone.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from tui_transformer.process import pid_alive

TEMP_PREFIX = ".tmp-"


@contextmanager
def atomic_write(path: Path) -> Iterator[BinaryIO]:
    """Open a binary temp file for ``path``; on a clean exit it replaces ``path``.

    On any exception (a full disk, Ctrl-C) the temp file is removed and ``path`` is untouched. An
    ``OSError`` names ``path``, never the temp file: that name means nothing to the user.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f"{TEMP_PREFIX}{os.getpid()}-", suffix=f"-{path.name}")
    except OSError as error:
        raise _about(path, error) from None
    try:
        with os.fdopen(fd, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except OSError as error:
        Path(tmp).unlink(missing_ok=True)
        raise _about(path, error) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def _about(path: Path, error: OSError) -> OSError:
    """The same error (same errno, same subclass), about ``path``."""
    if error.errno is None:
        return error
    return OSError(error.errno, error.strerror, str(path))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """``path.write_bytes(data)``, atomically."""
    with atomic_write(path) as file:
        file.write(data)


def fsync_dir(folder: Path) -> None:
    """Make a rename inside ``folder`` durable (a no-op where folders cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_stale_temps(folder: Path) -> None:
    """Delete the temp files in ``folder`` whose writer died mid-write."""
    for tmp in Path(folder).glob(f"{TEMP_PREFIX}*"):
        try:
            pid = int(tmp.name[len(TEMP_PREFIX):].split("-", 1)[0])
        except ValueError:
            continue
        if not pid_alive(pid):
            tmp.unlink(missing_ok=True)

