"""The two exports of a run, end to end: load it, refuse early, write the folder atomically."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui_transformer.interop.hf_export import architecture_for, write_hf
from tui_transformer.interop.output_dir import output_dir, refuse_existing
from tui_transformer.train.safetensors_run import write_export

FORMATS = ("hf", "safetensors")


@dataclass
class Exported:
    out: Path
    format: str
    architecture: str  # GPT2LMHeadModel, GPTNeoXForCausalLM, or ours
    files: list[str]
    model: Any  # the model that was exported (eval mode, CPU): what --verify compares against
    tokenizer: Any


def export_run(run: str, out: Path, fmt: str, force: bool = False) -> Exported:
    """Export ``run`` (a run name, run folder, checkpoint or export) to ``out`` in format ``fmt``."""
    from tui_transformer.train.checkpoint import load_for_inference

    out = Path(out).expanduser()
    refuse_existing(out, force)  # before the (slow) load, so a mistake costs nothing
    model, tokenizer, config = load_for_inference(run, "cpu")
    if fmt == "hf":
        architecture_for(config.model)  # refuse before a folder is created
    with output_dir(out, force) as folder:
        if fmt == "hf":
            architecture = write_hf(folder, model, tokenizer)
        else:
            write_export(folder, model, tokenizer, config.to_dict())
            architecture = "DecoderTransformer (tui-transformer)"
    return Exported(out, fmt, architecture, sorted(p.name for p in out.iterdir()), model, tokenizer)
