"""Kept checkpoints: the model's weights at chosen steps, to score the run's learning curve afterwards.

A run normally keeps two checkpoints, ``latest.pt`` and ``best.pt``, each replaced as training goes.
With ``keep_every = N`` (``train --keep-every N``, or ``--keep-every eval`` for every evaluation) the
trainer also keeps the weights at every N-th step as ``checkpoints/step-<step>.weights``, which
``tui-transformer eval --run R --all-checkpoints`` scores on the same validation batches.

**Disk cost.** A kept file holds the weights only, not the optimizer's moments (a resumable ``.pt``
is about three times larger): 4 bytes per parameter in float32. A 10M-parameter model kept every
100 steps of a 5,000-step run writes 50 files of 40 MB, 2 GB in all. The suffix is not ``.pt``, so
nothing mistakes a kept file for a checkpoint to resume from.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch

from tui_transformer.train import checkpoint as ckpt
from tui_transformer.train.runs import CHECKPOINTS

KEPT_SUFFIX = ".weights"
KEPT_NAME = re.compile(r"step-(\d+)\.weights")


def kept_path(run_dir: Path, step: int) -> Path:
    return Path(run_dir) / CHECKPOINTS / f"step-{step:07d}{KEPT_SUFFIX}"


def keep(model: torch.nn.Module, run_dir: Path, step: int, config: dict, tokenizer_identity: dict) -> Path:
    """Save ``model``'s weights at ``step`` as a kept checkpoint; returns its path."""
    path = kept_path(run_dir, step)
    ckpt.save({"config": config, "model": model.state_dict(), "tokenizer": tokenizer_identity, "step": step}, path)
    return path


def weights_bytes(model: torch.nn.Module) -> int:
    """The size of one kept file's tensors (the file adds a few KB)."""
    return sum(t.numel() * t.element_size() for t in model.state_dict().values())


def run_checkpoints(run_dir: Path) -> list[tuple[str, Path]]:
    """``(label, path)`` of every checkpoint of a run: the kept ones by step, then ``best`` and ``latest``."""
    folder = Path(run_dir) / CHECKPOINTS
    kept = sorted((int(m.group(1)), p) for p in folder.glob(f"step-*{KEPT_SUFFIX}") if (m := KEPT_NAME.fullmatch(p.name)))
    named = [(Path(name).stem, folder / name) for name in (ckpt.BEST, ckpt.LATEST) if (folder / name).is_file()]
    return [(f"step {step:,}", path) for step, path in kept] + named
