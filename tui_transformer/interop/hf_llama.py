"""Our RMSNorm + SwiGLU + RoPE model -> ``LlamaForCausalLM`` (``Qwen3ForCausalLM`` with QK-norm), exactly.

Llama's block is ours with ``norm="rmsnorm"``, ``activation="swiglu"`` and ``pos_encoding="rope"``:
pre-norm RMSNorm (``weight · x / √(mean(x²) + ε)``, the mean of squares in float32, as ours), attention
with ``rotate_half`` rotary positions pairing dimensions ``(i, i + d_head/2)`` at angle
``p · base^(−2i/d_head)``, as ours, scaled by ``1/√d_head``, and the gated MLP
``down(silu(gate(x)) ⊙ up(x))``. Our biases map onto ``attention_bias`` (q, k, v and o) and ``mlp_bias``
(gate, up and down); RMSNorm has none either side. Qwen3 is Llama plus an RMSNorm over each head's
``d_head`` on the queries and keys before the rotation, which is our ``qk_norm``; its MLP has no
biases, so it takes ``bias=false`` only.

Names (``{i}`` the layer)::

    ours                          Llama / Qwen3 (prefix model.)
    embed.weight         [V, D]   embed_tokens.weight
    blocks.{i}.ln1 / ln2          layers.{i}.input_layernorm / post_attention_layernorm
    blocks.{i}.attn.qkv  [3D, D]  layers.{i}.self_attn.q_proj, k_proj, v_proj   [D, D] each: rows 0..D-1, D..2D-1, 2D..
    blocks.{i}.attn.out  [D, D]   layers.{i}.self_attn.o_proj
    blocks.{i}.attn.q_norm/k_norm layers.{i}.self_attn.q_norm / k_norm          (Qwen3) [d_head]
    blocks.{i}.ff.gate/up/down    layers.{i}.mlp.gate_proj / up_proj / down_proj
    ln_f                          norm
    lm_head.weight       [V, D]   lm_head.weight (no prefix)        only when untied

Our q rows put head ``h`` at ``h·d_head ..``, as ``q_proj`` viewed as ``[H, d_head]`` does, so the split
of ``qkv`` into three is all the attention needs.
"""

from __future__ import annotations

from typing import Any

import torch

from tui_transformer.model import ModelConfig
from tui_transformer.model.rms_norm import NORM_EPS

LAYERS = {"ln1": "input_layernorm", "ln2": "post_attention_layernorm", "attn.out": "self_attn.o_proj",
          "ff.gate": "mlp.gate_proj", "ff.up": "mlp.up_proj", "ff.down": "mlp.down_proj"}
QK_NORMS = {"attn.q_norm": "self_attn.q_norm", "attn.k_norm": "self_attn.k_norm"}


def llama_config(config: ModelConfig, eot_id: int, architecture: str) -> dict[str, Any]:
    """``config.json`` for ``LlamaForCausalLM`` or ``Qwen3ForCausalLM`` with our shape."""
    qwen3 = architecture == "Qwen3ForCausalLM"
    return {
        "architectures": [architecture], "model_type": "qwen3" if qwen3 else "llama",
        "vocab_size": config.vocab_size, "hidden_size": config.d_model, "num_hidden_layers": config.n_layers,
        "num_attention_heads": config.n_heads, "num_key_value_heads": config.n_heads, "head_dim": config.d_head,
        "intermediate_size": config.d_ff, "hidden_act": "silu", "max_position_embeddings": config.max_seq_len,
        "rms_norm_eps": NORM_EPS, "rope_parameters": {"rope_type": "default", "rope_theta": config.rope_base},
        "rope_theta": config.rope_base,  # what transformers 4.x reads
        "attention_bias": config.bias, "mlp_bias": config.bias, "attention_dropout": config.dropout,
        "use_sliding_window": False, "tie_word_embeddings": config.tie_weights,
        "bos_token_id": eot_id, "eos_token_id": eot_id, "torch_dtype": "float32", "dtype": "float32",
    }


def to_llama(state: dict[str, torch.Tensor], config: ModelConfig) -> dict[str, torch.Tensor]:
    """Our ``state_dict`` -> Llama's (or Qwen3's) tensors (contiguous float32 copies, ready for safetensors)."""
    kinds = ("weight", "bias") if config.bias else ("weight",)
    out = {"model.embed_tokens.weight": state["embed.weight"]}
    for i in range(config.n_layers):
        ours, theirs = f"blocks.{i}", f"model.layers.{i}"
        for kind in kinds:
            q, k, v = state[f"{ours}.attn.qkv.{kind}"].chunk(3)
            out[f"{theirs}.self_attn.q_proj.{kind}"] = q
            out[f"{theirs}.self_attn.k_proj.{kind}"] = k
            out[f"{theirs}.self_attn.v_proj.{kind}"] = v
        for mine, name in LAYERS.items():
            for kind in kinds if not mine.startswith("ln") else ("weight",):
                out[f"{theirs}.{name}.{kind}"] = state[f"{ours}.{mine}.{kind}"]
        if config.qk_norm:
            for mine, name in QK_NORMS.items():
                out[f"{theirs}.{name}.weight"] = state[f"{ours}.{mine}.weight"]
    out["model.norm.weight"] = state["ln_f.weight"]
    if not config.tie_weights:
        out["lm_head.weight"] = state["lm_head.weight"]
    return {name: tensor.detach().float().cpu().contiguous().clone() for name, tensor in out.items()}
