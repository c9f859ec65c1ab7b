"""``export --format hf``: a folder that ``transformers`` loads with no custom code.

::

    config.json              GPT2LMHeadModel, GPTNeoXForCausalLM, LlamaForCausalLM or Qwen3ForCausalLM
    model.safetensors        the weights under that architecture's names
    generation_config.json   end-of-text as BOS/EOS (generation stops there)
    tokenizer.json           our BPE as a byte-level BPE (see .tokenizer_json)
    tokenizer_config.json    PreTrainedTokenizerFast

**Which architecture.** Only standard ones that compute exactly what ours does::

    architecture          pos_encoding        norm       bias    activation                qk_norm
    GPT2LMHeadModel       learned/sinusoidal  layernorm  true    gelu, gelu_tanh, relu2    false
    GPTNeoXForCausalLM    rope                layernorm  true    gelu, gelu_tanh, relu2    false
    LlamaForCausalLM      rope                rmsnorm    either  swiglu                    false
    Qwen3ForCausalLM      rope                rmsnorm    false   swiglu                    true

GPT-2 takes the learned table as ``wpe``, and the sinusoidal one as a fixed ``wpe``; GPT-NeoX runs a
sequential residual with every dimension rotated (q/k regrouped per head); Llama and Qwen3 split our
``qkv`` into ``q_proj, k_proj, v_proj``. None of them soft-caps its logits (Gemma 2 does, in a block
unlike ours), and none adds ALiBi to a block like ours (BLOOM differs), so ``logit_softcap`` and
``pos_encoding="alibi"`` are refused, as is any other mix, in one line naming the settings at fault;
``export --format safetensors`` keeps every option. ``zero_init_proj`` and ``tie_weights`` are no
obstacle: one is an initialisation, the other each layout's ``tie_word_embeddings``. Every layout gets
our norm's ε = 1e-5 and 1/√d_head attention scaling, as ours.

:func:`verify` loads the folder back with ``transformers`` and measures the largest logit difference.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from tui_transformer.data.tokenizer import Tokenizer
from tui_transformer.errors import UserError
from tui_transformer.interop.hf_gpt2 import gpt2_config, to_gpt2
from tui_transformer.interop.hf_llama import llama_config, to_llama
from tui_transformer.interop.hf_neox import neox_config, to_neox
from tui_transformer.interop.output_dir import write_json
from tui_transformer.interop.tokenizer_json import tokenizer_config, tokenizer_json
from tui_transformer.model import ModelConfig

GELU_LIKE = ("gelu", "gelu_tanh", "relu2")  # one activation on one up-projection: GPT-2's and NeoX's MLP
LAYOUTS = {  # architecture -> the settings it computes exactly (see the module docstring)
    "GPT2LMHeadModel": {"pos_encoding": ("learned", "sinusoidal"), "norm": ("layernorm",), "bias": (True,),
                        "activation": GELU_LIKE, "qk_norm": (False,), "logit_softcap": (0.0,)},
    "GPTNeoXForCausalLM": {"pos_encoding": ("rope",), "norm": ("layernorm",), "bias": (True,),
                           "activation": GELU_LIKE, "qk_norm": (False,), "logit_softcap": (0.0,)},
    "LlamaForCausalLM": {"pos_encoding": ("rope",), "norm": ("rmsnorm",), "bias": (True, False),
                         "activation": ("swiglu",), "qk_norm": (False,), "logit_softcap": (0.0,)},
    "Qwen3ForCausalLM": {"pos_encoding": ("rope",), "norm": ("rmsnorm",), "bias": (False,),
                         "activation": ("swiglu",), "qk_norm": (True,), "logit_softcap": (0.0,)},
}


def _setting(name: str, value: Any) -> str:
    """``bias=false``, ``norm='rmsnorm'``: a setting as the flags and config.toml spell it."""
    return f"{name}={str(value).lower()}" if isinstance(value, bool) else f"{name}={value!r}"


def architecture_for(config: ModelConfig) -> str:
    """The exact standard architecture for ``config``, or one line naming the settings none can express."""
    misfits = {name: [field for field, allowed in needs.items() if getattr(config, field) not in allowed]
               for name, needs in LAYOUTS.items()}
    for name, fields in misfits.items():
        if not fields:
            return name
    if config.pos_encoding == "alibi":
        raise UserError("pos_encoding 'alibi' has no exact equivalent in transformers (ALiBi on a GPT-2 block is "
                        "no standard architecture); export --format safetensors keeps it for this project")
    near = min(len(fields) for fields in misfits.values())
    why = "; ".join(f"{name} cannot express {', '.join(_setting(f, getattr(config, f)) for f in fields)}"
                    for name, fields in misfits.items() if len(fields) == near)
    raise UserError(f"no standard transformers architecture computes this model exactly ({why}); "
                    "export --format safetensors keeps every option")


def write_hf(folder: Path, model: torch.nn.Module, tokenizer: Tokenizer) -> str:
    """Write the five files into ``folder``; returns the architecture's name."""
    from safetensors.torch import save_file

    config: ModelConfig = model.config
    architecture = architecture_for(config)
    state = model.state_dict()
    if architecture == "GPT2LMHeadModel":
        hf_config, tensors = gpt2_config(config, tokenizer.eot_id), to_gpt2(state, config)
    elif architecture == "GPTNeoXForCausalLM":
        hf_config, tensors = neox_config(config, tokenizer.eot_id), to_neox(state, config)
    else:
        hf_config, tensors = llama_config(config, tokenizer.eot_id, architecture), to_llama(state, config)
    save_file(tensors, str(folder / "model.safetensors"), metadata={"format": "pt"})
    write_json(folder, "config.json", hf_config)
    write_json(folder, "generation_config.json", {"bos_token_id": tokenizer.eot_id, "eos_token_id": tokenizer.eot_id})
    write_json(folder, "tokenizer.json", tokenizer_json(tokenizer))
    write_json(folder, "tokenizer_config.json", tokenizer_config(tokenizer, config.max_seq_len))
    return architecture


def verify(folder: Path, model: torch.nn.Module, tokenizer: Tokenizer, text: str) -> dict[str, Any]:
    """Load ``folder`` with ``transformers`` and compare it with ``model`` on ``text``:
    ``max_abs_diff`` of the fp32 logits and whether both tokenizers give the same ids."""
    from tui_transformer.interop.hf_extra import require_transformers

    transformers = require_transformers()
    hf_model = transformers.AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    hf_tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    ours = tokenizer.encode(text)
    theirs = hf_tokenizer(text)["input_ids"]
    ids = torch.tensor([ours[: model.config.max_seq_len]])
    device = next(model.parameters()).device
    with torch.inference_mode():
        want = model(ids.to(device)).float().cpu()
        got = hf_model(ids).logits.float()
    return {"max_abs_diff": (want - got).abs().max().item(), "tokens": len(ours), "ids_equal": ours == theirs}
