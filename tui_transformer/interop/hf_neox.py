"""Our RoPE model -> Hugging Face ``GPTNeoXForCausalLM``, exactly.

GPT-NeoX is the standard architecture with rotary positions. Three settings make it our block:
``use_parallel_residual=False`` (attention, *then* the feed-forward on the updated stream, not both
from the same input), a full rotary (``partial_rotary_factor = rotary_pct = 1.0``: every dimension of
a head rotates) and our GELU (``hidden_act="gelu"``, or ``"gelu_pytorch_tanh"`` for ``activation="gelu_tanh"``).

Two layouts differ, and are fixed by permuting rows of the weights:

* **qkv per head.** NeoX's ``query_key_value`` output is viewed as ``[H, 3, d_head]`` (head 0's q,
  k, v, then head 1's ...); ours is ``[3, H, d_head]`` (all queries, then keys, then values).
* **Which dimensions pair up.** We rotate the pairs ``(2i, 2i+1)``; NeoX's ``rotate_half`` pairs
  ``(i, i + d_head/2)``, with the same angle ``θ_i`` for pair ``i``. Moving our dimension ``2i`` to
  slot ``i`` and ``2i+1`` to slot ``i + d_head/2``, in q *and* k, makes NeoX rotate exactly our
  pairs. The scores ``q·k`` are unchanged by a permutation applied to both, and v is not permuted,
  so the attention output is the same.

Names: ``gpt_neox.embed_in``, ``gpt_neox.layers.{i}.{input_layernorm, attention.query_key_value,
attention.dense, post_attention_layernorm, mlp.dense_h_to_4h, mlp.dense_4h_to_h}``,
``gpt_neox.final_layer_norm`` and ``embed_out`` (written only for an untied head).
"""

from __future__ import annotations

from typing import Any

import torch

from tui_transformer.interop.hf_gpt2 import HF_ACTIVATION
from tui_transformer.model import ModelConfig

LAYERS = {"ln1": "input_layernorm", "ln2": "post_attention_layernorm", "attn.out": "attention.dense",
          "ff.up": "mlp.dense_h_to_4h", "ff.down": "mlp.dense_4h_to_h"}


def neox_config(config: ModelConfig, eot_id: int) -> dict[str, Any]:
    """``config.json`` for ``GPTNeoXForCausalLM`` with our shape (old and new names of the rotary settings)."""
    return {
        "architectures": ["GPTNeoXForCausalLM"], "model_type": "gpt_neox",
        "vocab_size": config.vocab_size, "hidden_size": config.d_model, "num_hidden_layers": config.n_layers,
        "num_attention_heads": config.n_heads, "intermediate_size": config.d_ff, "hidden_act": HF_ACTIVATION[config.activation],
        "max_position_embeddings": config.max_seq_len, "layer_norm_eps": 1e-5, "use_parallel_residual": False,
        "rope_parameters": {"rope_type": "default", "rope_theta": config.rope_base, "partial_rotary_factor": 1.0},
        "rotary_pct": 1.0, "rotary_emb_base": config.rope_base,  # what transformers 4.x reads
        "attention_bias": True, "hidden_dropout": config.dropout, "attention_dropout": config.dropout,
        "tie_word_embeddings": config.tie_weights, "bos_token_id": eot_id, "eos_token_id": eot_id,
        "torch_dtype": "float32", "dtype": "float32",
    }


def rotate_half_order(d_head: int) -> torch.Tensor:
    """Which of our dimensions goes to each NeoX slot: ``[0, 2, 4, ..., 1, 3, 5, ...]``."""
    return torch.cat([torch.arange(0, d_head, 2), torch.arange(1, d_head, 2)])


def neox_qkv(tensor: torch.Tensor, n_heads: int) -> torch.Tensor:
    """Our qkv weight ``[3D, D]`` (or bias ``[3D]``) -> NeoX's: q and k permuted within each head,
    then regrouped per head as ``[H, 3, d_head]``."""
    rest = tensor.shape[1:]
    d_head = tensor.shape[0] // (3 * n_heads)
    parts = tensor.reshape(3, n_heads, d_head, *rest).clone()  # [3, H, d_head, ...]
    order = rotate_half_order(d_head)
    parts[0], parts[1] = parts[0][:, order], parts[1][:, order]
    return parts.transpose(0, 1).reshape(3 * n_heads * d_head, *rest)


def to_neox(state: dict[str, torch.Tensor], config: ModelConfig) -> dict[str, torch.Tensor]:
    """Our ``state_dict`` -> NeoX's tensors (contiguous float32 copies, ready for safetensors)."""
    out = {"gpt_neox.embed_in.weight": state["embed.weight"]}
    for i in range(config.n_layers):
        prefix = f"gpt_neox.layers.{i}"
        for kind in ("weight", "bias"):
            out[f"{prefix}.attention.query_key_value.{kind}"] = neox_qkv(state[f"blocks.{i}.attn.qkv.{kind}"],
                                                                           config.n_heads)
            for ours, theirs in LAYERS.items():
                out[f"{prefix}.{theirs}.{kind}"] = state[f"blocks.{i}.{ours}.{kind}"]
    out["gpt_neox.final_layer_norm.weight"] = state["ln_f.weight"]
    out["gpt_neox.final_layer_norm.bias"] = state["ln_f.bias"]
    if not config.tie_weights:
        out["embed_out.weight"] = state["lm_head.weight"]
    return {name: tensor.detach().float().cpu().contiguous().clone() for name, tensor in out.items()}
