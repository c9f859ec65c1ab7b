"""``export --format hf``: a folder that ``transformers`` loads with no custom code.

::

    config.json              GPT2LMHeadModel or GPTNeoXForCausalLM, our shape
    model.safetensors        the weights under that architecture's names
    generation_config.json   end-of-text as BOS/EOS (generation stops there)
    tokenizer.json           our BPE as a byte-level BPE (see .tokenizer_json)
    tokenizer_config.json    PreTrainedTokenizerFast

**Which architecture.** Only standard ones that compute exactly what ours does:

    pos_encoding   architecture                      how
    learned        GPT2LMHeadModel                   wpe = our table
    sinusoidal     GPT2LMHeadModel                   wpe = the fixed sinusoidal table
    rope           GPTNeoXForCausalLM                sequential residual, full rotary, q/k permuted
    alibi          refused                           no standard causal LM in transformers adds
                                                     ALiBi to a GPT-2 block exactly (BLOOM differs)

Both get our GELU (exact ``"gelu"``, or the tanh form as ``"gelu_pytorch_tanh"``), LayerNorm ε = 1e-5 and 1/√d_head attention scaling, as ours.
:func:`verify` loads the folder back with ``transformers`` and measures the largest logit difference.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from tui_transformer.data.tokenizer import Tokenizer
from tui_transformer.errors import UserError
from tui_transformer.interop.hf_gpt2 import gpt2_config, to_gpt2
from tui_transformer.interop.hf_neox import neox_config, to_neox
from tui_transformer.interop.output_dir import write_json
from tui_transformer.interop.tokenizer_json import tokenizer_config, tokenizer_json
from tui_transformer.model import ModelConfig

ARCHITECTURES = {"learned": "GPT2LMHeadModel", "sinusoidal": "GPT2LMHeadModel", "rope": "GPTNeoXForCausalLM"}


def architecture_for(config: ModelConfig) -> str:
    """The exact standard architecture for ``config``, or one line saying why there is none."""
    if config.pos_encoding not in ARCHITECTURES:
        raise UserError(f"pos_encoding {config.pos_encoding!r} has no exact equivalent in transformers "
                        "(ALiBi on a GPT-2 block is no standard architecture); export --format safetensors "
                        "keeps it for this project")
    return ARCHITECTURES[config.pos_encoding]


def write_hf(folder: Path, model: torch.nn.Module, tokenizer: Tokenizer) -> str:
    """Write the five files into ``folder``; returns the architecture's name."""
    from safetensors.torch import save_file

    config: ModelConfig = model.config
    architecture = architecture_for(config)
    state = model.state_dict()
    if architecture == "GPT2LMHeadModel":
        hf_config, tensors = gpt2_config(config, tokenizer.eot_id), to_gpt2(state, config)
    else:
        hf_config, tensors = neox_config(config, tokenizer.eot_id), to_neox(state, config)
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
