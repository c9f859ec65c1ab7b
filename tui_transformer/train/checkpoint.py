"""Checkpoints: everything needed to continue a run exactly, written so that a crash cannot lose it.

What a checkpoint holds (a dict of tensors and plain Python values only)::

    format, version      "tui-transformer/checkpoint", 2
    model                the model's state_dict (weights)
    optimizer            {name: state_dict} of each optimizer (train.combined_optimizer): AdamW's moments
                         exp_avg, exp_avg_sq and step count; with Muon, its momentum buffers too
    scaler               the fp16 GradScaler's state, or None
    step, tokens_seen, elapsed_s, best_val_loss
    world_size           how many DDP ranks trained it (a resume needs as many)
    ranks                one entry per DDP rank: that rank's data-loader position and RNG states
    config               the effective TrainConfig as a dict
    tokenizer            the tokenizer's identity dict (name, vocab size, fingerprint)

and after the ``torch.save`` bytes, a one-line trailer: ``tui-transformer sha256 <64 hex digits>``,
the sha256 of every byte before it (see *Verified loading*).

**Exact resume.** Continuing from step k must give the same weights as never stopping. That needs
the weights *and* the optimizer moments, the data position (which batch comes next) and the random
number generators (dropout masks are random draws): torch's CPU generator, CUDA's, Python's
``random`` and numpy's. All are saved (:func:`training_payload`) and restored (:func:`restore_training`).
The learning rate is not saved: it is a pure function of the step and the budget (see train.schedule).
Checkpoints of older versions carry a ``schedule`` entry, which is ignored, and hold AdamW's
state_dict itself as ``optimizer`` (read as ``{"adamw": it}``).

**Atomic writes** (:mod:`tui_transformer.atomic`). The file is written to a temporary name in the
same folder, flushed and fsynced to the disk, then renamed over the old one. A rename within one
filesystem is atomic: a reader, or a run that is killed or runs out of disk mid-save, sees either
the complete old file or the complete new one, never half of each.

**Safe loading.** ``torch.load(weights_only=True)`` only rebuilds tensors and plain containers; a
pickle cannot run code on load.

**Verified loading.** ``torch.load`` checks no checksum: a flipped byte in a tensor loads
silently, and one in the pickle (``data.pkl``) changes the step, the config or an RNG state, or
crashes the unpickler with whatever error that byte provokes (all measured). So :func:`save` hashes
every byte that ``torch.save`` writes and appends the digest as a trailer; :func:`load` hashes the
file again *before* unpickling anything and refuses any difference, as one line that names the
file. Any single changed byte, anywhere, is refused (``tests/train/test_checkpoint_fuzz.py`` flips
each one). The trailer leaves the file a normal ``torch.load``-able zip (the zip reader finds its
directory from the end and skips trailing bytes), and a shell can check it::

    head -c -89 latest.pt | sha256sum; tail -n 1 latest.pt

Version 1 files (before the trailer) carried a digest of their tensors only; they still load,
checked as before, and the next save of the run writes version 2.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import random
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import torch

from tui_transformer.atomic import atomic_write, remove_stale_temps
from tui_transformer.errors import UserError
from tui_transformer.model.config import ModelConfig

if TYPE_CHECKING:
    from tui_transformer.data.loader import BatchLoader
    from tui_transformer.data.tokenizer import Tokenizer
    from tui_transformer.train.combined_optimizer import CombinedOptimizer

FORMAT = "tui-transformer/checkpoint"
VERSION = 2  # 2: a sha256 trailer over the whole file; 1: a digest of the tensors only (still read)
LEGACY_VERSION = 1
TRAILER_MAGIC = b"\ntui-transformer sha256 "
TRAILER_SIZE = len(TRAILER_MAGIC) + 64 + 1  # the magic, 64 hex digits, a newline: 89 bytes
LATEST = "latest.pt"
BEST = "best.pt"


class CheckpointError(UserError):
    """A checkpoint that cannot be written or used; the message says which file and why."""


# ---- random number generators ------------------------------------------------------------------

def capture_rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "python": random.getstate(),
    }
    if "numpy" in sys.modules:  # only if something imported it: numpy is not a dependency of ours
        kind, keys, pos, has_gauss, gauss = sys.modules["numpy"].random.get_state()
        state["numpy"] = (kind, torch.from_numpy(keys.copy()), pos, has_gauss, gauss)
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if state.get("cuda") and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if "numpy" in state:
        import numpy

        kind, keys, pos, has_gauss, gauss = state["numpy"]
        numpy.random.set_state((kind, keys.numpy(), pos, has_gauss, gauss))


# ---- integrity ---------------------------------------------------------------------------------

def _tensors(value: Any, prefix: str = ""):
    """Every tensor in a nested structure, with a path, in a fixed order."""
    if isinstance(value, torch.Tensor):
        yield prefix, value
    elif isinstance(value, dict):
        for key in sorted(value, key=str):
            yield from _tensors(value[key], f"{prefix}/{key}")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _tensors(item, f"{prefix}/{index}")


def digest(payload: dict[str, Any]) -> str:
    """sha256 over the tensors of ``payload`` (their paths, dtypes, shapes and bytes), nothing else.

    What a version 1 checkpoint recorded, and how DDP proves its replicas equal; a file's
    integrity is the trailer's job (:func:`_trailer`), which covers the plain values too.
    """
    h = hashlib.sha256()
    for path, tensor in _tensors({k: v for k, v in payload.items() if k != "digest"}):
        data = tensor.detach().cpu().contiguous()
        h.update(f"{path}:{data.dtype}:{tuple(data.shape)};".encode())
        h.update(data.reshape(-1).view(torch.uint8).numpy().tobytes() if data.numel() else b"")
    return h.hexdigest()


class _HashingWriter:
    """A write-only file that hashes what passes through it: torch.save streams into it, so the
    digest of a checkpoint costs no second pass and no copy of the file in memory."""

    def __init__(self, file: BinaryIO) -> None:
        self.file = file
        self.sha256 = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        return self.file.write(data)

    def flush(self) -> None:
        self.file.flush()


def _trailer(hex_digest: str) -> bytes:
    return TRAILER_MAGIC + hex_digest.encode("ascii") + b"\n"


def _verify_trailer(file: BinaryIO, path: Path) -> bool:
    """Check the file's trailer against its bytes; False if it has none (version 1, or the trailer is damaged).

    Runs before anything is unpickled, so a damaged file never reaches the unpickler.
    """
    size = os.fstat(file.fileno()).st_size
    if size < TRAILER_SIZE:
        return False
    file.seek(size - TRAILER_SIZE)
    trailer = file.read(TRAILER_SIZE)
    if not trailer.startswith(TRAILER_MAGIC):
        return False
    file.seek(0)
    h = hashlib.sha256()
    left = size - TRAILER_SIZE
    while left:
        chunk = file.read(min(left, 1 << 20))
        if not chunk:
            break
        h.update(chunk)
        left -= len(chunk)
    if trailer != _trailer(h.hexdigest()):
        raise CheckpointError(f"checkpoint {path} is corrupt: its bytes do not match the sha256 recorded at its end "
                              f"(a changed byte){_instead(path)}")
    return True


# ---- write ---------------------------------------------------------------------------------------

def save(payload: dict[str, Any], path: Path) -> None:
    """Write ``payload`` and its trailer to ``path`` atomically; a failed write leaves ``path`` as it was."""
    path = Path(path)
    payload = {"format": FORMAT, "version": VERSION, **payload}
    remove_stale_temps(path.parent)  # left by a process killed mid-save
    had_one = path.is_file()  # decides what a failure message may promise
    try:
        with atomic_write(path) as file:
            hashing = _HashingWriter(file)
            torch.save(payload, hashing)
            file.write(_trailer(hashing.sha256.hexdigest()))
    except (OSError, RuntimeError) as error:  # torch.save reports a failed write (a full disk) as RuntimeError
        if isinstance(error, OSError):
            reason = error.strerror or str(error)
        else:  # torch hides the OS error behind its zip writer's complaint
            reason = f"the write failed, is the disk full? (torch: {_first_line(error)})"
        kept = f"the previous {path.name} is intact" if had_one else f"nothing was saved (there was no {path.name} before)"
        raise CheckpointError(f"could not save checkpoint {path}: {reason}; {kept}") from error


# ---- a training run: what it saves, and how it is put back -------------------------------------

@dataclass(frozen=True)
class Progress:
    """How far a run has got: the counters that carry on from one session of the run to the next."""

    step: int
    tokens_seen: int
    elapsed_s: float  # seconds of training over all sessions, pauses excluded
    best_val_loss: float | None

    @classmethod
    def of(cls, payload: dict[str, Any]) -> Progress:
        return cls(payload["step"], payload["tokens_seen"], payload["elapsed_s"], payload["best_val_loss"])


def rank_state(loader: BatchLoader) -> dict[str, Any]:
    """One rank's share of a checkpoint: where its data loader stands, and its random generators."""
    return {"loader": loader.state_dict(), "rng": capture_rng_state()}


