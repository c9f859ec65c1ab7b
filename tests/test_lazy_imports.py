"""What an import costs: the dashboard's and the settings' import path holds no torch and no numpy.

Torch takes seconds to import, so it must load only where a model is built or run: the dashboard
draws its first frame before (tests/tui/test_startup.py), and a form that only builds a
``TrainConfig`` never waits for it. Checked in a fresh interpreter (this one has torch loaded), by
looking at ``sys.modules`` after each import.
"""

import ast
import json
import subprocess
import sys

import pytest

import tui_transformer.data as data
import tui_transformer.model as model

# each step imports something, then the heavy modules loaded so far are listed
STEPS = {
    "train": "import tui_transformer.train",
    "TrainConfig": "from tui_transformer.train import TrainConfig",
    "ModelConfig": "from tui_transformer.model import ModelConfig",
    "data.sources": "from tui_transformer.data.sources import is_hub_dataset",
    "tui.app": "import tui_transformer.tui.app",
}
HEAVY = ("torch", "numpy")


@pytest.fixture(scope="module")
def loaded_after_each_step() -> dict[str, list[str]]:
    code = "import json, sys\nloaded = {}\n" + "".join(
        f"{statement}\nloaded[{name!r}] = [m for m in {HEAVY!r} if m in sys.modules]\n" for name, statement in STEPS.items()
    ) + "print(json.dumps(loaded))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_train_package_and_its_config_import_without_torch(loaded_after_each_step):
    for step in ("train", "TrainConfig", "ModelConfig", "data.sources"):
        assert loaded_after_each_step[step] == [], (step, loaded_after_each_step[step])


def test_the_dashboards_import_path_has_no_torch(loaded_after_each_step):
    assert loaded_after_each_step["tui.app"] == []


@pytest.mark.parametrize("package", [model, data], ids=lambda package: package.__name__)
def test_a_lazy_package_exports_each_name_from_its_module(package):
    from importlib import import_module

    for name, home in package.HOMES.items():
        assert getattr(package, name) is getattr(import_module(f"{package.__name__}.{home}"), name)
    assert set(package.HOMES) <= set(dir(package)) and package.__all__ == list(package.HOMES)
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        package.nonexistent  # noqa: B018


@pytest.mark.parametrize("package", [model, data], ids=lambda package: package.__name__)
def test_a_lazy_packages_type_checking_imports_match_its_homes(package):
    """The ``if TYPE_CHECKING:`` imports (for readers and editors) name the same homes as ``HOMES``."""
    tree = ast.parse(open(package.__file__, encoding="utf-8").read())
    declared = {alias.name: node.module.rpartition(".")[2] for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and node.module.startswith(package.__name__ + ".")
                for alias in node.names}
    assert declared == package.HOMES
