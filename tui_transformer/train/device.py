"""Which device to train on, and the mixed-precision policy that goes with it.

``auto`` picks CUDA, then Apple's MPS, then the CPU. On CUDA the forward pass runs under bf16
autocast: matmuls in bfloat16 (half the memory traffic, tensor cores), while the weights, the
optimizer state and the loss stay in float32. GPUs without bf16 get float16 instead, whose narrow
exponent range needs a GradScaler: the loss is multiplied by a large factor before backward so
small gradients do not flush to zero, and the gradients are divided back before the step. The CPU
and MPS train in plain float32 (CPU autocast did not pay for these sizes).
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass

import torch

from tui_transformer.errors import ConfigError


def resolve_device(name: str) -> str:
    """``auto`` -> the best available device; other names are checked, not trusted."""
    if name == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    if not re.fullmatch(r"cpu|mps|cuda(:\d+)?", name):
        # torch would only fail later, on loading a checkpoint, with a message about storage tags
        raise ConfigError(f"unknown device {name!r}: use auto, cpu, cuda, cuda:N or mps")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device {name!r} asked for, but CUDA is not available here (try --device cpu)")
    if name.startswith("cuda:") and int(name[5:]) >= torch.cuda.device_count():
        raise ConfigError(f"device {name!r} asked for, but this machine has {torch.cuda.device_count()} CUDA device(s)")
    if name == "mps" and not torch.backends.mps.is_available():
        raise ConfigError("device 'mps' asked for, but MPS is not available here (try --device cpu)")
    return name


@dataclass(frozen=True)
class Precision:
    """How the forward pass runs: ``dtype`` None means plain float32."""

    dtype: torch.dtype | None
    use_grad_scaler: bool

    @property
    def name(self) -> str:
        return {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[self.dtype]

    def autocast(self, device: str) -> contextlib.AbstractContextManager:
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=device.split(":")[0], dtype=self.dtype)


def choose_precision(device: str, amp: bool) -> Precision:
    if not amp or not device.startswith("cuda"):
        return Precision(dtype=None, use_grad_scaler=False)
    if torch.cuda.is_bf16_supported():
        return Precision(dtype=torch.bfloat16, use_grad_scaler=False)
    return Precision(dtype=torch.float16, use_grad_scaler=True)
