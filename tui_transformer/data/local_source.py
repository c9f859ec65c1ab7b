"""Documents on this machine as a source: groups of documents, tokenized once and cached.

A local source is a list of :class:`DocumentGroup`; group ``k`` is chunk ``k``. Each document's
split is the hash split of :mod:`.split`, and a group's packed token stream for one split is cached
under ``<cache>/tokens`` (:mod:`.token_cache`), keyed by the group's ``fingerprint``, the split,
the validation fraction and the tokenizer. The builtin corpus (:mod:`.builtin_source`) and a path
(:mod:`.files`) are local sources.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from tui_transformer import paths
from tui_transformer.data.sources import Chunk, Source
from tui_transformer.data.split import check_split, split_of
from tui_transformer.data.token_cache import cache_key, load_or_tokenize


@dataclass(frozen=True)
class DocumentGroup:
    """Documents that are loaded and tokenized together; ``fingerprint`` changes when they do."""

    fingerprint: str
    label: str
    load: Callable[[], list[tuple[str, str]]]  # -> [(document id, text)]


class LocalSource(Source):
    """A source whose documents are on this machine; token streams are cached under ``<cache>/tokens``."""

    def __init__(self, groups: list[DocumentGroup], val_fraction: float = 0.1) -> None:
        super().__init__(val_fraction)
        self.groups = groups
        self.token_reads = {"cached": 0, "tokenized": 0}

    def split_documents(self, split: str, group: DocumentGroup) -> list[str]:
        return [text for doc_id, text in group.load() if split_of(doc_id, self.val_fraction) == split]

    def chunk(self, split: str, index: int, tokenizer) -> Chunk | None:
        check_split(split)
        if index >= len(self.groups):
            return None
        group = self.groups[index]
        key = cache_key(group.fingerprint, split, repr(self.val_fraction), tokenizer.sha256())
        tokens, cached = load_or_tokenize(
            paths.cache_dir() / "tokens", key, tokenizer, lambda: self.split_documents(split, group)
        )
        self.token_reads["cached" if cached else "tokenized"] += 1
        return Chunk(tokens=tokens, label=f"{group.label} ({split})")

    def status(self) -> dict:
        return {"source": self.name, "description": self.description, "chunks": len(self.groups),
                "token_reads": dict(self.token_reads)}

    def training_texts(self, max_chars: int) -> list[str]:
        texts, total = [], 0
        for group in self.groups:
            for text in self.split_documents("train", group):
                if total >= max_chars:
                    return texts
                texts.append(text[: max_chars - total])
                total += len(texts[-1])
        return texts
