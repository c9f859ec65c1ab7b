"""TrainConfig to and from TOML: the ``config.toml`` of every run, and ``--config FILE``.

The file is flat, with the model's shape in its own table::

    preset = "tiny"
    lr = 0.001
    max_steps = 1500

    [model]
    d_model = 128
    n_layers = 4

Python reads TOML with :mod:`tomllib` but cannot write it, and a config only holds strings,
numbers and booleans, so :func:`dumps` writes those few kinds itself. ``None`` means "unset" and
TOML has no null, so unset fields are left out; reading fills them back from the defaults.

A run's ``config.toml`` ends with a comment holding the sha256 of the lines above it
(:func:`write`). A resume checks it (:func:`written_as_is`): a file changed since the program wrote
it, by a hand edit or by a damaged byte (a flipped bit can still parse, as ``batch_size = 17``), is
not trusted (see :mod:`tui_transformer.train.resume_config`).

A file given with ``--config`` may hold only some fields: it *overrides* a preset, it does not
need to be complete (see :func:`read_overrides`). A run's own ``config.toml`` must be (see
:func:`read`): read as overrides of the defaults, an empty or cut-off file would describe another
model, and the error would blame whichever setting differs first.
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any

from tui_transformer.atomic import write_bytes_atomic
from tui_transformer.errors import ConfigError
from tui_transformer.model.config import ModelConfig
from tui_transformer.train.config import TrainConfig


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
        return repr(value)  # repr gives the shortest text that reads back to the same float
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    raise ConfigError(f"cannot write {type(value).__name__} value {value!r} to TOML")


def dumps(config: TrainConfig) -> str:
    """The effective config as TOML text; unset (None) fields are omitted."""
    data = config.to_dict()
    model = data.pop("model")
    lines = [f"{key} = {_toml_value(value)}" for key, value in data.items() if value is not None]
    lines += ["", "[model]"]
    lines += [f"{key} = {_toml_value(value)}" for key, value in model.items() if value is not None]
    return "\n".join(lines) + "\n"


DIGEST_COMMENT = "# sha256 of the lines above, to tell a change from outside: "


def write(config: TrainConfig, path: Path) -> None:
    """Write ``path`` atomically, ending with its digest comment: a kill mid-write leaves the old file
    or the new one, never an empty one."""
    text = dumps(config)
    write_bytes_atomic(path, (text + DIGEST_COMMENT + _sha256(text) + "\n").encode("utf-8"))


def written_as_is(path: Path) -> bool | None:
    """Whether ``path`` is exactly what :func:`write` wrote; None if it has no digest comment to tell."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    at = text.rfind("\n" + DIGEST_COMMENT)
    if at < 0:
        return None
    body = text[: at + 1]
    return text == body + DIGEST_COMMENT + _sha256(body) + "\n"  # byte for byte, the comment's own too


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_overrides(path: str | Path) -> dict[str, Any]:
    """Parse a (possibly partial) config file into ``with_overrides`` keys (``model_<field>`` for the model)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config file {path} is not valid TOML: {error}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read config file {path}: {error}") from None
    model = data.pop("model", {})
    if not isinstance(model, dict):
        raise ConfigError(f"config file {path}: 'model' must be a table ([model])")
    known = {f.name for f in fields(ModelConfig)}
    unknown = sorted(set(model) - known)
    if unknown:
        raise ConfigError(f"config file {path}: unknown model setting(s): {', '.join(unknown)}")
    _check_types(TrainConfig, {k: v for k, v in data.items() if k != "model"}, path)
    _check_types(ModelConfig, model, path)
    overrides = dict(data)
    overrides.update({f"model_{key}": value for key, value in model.items()})
    return overrides


_KINDS = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,)}


def _check_types(cls: type, values: dict[str, Any], path: Path) -> None:
    """Each value must have its field's kind (the annotation, e.g. ``int | None``); unknown keys pass through."""
    annotations = {f.name: str(f.type) for f in fields(cls)}
    for key, value in values.items():
        if key not in annotations:
            continue
        allowed = [kind.strip() for kind in annotations[key].split("|")]
        kinds = tuple(t for name in allowed for t in _KINDS.get(name, ()))
        ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
        if not ok:
            raise ConfigError(f"config file {path}: {key} must be {' or '.join(a for a in allowed if a != 'None')}, "
                              f"got {value!r}")


# What every config.toml a run writes names (since the first version): the settings without which
# the defaults would silently stand in for the run's own model and tokenizer.
ESSENTIAL = ("preset", "tokenizer")
ESSENTIAL_MODEL = ("vocab_size", "d_model", "n_heads", "n_layers", "d_ff", "max_seq_len")


def read(path: str | Path) -> TrainConfig:
    """A run's complete config: the file's values over the dataclass defaults; refuses an empty or cut-off file."""
    overrides = read_overrides(path)
    restore = "restore it from a backup (the run's checkpoints record the same settings)"
    if not overrides:
        raise ConfigError(f"config file {path} is empty (a run writes all its settings there); {restore}")
    missing = [key for key in ESSENTIAL if key not in overrides]
    missing += [f"model.{key}" for key in ESSENTIAL_MODEL if f"model_{key}" not in overrides]
    if missing:
        raise ConfigError(f"config file {path} is incomplete (cut off or edited?): it has no {', '.join(missing)}; "
                          f"{restore}")
    return TrainConfig().with_overrides(**overrides)
