"""Write a folder completely or not at all.

Every file goes into a temporary folder beside the target (``.tmp-<pid>-...-<name>``, so
:func:`tui_transformer.atomic.remove_stale_temps` can clean up after a killed process). Only when
all are written is the folder renamed to its name, an atomic step on one filesystem. A failure, or
Ctrl-C, removes the temporary folder: the target is untouched. An existing target is refused unless
``force``; then it is swapped out only after the new folder is complete.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tui_transformer.atomic import TEMP_PREFIX, fsync_dir
from tui_transformer.errors import UserError


def refuse_existing(out: Path, force: bool) -> None:
    """One line when ``out`` exists and may not be replaced (checked before any work is done)."""
    if out.exists() and not force:
        raise UserError(f"{out} already exists; pass --force to replace it, or choose another --out")
    if out.exists() and not out.is_dir():
        raise UserError(f"{out} exists and is not a folder; remove it or choose another --out")


@contextmanager
def output_dir(out: Path, force: bool = False) -> Iterator[Path]:
    """Yield a temporary folder to fill; on a clean exit it becomes ``out``."""
    out = Path(out).expanduser().absolute()
    refuse_existing(out, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f"{TEMP_PREFIX}{os.getpid()}-", suffix=f"-{out.name}"))
    try:
        yield tmp
        _usual_permissions(tmp)
        if out.exists():
            old = out.with_name(f"{TEMP_PREFIX}{os.getpid()}-old-{out.name}")
            os.replace(out, old)
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    fsync_dir(out.parent)


def _usual_permissions(folder: Path) -> None:
    """mkdtemp makes a private (0700) folder and some writers private files; give them the umask's
    usual modes, so the export can be shared like any folder the user makes."""
    umask = os.umask(0)
    os.umask(umask)
    folder.chmod(0o777 & ~umask)
    for path in folder.rglob("*"):
        path.chmod((0o777 if path.is_dir() else 0o666) & ~umask)


def write_json(folder: Path, name: str, data: object) -> None:
    import json

    (folder / name).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
