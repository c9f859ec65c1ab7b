"""One module per CLI subcommand.

Each module defines ``register(subparsers)``, which adds its parser and sets ``func`` to a function
``run(args) -> int``. Modules named ``bench_*`` register under ``tui-transformer bench`` instead.

``register`` must stay cheap: import torch and the core inside ``run``, so that
``tui-transformer --help`` answers in about a second.
"""

import importlib
import pkgutil
from types import ModuleType


def command_modules(prefix: str = "") -> list[ModuleType]:
    """The command modules whose name starts with ``prefix``, in alphabetical order.

    With the empty prefix, the ``bench_*`` modules are left out: they belong to ``bench``.
    """
    names = sorted(info.name for info in pkgutil.iter_modules(__path__))
    if prefix:
        names = [n for n in names if n.startswith(prefix)]
    else:
        names = [n for n in names if not n.startswith("bench_")]
    return [importlib.import_module(f"{__name__}.{n}") for n in names]
