"""The offline corpus: Python's own documentation. The only data test that builds the whole corpus."""

import sysconfig
import time
from pathlib import Path

import pytest
import torch

from tui_transformer.data import BatchLoader, open_source
from tui_transformer.data import builtin_corpus


@pytest.mark.slow  # builds the builtin corpus from the standard library's sources
def test_the_corpus_is_english_prose_from_the_interpreter_and_is_cached(cl100k):
    documents = builtin_corpus.load_builtin_documents()  # built once per session (seconds), then cached
    ids = [doc_id for doc_id, _ in documents]
    total = sum(len(text.encode()) for _, text in documents)
    assert total > 1_000_000 and len(ids) == len(set(ids))
    assert any(i == "topic:for" for i in ids) and any(i.startswith("doc:json:") for i in ids)
    assert not any(part in i for i in ids for part in (":test.", ":idlelib.", ":tkinter.", ":lib2to3.tests"))
    assert all(len(text) >= builtin_corpus.MIN_DOCSTRING_CHARS for i, text in documents if i.startswith("doc:"))
    started = time.perf_counter()
    assert builtin_corpus.load_builtin_documents() == documents
    assert time.perf_counter() - started < 2  # from the cache file, not re-parsed

    source = open_source("builtin")
    status = source.status()
    assert status["corpus"] == "Python's own documentation (offline)" == source.description
    assert status["documents"] == len(documents) and status["bytes"] == total
    assert 0.07 < status["val_documents"] / status["documents"] < 0.13
    x, y = BatchLoader(source, cl100k, batch_size=2, seq_len=64).fixed_batches(1)[0]
    assert x.shape == (2, 64) and torch.equal(x[:, 1:], y[:, :-1])


def test_docstring_collection_is_deterministic_and_parses_instead_of_importing(tmp_path):
    package = tmp_path / "lib"
    (package / "test").mkdir(parents=True)
    (package / "zeta.py").write_text('"""' + "Zeta module docstring. " * 5 + '"""\nraise SystemExit("imported!")\n')
    (package / "alpha.py").write_text('class A:\n    """' + "Alpha class docstring. " * 5 + '"""\n    def f(self):\n'
                                      '        """short"""\n')
    (package / "test" / "x.py").write_text('"""' + "skipped test docstring " * 5 + '"""')
    first = builtin_corpus._docstring_documents(package)
    assert first == builtin_corpus._docstring_documents(package)
    assert [doc_id for doc_id, _ in first] == ["doc:alpha:A", "doc:zeta:<module>"]


def test_the_stdlib_is_where_the_corpus_comes_from():
    assert Path(sysconfig.get_paths()["stdlib"], "json", "__init__.py").exists()
