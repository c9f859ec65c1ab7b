"""A real full disk for the tests: a small tmpfs, mounted and filled up to a few KB.

Mounting needs root (or CAP_SYS_ADMIN); elsewhere the test that asks for one is skipped, saying why.
"""

import os
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def full_tmpfs(folder: Path, free_bytes: int, size: str = "30m"):
    """``folder`` as a tmpfs of ``size`` with about ``free_bytes`` left free; unmounted afterwards."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"no full disk to test on: mounting a tmpfs needs root here ({mounted.stderr.strip()})")
    try:
        stats = os.statvfs(folder)
        filler = max(0, stats.f_bavail * stats.f_frsize - free_bytes)
        with open(folder / "filler", "wb") as file:
            file.write(b"\0" * filler)
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)
