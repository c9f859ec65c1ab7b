"""Multi-head attention: several attention patterns side by side, with a KV cache.

One attention pattern is one way of relating tokens. Multi-head attention runs ``H`` of them in
parallel, each in its own ``d_head = D / H`` dimensional subspace, then mixes them::

    x [B, T, D] --W_qkv--> [B, T, 3D]                    one matmul makes q, k and v
    split heads:  [B, T, 3, H, d_head] -> q, k, v [B, H, T, d_head]
    (qk_norm: RMSNorm each head's q and k over d_head)
    (rope: rotate q and k by their positions)
    (cache: write k, v at positions start .. start+T-1; read k, v [B, H, start+T, d_head])
    attention per head (causal)        -> [B, H, T, d_head]
    merge heads:  [B, H, T, d_head] -> [B, T, H, d_head] -> [B, T, D]
    output projection W_o              -> [B, T, D]

``H`` heads of width ``D/H`` cost about the same as one head of width ``D``, but give ``H``
independent patterns (one head may look at the previous token, another at the start of the line).

**QK-norm** (``qk_norm``; Henry et al. 2020, OLMo 2, Qwen3, the NanoGPT speedrun). A score is
``q · k / √d_head``, and nothing stops ``q`` and ``k`` from growing during training until the scores
are large, the softmax is nearly one-hot and its gradient vanishes (attention "entropy collapse").
Normalising each head's query and key to root mean square 1 (:class:`~.rms_norm.RMSNorm` over
``d_head``, with a learned gain ``[d_head]`` for q and one for k, shared by the heads) gives both the
length ``√d_head``, so every score ``q · k / √d_head`` lies within ``±√d_head`` before the gains: the
sharpness of attention becomes a learned gain, not a side effect of weight growth, which tolerates
higher learning rates. It acts before RoPE, so
the rotation (which keeps lengths) sees normalised vectors, and the hook points and the cache see
the q and k the scores use.

Parameters: ``4 · D · D`` weights and ``4 · D`` biases (``W_qkv`` is ``W_q, W_k, W_v`` stacked:
rows ``0..D-1`` make q, head ``h`` owning rows ``h·d_head .. (h+1)·d_head - 1``, the layout of
the ``in_proj_weight`` of PyTorch's built-in multi-head module, which the tests use as an oracle).
``bias=False`` drops the ``4 · D`` biases; ``qk_norm`` adds the two gains, ``2 · d_head``.
"""

from __future__ import annotations

import torch
from torch import nn

from tui_transformer.model.attention import fused_attention, scaled_dot_product_attention
from tui_transformer.model.hook_point import HookPoint
from tui_transformer.model.kv_cache import Cache
from tui_transformer.model.positional import RotaryEmbedding
from tui_transformer.model.rms_norm import RMSNorm


class MultiHeadAttention(nn.Module):
    # A state dict records each module's _version. Version 1 paired RoPE's dimensions as neighbours
    # (2i, 2i+1); loading one reorders its q and k rows to the halves paired now, so a model saved
    # then computes exactly what it computed then.
    _version = 2

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        dropout: float = 0.0,
        attention: str = "explicit",
        rope: RotaryEmbedding | None = None,
        layer: int = 0,
        bias: bool = True,
        qk_norm: bool = False,
    ) -> None:
        super().__init__()
        self.layer = layer  # which cache slot holds this layer's keys and values
        self.n_heads = n_heads
        self.d_head = d_model // n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model, bias=bias)
        self.out = nn.Linear(d_model, d_model, bias=bias)
        self.q_norm = RMSNorm(self.d_head) if qk_norm else None
        self.k_norm = RMSNorm(self.d_head) if qk_norm else None
        self.attn_dropout = dropout
        self.resid_dropout = nn.Dropout(dropout)
        self.use_fused = attention == "sdpa"
        self.rope = rope
        self.hook_q, self.hook_k, self.hook_z = HookPoint(), HookPoint(), HookPoint()

    def forward(
        self,
        x: torch.Tensor,
        start_pos: int = 0,
        mask: torch.Tensor | None = None,
        cache: Cache | None = None,
    ) -> torch.Tensor:
        """``x [B, T, D]`` at positions ``start_pos ..`` -> ``[B, T, D]``.

        ``mask`` is the boolean causal mask for these queries (None for a single decoded token), or
        ALiBi's float bias ``[H, T, start_pos + T]``;
        ``cache``, when given, receives this layer's keys and values and returns all of them so far.
        """
        batch, n_tokens, d_model = x.shape
        qkv = self.qkv(x).view(batch, n_tokens, 3, self.n_heads, self.d_head).permute(2, 0, 3, 1, 4)
        qk, v = qkv[:2], qkv[2]  # [2, B, H, T, d_head] (q and k stacked), [B, H, T, d_head]
        if self.q_norm is not None:
            qk = torch.stack((self.q_norm(qk[0]), self.k_norm(qk[1])))
        if self.rope is not None:
            qk = self.rope(qk, start_pos)  # rotate q and k in one call
        q, k = qk.unbind(0)  # each [B, H, T, d_head]
        if cache is not None:
            k, v = cache.update(self.layer, k, v)  # now [B, H, start_pos + T, d_head]
        q, k = self.hook_q(q), self.hook_k(k)
        dropout_p = self.attn_dropout if self.training else 0.0
        if self.use_fused:
            heads = fused_attention(q, k, v, mask, dropout_p)
        else:
            heads, _ = scaled_dot_product_attention(q, k, v, mask, dropout_p)
        heads = self.hook_z(heads)  # [B, H, T, d_head]
        merged = heads.transpose(1, 2).reshape(batch, n_tokens, d_model)
        return self.resid_dropout(self.out(merged))

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, *args) -> None:
        if self.rope is not None and local_metadata.get("version", self._version) < 2:
            for name in (prefix + "qkv.weight", prefix + "qkv.bias"):
                if name in state_dict:
                    state_dict[name] = neighbour_pairs_as_halves(state_dict[name], self.n_heads)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, *args)


def neighbour_pairs_as_halves(qkv: torch.Tensor, n_heads: int) -> torch.Tensor:
    """``W_qkv [3D, ...]`` whose q and k rotate pairs ``(2i, 2i+1)`` -> the same model pairing ``(i, i + d_head/2)``.

    Within each head of q and k, row ``2i`` moves to ``i`` and row ``2i+1`` to ``i + d_head/2``; a
    permutation applied to both q and k leaves every score ``q·k`` unchanged, and v is not moved.
    """
    d_head = qkv.shape[0] // (3 * n_heads)
    order = torch.cat([torch.arange(0, d_head, 2), torch.arange(1, d_head, 2)])
    parts = qkv.reshape(3, n_heads, d_head, *qkv.shape[1:]).clone()
    parts[:2] = parts[:2, :, order]
    return parts.reshape(qkv.shape)
