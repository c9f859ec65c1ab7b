"""Reading one row group of a remote parquet file with HTTP range requests.

A parquet file ends with a *footer* that lists its row groups and, for each column of each row
group, the byte offset and size of its data. So reading row group ``k`` needs:

1. the footer: one range request for the file's last bytes;
2. the column chunks we want (``id`` and ``text``) of row group ``k``: one range request
   covering them.

Fetching row group 1000 costs the same as row group 0: nothing before it is downloaded. (The seed
streamed the dataset from its first document for every new shard, so an epoch was quadratic.)

:class:`RemoteFile` is the seekable, read-only file object pyarrow reads from; it serves reads
from the ranges fetched so far and fetches what is missing.
"""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq

from tui_transformer.data.http import HttpClient
from tui_transformer.errors import UserError

FOOTER_READAHEAD = 64 << 10  # pyarrow asks for the last 64 KiB first
COLUMNS = ("id", "text")


class RemoteFile(io.RawIOBase):
    """A file of ``size`` bytes at ``url``, read lazily by byte ranges."""

    def __init__(self, client: HttpClient, url: str, size: int, on_bytes=None) -> None:
        self.client, self.url, self.size, self.on_bytes = client, url, size, on_bytes
        self.position = 0
        self.blocks: list[tuple[int, bytes]] = []  # (start, data) ranges already fetched

    def fetch(self, start: int, end: int) -> None:
        """Make bytes ``[start, end)`` local with one request (if they are not already)."""
        start, end = max(0, start), min(self.size, end)
        if end > start and self._find(start, end - start) is None:
            self.blocks.append((start, self.client.get_range(self.url, start, end, self.on_bytes)))

    def _find(self, start: int, length: int) -> bytes | None:
        for block_start, data in self.blocks:
            if block_start <= start and start + length <= block_start + len(data):
                return data[start - block_start : start - block_start + length]
        return None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = base + offset
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer) -> int:
        length = min(len(buffer), self.size - self.position)
        if length <= 0:
            return 0
        data = self._find(self.position, length)
        if data is None:
            tail_start = self.size - FOOTER_READAHEAD
            if self.position >= tail_start:  # pyarrow is reading the footer: fetch the whole tail at once
                self.fetch(tail_start, self.size)
            else:
                self.fetch(self.position, self.position + length)
            data = self._find(self.position, length)
        buffer[:length] = data
        self.position += length
        return length


class RemoteParquet:
    """A remote parquet file: its footer is read on opening, row groups on demand."""

    def __init__(self, client: HttpClient, url: str, size: int, on_bytes=None) -> None:
        self.remote = RemoteFile(client, url, size, on_bytes)
        self.parquet = pq.ParquetFile(self.remote, page_checksum_verification=True)  # where the writer kept CRCs

    @property
    def num_row_groups(self) -> int:
        return self.parquet.metadata.num_row_groups

    def read_row_group(self, index: int) -> pa.Table:
        """Row group ``index``, columns ``id`` and ``text`` only, fetched with one range request."""
        names = self.parquet.schema_arrow.names
        wanted = [c for c in COLUMNS if c in names]
        if "text" not in wanted:
            raise UserError(f"{self.remote.url} has no 'text' column (columns: {', '.join(names)})")
        group = self.parquet.metadata.row_group(index)
        spans = []
        for column in range(group.num_columns):
            meta = group.column(column)
            if meta.path_in_schema in wanted:
                start = meta.dictionary_page_offset if meta.has_dictionary_page else meta.data_page_offset
                spans.append((start, start + meta.total_compressed_size))
        footer_blocks = list(self.remote.blocks)
        try:
            self.remote.fetch(min(s for s, _ in spans), max(e for _, e in spans))
            return self.parquet.read_row_group(index, columns=wanted)
        finally:
            self.remote.blocks = footer_blocks  # memory stays bounded: keep the footer, drop the row group
