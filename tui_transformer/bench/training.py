"""Training throughput: our model against a lean nanoGPT-style reference of the same shape.

Each variant runs the same full training step on the same random batch: forward, cross-entropy,
backward, gradient clipping, AdamW step, each variant with the loss and the optimizer its project
uses (ours: the trainer's chunked head-and-loss, :mod:`~tui_transformer.train.head_loss`, and the
trainer's fused AdamW; ``ours-plain``, on request: the model's own plain ``forward(targets=)``,
which shows what the chunked loss buys; the reference: nanoGPT's ``F.cross_entropy`` over the whole logits and its
AdamW, fused on CUDA only). Variants take turns in rounds
(A B C A B C ...) so that a machine that slows down mid-run slows all of them alike; each variant's
throughput is its median round. The comparison is a ratio within one run; absolute numbers drift
between runs on a shared box.

**Model FLOPs utilisation (MFU)** is the share of the hardware's peak that the step turns into
useful model arithmetic::

    flops per token = 6 * N + 12 * L * d_model * T

``N`` counts the weights that multiply activations (every Linear, and the LM head, but not the
embedding lookups, which are reads). A matmul costs 2 flops per weight per token forward and 4
backward (gradients for inputs and weights), hence 6N. Attention adds QK^T and AV: 2 * T * d_model
multiply-adds each per token per layer forward, so 12 * L * d_model * T in all (counting the full
T x T square, as PaLM's formula does, though the causal mask makes half of it zeros).

The peak is measured on the spot: the best rate of a large square matmul in the training dtype.

The reference (:class:`ReferenceGPT`) follows nanoGPT's ``model.py``: one fused QKV projection,
``F.scaled_dot_product_attention(is_causal=True)``, GELU MLP, pre-LN blocks, learned positions,
tied LM head. It lives only here, as the yardstick.
"""

from __future__ import annotations

import contextlib
import math
import resource
import statistics
import sys
import threading
import time
from typing import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

from tui_transformer.model import DecoderTransformer, ModelConfig
from tui_transformer.model.tools.flops import flops_per_token
from tui_transformer.train.allocator import keep_freed_memory
from tui_transformer.train.peak import measure_peak_flops, synchronize

VARIANTS = ("ours-explicit", "ours-sdpa", "reference")
OPTIONAL_VARIANTS = ("ours-plain", "reference-fused")  # `bench train --variants ...`


# ---- the yardstick: a lean nanoGPT-style model ---------------------------------------------------

class _ReferenceAttention(nn.Module):
    def __init__(self, c: ModelConfig) -> None:
        super().__init__()
        self.n_heads = c.n_heads
        self.qkv = nn.Linear(c.d_model, 3 * c.d_model)
        self.proj = nn.Linear(c.d_model, c.d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, D = x.shape
        q, k, v = self.qkv(x).split(D, dim=2)
        q, k, v = (t.view(B, T, self.n_heads, D // self.n_heads).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.proj(y.transpose(1, 2).reshape(B, T, D))


class _ReferenceBlock(nn.Module):
    def __init__(self, c: ModelConfig) -> None:
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(c.d_model), nn.LayerNorm(c.d_model)
        self.attn = _ReferenceAttention(c)
        self.mlp = nn.Sequential(nn.Linear(c.d_model, c.d_ff), nn.GELU(), nn.Linear(c.d_ff, c.d_model))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class ReferenceGPT(nn.Module):
    """nanoGPT's shape in 30 lines: the speed a lean eager implementation gets."""

    def __init__(self, c: ModelConfig) -> None:
        super().__init__()
        self.wte = nn.Embedding(c.vocab_size, c.d_model)
        self.wpe = nn.Embedding(c.max_seq_len, c.d_model)
        self.blocks = nn.ModuleList(_ReferenceBlock(c) for _ in range(c.n_layers))
        self.ln_f = nn.LayerNorm(c.d_model)
        self.lm_head = nn.Linear(c.d_model, c.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight
        self.apply(self._init_weights)
        for block in self.blocks:  # GPT-2's scaled init of the projections that write into the residual stream
            for proj in (block.attn.proj, block.mlp[2]):
                nn.init.normal_(proj.weight, std=0.02 / math.sqrt(2 * c.n_layers))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        # nanoGPT's init. PyTorch's default N(0, 1) embedding would make the tied LM head's logits so
        # peaked that their gradients underflow to denormal floats, which CPUs multiply ~100x slower.
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, tokens: torch.Tensor, targets: torch.Tensor | None = None) -> torch.Tensor:
        """The logits, or given ``targets`` the mean cross-entropy over them (as nanoGPT computes it)."""
        positions = torch.arange(tokens.size(1), device=tokens.device)
        x = self.wte(tokens) + self.wpe(positions)
        for block in self.blocks:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))
        if targets is None:
            return logits
        return F.cross_entropy(logits.float().view(-1, logits.size(-1)), targets.view(-1))



# ---- the benchmark -------------------------------------------------------------------------------

def _build(variant: str, c: ModelConfig) -> nn.Module:
    torch.manual_seed(0)
    if variant.startswith("reference"):
        return ReferenceGPT(c)
    attention = "sdpa" if variant == "ours-plain" else variant.removeprefix("ours-")
    return DecoderTransformer(ModelConfig.from_dict({**c.to_dict(), "attention": attention}))


def build_variant(variant: str, c: ModelConfig, device: str) -> tuple[nn.Module, torch.optim.Optimizer]:
    """A variant's model on ``device`` in training mode, with the optimizer its project steps it with.

    Ours: the trainer's step module (the model with its chunked head loss; ``ours-plain`` without it)
    and :func:`~tui_transformer.train.optimizer.adamw` (the trainer's fused AdamW on CUDA and CPU). The reference: nanoGPT's choice, fused on CUDA only; ``reference-fused`` gives it the
    fused AdamW too, to show how much of a lead is the optimizer's.
    """
    from tui_transformer.train.config import TrainConfig
    from tui_transformer.train.head_loss import ChunkedHeadLoss
    from tui_transformer.train.optimizer import adamw

    model = _build(variant, c).to(device).train()
    if variant.startswith("ours-"):
        optimizer = adamw(list(model.parameters()), TrainConfig(model=c, lr=1e-4), device)
        return (model if variant == "ours-plain" else ChunkedHeadLoss(model)), optimizer
    fused = variant == "reference-fused" or device.startswith("cuda")
    return model, torch.optim.AdamW(model.parameters(), lr=1e-4, fused=fused or None)


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
               autocast: Callable = contextlib.nullcontext) -> float:
    """One full step: forward and loss (the variant's own), backward, clip to norm 1, AdamW; returns the loss."""
    with autocast():
        loss = model(x, targets=y)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return loss.item()


