"""``import DIR``: a local GPT-2 folder (Hugging Face) becomes a run of our from-scratch model.

The opposite of the hf export, and what nanoGPT's ``GPT.from_pretrained`` does: read GPT-2's
``config.json``, map its tensors onto our names (:mod:`.hf_gpt2`), convert its tokenizer into
tiktoken ranks (:mod:`.tokenizer_json`), and write a run folder::

    config.toml            a TrainConfig whose model is GPT-2's shape (learned positions)
    model.safetensors      our state_dict         } the safetensors export format, which
    tui_transformer.json   config and tokenizer   } load_for_inference reads (see
    tokenizer.tiktoken     the ranks              } train.safetensors_run)

Only ``model.safetensors`` is read (``save_pretrained`` writes it by default): a ``.bin`` file is a
pickle, which can run code when loaded. GPT-2's own ``gelu_new`` (the tanh approximation) becomes
our ``activation="gelu_tanh"``. Anything our model cannot reproduce exactly (another activation,
scaled attention, a different model type) is refused with one line.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from tui_transformer.errors import UserError
from tui_transformer.interop.hf_gpt2 import from_gpt2, model_config_from_gpt2
from tui_transformer.interop.output_dir import output_dir
from tui_transformer.train.safetensors_run import write_export
from tui_transformer.interop.tokenizer_json import read_hf_tokenizer


def import_gpt2(source: str | Path, name: str | None = None, force: bool = False) -> Path:
    """Import the GPT-2 folder ``source`` as the run ``name`` (default: the folder's name); returns the run folder."""
    from tui_transformer.paths import runs_dir
    from tui_transformer.train import config_file
    from tui_transformer.train.config import TrainConfig
    from tui_transformer.train.runs import CONFIG_FILE

    folder = Path(source).expanduser()
    name = name or re.sub(r"[^\w.-]+", "-", folder.resolve().name)
    if not re.fullmatch(r"[\w.-]+", name):
        raise UserError(f"run name {name!r} may only use letters, digits, '.', '_' and '-'")
    target = runs_dir() / name
    if target.exists() and not force:
        raise UserError(f"run {name} already exists ({target}); pass --force to replace it, or choose --name")
    model, tokenizer = read_gpt2(folder, tokenizer_name=f"hf-{name}")
    config = TrainConfig(preset="imported", model=model.config, data="builtin", tokenizer=tokenizer.name,
                         device="auto")
    with output_dir(target, force) as tmp:
        write_export(tmp, model, tokenizer, config.to_dict())
        config_file.write(config, tmp / CONFIG_FILE)
    return target


def read_gpt2(folder: Path, tokenizer_name: str):
    """A GPT-2 folder -> (our DecoderTransformer with its weights, our Tokenizer)."""
    from tui_transformer.model import DecoderTransformer

    if not (folder / "config.json").is_file():
        raise UserError(f"{folder} is not a Hugging Face model folder (no config.json)")
    try:
        hf_config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UserError(f"cannot read {folder}/config.json: {error}") from None
    config = model_config_from_gpt2(hf_config, str(folder))
    tokenizer = read_hf_tokenizer(folder, tokenizer_name)
    if tokenizer.vocab_size != config.vocab_size:
        raise UserError(f"{folder}: the model has {config.vocab_size} token ids but its tokenizer "
                        f"{tokenizer.vocab_size}; they must match")
    model = DecoderTransformer(config)
    try:
        model.load_state_dict(from_gpt2(read_weights(folder), config))
    except KeyError as error:
        raise UserError(f"{folder}/model.safetensors is not GPT-2-shaped: missing or extra tensor "
                        f"{str(error.args[0])[:120]}") from None
    except RuntimeError as error:
        raise UserError(f"{folder}/model.safetensors does not fit its config.json "
                        f"({str(error).splitlines()[-1].strip()[:160]})") from None
    return model.eval(), tokenizer


def read_weights(folder: Path) -> dict:
    """The tensors of ``model.safetensors``; one line for a missing, pickled or damaged file."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = folder / "model.safetensors"
    if not path.is_file():
        if (folder / "model.safetensors.index.json").is_file():
            raise UserError(f"{folder} holds a sharded checkpoint; save it as one file (max_shard_size='100GB')")
        if (folder / "pytorch_model.bin").is_file():
            raise UserError(f"{folder} has only pytorch_model.bin (a pickle, unsafe to load); re-save it with "
                            "save_pretrained(..., safe_serialization=True)")
        raise UserError(f"{folder} has no model.safetensors")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError) as error:
        raise UserError(f"{path} is damaged or truncated ({str(error)[:160]})") from None
