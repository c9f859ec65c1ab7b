"""Where tui-transformer keeps its files.

Three locations, each from :mod:`platformdirs` and each overridable by an environment variable
(tests point them at temporary folders; users may point them at a bigger disk):

==============  ==============================  ===========================================
what            env override                    default (Linux)
==============  ==============================  ===========================================
cache           ``TUI_TRANSFORMER_CACHE``       ``~/.cache/tui-transformer``
runs            ``TUI_TRANSFORMER_RUNS``        ``~/.local/share/tui-transformer/runs``
config          ``TUI_TRANSFORMER_CONFIG``      ``~/.config/tui-transformer``
==============  ==============================  ===========================================

The cache holds FineWeb shards, trained tokenizers and the offline corpus; it can always be
deleted. Runs hold checkpoints and metrics; they are the user's work and are never deleted by us.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from tui_transformer.errors import UserError

APP_NAME = "tui-transformer"
RUNS_ENV = "TUI_TRANSFORMER_RUNS"  # also set by `bench tui` for the processes it measures in


def _from_env_or(env_var: str, default: Path) -> Path:
    value = os.environ.get(env_var)
    path = Path(value).expanduser() if value else default
    if path.exists() and not path.is_dir():
        raise UserError(f"{path} is not a folder; {env_var} must name a folder (it is created if missing)")
    return path


def cache_dir() -> Path:
    """Root of everything that can be re-created (shards, tokenizers, corpus cache)."""
    return _from_env_or("TUI_TRANSFORMER_CACHE", platformdirs.user_cache_path(APP_NAME))


def runs_dir() -> Path:
    """Root of the run directories (config, metrics, checkpoints, samples)."""
    return _from_env_or(RUNS_ENV, platformdirs.user_data_path(APP_NAME) / "runs")


def config_dir() -> Path:
    """User settings (theme, last-used form values)."""
    return _from_env_or("TUI_TRANSFORMER_CONFIG", platformdirs.user_config_path(APP_NAME))
