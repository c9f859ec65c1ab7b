"""Will one training step fit in memory? A lower bound, checked before anything is allocated.

Asking for far too much (``--batch-size 1000000``, ``--seq-len 100000``) used to end in an
allocation failure minutes in, or in a machine swapping itself to a halt. A step's memory is mostly
three things, and each has a closed form (in 4-byte floats, ``N = B · T`` tokens per micro-batch)::

    weights, gradients, AdamW's two moments     4 · P
    activations kept for the backward pass      N · L · (8·D + 2·F)     per block: the LayerNorm
                                                                        outputs, q/k/v, the heads' output,
                                                                        its projection, the FFN's two
                                                                        F-wide tensors, the residuals
      + the attention weights (explicit path)   N · L · H · T           one [T] row per token and head
    the logits of one chunk, in float32         min(N, CHUNK) · V       the chunked loss makes CHUNK
                                                                        positions' logits at a time
                                                                        (train.head_loss);
                                                                        under autocast all N, and more

Under 16-bit autocast (bf16 on CUDA) the activations may take 2 bytes each instead of 4
(``activation_bytes``); the weights, the optimizer state and the float32 logits do not shrink.
(The bound counts what the training loss needs in float32; under autocast the whole logits exist,
which only makes the true peak higher.)

The true peak is higher (temporaries, the allocator's slack, the data loader), so this is a *lower
bound*: a step that it says cannot fit certainly cannot, and refusing it loses nothing. A step it
allows may still fail, rarely, near the limit.
"""

from __future__ import annotations

import torch

from tui_transformer.errors import ConfigError
from tui_transformer.model.config import ModelConfig
from tui_transformer.train.head_loss import CHUNK
from tui_transformer.model.transformer import count_parameters

FLOAT_BYTES = 4


def step_bytes_lower_bound(model: ModelConfig, batch_size: int, activation_bytes: int = FLOAT_BYTES) -> int:
    """The bytes one training micro-batch of ``batch_size`` sequences needs at least (see above)."""
    d, f, layers, t = model.d_model, model.d_ff, model.n_layers, model.max_seq_len
    tokens = batch_size * t
    activations = layers * (8 * d + 2 * f)
    if model.attention == "explicit":
        activations += layers * model.n_heads * t
    logits = FLOAT_BYTES * min(tokens, CHUNK) * model.vocab_size
    return FLOAT_BYTES * 4 * count_parameters(model) + tokens * activation_bytes * activations + logits


def available_bytes(device: torch.device) -> int | None:
    """Memory free for this process on ``device`` right now, or None where it cannot be asked."""
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        return int(free)
    try:  # Linux; elsewhere (macOS, MPS) the check is skipped
        with open("/proc/meminfo") as file:
            for line in file:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def check_step_fits(model: ModelConfig, batch_size: int, device: torch.device,
                    activation_bytes: int = FLOAT_BYTES) -> None:
    """Raise a ConfigError, saying what to lower, if a step certainly cannot fit on ``device``."""
    available = available_bytes(device)
    need = step_bytes_lower_bound(model, batch_size, activation_bytes)
    if available is None or need <= available:
        return
    raise ConfigError(
        f"a training step of {batch_size:,} x {model.max_seq_len:,} tokens needs at least {_gb(need)} of memory "
        f"and {device.type} has {_gb(available)} free; lower --batch-size (and raise --accumulation-steps to keep "
        "the tokens per step) or --seq-len"
    )


def _gb(n_bytes: int) -> str:
    return f"{n_bytes / 1e9:,.1f} GB"