def training_payload(model: torch.nn.Module, optimizer: CombinedOptimizer, scaler: torch.amp.GradScaler | None,
                     progress: Progress, ranks: list[dict[str, Any]], config: dict[str, Any],
                     tokenizer: dict[str, Any]) -> dict[str, Any]:
    """The checkpoint of a training run; ``ranks`` holds every rank's :func:`rank_state`, in rank order."""
    return {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scaler": scaler.state_dict() if scaler else None,
        "step": progress.step,
        "tokens_seen": progress.tokens_seen,
        "elapsed_s": progress.elapsed_s,
        "best_val_loss": progress.best_val_loss,
        "world_size": len(ranks),
        "ranks": ranks,
        "config": config,
        "tokenizer": tokenizer,
    }


def restore_training(payload: dict[str, Any], model: torch.nn.Module, optimizer: CombinedOptimizer,
                     scaler: torch.amp.GradScaler | None, loader: BatchLoader, rank: int, world_size: int,
                     run_name: str) -> Progress:
    """Put this rank of a run back where ``payload`` left it; returns the run's counters."""
    if payload["world_size"] != world_size:
        raise UserError(f"run {run_name} was trained on {payload['world_size']} process(es) and can "
                        f"only resume on as many (this is {world_size}): each has its own data position")
    model.load_state_dict(payload["model"])
    saved = payload["optimizer"]
    optimizer.load_state_dict({"adamw": saved} if "param_groups" in saved else saved)  # an older file: AdamW's own
    if scaler is not None and payload.get("scaler"):
        scaler.load_state_dict(payload["scaler"])
    mine = payload["ranks"][rank]
    loader.load_state_dict(mine["loader"])
    restore_rng_state(mine["rng"])
    return Progress.of(payload)


