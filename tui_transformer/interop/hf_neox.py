"""Our RoPE model -> Hugging Face ``GPTNeoXForCausalLM``, exactly.

GPT-NeoX is the standard architecture with rotary positions. Three settings make it our block:
``use_parallel_residual=False`` (attention, *then* the feed-forward on the updated stream, not both
from the same input), a full rotary (``partial_rotary_factor = rotary_pct = 1.0``: every dimension of
a head rotates) and our GELU (``hidden_act="gelu"``, or ``"gelu_pytorch_tanh"`` for ``activation="gelu_tanh"``).

One layout differs, and is fixed by regrouping rows of the weights: NeoX's ``query_key_value``
output is viewed as ``[H, 3, d_head]`` (head 0's q, k, v, then head 1's ...); ours is
``[3, H, d_head]`` (all queries, then keys, then values). The rotary pairs need nothing: NeoX's
``rotate_half`` pairs dimensions ``(i, i + d_head/2)`` with the angle ``θ_i``, as ours does.

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


def neox_qkv(tensor: torch.Tensor, n_heads: int) -> torch.Tensor:
    """Our qkv weight ``[3D, D]`` (or bias ``[3D]``) -> NeoX's, regrouped per head as ``[H, 3, d_head]``."""
    rest = tensor.shape[1:]
    d_head = tensor.shape[0] // (3 * n_heads)
    return tensor.reshape(3, n_heads, d_head, *rest).transpose(0, 1).reshape(3 * n_heads * d_head, *rest)


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
