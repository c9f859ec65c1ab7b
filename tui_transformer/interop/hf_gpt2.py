"""Our weights <-> Hugging Face ``GPT2LMHeadModel``: the same pre-LN block under other names.

GPT-2 is our model with learned absolute positions (``wpe``), biases everywhere and a head tied to
the token embedding (``tie_word_embeddings``; an untied head is written as ``lm_head.weight``). Our
sinusoidal encoding is also *added* to the embeddings, so it maps onto GPT-2 too: the fixed table
becomes ``wpe``.

Names (``{i}`` the layer)::

    ours                          GPT-2 (prefix transformer.)       note
    embed.weight         [V, D]   wte.weight
    pos.weight           [T, D]   wpe.weight                        sinusoidal: the fixed table
    blocks.{i}.ln1 / ln2          h.{i}.ln_1 / ln_2
    blocks.{i}.attn.qkv  [3D, D]  h.{i}.attn.c_attn   [D, 3D]       GPT-2's Conv1D stores Wᵀ
    blocks.{i}.attn.out  [D, D]   h.{i}.attn.c_proj   [D, D]        (transposed too)
    blocks.{i}.ff.up     [F, D]   h.{i}.mlp.c_fc      [D, F]        (transposed)
    blocks.{i}.ff.down   [D, F]   h.{i}.mlp.c_proj    [F, D]        (transposed)
    ln_f                          ln_f
    lm_head.weight       [V, D]   lm_head.weight (no prefix)        only when untied

``c_attn`` makes q, k and v in the same order as our ``qkv`` (q rows first, head ``h`` owning
``h·d_head ..``), so a transpose is all it takes. The activation: our exact GELU is ``"gelu"``;
GPT-2's default ``gelu_new`` is the tanh approximation, our ``activation="gelu_tanh"``, which
``"gelu_pytorch_tanh"`` computes with the very same kernel (``F.gelu(approximate="tanh")``); our
``"relu2"`` is transformers' ``"relu2"``, ``relu(x)²``.
"""

from __future__ import annotations

from typing import Any

import torch

from tui_transformer.model import ModelConfig
from tui_transformer.model.positional import sinusoidal_table
from tui_transformer.errors import UserError

LAYERS = {  # ours -> GPT-2, inside block i; True: the weight is transposed (Conv1D)
    "ln1": ("ln_1", False), "ln2": ("ln_2", False),
    "attn.qkv": ("attn.c_attn", True), "attn.out": ("attn.c_proj", True),
    "ff.up": ("mlp.c_fc", True), "ff.down": ("mlp.c_proj", True),
}
# ours -> transformers, bit for bit; and the other way
HF_ACTIVATION = {"gelu": "gelu", "gelu_tanh": "gelu_pytorch_tanh", "relu2": "relu2"}
OUR_ACTIVATION = {"gelu": "gelu", "gelu_new": "gelu_tanh", "gelu_pytorch_tanh": "gelu_tanh", "relu2": "relu2"}
IGNORED_SUFFIXES = (".attn.bias", ".attn.masked_bias")  # older GPT-2 files store the causal mask as a buffer


def gpt2_config(config: ModelConfig, eot_id: int) -> dict[str, Any]:
    """``config.json`` for ``GPT2LMHeadModel`` with our shape."""
    return {
        "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2",
        "vocab_size": config.vocab_size, "n_positions": config.max_seq_len, "n_embd": config.d_model,
        "n_layer": config.n_layers, "n_head": config.n_heads, "n_inner": config.d_ff,
        "activation_function": HF_ACTIVATION[config.activation], "layer_norm_epsilon": 1e-5,
        "resid_pdrop": config.dropout, "embd_pdrop": config.dropout, "attn_pdrop": config.dropout,
        "scale_attn_weights": True, "scale_attn_by_inverse_layer_idx": False, "reorder_and_upcast_attn": False,
        "tie_word_embeddings": config.tie_weights, "bos_token_id": eot_id, "eos_token_id": eot_id,
        "torch_dtype": "float32", "dtype": "float32",
    }


