"""A package whose names are imported on first use, so that importing the package costs nothing.

``tui_transformer.model`` exports ``DecoderTransformer``, whose module imports torch (seconds to
load); ``tui_transformer.data`` exports the batch loader, which imports numpy. A settings form, a
``--help`` or the dashboard's first frame needs only a small dataclass from such a package, and
importing a submodule (``tui_transformer.model.config``) runs its package's ``__init__`` first.
So those ``__init__`` files import nothing heavy: they name where each export lives, and
:func:`lazy_exports` builds the module-level ``__getattr__`` (PEP 562) that Python calls for a name
the module does not have yet. It imports the home module, binds the name on the package, so the
next lookup is a plain attribute, and returns it.

::

    __getattr__, __dir__ = lazy_exports(__name__, {"ModelConfig": "config", ...})
"""

from __future__ import annotations

import sys
from importlib import import_module
from typing import Any, Callable


def lazy_exports(package: str, homes: dict[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``; ``homes`` maps each exported name to its submodule."""

    def __getattr__(name: str) -> Any:
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f"{package}.{homes[name]}"), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *homes})

    return __getattr__, __dir__
