"""A path as a data source: a text file, a folder of them, JSON lines or parquet.

Accepted files (a folder is searched recursively, in sorted order, hidden folders such as ``.git``
or ``.venv`` left out; a folder of more than ``MAX_SCANNED_ENTRIES`` entries is refused, as it is
surely not the data: ``--data ~`` would walk a whole home folder):

* ``.txt`` / ``.md``: plain text. A long file is cut at blank lines into documents of about
  ``TEXT_DOCUMENT_CHARS`` characters, so that one book still gets a validation split (the split is
  per document, and a single document would land entirely on one side);
* ``.jsonl``: one JSON object a line with a ``text`` field (and an ``id`` field, if any);
* ``.parquet``: a ``text`` column (and an ``id`` column, if any), e.g. FineWeb files.

Files are grouped into chunks of about ``CHUNK_BYTES`` on disk; a file is never split across
chunks. A group's fingerprint is its files' paths, sizes and modification times, so editing a file
re-tokenizes its chunk.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from tui_transformer.data.local_source import DocumentGroup, LocalSource
from tui_transformer.data.split import document_id
from tui_transformer.errors import UserError

SUFFIXES = (".txt", ".md", ".jsonl", ".parquet")
TEXT_DOCUMENT_CHARS = 4000
CHUNK_BYTES = 16 * 2**20
MAX_SCANNED_ENTRIES = 200_000  # files and folders a data folder may hold (a large corpus: ~10k files)


class PathSource(LocalSource):
    name = "path"

    def __init__(self, path: str, val_fraction: float = 0.1) -> None:
        self.root = Path(path).resolve()
        files = _data_files(self.root)
        if not files:
            raise UserError(f"no {', '.join(SUFFIXES)} files in {self.root}")
        self.files = files
        self.description = f"files in {self.root}" if self.root.is_dir() else f"file {self.root}"
        super().__init__(_group_files(files), val_fraction)

    def status(self) -> dict:
        return {
            "source": self.name,
            "path": str(self.root),
            "files": len(self.files),
            "chunks": len(self.groups),
            "bytes": sum(f.stat().st_size for f in self.files),
            "token_reads": dict(self.token_reads),
        }


def _data_files(root: Path) -> list[Path]:
    if root.is_file():
        if root.suffix not in SUFFIXES:
            raise UserError(f"unsupported data file {root.name}: expected one of {', '.join(SUFFIXES)}")
        return [root]
    files, seen = [], 0
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        seen += len(dirs) + len(names)
        if seen > MAX_SCANNED_ENTRIES:
            raise UserError(f"{root} holds more than {MAX_SCANNED_ENTRIES:,} files and folders: is it really the "
                            "data? point --data at the folder (or file) of your text")
        files += [Path(folder) / name for name in names if Path(name).suffix in SUFFIXES]
    return sorted(path for path in files if path.is_file())


def _group_files(files: list[Path]) -> list[DocumentGroup]:
    groups, current, size = [], [], 0
    for file in files:
        current.append(file)
        size += file.stat().st_size
        if size >= CHUNK_BYTES:
            groups.append(_group(current))
            current, size = [], 0
    if current:
        groups.append(_group(current))
    return groups


def _group(files: list[Path]) -> DocumentGroup:
    stamp = ";".join(f"{f}:{f.stat().st_size}:{f.stat().st_mtime_ns}" for f in files)
    label = files[0].name if len(files) == 1 else f"{files[0].name} .. {files[-1].name}"
    return DocumentGroup(fingerprint=f"path:{stamp}", label=label, load=lambda: _load_files(files))


def _load_files(files: list[Path]) -> list[tuple[str, str]]:
    documents = []
    for file in files:
        documents.extend(_READERS.get(file.suffix, _read_text)(file))
    return documents


def _read_text(file: Path) -> list[tuple[str, str]]:
    text = file.read_text(encoding="utf-8", errors="replace")
    return [(document_id(piece), piece) for piece in _cut_at_blank_lines(text, TEXT_DOCUMENT_CHARS)]


def _cut_at_blank_lines(text: str, target: int) -> list[str]:
    """Consecutive paragraphs joined until each piece has about ``target`` characters."""
    pieces, current = [], ""
    for paragraph in text.split("\n\n"):
        current = f"{current}\n\n{paragraph}" if current else paragraph
        if len(current) >= target:
            pieces.append(current)
            current = ""
    if current.strip():
        pieces.append(current)
    return [p for p in pieces if p.strip()]


def _read_jsonl(file: Path) -> list[tuple[str, str]]:
    documents = []
    with file.open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                text = row["text"]
            except (ValueError, KeyError, TypeError):
                raise UserError(f"{file}:{number}: expected a JSON object with a 'text' field") from None
            if isinstance(text, str) and text:
                documents.append((document_id(text, row.get("id")), text))
    return documents


def _read_parquet(file: Path) -> list[tuple[str, str]]:
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(file)
        columns = ["text"] + (["id"] if "id" in schema.names else [])
        if "text" not in schema.names:
            raise UserError(f"{file}: parquet file has no 'text' column (columns: {', '.join(schema.names)})")
        table = pq.read_table(file, columns=columns)
    except (OSError, ValueError) as error:
        raise UserError(f"{file}: cannot read parquet ({error})") from error
    texts = table.column("text").to_pylist()
    ids = table.column("id").to_pylist() if "id" in columns else [None] * len(texts)
    return [(document_id(t, i), t) for t, i in zip(texts, ids) if isinstance(t, str) and t]


_READERS = {".jsonl": _read_jsonl, ".parquet": _read_parquet}
