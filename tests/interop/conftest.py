"""The interop tests' one tokenizer: a small BPE trained on the builtin corpus (cached for the session)."""

import pytest

from tui_transformer.data import get_tokenizer


@pytest.fixture(scope="session")
def bpe(session_cache):
    with pytest.MonkeyPatch.context() as patch:  # session fixtures run before the per-test paths are set
        patch.setenv("TUI_TRANSFORMER_CACHE", str(session_cache))
        return get_tokenizer("bpe-512")


@pytest.fixture(scope="session")
def transformers():
    """The transformers library, imported when a test first needs it, not while tests are collected
    (importing it takes seconds). A test that takes this fixture is slow (tests/conftest.py)."""
    import transformers

    return transformers
