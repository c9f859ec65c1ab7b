"""Checkpoints: everything needed to continue a run exactly, written so that a crash cannot lose it.

What a checkpoint holds (a dict of tensors and plain Python values only)::

    format, version      "tui-transformer/checkpoint", 1
    model                the model's state_dict (weights)
    optimizer            AdamW's state_dict: per-parameter moments exp_avg, exp_avg_sq and the step count
    scaler               the fp16 GradScaler's state, or None
    step, tokens_seen, elapsed_s, best_val_loss
    world_size           how many DDP ranks trained it (a resume needs as many)
    ranks                one entry per DDP rank: that rank's data-loader position and RNG states
    config               the effective TrainConfig as a dict
    tokenizer            the tokenizer's identity dict (name, vocab size, fingerprint)
    digest               sha256 over every tensor's bytes (see below)

**Exact resume.** Continuing from step k must give the same weights as never stopping. That needs
the weights *and* the optimizer moments, the data position (which batch comes next) and the random
number generators (dropout masks are random draws): torch's CPU generator, CUDA's, Python's
``random`` and numpy's. All are saved (:func:`training_payload`) and restored (:func:`restore_training`).
The learning rate is not saved: it is a pure function of the step (see train.schedule). Checkpoints
of older versions carry a ``schedule`` entry, which is ignored.

**Atomic writes** (:mod:`tui_transformer.atomic`). The file is written to a temporary name in the
same folder, flushed and fsynced to the disk, then renamed over the old one. A rename within one
filesystem is atomic: a reader, or a run that is killed or runs out of disk mid-save, sees either
the complete old file or the complete new one, never half of each.

**Safe loading.** ``torch.load(weights_only=True)`` only rebuilds tensors and plain containers; a
pickle cannot run code on load. A zip checksum is not verified by ``torch.load`` (a flipped byte in
a tensor loads silently, measured), so the checkpoint carries its own digest of the tensor bytes.
"""

from __future__ import annotations

import hashlib
import pickle
import random
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from tui_transformer.atomic import atomic_write, remove_stale_temps
from tui_transformer.errors import UserError

if TYPE_CHECKING:
    from tui_transformer.data.loader import BatchLoader

FORMAT = "tui-transformer/checkpoint"
VERSION = 1
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
    h = hashlib.sha256()
    for path, tensor in _tensors({k: v for k, v in payload.items() if k != "digest"}):
        data = tensor.detach().cpu().contiguous()
        h.update(f"{path}:{data.dtype}:{tuple(data.shape)};".encode())
        h.update(data.reshape(-1).view(torch.uint8).numpy().tobytes() if data.numel() else b"")
    return h.hexdigest()


# ---- write ---------------------------------------------------------------------------------------

def save(payload: dict[str, Any], path: Path) -> None:
    """Write ``payload`` to ``path`` atomically; a failed write leaves the previous file as it was."""
    path = Path(path)
    payload = {"format": FORMAT, "version": VERSION, **payload}
    payload["digest"] = digest(payload)
    remove_stale_temps(path.parent)  # left by a process killed mid-save
    try:
        with atomic_write(path) as file:
            torch.save(payload, file)
    except (OSError, RuntimeError) as error:  # torch.save reports a failed write (a full disk) as RuntimeError
        if isinstance(error, OSError):
            reason = error.strerror or str(error)
        else:  # torch hides the OS error behind its zip writer's complaint
            reason = f"the write failed, is the disk full? (torch: {_first_line(error)})"
        raise CheckpointError(f"could not save checkpoint {path}: {reason}; the previous checkpoint is intact") \
            from error


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


