"""The offline corpus: English prose that every Python installation already carries.

Two parts, one document each:

* ``pydoc_data.topics``: the language reference as plain text (what ``help("for")`` shows),
  about 465 KB;
* the standard library's docstrings (modules, classes, functions) longer than 80 characters,
  read by *parsing* the ``.py`` sources with :mod:`ast`. Importing the modules instead would run
  them: ``antigravity`` opens a browser, ``this`` prints a poem.

``test/``, ``idlelib/``, ``tkinter/`` and ``site-packages/`` are skipped (tests, GUI code, and
whatever the user installed, which would make the corpus machine-dependent). Files are visited in
sorted order, so a given Python version always gives the same documents in the same order:
about 1.4 MB of text. Parsing takes seconds (reported file by file, see :mod:`tui_transformer.progress`),
so the result is cached under ``<cache>/corpus``.
"""

from __future__ import annotations

import ast
import gzip
import json
import os
import sys
import sysconfig
import warnings
from pathlib import Path

from tui_transformer import paths
from tui_transformer.atomic import atomic_write
from tui_transformer.progress import report

DESCRIPTION = "Python's own documentation (offline)"
MIN_DOCSTRING_CHARS = 80
FORMAT = 2  # bump when the collection rules change, so that old cache files are not read
BUILDING = "building the builtin corpus"  # the stage its progress reports name (tui_transformer.progress)
SKIPPED_DIRS = {"test", "tests", "idlelib", "tkinter", "site-packages", "dist-packages", "__pycache__", "turtledemo"}


def corpus_path() -> Path:
    version = ".".join(map(str, sys.version_info[:3]))
    return paths.cache_dir() / "corpus" / f"builtin-python{version}-v{FORMAT}.json.gz"


def load_builtin_documents() -> list[tuple[str, str]]:
    """``(id, text)`` for every document of the corpus, built once and then read from the cache."""
    path = corpus_path()
    if path.exists():
        try:
            with gzip.open(path, "rt", encoding="utf-8") as f:
                return [tuple(doc) for doc in json.load(f)]
        except (OSError, ValueError, EOFError):
            pass  # a damaged cache file is rebuilt below
    documents = collect_documents()
    with atomic_write(path) as file, gzip.open(file, "wt", encoding="utf-8") as f:
        json.dump(documents, f)
    return documents


def collect_documents() -> list[tuple[str, str]]:
    """Build the corpus from this interpreter's files (seconds; see :func:`load_builtin_documents`)."""
    return _topic_documents() + _docstring_documents(Path(sysconfig.get_paths()["stdlib"]))


def _topic_documents() -> list[tuple[str, str]]:
    from pydoc_data.topics import topics

    return [(f"topic:{key}", topics[key].strip()) for key in sorted(topics) if topics[key].strip()]


def _docstring_documents(stdlib: Path) -> list[tuple[str, str]]:
    documents = []
    files = _stdlib_sources(stdlib)
    for done, file in enumerate(files):
        report(BUILDING, done, len(files), "files")
        module = file.relative_to(stdlib).with_suffix("").as_posix().replace("/", ".").removesuffix(".__init__")
        for qualname, doc in _docstrings(file):
            if len(doc) >= MIN_DOCSTRING_CHARS:
                documents.append((f"doc:{module}:{qualname}", doc))
    report(BUILDING, len(files), len(files), "files")
    return documents


def _stdlib_sources(stdlib: Path) -> list[Path]:
    files = []
    for folder, dirs, names in os.walk(stdlib):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.startswith("test"))
        files.extend(Path(folder) / n for n in names if n.endswith(".py") and not n.startswith("test_"))
    return sorted(files)


def _docstrings(file: Path):
    """``(qualified name, cleaned docstring)`` for the module and every class and function in it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences in old sources
            tree = ast.parse(file.read_bytes(), filename=str(file))
    except (SyntaxError, ValueError, OSError):
        return
    stack = [("", tree)]
    while stack:
        prefix, node = stack.pop(0)
        doc = ast.get_docstring(node, clean=True)
        if doc:
            yield prefix or "<module>", doc.strip()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                stack.append((f"{prefix}.{child.name}" if prefix else child.name, child))
