"""The settings a resume trains with, and what it says about them.

A resume starts from the run's ``config.toml`` plus the flags given now. Two things can make that
differ from what the checkpoint was trained with:

* **flags**, a user's choice (``--max-steps 3000`` to train on, ``--lr 3e-4``): the resume trains
  with them and says, one line, which settings differ from the checkpoint's (``lr 0.002 → 0.0003``);
* **a config.toml changed since the program wrote it**, which the digest comment at its end reveals
  (:func:`~tui_transformer.train.config_file.written_as_is`). A hand edit and a damaged byte look
  the same there (a flipped bit may still parse, as ``seed = 1327``), so neither is trusted: the
  resume takes the checkpoint's own settings instead, lists what the file had changed, and says
  how to make a change on purpose (a flag). The session then writes config.toml afresh.

The flags are recovered as the difference between the session's config and the file's, so the
rule holds whichever way the session was built (the CLI or the dashboard).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tui_transformer.errors import UserError
from tui_transformer.train import config_file
from tui_transformer.train.config import TrainConfig
from tui_transformer.train.run_compare import config_diff

# Settings a session sets itself, never a change of the run's (the device is resolved anew).
NOT_REPORTED = ("run_name", "run_dir", "device")


def resume_config(config_path: Path, session: TrainConfig, trained: TrainConfig | None) -> tuple[TrainConfig, list[str]]:
    """``(the config to train with, warnings)`` for a resume.

    ``session`` is config.toml with this session's flags applied; ``trained`` the checkpoint's
    config (None when the run has no checkpoint yet).
    """
    on_file = config_file.read(config_path)
    flags = {key: after for key, (_, after) in _changes(on_file, session, every=True).items()}
    as_is = config_file.written_as_is(config_path)
    what = ("was changed outside tui-transformer" if as_is is False else
            "has no digest line to check it by (written by an older version, or its last line damaged)")
    if as_is:
        base, warnings = on_file, []
    elif trained is None:
        raise UserError(f"{config_path} {what}, and the run has no checkpoint yet to check it against; start a new "
                        "run with the settings you want")
    else:
        base = trained
        edits = _changes(trained, on_file)
        listed = f" ({_describe(edits)})" if edits else ""
        warnings = [f"{config_path} {what}{listed}: it is not trusted, and this resume uses the settings its "
                    "checkpoint was trained with; to change a setting, pass it as a flag (e.g. --lr 0.003)"]
    config = base.with_overrides(**{_override_key(key): value for key, value in flags.items()})
    if trained is not None and (changes := _changes(trained, config)):
        warnings.append(f"this session's settings differ from those the checkpoint was trained with: "
                        f"{_describe(changes)}")
    return config, warnings


def _changes(before: TrainConfig, after: TrainConfig, every: bool = False) -> dict[str, tuple[Any, Any]]:
    """``{flat key: (before, after)}`` for the settings that differ, in field order (``every``: with
    those in NOT_REPORTED too)."""
    diff = config_diff({"before": before, "after": after})
    return {key: (values["before"], values["after"]) for key, values in diff.items()
            if every or key not in NOT_REPORTED}


def _describe(changes: dict[str, tuple[Any, Any]]) -> str:
    return ", ".join(f"{key} {before} → {after}" for key, (before, after) in changes.items())


def _override_key(flat_key: str) -> str:
    """``model.d_model`` -> ``model_d_model`` (how :meth:`TrainConfig.with_overrides` names model fields)."""
    return flat_key.replace("model.", "model_", 1)