# ---- read ----------------------------------------------------------------------------------------

def load(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read and verify a checkpoint; any damage becomes a :class:`CheckpointError` naming the file.

    The file is opened once: the bytes that are hashed are the bytes that are unpickled, even if a
    trainer renames a new checkpoint over the path meanwhile.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        with open(path, "rb") as file:
            verified = _verify_trailer(file, path)
            file.seek(0)
            payload = _unpickle(file, path, map_location)
    except OSError as error:
        raise CheckpointError(f"cannot read checkpoint {path}: {error.strerror or error}") from None
    _check_payload(payload, path, verified)
    return payload


def _unpickle(file: BinaryIO, path: Path, map_location: str | torch.device) -> Any:
    """``torch.load(weights_only=True)``; whatever it raises on a damaged file becomes one line."""
    if not zipfile.is_zipfile(file):  # torch.save writes a zip; a cut-off file has lost its central directory
        raise CheckpointError(f"checkpoint {path} is corrupt or truncated (not a complete zip archive)"
                              f"{_instead(path)}")
    file.seek(0)
    try:
        return torch.load(file, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        if "weights_only" in str(error) or "Unsupported global" in str(error):
            raise CheckpointError(f"{path} holds objects other than tensors and plain data; refusing to load it "
                                  "(loading it could run code)") from None
        raise CheckpointError(f"checkpoint {path} is corrupt ({_first_line(error)}){_instead(path)}") from None
    except Exception as error:  # a damaged pickle makes the unpickler raise almost anything (measured:
        # IndexError, TypeError, KeyError, RuntimeError, EOFError); a verified file never gets here damaged
        raise CheckpointError(f"checkpoint {path} is corrupt or truncated ({type(error).__name__}: "
                              f"{_first_line(error)}){_instead(path)}") from None


def _check_payload(payload: Any, path: Path, verified: bool) -> None:
    """What a well-formed file must hold: our format, a version we read, and its own integrity proof."""
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a tui-transformer checkpoint")
    version = payload.get("version")
    if version not in (LEGACY_VERSION, VERSION):
        raise CheckpointError(f"{path} is checkpoint version {version!r}, this build reads {LEGACY_VERSION} "
                              f"and {VERSION}")
    if version == VERSION and not verified:  # a version 2 file always ends in its trailer
        raise CheckpointError(f"checkpoint {path} is corrupt: the sha256 trailer at its end is missing or altered"
                              f"{_instead(path)}")
    if version == LEGACY_VERSION and payload.get("digest") != digest(payload):
        raise CheckpointError(f"checkpoint {path} is corrupt: its tensors do not match their recorded digest"
                              f"{_instead(path)}")


def _instead(path: Path) -> str:
    """The end of a damage message: the run's other checkpoint, if it has one, and how to use it."""
    other = {LATEST: BEST, BEST: LATEST}.get(path.name)
    if other is None or not (path.parent / other).is_file():
        return ""
    return (f"; the run's {other} may be intact: resume from it with --from {Path(other).stem}, "
            f"or pass --checkpoint {path.parent / other} to generate or eval")


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else type(error).__name__


# ---- compatibility -------------------------------------------------------------------------------

def check_compatible(payload: dict[str, Any], model_config: dict[str, Any], tokenizer: Tokenizer | None,
                     path: Path | str) -> None:
    """Refuse a checkpoint whose model shape or tokenizer differ from what the caller built, clearly."""
    saved_model = ModelConfig().to_dict() | payload["config"]["model"]  # a key added since takes its default
    shape_keys = ("vocab_size", "d_model", "n_heads", "n_layers", "d_ff", "max_seq_len", "pos_encoding", "tie_weights",
                  "norm", "bias", "qk_norm", "activation")
    diffs = [f"{k}: checkpoint {saved_model.get(k)!r}, now {model_config.get(k)!r}"
             for k in shape_keys if saved_model.get(k) != model_config.get(k)]
    if diffs:
        raise CheckpointError(f"checkpoint {path} was trained with a different model ({'; '.join(diffs)}); "
                              "start a new run, or drop the model flags that changed")
    why = tokenizer.mismatch(payload.get("tokenizer") or {}) if tokenizer is not None else None
    if why:
        raise CheckpointError(f"checkpoint {path} {why}")


def find(run_or_path: str | Path, which: str = LATEST) -> Path:
    """A checkpoint file, a run directory or a run name -> a checkpoint file (``which``: LATEST or BEST)."""
    from tui_transformer.train.runs import CHECKPOINTS, resolve_run

    path = Path(run_or_path).expanduser()
    if path.is_file():
        return path
    if path.exists() and not path.is_dir():  # /dev/null, a pipe: no run, and no checkpoint either
        raise CheckpointError(f"{path} is not a checkpoint file (those are the .pt files train writes) nor a run")
    if path.suffix == ".pt":
        raise CheckpointError(f"checkpoint not found: {path}")
    run_dir = resolve_run(run_or_path)
    candidate = run_dir / CHECKPOINTS / which
    if candidate.is_file():
        return candidate
    if candidate.exists():
        raise CheckpointError(f"{candidate} is a folder, not a checkpoint file; move it away (the run saves "
                              f"its {which} there)")
    other = run_dir / CHECKPOINTS / (BEST if which == LATEST else LATEST)
    if other.is_file():
        raise CheckpointError(f"run {run_dir.name} has no {which} ({candidate} does not exist), but it has "
                              f"{other.name}: resume from it with --from {other.stem}, or pass --checkpoint {other} "
                              "to generate or eval")
    raise CheckpointError(f"run {run_dir.name} has no checkpoint yet ({candidate} does not exist)")


def run_of(run_or_checkpoint: str | Path) -> Path:
    """The run directory of a run name, a run directory, or a checkpoint inside ``<run>/checkpoints/``."""
    from tui_transformer.train.runs import CHECKPOINTS, resolve_run

    path = Path(run_or_checkpoint).expanduser()
    if path.suffix != ".pt":
        return resolve_run(run_or_checkpoint)
    if path.parent.name != CHECKPOINTS:
        raise CheckpointError(f"{path} is not a checkpoint of a run (those are <run>/{CHECKPOINTS}/*.pt)")
    return resolve_run(path.parent.parent)


def load_for_inference(run_or_path: str | Path, device: str = "cpu"):
    """(run name | run dir | checkpoint path, device) -> (model in eval mode, tokenizer, TrainConfig)."""
    from tui_transformer.model import DecoderTransformer
    from tui_transformer.train.config import TrainConfig
    from tui_transformer.train.device import resolve_device
    from tui_transformer.train.safetensors_run import find_export, load_export

    device = resolve_device(device)
    if (export := find_export(run_or_path)) is not None:  # a safetensors export, or an imported model
        return load_export(export, device)
    path = find(run_or_path)
    payload = load(path, map_location=device)
    config = TrainConfig.from_dict(payload["config"])
    tokenizer = _tokenizer_for(payload, path)
    check_compatible(payload, config.model.to_dict() | {"vocab_size": tokenizer.vocab_size}, tokenizer, path)
    model = DecoderTransformer(config.model)
    model.load_state_dict(payload["model"])
    return model.to(device).eval(), tokenizer, config


def _tokenizer_for(payload: dict[str, Any], path: Path):
    """The tokenizer a checkpoint needs: the run's own copy of a trained one (or of a ranks file given by
    path, whose name is its file's stem) if present, else by name."""
    from tui_transformer.data import get_tokenizer
    from tui_transformer.data.tokenizer import TIKTOKEN_ENCODINGS, load_tiktoken_file
    from tui_transformer.train.runs import TOKENIZER_FILE

    identity = payload.get("tokenizer") or {}
    name = identity.get("name") or payload["config"]["tokenizer"]
    copy = path.parent.parent / TOKENIZER_FILE  # <run>/checkpoints/x.pt -> <run>/tokenizer.tiktoken
    if copy.is_file() and (name.startswith("bpe-") or name not in TIKTOKEN_ENCODINGS):
        return load_tiktoken_file(copy, name=name)
    return get_tokenizer(name)
