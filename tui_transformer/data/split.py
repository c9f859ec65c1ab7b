"""The train/validation split: a hash of each document's id decides, once and for all.

Validation loss only means something if the model never trained on those documents. A random
split would differ between runs and machines; a split by position would change when the data is
re-ordered or sharded differently. Hashing the document's id does neither:

    u = first 8 bytes of sha256("tui-transformer-split:" + id), read as an integer / 2**64
    the document is in "val" when u < val_fraction, else in "train"

``u`` is uniform on [0, 1), so about ``val_fraction`` of the documents land in validation; the same
document goes to the same side on every run, machine and shard layout, and never to both.
Documents without an id use a hash of their text as id (see :func:`document_id`).
"""

from __future__ import annotations

import hashlib

SPLITS = ("train", "val")
_SALT = b"tui-transformer-split:"


def split_point(doc_id: str) -> float:
    """The document's position in [0, 1): a pure function of its id."""
    digest = hashlib.sha256(_SALT + doc_id.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_of(doc_id: str, val_fraction: float) -> str:
    """``"val"`` or ``"train"`` for the document with this id."""
    return "val" if split_point(doc_id) < val_fraction else "train"


def document_id(text: str, given_id: str | None = None) -> str:
    """The id to split on: the source's own id when it has one, else a content hash."""
    if given_id:
        return str(given_id)
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def check_split(split: str) -> str:
    if split not in SPLITS:
        from tui_transformer.errors import ConfigError

        raise ConfigError(f"split must be 'train' or 'val', got {split!r}")
    return split


def check_val_fraction(val_fraction: float) -> float:
    if not 0.0 < val_fraction < 1.0:
        from tui_transformer.errors import ConfigError

        raise ConfigError(f"val_fraction must be strictly between 0 and 1, got {val_fraction!r}")
    return float(val_fraction)
