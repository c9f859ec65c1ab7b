"""Test-wide fixtures: every test gets its own runs and config folders; the cache is per session.

The cache is shared within a session because the builtin corpus and the trained tokenizers are
expensive to rebuild (seconds each) and are pure functions of their inputs. Tests that exercise
the cache itself point TUI_TRANSFORMER_CACHE at their own tmp_path.
"""

import os

import pytest

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
