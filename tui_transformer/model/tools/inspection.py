"""Inspection: looking inside one forward pass of the learner's own model.

``inspect(model, tokens)`` runs the model once and keeps what a reader wants to see:

* ``attention[l]``: the attention weights of layer ``l``, ``[B, H, T, T]``. Row ``i`` of head ``h``
  is how token ``i`` spreads its attention over tokens ``0 .. i`` (rows sum to 1; the upper
  triangle is 0 because of the causal mask);
* ``embedded``: the residual stream entering the first block (embeddings + positions), ``[B, T, D]``;
* ``residual[l]``: the residual stream after block ``l``, ``[B, T, D]``;
* ``logits``: the model's output, ``[B, T, V]``.

**The logit lens** (nostalgebraist, 2020) asks what the model "would say" if it stopped after
layer ``l``: apply the final LayerNorm and the LM head to ``residual[l]``::

    lens[l] = LM_head(LayerNorm_final(residual[l]))        [B, T, V]

At the last layer this *is* the model's output. On earlier layers it shows the prediction taking
shape: often the right next token surfaces a layer or two before the end.

**How it looks inside.** The forward pass itself knows nothing of inspection: :func:`inspect` reads
the model's :mod:`~.hooks` points (the residual stream at ``blocks.{l}.hook_resid_pre/post``, the
queries and keys at ``blocks.{l}.attn.hook_q/k``) for one pass, in the calling thread only, so other
threads may run the same model at the same time. The attention weights are recomputed from those
queries and keys with :func:`~.attention.attention_weights`, the first half of the explicit
attention: the fused kernel that the presets run never stores them, and the model runs the same
path whether or not it is inspected.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from tui_transformer.errors import ConfigError
from tui_transformer.model.attention import attention_weights
from tui_transformer.model.tools.eval_mode import eval_mode
from tui_transformer.model.tools.hooks import run_with_cache


@dataclass
class Inspection:
    """What one forward pass computed, layer by layer (see the module docstring)."""

    tokens: torch.Tensor  # [B, T]
    embedded: torch.Tensor  # [B, T, D]
    residual: list[torch.Tensor]  # n_layers x [B, T, D], after each block
    attention: list[torch.Tensor]  # n_layers x [B, H, T, T]
    logits: torch.Tensor  # [B, T, V]
    _model: object = field(repr=False, default=None)

    def logit_lens(self, layer: int) -> torch.Tensor:
        """``LM_head(LayerNorm_final(residual[layer]))``: logits ``[B, T, V]`` read after ``layer``."""
        model = self._model
        with torch.inference_mode():
            return model.unembed(model.ln_f(self.residual[layer]))

    def logit_lens_top(self, k: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
        """The ``k`` most likely tokens per layer and position: ``(probs, ids)``, each ``[L, B, T, k]``.

        Computed one layer at a time, so a large vocabulary never needs ``L`` full logit tensors.
        """
        probs, ids = [], []
        for layer in range(len(self.residual)):
            top = torch.softmax(self.logit_lens(layer).float(), dim=-1).topk(k, dim=-1)
            probs.append(top.values)
            ids.append(top.indices)
        return torch.stack(probs), torch.stack(ids)


def inspect(model, tokens) -> Inspection:
    """Run ``model`` on ``tokens`` (a list of ids, ``[T]`` or ``[B, T]``) and record its insides.

    Runs in eval mode without gradients; the model's mode is restored afterwards.
    """
    device = model.embed.weight.device
    tokens = torch.as_tensor(tokens, dtype=torch.long, device=device)
    if tokens.dim() == 1:
        tokens = tokens.unsqueeze(0)
    if tokens.dim() != 2 or tokens.shape[1] == 0:
        raise ConfigError(f"inspect needs at least one token id, as [T] or [B, T]; got shape {list(tokens.shape)}")
    if tokens.shape[1] > model.config.max_seq_len:
        raise ConfigError(f"inspect takes at most max_seq_len={model.config.max_seq_len} tokens, got {tokens.shape[1]}")
    layers = range(model.config.n_layers)
    names = ["blocks.0.hook_resid_pre"] + [f"blocks.{layer}.{point}" for layer in layers
                                            for point in ("hook_resid_post", "attn.hook_q", "attn.hook_k")]
    with eval_mode(model), torch.inference_mode():
        logits, seen = run_with_cache(model, tokens, names)
        mask = model.attention_mask(0, tokens.shape[1])
        attention = [attention_weights(seen[f"blocks.{layer}.attn.hook_q"], seen[f"blocks.{layer}.attn.hook_k"], mask)
                     for layer in layers]
    residual = [seen[f"blocks.{layer}.hook_resid_post"] for layer in layers]
    return Inspection(tokens, seen["blocks.0.hook_resid_pre"], residual, attention, logits, model)
