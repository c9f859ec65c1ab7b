"""Ablation: switch heads off and see what the model can no longer do.

A head's output ``z^h [B, T, d_head]`` (``blocks.{l}.attn.hook_z``) is replaced before the heads are
merged and projected:

* **zero ablation**: ``z^h <- 0``: the head writes nothing into the residual stream (its output
  projection's bias stays, as it belongs to the layer, not to the head);
* **mean ablation**: ``z^h <- mean over a reference batch and its positions``: the head writes what
  it writes on average, so only the information that varies with the input is removed. This disturbs
  the later layers less than zero, which they may never have seen.

``with ablate_heads(model, [(1, 0)]): ...`` holds for every forward pass that this thread runs inside
the block, so it works for one pass and for a whole generation alike.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch

from tui_transformer.errors import ConfigError
from tui_transformer.model.tools.eval_mode import eval_mode
from tui_transformer.model.tools.hooks import hooks, run_with_cache

ABLATIONS = ("zero", "mean")


@contextmanager
def ablate_heads(model, heads: Sequence[tuple[int, int]], mode: str = "zero",
                 reference: torch.Tensor | None = None) -> Iterator[None]:
    """Ablate ``heads`` (``(layer, head)`` pairs) inside the block; ``mode="mean"`` needs ``reference [B, T]``."""
    if mode not in ABLATIONS:
        raise ConfigError(f"ablation must be one of {', '.join(ABLATIONS)}; got {mode!r}")
    n_layers, n_heads = model.config.n_layers, model.config.n_heads
    for layer, head in heads:
        if not (0 <= layer < n_layers and 0 <= head < n_heads):
            raise ConfigError(f"no head {layer}.{head}: the model has {n_layers} layers of {n_heads} heads")
    by_layer: dict[int, list[int]] = {}
    for layer, head in heads:
        by_layer.setdefault(layer, []).append(head)
    means = _head_means(model, reference, sorted(by_layer)) if mode == "mean" else {}

    def replacing(layer: int):
        def replace(z: torch.Tensor) -> torch.Tensor:  # z [B, H, T, d_head]
            z = z.clone()
            for head in by_layer[layer]:
                z[:, head] = means[layer][head] if mode == "mean" else 0.0
            return z

        return replace

    with hooks(model, {f"blocks.{layer}.attn.hook_z": replacing(layer) for layer in by_layer}):
        yield


def _head_means(model, reference: torch.Tensor | None, layers: list[int]) -> dict[int, torch.Tensor]:
    """``{layer: [H, d_head]}``: each head's output averaged over ``reference``'s batch and positions."""
    if reference is None:
        raise ConfigError("mean ablation needs reference tokens to average each head's output over")
    names = [f"blocks.{layer}.attn.hook_z" for layer in layers]
    tokens = torch.as_tensor(reference, dtype=torch.long)
    tokens = tokens.reshape(-1, tokens.shape[-1]).to(model.embed.weight.device)  # [T] or [B, T] -> [B, T]
    with eval_mode(model), torch.inference_mode():
        _, seen = run_with_cache(model, tokens, names)
    return {layer: seen[name].mean(dim=(0, 2)) for layer, name in zip(layers, names)}