def to_gpt2(state: dict[str, torch.Tensor], config: ModelConfig) -> dict[str, torch.Tensor]:
    """Our ``state_dict`` -> GPT-2's tensors (contiguous float32 copies, ready for safetensors)."""
    out = {"transformer.wte.weight": state["embed.weight"]}
    if config.pos_encoding == "sinusoidal":
        out["transformer.wpe.weight"] = sinusoidal_table(config.max_seq_len, config.d_model)
    else:
        out["transformer.wpe.weight"] = state["pos.weight"]
    for i in range(config.n_layers):
        for ours, (theirs, transposed) in LAYERS.items():
            weight = state[f"blocks.{i}.{ours}.weight"]
            out[f"transformer.h.{i}.{theirs}.weight"] = weight.t() if transposed else weight
            out[f"transformer.h.{i}.{theirs}.bias"] = state[f"blocks.{i}.{ours}.bias"]
    out["transformer.ln_f.weight"], out["transformer.ln_f.bias"] = state["ln_f.weight"], state["ln_f.bias"]
    if not config.tie_weights:
        out["lm_head.weight"] = state["lm_head.weight"]
    return {name: tensor.detach().float().cpu().contiguous().clone() for name, tensor in out.items()}


# ---- the other way: a GPT-2 folder -> our model -------------------------------------------------

def model_config_from_gpt2(hf: dict[str, Any], where: str) -> ModelConfig:
    """A GPT-2 ``config.json`` -> our ModelConfig; anything our model cannot reproduce exactly is refused."""
    if hf.get("model_type") != "gpt2":
        raise UserError(f"{where} is a {hf.get('model_type')!r} model, not GPT-2 (model_type 'gpt2')")
    activation = hf.get("activation_function", "gelu_new")
    if activation not in OUR_ACTIVATION:
        raise UserError(f"{where} uses activation {activation!r}; our feed-forward has only "
                        f"{', '.join(OUR_ACTIVATION)}, so its outputs would differ")
    exact = {"scale_attn_by_inverse_layer_idx": False, "reorder_and_upcast_attn": False, "scale_attn_weights": True,
             "layer_norm_epsilon": 1e-5, "add_cross_attention": False}
    for key, want in exact.items():
        if hf.get(key, want) != want:
            raise UserError(f"{where} sets {key}={hf[key]!r}; our model only does {key}={want!r}")
    d_model = hf.get("n_embd", 768)
    return ModelConfig(vocab_size=hf.get("vocab_size", 50257), d_model=d_model, n_heads=hf.get("n_head", 12),
                       n_layers=hf.get("n_layer", 12), d_ff=hf.get("n_inner") or 4 * d_model,
                       max_seq_len=hf.get("n_positions", 1024), dropout=0.0, pos_encoding="learned",
                       attention="sdpa", tie_weights=hf.get("tie_word_embeddings", True),
                       activation=OUR_ACTIVATION[activation])


def from_gpt2(tensors: dict[str, torch.Tensor], config: ModelConfig) -> dict[str, torch.Tensor]:
    """GPT-2's tensors (with or without the ``transformer.`` prefix) -> our ``state_dict``."""
    theirs = {name.removeprefix("transformer."): t for name, t in tensors.items()
              if not name.endswith(IGNORED_SUFFIXES)}
    state = {"embed.weight": theirs.pop("wte.weight"), "pos.weight": theirs.pop("wpe.weight")}
    for i in range(config.n_layers):
        for ours, (name, transposed) in LAYERS.items():
            weight = theirs.pop(f"h.{i}.{name}.weight")
            state[f"blocks.{i}.{ours}.weight"] = weight.t() if transposed else weight
            state[f"blocks.{i}.{ours}.bias"] = theirs.pop(f"h.{i}.{name}.bias")
    state["ln_f.weight"], state["ln_f.bias"] = theirs.pop("ln_f.weight"), theirs.pop("ln_f.bias")
    head = theirs.pop("lm_head.weight", None)
    if not config.tie_weights:
        state["lm_head.weight"] = head
    if theirs:
        raise KeyError(f"unexpected tensors: {', '.join(sorted(theirs)[:5])}")
    return {name: t.float().contiguous() for name, t in state.items()}
