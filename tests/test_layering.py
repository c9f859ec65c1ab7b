"""The core must run without textual: the TUI is one view over it, the CLI another.

Checked twice: from the source (every import statement of every core module, lazy ones included,
read as tests/module_graph.py reads them), and by importing the whole core in a fresh interpreter
and looking at ``sys.modules`` (which also catches a dependency that pulls textual in).
"""

import subprocess
import sys

import pytest

from tests.module_graph import PACKAGE, imports, package_modules

CORE_PACKAGES = ("model", "data", "train", "bench")
VIEWS = ("tui", "commands", "cli", "__main__")  # the dashboard and the command line: everything else is core
FORBIDDEN_IN_CORE = ("textual", f"{PACKAGE}.tui", f"{PACKAGE}.commands", f"{PACKAGE}.cli")


def core_modules() -> list[str]:
    """The core: the four packages and every top-level module that is not a view."""
    def is_core(module: str) -> bool:
        top = module.removeprefix(PACKAGE + ".").split(".")[0]
        return module != PACKAGE and top not in VIEWS

    core = [module for module in package_modules() if is_core(module)]
    assert {f"{PACKAGE}.{package}" for package in CORE_PACKAGES} <= set(core)
    return core


def test_no_core_module_imports_textual_or_the_views():
    offences = [f"{module} line {statement.line}: {name}"
                for module in core_modules() for statement in imports(module) for name in statement.names
                if name in FORBIDDEN_IN_CORE or name.startswith(tuple(f"{f}." for f in FORBIDDEN_IN_CORE))]
    assert not offences, "the core imports the dashboard or the command line:\n" + "\n".join(offences)


@pytest.mark.slow  # a fresh interpreter imports the whole core
def test_the_core_imports_without_textual():
    code = (f"import importlib, sys\nfor name in {core_modules()!r}:\n    importlib.import_module(name)\n"
            f"print(','.join(sorted(m for m in sys.modules if m == 'textual' or m.startswith(('textual.', '{PACKAGE}.tui')))))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"importing the core imported: {result.stdout}"


def test_cli_help_does_not_import_torch():
    code = "import sys; from tui_transformer.cli import build_parser; build_parser(); print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