def training_payload(model: torch.nn.Module, optimizer: torch.optim.Optimizer, scaler: torch.amp.GradScaler | None,
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


def restore_training(payload: dict[str, Any], model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                     scaler: torch.amp.GradScaler | None, loader: BatchLoader, rank: int, world_size: int,
                     run_name: str) -> Progress:
    """Put this rank of a run back where ``payload`` left it; returns the run's counters."""
    if payload["world_size"] != world_size:
        raise UserError(f"run {run_name} was trained on {payload['world_size']} process(es) and can "
                        f"only resume on as many (this is {world_size}): each has its own data position")
    model.load_state_dict(payload["model"])
    optimizer.load_state_dict(payload["optimizer"])
    if scaler is not None and payload.get("scaler"):
        scaler.load_state_dict(payload["scaler"])
    mine = payload["ranks"][rank]
    loader.load_state_dict(mine["loader"])
    restore_rng_state(mine["rng"])
    return Progress.of(payload)


# ---- read ----------------------------------------------------------------------------------------

def load(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read and verify a checkpoint; any damage becomes a :class:`CheckpointError` naming the file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    if not zipfile.is_zipfile(path):  # torch.save writes a zip; a cut-off file has lost its central directory
        raise CheckpointError(f"checkpoint {path} is corrupt or truncated (not a complete zip archive); "
                              "use another checkpoint of the run (checkpoints/best.pt or latest.pt)")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        if "weights_only" in str(error) or "Unsupported global" in str(error):
            raise CheckpointError(f"{path} holds objects other than tensors and plain data; refusing to load it "
                                  "(loading it could run code)") from None
        raise CheckpointError(f"checkpoint {path} is corrupt ({_first_line(error)})") from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, KeyError, OSError) as error:
        raise CheckpointError(f"checkpoint {path} is corrupt or truncated ({_first_line(error)}); "
                              "use another checkpoint of the run (checkpoints/best.pt or latest.pt)") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a tui-transformer checkpoint")
    if payload.get("version") != VERSION:
        raise CheckpointError(f"{path} is checkpoint version {payload.get('version')}, this build reads {VERSION}")
    if payload.get("digest") != digest(payload):
        raise CheckpointError(f"checkpoint {path} is corrupt: its tensors do not match their recorded digest")
    return payload


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else type(error).__name__


# ---- compatibility -------------------------------------------------------------------------------

def check_compatible(payload: dict[str, Any], model_config: dict[str, Any], tokenizer: dict[str, Any] | None,
                     path: Path | str) -> None:
    """Refuse a checkpoint whose model shape or tokenizer differ from what the caller built, clearly."""
    saved_model = payload["config"]["model"]
    shape_keys = ("vocab_size", "d_model", "n_heads", "n_layers", "d_ff", "max_seq_len", "pos_encoding", "tie_weights")
    diffs = [f"{k}: checkpoint {saved_model.get(k)!r}, now {model_config.get(k)!r}"
             for k in shape_keys if saved_model.get(k) != model_config.get(k)]
    if diffs:
        raise CheckpointError(f"checkpoint {path} was trained with a different model ({'; '.join(diffs)}); "
                              "start a new run, or drop the model flags that changed")
    saved_tok = payload.get("tokenizer") or {}
    if tokenizer is not None and saved_tok != tokenizer:
        raise CheckpointError(f"checkpoint {path} was trained with tokenizer {_describe(saved_tok)}, "
                              f"but this run uses {_describe(tokenizer)}; token ids would mean different text")


def _describe(identity: dict[str, Any]) -> str:
    name = identity.get("name", "?")
    vocab = identity.get("vocab_size")
    return f"{name!r} (vocab {vocab})" if vocab else repr(name)


def find(run_or_path: str | Path, which: str = LATEST) -> Path:
    """A checkpoint file, a run directory or a run name -> a checkpoint file."""
    from tui_transformer.train.runs import CHECKPOINTS, resolve_run

    path = Path(run_or_path).expanduser()
    if path.is_file():
        return path
    if path.suffix == ".pt":
        raise CheckpointError(f"checkpoint not found: {path}")
    run_dir = resolve_run(run_or_path)
    candidate = run_dir / CHECKPOINTS / which
    if not candidate.is_file():
        raise CheckpointError(f"run {run_dir.name} has no checkpoint yet ({candidate} does not exist)")
    return candidate


def load_for_inference(run_or_path: str | Path, device: str = "cpu"):
    """(run name | run dir | checkpoint path, device) -> (model in eval mode, tokenizer, TrainConfig)."""
    from tui_transformer.model import DecoderTransformer
    from tui_transformer.train.config import TrainConfig
    from tui_transformer.train.device import resolve_device

    from tui_transformer.interop.safetensors_export import find_export, load_export

    device = resolve_device(device)
    if (export := find_export(run_or_path)) is not None:  # a safetensors export, or an imported model
        return load_export(export, device, TrainConfig.from_dict)
    path = find(run_or_path)
    payload = load(path, map_location=device)
    config = TrainConfig.from_dict(payload["config"])
    tokenizer = _tokenizer_for(payload, path)
    check_compatible(payload, config.model.to_dict() | {"vocab_size": tokenizer.vocab_size}, tokenizer.identity(), path)
    model = DecoderTransformer(config.model)
    model.load_state_dict(payload["model"])
    return model.to(device).eval(), tokenizer, config


def _tokenizer_for(payload: dict[str, Any], path: Path):
    """The tokenizer a checkpoint needs: the run's own copy of a trained one if present, else by name."""
    from tui_transformer.data import get_tokenizer
    from tui_transformer.data.tokenizer import load_tiktoken_file
    from tui_transformer.train.runs import TOKENIZER_FILE

    identity = payload.get("tokenizer") or {}
    name = identity.get("name") or payload["config"]["tokenizer"]
    copy = path.parent.parent / TOKENIZER_FILE  # <run>/checkpoints/x.pt -> <run>/tokenizer.tiktoken
    if name.startswith("bpe-") and copy.is_file():
        return load_tiktoken_file(copy, name=name)
    return get_tokenizer(name)
