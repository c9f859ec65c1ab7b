"""Shared helpers for the data tests: small in-memory sources and a tokenizer that loads in a blink."""

import pytest

from tui_transformer.data import get_tokenizer
from tui_transformer.data.sources import DocumentGroup, LocalSource


def _memory_source(groups_of_texts, val_fraction=0.1):
    """A LocalSource over texts in memory; each inner list is one chunk. Ids are 'g<chunk>d<doc>'."""
    groups = []
    for g, texts in enumerate(groups_of_texts):
        docs = [(f"g{g}d{i}", t) for i, t in enumerate(texts)]
        groups.append(DocumentGroup(fingerprint=f"memory:{g}:" + "|".join(texts), label=f"group {g}",
                                    load=lambda docs=docs: docs))
    source = LocalSource(groups, val_fraction=val_fraction)
    source.name, source.description = "memory", "texts in memory"
    return source


@pytest.fixture(scope="session")
def cl100k():
    return get_tokenizer("cl100k_base")


@pytest.fixture()
def memory_source():
    """The factory ``memory_source(groups_of_texts, val_fraction=0.1)``."""
    return _memory_source