def _rss_peak_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB elsewhere


def run_train_bench(model_config: ModelConfig, batch_size: int = 8, steps_per_round: int = 3, rounds: int = 3,
                    warmup_steps: int = 2, device: str = "cpu", variants: tuple[str, ...] = VARIANTS,
                    on_progress: Callable[[int, int, str], None] | None = None,
                    stop: threading.Event | None = None) -> dict:
    """Tokens/s, MFU and peak memory per variant; see the module docstring for the method."""
    from tui_transformer.train.device import choose_precision

    if device == "cpu":
        keep_freed_memory()  # as the trainer does; both variants share the process, and so the allocator
    precision = choose_precision(device, amp=True)
    autocast = lambda: precision.autocast(device)  # noqa: E731
    generator = torch.Generator().manual_seed(0)
    x = torch.randint(0, model_config.vocab_size, (batch_size, model_config.max_seq_len), generator=generator)
    x, y = x.to(device), torch.roll(x, -1, dims=1).to(device)
    peak = measure_peak_flops(device, precision.dtype or torch.float32)

    setups = {}
    for variant in variants:
        model, optimizer = build_variant(variant, model_config, device)
        for _ in range(warmup_steps):
            train_step(model, optimizer, x, y, autocast)
        setups[variant] = (model, optimizer)
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()

    timings: dict[str, list[float]] = {v: [] for v in variants}
    total, done = rounds * len(variants), 0
    for round_index in range(rounds):
        for variant in variants:
            if stop is not None and stop.is_set():
                break
            model, optimizer = setups[variant]
            synchronize(device)
            start = time.perf_counter()
            for _ in range(steps_per_round):
                train_step(model, optimizer, x, y, autocast)
            synchronize(device)
            timings[variant].append((time.perf_counter() - start) / steps_per_round)
            done += 1
            if on_progress:
                on_progress(done, total, f"round {round_index + 1}/{rounds}: {variant}")

    tokens_per_step = batch_size * model_config.max_seq_len
    rows = []
    for variant in variants:
        if not timings[variant]:
            continue
        step_s = statistics.median(timings[variant])
        tok_s = tokens_per_step / step_s
        model = setups[variant][0]
        rows.append({"variant": variant, "step_ms": step_s * 1e3, "tokens_per_s": tok_s,
                     "mfu": tok_s * flops_per_token(model_config) / peak,
                     "params": sum(p.numel() for p in model.parameters())})
    by_name = {row["variant"]: row for row in rows}
    reference = by_name.get("reference")  # the yardstick is nanoGPT as nanoGPT runs it
    for row in rows:
        row["vs_reference"] = row["tokens_per_s"] / reference["tokens_per_s"] if reference else None
    memory = (torch.cuda.max_memory_allocated() / 2**20 if device.startswith("cuda") else _rss_peak_mb())
    return {
        "bench": "train",
        "config": model_config.to_dict(),
        "batch_size": batch_size,
        "seq_len": model_config.max_seq_len,
        "steps_per_round": steps_per_round,
        "rounds": rounds,
        "device": device,
        "precision": precision.name,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "peak_flops": peak,
        "flops_per_token": flops_per_token(model_config),
        "peak_memory_mb": memory,
        "peak_memory_kind": "cuda max allocated" if device.startswith("cuda") else "process peak RSS",
        "rows": rows,
    }
