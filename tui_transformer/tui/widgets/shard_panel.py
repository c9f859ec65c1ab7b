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

_SHOWN = {"source", "corpus", "name", "documents", "train_documents", "val_documents", "bytes", "cache_file",
          "cache_dir", "shards", "total_bytes", "max_bytes", "max_shards", "hits", "misses", "bytes_downloaded",
          "download", "notices", "token_reads"}


def format_bytes(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(count) < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GB"


def progress_bar(fraction: float, width: int = 20) -> str:
    """``█████▌░░░░`` with eighth-blocks for the partial cell."""
    fraction = min(max(fraction, 0.0), 1.0)
    eighths = round(fraction * width * 8)
    full, partial = divmod(eighths, 8)
    bar = "█" * full + ("▏▎▍▌▋▊▉"[partial - 1] if partial else "")
    return bar + "░" * (width - len(bar))


def _first(mapping: dict[str, Any], *keys: str) -> Any:
    return next((mapping[key] for key in keys if mapping.get(key) is not None), None)


def _corpus_lines(status: dict[str, Any]) -> Text:
    text = Text()
    text.append("\ncorpus ", style="dim").append(str(status.get("corpus") or status.get("name") or "?"))
    if status.get("bytes") is not None:
        text.append(f"  {format_bytes(status['bytes'])}")
    if status.get("documents") is not None:
        text.append(f"  {status['documents']:,} documents")
        if status.get("val_documents") is not None:
            text.append(f" ({status['val_documents']:,} held out for validation)", style="dim")
    reads = status.get("token_reads")
    if isinstance(reads, dict):
        text.append("\ntoken streams ", style="dim").append(
            f"{reads.get('cached', 0)} read from cache, {reads.get('tokenized', 0)} tokenized")
    return text


def _cache_lines(status: dict[str, Any]) -> Text:
    text = Text()
    total, limit = status.get("total_bytes") or 0, status.get("max_bytes")
    text.append("\ncache ", style="dim").append(format_bytes(total))
    if limit:
        text.append(f" of {format_bytes(limit)} ").append(progress_bar(total / limit, 12), style="cyan")
    if status.get("max_shards"):
        text.append(f"  max {status['max_shards']} shards", style="dim")
    text.append("\nhits ", style="dim").append(str(status.get("hits", 0)))
    text.append("  misses ", style="dim").append(str(status.get("misses", 0)))
    if status.get("bytes_downloaded"):
        text.append("  downloaded ", style="dim").append(format_bytes(status["bytes_downloaded"]))
    download = status.get("download")
    if isinstance(download, dict):
        name = str(_first(download, "name", "file", "source_file") or "?").rsplit("/", 1)[-1]
        done = _first(download, "bytes_done", "done", "downloaded") or 0
        total_bytes = _first(download, "bytes_total", "total", "size")
        text.append("\ndownloading ", style="dim").append(name)
        if total_bytes:
            text.append(f"\n  {progress_bar(done / total_bytes)} ", style="cyan").append(
                f"{format_bytes(done)} / {format_bytes(total_bytes)}", style="dim")
    shards = status.get("shards")
    if isinstance(shards, list) and shards:
        # The status lists shards next-to-evict first; people read "most recent first" more easily.
        text.append("\ncached shards, most recently used first (the last one goes next):", style="dim")
        for rank, shard in enumerate(reversed(shards), start=1):
            text.append("\n").append(_shard_line(shard, rank))
    for notice in status.get("notices") or []:
        text.append(f"\n{notice}", style="yellow")
    return text


def _shard_line(shard: Any, rank: int) -> Text:
    if not isinstance(shard, dict):
        return Text(f"  {rank:>2}. {shard}")
    name = str(_first(shard, "name", "source_file") or "?").rsplit("/", 1)[-1]
    line = Text(f"  {rank:>2}. ", style="dim").append(name)
    size = (shard.get("bytes") or 0) + (shard.get("token_bytes") or 0)
    line.append(f"  {format_bytes(size)}", style="dim")
    if shard.get("in_use"):
        line.append("  in use", style="green")
    return line


def shard_text(event: ShardStatus | None) -> Text:
    if event is None:
        return Text("no data status yet: it arrives when training starts", style="dim")
    status = event.status
    text = Text(event.source, style="bold").append(f"  {event.description}", style="dim")
    if "corpus" in status or "documents" in status:
        text.append(_corpus_lines(status))
    if "shards" in status or "hits" in status:
        text.append(_cache_lines(status))
    location = status.get("cache_file") or status.get("cache_dir")
    if location:
        text.append("\nstored in ", style="dim").append(str(location), style="dim")
    for key in sorted(set(status) - _SHOWN):  # a newer data package's extra fields stay visible
        text.append(f"\n{key}: ", style="dim").append(str(status[key]))
    return text


class ShardPanel(Static):
    DEFAULT_CSS = "ShardPanel { height: auto; }"

    def show(self, event: ShardStatus | None) -> None:
        self.update(shard_text(event))
