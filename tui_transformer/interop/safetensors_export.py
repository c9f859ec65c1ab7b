"""``export --format safetensors``: our own weights and config, in the ecosystem's safe format.

A checkpoint (``.pt``) is a pickle: loading one from a stranger is only safe with
``weights_only=True``, and only this project reads it. The export is a folder any tool can read::

    model.safetensors        the model's tensors under our own names (no optimizer state)
    tui_transformer.json     {"format", "version", "config": TrainConfig, "tokenizer": its identity,
                              "split_pattern", "special_tokens", "step",
                              "sha256": {"model.safetensors": the file's digest}}
    tokenizer.tiktoken       the merge table (ranks), so the export needs nothing else to run

safetensors is a JSON header plus raw tensor bytes: loading cannot run code. It carries no
checksum, so a flipped bit in a tensor would load silently (and change the text): the export
records the file's sha256, and :func:`load_export` refuses any difference before reading a tensor.
The ranks are checked against the tokenizer's recorded identity the same way. An export that
records no digest (written by hand, or by an older version) still loads, with an
:class:`~tui_transformer.errors.Unverified` warning naming it. ``generate``, ``eval``
and the Playground take the folder wherever they take a run (:func:`load_export`, reached from
``train.checkpoint.load_for_inference``); ``import`` writes its runs in this format too.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any, Callable

import tiktoken
import torch

from tui_transformer.atomic import write_bytes_atomic
from tui_transformer.data.bpe import read_tiktoken_file
from tui_transformer.data.tokenizer import Tokenizer
from tui_transformer.digest import file_sha256
from tui_transformer.errors import Unverified, UserError
from tui_transformer.interop.output_dir import write_json

FORMAT = "tui-transformer/safetensors"
VERSION = 1
WEIGHTS_FILE = "model.safetensors"
META_FILE = "tui_transformer.json"
RANKS_FILE = "tokenizer.tiktoken"


def write_export(folder: Path, model: torch.nn.Module, tokenizer: Tokenizer, config: dict[str, Any],
                 step: int = 0) -> None:
    """Write the three files into ``folder`` (a temporary one: see :mod:`.output_dir`)."""
    from safetensors.torch import save_file

    tensors = {name: t.detach().cpu().contiguous() for name, t in model.state_dict().items()}
    save_file(tensors, str(folder / WEIGHTS_FILE), metadata={"format": FORMAT})
    write_ranks(folder / RANKS_FILE, tokenizer.ranks)
    write_json(folder, META_FILE, {
        "format": FORMAT, "version": VERSION, "config": config, "tokenizer": tokenizer.identity(),
        "split_pattern": tokenizer.encoding._pat_str,  # noqa: SLF001  tiktoken keeps it private
        "special_tokens": tokenizer.encoding._special_tokens,  # noqa: SLF001
        "step": step, "sha256": {WEIGHTS_FILE: file_sha256(folder / WEIGHTS_FILE)},
    })


def write_ranks(path: Path, ranks: dict[bytes, int]) -> None:
    """tiktoken's ranks format, ``base64(bytes) rank`` a line; the ranks need not be 0..N-1 (an
    imported GPT-2 style tokenizer may give id 0 to a special token)."""
    lines = [f"{base64.b64encode(token).decode('ascii')} {rank}\n" for token, rank in
             sorted(ranks.items(), key=lambda item: item[1])]
    write_bytes_atomic(path, "".join(lines).encode("ascii"))


def find_export(run_or_path: str | Path) -> Path | None:
    """The export folder that ``run_or_path`` names (a folder, its ``model.safetensors``, or a run name
    under the runs folder), or None.

    A ``.safetensors`` file is never read as a checkpoint: without the ``tui_transformer.json`` beside
    it nothing says which model its tensors make, so that is refused in one line.
    """
    from tui_transformer.paths import runs_dir

    path = Path(run_or_path).expanduser()
    if path.suffix == ".safetensors" and path.is_file():
        if (path.parent / META_FILE).is_file():
            return path.parent
        raise UserError(f"{path} is a safetensors file with no {META_FILE} beside it to say which model it holds; "
                        f"pass a folder written by `export --format safetensors` or `import`")
    for folder in (path, runs_dir() / str(run_or_path)):
        if (folder / META_FILE).is_file():
            return folder
    return None


def read_tokenizer(folder: Path, meta: dict[str, Any]) -> Tokenizer:
    """The export's tokenizer, checked against the identity (sha256) recorded beside it."""
    identity = meta["tokenizer"]
    try:
        ranks = read_tiktoken_file(folder / RANKS_FILE)
    except (OSError, ValueError, UnicodeDecodeError) as error:
        raise UserError(f"{folder / RANKS_FILE} is missing or damaged ({error})") from None
    encoding = tiktoken.Encoding(name=identity["name"], pat_str=meta["split_pattern"], mergeable_ranks=ranks,
                                 special_tokens=meta["special_tokens"])
    tokenizer = Tokenizer(identity["name"], encoding, eot_id=identity["eot_id"])
    if tokenizer.sha256() != identity["sha256"]:
        raise UserError(f"{folder / RANKS_FILE} does not match the tokenizer recorded in {META_FILE} (damaged?)")
    return tokenizer


def verify_weights(folder: Path, meta: dict[str, Any]) -> None:
    """Compare ``model.safetensors`` with the sha256 the export recorded; warn when it recorded none."""
    path = folder / WEIGHTS_FILE
    recorded = (meta.get("sha256") or {}).get(WEIGHTS_FILE) if isinstance(meta.get("sha256"), dict) else None
    if recorded is None:
        import warnings

        warnings.warn(Unverified(f"{path} is unverified: {META_FILE} records no sha256 for it (written "
                                 "elsewhere or by an older version), so a damaged byte would go unnoticed"),
                      stacklevel=2)
        return
    try:
        actual = file_sha256(path)
    except OSError as error:
        raise UserError(f"{path} is missing or unreadable ({error.strerror or error})") from None
    if actual != recorded:
        raise UserError(f"{path} is damaged or truncated: its bytes do not match the sha256 recorded in "
                        f"{META_FILE}; export or import it again")


def load_export(folder: Path, device: str, make_config: Callable[[dict], Any]):
    """An export folder -> (model in eval mode on ``device``, tokenizer, config), for ``load_for_inference``.

    ``make_config`` turns the stored dict into the caller's config (``TrainConfig.from_dict``): the
    train package calls this module, so this module must not import train back.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from tui_transformer.model import DecoderTransformer

    try:
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UserError(f"{folder / META_FILE} is damaged ({error})") from None
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise UserError(f"{folder} is not a tui-transformer safetensors export of version {VERSION}")
    config = make_config(meta["config"])
    tokenizer = read_tokenizer(folder, meta)
    if tokenizer.vocab_size != config.model.vocab_size:
        raise UserError(f"{folder}: the model has {config.model.vocab_size} token ids, its tokenizer "
                        f"{tokenizer.vocab_size}")
    verify_weights(folder, meta)
    try:
        tensors = load_file(str(folder / WEIGHTS_FILE))
    except (SafetensorError, OSError) as error:
        raise UserError(f"{folder / WEIGHTS_FILE} is damaged or truncated ({str(error)[:160]})") from None
    model = DecoderTransformer(config.model)
    try:
        model.load_state_dict(tensors)
    except RuntimeError as error:
        raise UserError(f"{folder / WEIGHTS_FILE} does not fit the model in {META_FILE} "
                        f"({str(error).splitlines()[0][:160]})") from None
    return model.to(device).eval(), tokenizer, config
