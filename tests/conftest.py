"""Test-wide fixtures: every test gets its own runs and config folders; the cache is per session;
a small learnable corpus for the tests that train.

The cache is shared within a session because the builtin corpus and the trained tokenizers are
expensive to rebuild (seconds each) and are pure functions of their inputs. Tests that exercise
the cache itself point TUI_TRANSFORMER_CACHE at their own tmp_path.
"""

import inspect
import os
import random
from pathlib import Path

import pytest

from tests.sentences import OBJECTS, SUBJECTS, VERBS

# huggingface_hub and datasets read HF_ENDPOINT when they are imported, which may be while tests are
# collected (tests/interop imports transformers): point them at a closed port before any test module.
os.environ["HF_ENDPOINT"] = "http://127.0.0.1:9"


@pytest.fixture(scope="session")
def session_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def isolated_paths(monkeypatch, tmp_path, session_cache):
    monkeypatch.setenv("TUI_TRANSFORMER_CACHE", str(session_cache))
    monkeypatch.setenv("TUI_TRANSFORMER_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("TUI_TRANSFORMER_CONFIG", str(tmp_path / "config"))
    # No test may reach the real Hub: tests that need a hub start a loopback server and set HF_ENDPOINT.
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    """About 60 KB of simple sentences: varied enough to split, regular enough to learn in a few steps."""
    rng = random.Random(0)
    folder = tmp_path_factory.mktemp("corpus")
    for doc in range(40):
        lines = [f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}." for _ in range(60)]
        (folder / f"doc{doc:02d}.txt").write_text(" ".join(lines) + "\n")
    return folder


# ---- the fast run ----------------------------------------------------------------------------------
# `uv run pytest -m "not slow"` is the developers' fast run; `uv run pytest` (CI) runs everything.
# Tests over about a second are marked slow one by one (`@pytest.mark.slow  # why`), and two kinds
# wholesale here, because every test of the kind pays the same start-up:
#   * a test that boots the dashboard: an async test under tests/tui (App.run_test) or one that
#     takes snap_compare (an SVG snapshot);
#   * a test that loads a model or tokenizer with transformers (the `transformers` fixture of
#     tests/interop: importing transformers alone takes seconds).

def _is_slow_by_kind(item: pytest.Item) -> bool:
    fixtures = getattr(item, "fixturenames", ())
    boots_the_dashboard = (Path(str(item.path)).parent.name == "tui"
                           and (inspect.iscoroutinefunction(getattr(item, "function", None)) or "snap_compare" in fixtures))
    return boots_the_dashboard or "transformers" in fixtures


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _is_slow_by_kind(item):
            item.add_marker(pytest.mark.slow)
