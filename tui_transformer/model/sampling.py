"""Sampling: choosing the next token from the model's logits.

The model gives logits ``z [B, V]`` for the next token. Five processors reshape them, always in
this order (the order of Hugging Face ``generate``), then one token is drawn per row:

1. **Repetition penalty** ``r`` (CTRL, Keskar et al. 2019, which divides every repeat's logit by
   ``r``; made sign-aware as in Hugging Face). For every token already in the context:
   ``z <- z / r`` if ``z > 0``, else ``z <- z · r``. For ``r > 1`` both push a repeat down
   (dividing a positive score shrinks it, multiplying a negative one makes it more negative).
2. **Temperature** ``τ``: ``p = softmax(z / τ)``. ``τ < 1`` sharpens the distribution, ``τ > 1``
   flattens it. ``τ = 0`` means **greedy**: always the arg-max, and the processors after it are moot.
3. **Top-k**: keep only the ``k`` highest-scoring tokens (``k = 0`` keeps all).
4. **Top-p** (nucleus, Holtzman et al. 2019): sort by probability and keep the smallest prefix
   whose mass reaches ``p`` (``p = 1`` keeps all). The cut adapts: few tokens when the model is sure.
5. **Min-p**: drop tokens whose probability is below ``min_p · p_max`` (``0`` keeps all), a cut
   that scales with the model's confidence in its top choice.

What survives is renormalised and one token is drawn with probability ``p_i`` (see
:meth:`Sampler.draw`), with a ``torch.Generator``: a seed makes the draw reproducible.
:func:`Sampler.sample` also returns that final distribution ``[B, V]``, the one
actually sampled from, which the dashboard draws as bars.

:data:`SAMPLER_PRESETS` names five useful settings, from ``greedy`` to ``very-creative``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from tui_transformer.errors import ConfigError
from tui_transformer.seeds import check_seed


@dataclass(frozen=True)
class SamplingConfig:
    """How to pick tokens. The defaults sample from the model's plain distribution."""

    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    min_p: float = 0.0
    repetition_penalty: float = 1.0
    seed: int | None = None

    def __post_init__(self) -> None:
        if not self.temperature >= 0.0:
            raise ConfigError(f"temperature must be >= 0 (0 means greedy), got {self.temperature!r}")
        if isinstance(self.top_k, bool) or not isinstance(self.top_k, int) or self.top_k < 0:
            raise ConfigError(f"top_k must be an integer >= 0 (0 turns it off), got {self.top_k!r}")
        if not 0.0 < self.top_p <= 1.0:
            raise ConfigError(f"top_p must be in (0, 1] (1 turns it off), got {self.top_p!r}")
        if not 0.0 <= self.min_p < 1.0:
            raise ConfigError(f"min_p must be in [0, 1) (0 turns it off), got {self.min_p!r}")
        if not self.repetition_penalty > 0.0:
            raise ConfigError(f"repetition_penalty must be > 0 (1 turns it off), got {self.repetition_penalty!r}")
        if self.seed is not None:
            check_seed(self.seed)

    @property
    def greedy(self) -> bool:
        return self.temperature == 0.0


# Presets, from deterministic to adventurous. Small models repeat themselves, hence the mild
# repetition penalty; min-p keeps high temperatures coherent by cutting the long tail.
SAMPLER_PRESETS: dict[str, SamplingConfig] = {
    "greedy": SamplingConfig(temperature=0.0),  # always the arg-max: reproducible, often loops
    "precise": SamplingConfig(temperature=0.5, top_k=20, top_p=0.9, repetition_penalty=1.1),
    "balanced": SamplingConfig(temperature=0.8, top_k=50, top_p=0.95, repetition_penalty=1.1),
    "creative": SamplingConfig(temperature=1.0, top_p=0.95, min_p=0.05),
    "very-creative": SamplingConfig(temperature=1.3, min_p=0.1),
}


def apply_repetition_penalty(logits: torch.Tensor, context: torch.Tensor, penalty: float) -> torch.Tensor:
    """CTRL rule on ``logits [B, V]`` for the ids in ``context [B, N]`` (each id penalised once)."""
    seen = logits.gather(-1, context)
    seen = torch.where(seen > 0, seen / penalty, seen * penalty)
    return logits.scatter(-1, context, seen)


