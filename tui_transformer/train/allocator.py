"""Keeping freed memory in the process, so a CPU training step does not page-fault its big tensors in.

A training step allocates the same large tensors every time (activations, their gradients, a chunk
of logits) and frees them before the next. glibc's ``malloc`` hands every block above its *mmap
threshold* (128 KB at start, raised on the fly up to 32 MB) straight to the kernel (``mmap``), gives
it back when it is freed (``munmap``), and trims the top of its heap as soon as 128 KB there are
free. So the next step asks the kernel again, and the kernel maps each 4 KB page afresh when it is
first written: a *page fault* and a page of zeros, 8,192 of them for a 32 MB tensor, every step.

:func:`keep_freed_memory` raises both thresholds to 1 GiB (``mallopt``): blocks below that come from
malloc's own heap, go back to its free lists when freed, and the next step reuses pages that are
already mapped (what that saves is measured in ``docs/perf-log.md``). What it costs: the process
keeps the memory of its busiest moment between steps instead of returning it; the peak is the same.

Only Linux with glibc has ``mallopt``; elsewhere (macOS, musl) this does nothing. It changes the
whole process, once, and is safe to call again.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_TRIM_THRESHOLD = -1  # glibc's <malloc.h>
M_MMAP_THRESHOLD = -3
THRESHOLD_BYTES = 1 << 30


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds (see the module docstring); whether it could."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # no C library by that name, or one without mallopt (musl)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, THRESHOLD_BYTES)) and bool(mallopt(M_TRIM_THRESHOLD, THRESHOLD_BYTES))
