"""The optional ``hf`` extra (``transformers`` and ``tokenizers``): one clear line when it is missing.

The base install stays small: writing a Hugging Face folder needs only JSON and ``safetensors``.
Loading one back with ``transformers`` (``export --verify``, the tests) needs the extra.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from tui_transformer.errors import UserError

INSTALL_HINT = "install it with `uv sync --extra hf`, or run `uv run --extra hf tui-transformer ...`"


def require_transformers() -> ModuleType:
    """``import transformers``, or a :class:`UserError` naming the command that installs it.

    Its own progress bars ("Loading weights: 100%") are turned off: the command says what it loads.
    """
    try:
        transformers = importlib.import_module("transformers")
    except ImportError:
        raise UserError(f"this needs the optional 'hf' extra (transformers, tokenizers); {INSTALL_HINT}") from None
    transformers.utils.logging.disable_progress_bar()
    return transformers
