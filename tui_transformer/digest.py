"""The sha256 of a file, read in 1 MiB blocks (a file of any size costs no more memory than that).

Every file this program writes and later reads without a format checksum of its own (a
safetensors export, a shard, a trained tokenizer, a run's config) is recorded with this digest
beside it, and compared before it is used: a changed byte is refused instead of loaded.
"""

from __future__ import annotations

import hashlib
from pathlib import Path


def file_sha256(path: Path) -> str:
    """The hex sha256 of the bytes of ``path``."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
