"""Where the training text comes from: the data source and, for FineWeb, its shard cache.

FineWeb is far larger than any disk we want to fill, so the data package keeps a bounded cache
of parquet shards and evicts the least recently used one when a new download would pass the
limit. This panel draws the cache's own status dict (``ShardStatus.status``):

* the cached shards with their sizes, most recently used first (the next to go is last);
* the download in progress with a progress bar;
* hits and misses, and the bytes cached against the limit;
* for the offline builtin corpus: its name and size.

The keys are read defensively: the panel shows what the status holds and lists any key it does
not know as ``key: value``, so a richer status from a newer data package is still visible.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from tui_transformer.train.events import ShardStatus

_KNOWN = {"shards", "lru", "hits", "misses", "bytes_cached", "cached_bytes", "bytes_limit", "limit_bytes",
          "download", "downloading", "corpus", "name", "docs", "documents", "bytes", "kind"}


def format_bytes(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(count) < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GB"


def progress_bar(fraction: float, width: int = 20) -> str:
    """``█████░░░░░`` with eighth-blocks for the partial cell."""
    fraction = min(max(fraction, 0.0), 1.0)
    eighths = round(fraction * width * 8)
    full, partial = divmod(eighths, 8)
    bar = "█" * full + ("▏▎▍▌▋▊▉"[partial - 1] if partial else "")
    return bar + "░" * (width - len(bar))


def _first(status: dict[str, Any], *keys: str) -> Any:
    return next((status[key] for key in keys if status.get(key) is not None), None)


def _shard_line(shard: Any, rank: int) -> Text:
    if isinstance(shard, dict):
        name = str(_first(shard, "name", "file", "path") or "?")
        size = _first(shard, "bytes", "size", "size_bytes")
    else:
        name, size = str(shard), None
    line = Text(f"  {rank:>2}. ", style="dim").append(name.rsplit("/", 1)[-1])
    if size is not None:
        line.append(f"  {format_bytes(size)}", style="dim")
    return line


def shard_text(event: ShardStatus | None) -> Text:
    if event is None:
        return Text("no data status yet: it arrives when training starts", style="dim")
    status = event.status
    text = Text(event.source, style="bold").append(f"  {event.description}", style="dim")
    corpus = _first(status, "corpus", "name")
    size = _first(status, "bytes")
    docs = _first(status, "docs", "documents")
    if corpus is not None or size is not None:
        text.append("\ncorpus ", style="dim").append(str(corpus or event.source))
        if size is not None:
            text.append(f"  {format_bytes(size)}")
        if docs is not None:
            text.append(f"  {docs:,} documents" if isinstance(docs, int) else f"  {docs} documents")
    cached = _first(status, "bytes_cached", "cached_bytes")
    limit = _first(status, "bytes_limit", "limit_bytes")
    if cached is not None:
        text.append("\ncache ", style="dim").append(format_bytes(cached))
        if limit:
            text.append(f" of {format_bytes(limit)} ").append(progress_bar(cached / limit, 12), style="cyan")
    if "hits" in status or "misses" in status:
        text.append("\nhits ", style="dim").append(str(status.get("hits", 0)))
        text.append("  misses ", style="dim").append(str(status.get("misses", 0)))
    download = _first(status, "download", "downloading")
    if isinstance(download, dict):
        name = str(_first(download, "name", "file") or "?").rsplit("/", 1)[-1]
        done = _first(download, "bytes_done", "done", "downloaded") or 0
        total = _first(download, "bytes_total", "total")
        text.append("\ndownloading ", style="dim").append(name)
        if total:
            text.append(f"\n  {progress_bar(done / total)} ", style="cyan").append(
                f"{format_bytes(done)} / {format_bytes(total)}", style="dim")
    shards = _first(status, "shards", "lru")
    if isinstance(shards, list) and shards:
        text.append("\ncached shards, most recently used first:", style="dim")
        for rank, shard in enumerate(shards, start=1):
            text.append("\n").append(_shard_line(shard, rank))
    for key in sorted(set(status) - _KNOWN):
        text.append(f"\n{key}: ", style="dim").append(str(status[key]))
    return text


class ShardPanel(Static):
    DEFAULT_CSS = "ShardPanel { height: auto; }"

    def show(self, event: ShardStatus | None) -> None:
        self.update(shard_text(event))
