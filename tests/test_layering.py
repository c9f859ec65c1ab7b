"""The core must run without textual: the TUI is one view over it, the CLI another."""

import subprocess
import sys

CHECK = """
import importlib, pkgutil, sys
import tui_transformer
for package in ("model", "data", "train", "bench"):
    root = importlib.import_module(f"tui_transformer.{package}")
    for info in pkgutil.walk_packages(root.__path__, prefix=root.__name__ + "."):
        importlib.import_module(info.name)
leaked = sorted(m for m in sys.modules if m == "textual" or m.startswith(("textual.", "tui_transformer.tui")))
print(",".join(leaked))
"""


def test_core_imports_without_textual():
    result = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"core imported the TUI layer: {result.stdout}"


def test_cli_help_does_not_import_torch():
    code = "import sys; from tui_transformer.cli import build_parser; build_parser(); print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
