"""The builtin corpus as a data source: ``--data builtin``, always there, needs no network.

The documents are Python's own documentation, collected by :mod:`.builtin_corpus`; as a
:class:`~.local_source.LocalSource` they form one chunk, tokenized once and then read from the cache.
"""

from __future__ import annotations

from tui_transformer.data import builtin_corpus
from tui_transformer.data.local_source import DocumentGroup, LocalSource
from tui_transformer.data.split import split_of


class BuiltinSource(LocalSource):
    """Python's own documentation: the language reference and the stdlib docstrings (offline)."""

    name = "builtin"
    description = builtin_corpus.DESCRIPTION

    def __init__(self, val_fraction: float = 0.1) -> None:
        path = builtin_corpus.corpus_path()
        group = DocumentGroup(fingerprint=f"builtin:{path.name}", label="builtin corpus",
                              load=builtin_corpus.load_builtin_documents)
        super().__init__([group], val_fraction)

    def status(self) -> dict:
        documents = builtin_corpus.load_builtin_documents()
        val = sum(split_of(doc_id, self.val_fraction) == "val" for doc_id, _ in documents)
        return {
            "source": self.name,
            "corpus": self.description,
            "cache_file": str(builtin_corpus.corpus_path()),
            "documents": len(documents),
            "train_documents": len(documents) - val,
            "val_documents": val,
            "bytes": sum(len(text.encode("utf-8")) for _, text in documents),
            "token_reads": dict(self.token_reads),
        }