def top_k_filter(logits: torch.Tensor, k: int) -> torch.Tensor:
    """Keep exactly the ``k`` largest logits per row; the rest become ``-inf``."""
    values, indices = torch.topk(logits, min(k, logits.shape[-1]), dim=-1)
    return torch.full_like(logits, float("-inf")).scatter(-1, indices, values)


def top_p_filter(probs: torch.Tensor, p: float, candidates: int = 0) -> torch.Tensor:
    """Zero all but the smallest set of most likely tokens whose total probability reaches ``p``.

    ``candidates > 0`` says at most that many tokens have non-zero probability (top-k ran before),
    so only those are ranked instead of sorting the whole vocabulary.
    """
    if 0 < candidates < probs.shape[-1]:
        sorted_probs, order = torch.topk(probs, candidates, dim=-1)
    else:
        sorted_probs, order = torch.sort(probs, dim=-1, descending=True)
    mass_before = torch.cumsum(sorted_probs, dim=-1) - sorted_probs
    # A token is in the nucleus if the tokens ranked above it have not yet reached p. The first
    # token always is (mass_before = 0 < p).
    keep_sorted = mass_before < p
    keep = torch.zeros_like(probs, dtype=torch.bool).scatter(-1, order, keep_sorted)
    return probs * keep


def min_p_filter(probs: torch.Tensor, min_p: float) -> torch.Tensor:
    """Zero the tokens whose probability is below ``min_p`` times the row's largest."""
    threshold = min_p * probs.amax(dim=-1, keepdim=True)
    return torch.where(probs >= threshold, probs, torch.zeros_like(probs))


class Sampler:
    """Applies a :class:`SamplingConfig` to logits and draws tokens, with its own seeded generator."""

    def __init__(self, config: SamplingConfig, device: torch.device | str = "cpu") -> None:
        self.config = config
        self.generator: torch.Generator | None = None
        if config.seed is not None:
            self.generator = torch.Generator(device=device).manual_seed(config.seed)

    def distribution(self, logits: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        """The processed distribution ``[B, V]`` for ``logits [B, V]`` (rows sum to 1)."""
        cfg = self.config
        logits = logits.float()
        if cfg.repetition_penalty != 1.0 and context is not None and context.numel():
            logits = apply_repetition_penalty(logits, context, cfg.repetition_penalty)
        if cfg.greedy:
            return torch.zeros_like(logits).scatter_(-1, logits.argmax(-1, keepdim=True), 1.0)
        logits = logits / cfg.temperature
        if cfg.top_k:
            logits = top_k_filter(logits, cfg.top_k)
        probs = torch.softmax(logits, dim=-1)
        if cfg.top_p < 1.0:
            probs = top_p_filter(probs, cfg.top_p, candidates=cfg.top_k)
        if cfg.min_p > 0.0:
            probs = min_p_filter(probs, cfg.min_p)
        return probs / probs.sum(dim=-1, keepdim=True)

    def sample(
        self, logits: torch.Tensor, context: torch.Tensor | None = None, want_probs: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Draw one token per row: ``(token_ids [B], probs [B, V] or None)``.

        Greedy without ``want_probs`` skips building the distribution: the arg-max is the answer.
        """
        cfg = self.config
        if cfg.greedy and not want_probs:
            if cfg.repetition_penalty != 1.0 and context is not None and context.numel():
                logits = apply_repetition_penalty(logits, context, cfg.repetition_penalty)
            return logits.argmax(dim=-1), None
        probs = self.distribution(logits, context)
        if cfg.greedy:
            return probs.argmax(dim=-1), probs
        return self.draw(probs), probs

    def draw(self, probs: torch.Tensor) -> torch.Tensor:
        """One token per row of ``probs [B, V]``, token ``i`` with probability ``p_i``.

        An exponential race: give every token an independent waiting time ``E_i ~ Exp(1)`` and
        pick the first to arrive at rate ``p_i``, i.e. the smallest ``E_i / p_i`` (the largest
        ``p_i / E_i``). The minimum of independent exponentials with rates ``p_i`` falls on token
        ``i`` with probability ``p_i / Σ p``, and a token with ``p_i = 0`` never arrives. This is
        the draw ``torch.multinomial(probs, 1)`` makes (same generator, same token: tested), without
        its validity checks, which read the tensor back to the CPU at every token.
        """
        waits = torch.empty_like(probs).exponential_(1.0, generator=self.generator)
        return (probs / waits).argmax(dim=-1)
