"""The builtin corpus as a data source: ``--data builtin``, always there, needs no network.

The documents are Python's own documentation, collected by :mod:`.builtin_corpus`; as a
:class:`~.local_source.LocalSource` they form one chunk, tokenized once and then read from the cache.

``--data builtin:train-docs=N`` keeps only the first N documents of the training split (the
validation split is unchanged): a small slice to train on for many epochs, to watch a model
memorise it (the ``overfitting`` lesson). A BPE is still trained on the whole training split, so
the slice changes what the model reads, not how it is tokenized.
"""

from __future__ import annotations

from tui_transformer.data import builtin_corpus
from tui_transformer.data.local_source import DocumentGroup, LocalSource
from tui_transformer.data.split import split_of


class BuiltinSource(LocalSource):
    """Python's own documentation: the language reference and the stdlib docstrings (offline)."""

    name = "builtin"
    description = builtin_corpus.DESCRIPTION

    def __init__(self, val_fraction: float = 0.1, train_docs: int | None = None) -> None:
        path = builtin_corpus.corpus_path()
        cut = f":train-docs={train_docs}" if train_docs else ""
        group = DocumentGroup(fingerprint=f"builtin:{path.name}{cut}", label=f"builtin corpus{cut}",
                              load=builtin_corpus.load_builtin_documents)
        super().__init__([group], val_fraction)
        self.train_docs = train_docs
        if train_docs:
            self.description = f"{self.description}, training on its first {train_docs} training documents"

    def split_documents(self, split: str, group: DocumentGroup) -> list[str]:
        documents = super().split_documents(split, group)
        return documents[: self.train_docs] if split == "train" and self.train_docs else documents

    def training_texts(self, max_chars: int) -> list[str]:
        """The whole training split's text (a tokenizer is trained on it, slice or not)."""
        whole = BuiltinSource(self.val_fraction) if self.train_docs else super()
        return whole.training_texts(max_chars)

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
