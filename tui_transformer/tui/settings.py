"""The dashboard's remembered choices, in ``<config dir>/dashboard.toml`` (today: the theme).

A missing or unreadable file means defaults: settings are a convenience and must never stop the
dashboard from opening.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from tui_transformer.paths import config_dir

SETTINGS_FILE = "dashboard.toml"


def settings_path() -> Path:
    return config_dir() / SETTINGS_FILE


def load_theme() -> str | None:
    try:
        value = tomllib.loads(settings_path().read_text(encoding="utf-8")).get("theme")
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return None
    return value if isinstance(value, str) else None


def save_theme(theme: str) -> None:
    """Best effort: a read-only config folder only means the theme is not remembered."""
    path = settings_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f'theme = "{theme}"\n', encoding="utf-8")
    except OSError:
        pass
