"""Data-parallel training over several processes (``torchrun``), and the single-process case.

``torchrun --nproc_per_node=N -m tui_transformer train --no-ui ...`` starts N copies of the trainer
and tells each who it is through environment variables (``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``,
``MASTER_ADDR``/``MASTER_PORT``). Every process (a *rank*) holds a full copy of the model and reads
its own slice of the data. DistributedDataParallel averages the gradients across ranks during
backward (an all-reduce), so after each optimizer step every copy holds the same weights: N ranks
train like one process with an N-times larger batch.

The backend moves the tensors: NCCL between CUDA GPUs, gloo between CPU processes. Only rank 0
writes files (metrics, checkpoints, samples) and talks to the user; the others only compute.

``torchrun --nproc_per_node=1`` is DDP too: a process group of one, with the same collectives and
checkpoints as N ranks. That is how a machine with a single GPU proves the NCCL path; a plain
``python`` start has no process group at all.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
import torch.distributed as dist

T = TypeVar("T")


@dataclass(frozen=True)
class DistEnv:
    rank: int = 0
    local_rank: int = 0
    world_size: int = 1
    launched: bool = False  # started by torchrun: a process group even for a world of one

    @property
    def enabled(self) -> bool:
        return self.world_size > 1 or self.launched

    @property
    def is_main(self) -> bool:
        return self.rank == 0


# What ``init_process_group``'s default ``env://`` rendezvous reads; torchrun sets all four.
LAUNCHER_VARIABLES = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


def detect() -> DistEnv:
    """Read torchrun's environment; a plain ``python`` start is a world of one, without DDP."""
    launched = all(name in os.environ for name in LAUNCHER_VARIABLES)
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1 and not launched:
        return DistEnv()
    return DistEnv(rank=int(os.environ.get("RANK", "0")), local_rank=int(os.environ.get("LOCAL_RANK", "0")),
                   world_size=world_size, launched=launched)


def init(env: DistEnv, device: str) -> str:
    """Join the process group; returns this rank's device (``cuda:<local_rank>`` on GPUs)."""
    if not env.enabled:
        return device
    if device.startswith("cuda"):
        device = f"cuda:{env.local_rank}"
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.startswith("cuda") else "gloo")
    return device


def shutdown(env: DistEnv) -> None:
    if env.enabled and dist.is_initialized():
        dist.destroy_process_group()


def mean(value: float, env: DistEnv, device: str) -> float:
    """The average of a number over all ranks (every rank gets the same answer)."""
    if not env.enabled:
        return value
    tensor = torch.tensor([value], dtype=torch.float64, device=device)
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor.item() / env.world_size


def any_rank(flag: bool, env: DistEnv, device: str) -> bool:
    """True on every rank if it is true on at least one: lets all ranks agree to stop at the same step."""
    if not env.enabled:
        return flag
    tensor = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return bool(tensor.item())


def broadcast(obj: Any, env: DistEnv) -> Any:
    """Rank 0's value of a small picklable object, on every rank."""
    if not env.enabled:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def gather(obj: Any, env: DistEnv) -> list[Any]:
    """Every rank's value of a small object of plain data and CPU tensors, as a list indexed by rank.

    Each value travels as the bytes of ``torch.save`` (tensors included) and is read back with
    ``weights_only=True``, the same safe format as a checkpoint.
    """
    if not env.enabled:
        return [obj]
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    blobs: list[Any] = [None] * env.world_size
    dist.all_gather_object(blobs, buffer.getvalue())
    return [torch.load(io.BytesIO(blob), weights_only=True) for blob in blobs]


def rank0_first(make: Callable[[], T], env: DistEnv) -> T:
    """``make()`` on rank 0 first (it may build and cache something, a tokenizer), then on the others from the cache."""
    if not env.enabled:
        return make()
    if env.is_main:
        value = make()
        dist.barrier()
    else:
        dist.barrier()
        value = make()
    return value


def wrap(model: torch.nn.Module, env: DistEnv, device: str) -> torch.nn.Module:
    """``model`` in DistributedDataParallel when there are several ranks (its backward all-reduces the gradients)."""
    if not env.enabled:
        return model
    from torch.nn.parallel import DistributedDataParallel

    ids = [torch.device(device).index] if device.startswith("cuda") else None
    return DistributedDataParallel(model, device_ids=ids)


def same_on_every_rank(digest: str, env: DistEnv) -> str:
    """``digest`` if every rank computed the same one (of its weights, say); raises if the replicas differ."""
    digests = gather(digest, env)
    if len(set(digests)) != 1:
        raise RuntimeError(f"DDP replicas diverged: weight digests per rank {digests}")
    return digest
