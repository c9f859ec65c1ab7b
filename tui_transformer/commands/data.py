"""``tui-transformer data {status,prefetch,clean}``: the data caches, from the command line.

* ``status`` shows the FineWeb shard cache (shards in LRU order, sizes, limits), the shards of
  each ``hf:`` dataset read so far, the offline corpus and the trained tokenizers. It never touches the network, so it works on a fresh,
  offline machine. ``--json`` prints one JSON object.
* ``prefetch N`` downloads the first N FineWeb shards (row groups), e.g. before going offline.

The LRU limits come from ``TUI_TRANSFORMER_MAX_SHARDS`` (default 5) and
``TUI_TRANSFORMER_MAX_CACHE_BYTES`` (e.g. ``2G``; default none).
* ``clean`` deletes the shards, FineWeb's and the ``hf:`` datasets' (never one that a running
  process is reading; with ``--cache-dir``, that folder's only); ``--all`` also
  deletes the cached token streams, trained tokenizers and the offline corpus.
"""

from __future__ import annotations

import argparse
import json
import shutil

from tui_transformer.arguments import nonempty


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("data", help="the data caches: status, prefetch, clean",
                                   description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="data_command", metavar="ACTION")
    status = commands.add_parser("status", help="what is cached (works offline)")
    status.add_argument("--json", action="store_true", help="print one JSON object")
    prefetch = commands.add_parser("prefetch", help="download the first N FineWeb shards")
    prefetch.add_argument("shards", type=int, metavar="N")
    prefetch.add_argument("--max-shards", type=int, default=None, help="LRU limit (default: max(5, N))")
    clean = commands.add_parser("clean", help="delete cached shards (and with --all, every cache)")
    clean.add_argument("--all", action="store_true", help="also token streams, tokenizers and the offline corpus")
    for sub in (status, prefetch, clean):
        sub.add_argument("--cache-dir", metavar="DIR", type=nonempty,
                         help="the shard cache folder (default: <cache>/fineweb)")
    parser.set_defaults(func=lambda args: _help(parser))
    status.set_defaults(func=run_status)
    prefetch.set_defaults(func=run_prefetch)
    clean.set_defaults(func=run_clean)


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def collect_status(cache_dir: str | None = None) -> dict:
    """Everything ``data status`` shows, as data, without touching the network."""
    from tui_transformer import paths
    from tui_transformer.data import builtin_corpus
    from tui_transformer.data.hub_dataset import cached_datasets
    from tui_transformer.data.shard_cache import ShardCache

    corpus = builtin_corpus.corpus_path()
    tokenizers = []
    for path in sorted((paths.cache_dir() / "tokenizers").glob("*.tiktoken")):
        info_file = path.with_suffix(".json")
        info = json.loads(info_file.read_text()) if info_file.exists() else {}
        tokenizers.append({"file": str(path), "bytes": path.stat().st_size, **info})
    tokens_dir = paths.cache_dir() / "tokens"
    token_files = list(tokens_dir.glob("*.npy")) if tokens_dir.exists() else []
    return {
        "cache_dir": str(paths.cache_dir()),
        "fineweb": ShardCache.from_env(cache_dir).status(),
        "hf": [{"spec": cache.read_metadata().get("remote", {}).get("spec"), **cache.status()}
               for cache in cached_datasets()],
        "builtin": {"description": builtin_corpus.DESCRIPTION, "cached": corpus.exists(), "file": str(corpus),
                    "bytes": corpus.stat().st_size if corpus.exists() else 0},
        "token_streams": {"files": len(token_files), "bytes": sum(f.stat().st_size for f in token_files)},
        "tokenizers": tokenizers,
    }


def run_status(args: argparse.Namespace) -> int:
    status = collect_status(args.cache_dir)
    if args.json:
        print(json.dumps(status))
        return 0
    from rich.console import Console
    from rich.table import Table

    console = Console()
    fineweb = status["fineweb"]
    limit = f"{fineweb['max_shards']} shards" + (f", {_size(fineweb['max_bytes'])}" if fineweb["max_bytes"] else "")
    console.print(f"[bold]FineWeb shard cache[/] {fineweb['cache_dir']}  ({len(fineweb['shards'])} shards, "
                  f"{_size(fineweb['total_bytes'])}; limit {limit})")
    if fineweb["shards"]:
        table = Table("LRU", "shard", "source file", "row group", "rows (train/val)", "size", "tokens", "accessed", "in use")
        for shard in fineweb["shards"]:
            splits = shard.get("splits") or {}
            table.add_row(str(shard["lru_rank"]), shard["name"], shard["source_file"], str(shard["row_groups"][0]),
                          f"{shard['rows']} ({splits.get('train', '?')}/{splits.get('val', '?')})",
                          _size(shard["bytes"] + shard["token_bytes"]), f"{sum(shard['tokens'].values()):,}",
                          str(shard["access_count"]), "yes" if shard["in_use"] else "")
        console.print(table)
    for notice in fineweb["notices"]:
        console.print(f"  [yellow]{notice}[/]")
    for dataset in status["hf"]:
        console.print(f"[bold]Hub dataset[/] {dataset['spec']}  ({len(dataset['shards'])} shards, "
                      f"{_size(dataset['total_bytes'])}) in {dataset['cache_dir']}")
    builtin = status["builtin"]
    state = f"cached, {_size(builtin['bytes'])} compressed" if builtin["cached"] else "not built yet (built on first use, ~10 s)"
    console.print(f"[bold]Offline corpus[/] {builtin['description']}: {state}")
    streams = status["token_streams"]
    console.print(f"[bold]Token streams[/] {streams['files']} files, {_size(streams['bytes'])}")
    console.print(f"[bold]Trained tokenizers[/] {len(status['tokenizers'])}")
    for tok in status["tokenizers"]:
        console.print(f"  {tok['file']}  vocab {tok.get('vocab_size', '?')}, trained on {tok.get('characters', 0):,} "
                      f"characters of {tok.get('source', '?')} in {tok.get('train_seconds', '?')} s")
    return 0


def run_prefetch(args: argparse.Namespace) -> int:
    from tui_transformer.data.fineweb import FinewebSource
    from tui_transformer.data.shard_cache import ShardCache, limits_from_env
    from tui_transformer.errors import UserError

    if args.shards < 1:
        raise UserError(f"N must be at least 1, got {args.shards}")
    env_shards, max_bytes = limits_from_env()
    max_shards = args.max_shards or max(env_shards or 0, args.shards)
    if args.shards > max_shards:
        raise UserError(f"cannot keep {args.shards} shards with --max-shards {max_shards}")
    source = FinewebSource(cache=ShardCache(args.cache_dir, max_shards=max_shards, max_bytes=max_bytes))
    for index in range(args.shards):
        entry = source.ensure_shard(index)
        if entry is None:
            print(f"the dataset has only {index} shards")
            break
        print(f"{entry['name']}: {entry['rows']} documents, {_size(entry['bytes'])} from {entry['source_file']} "
              f"row group {entry['row_groups'][0]}", flush=True)
    status = source.cache.status()
    fetched = f"downloaded {_size(status['bytes_downloaded'])}" if status["bytes_downloaded"] else "nothing downloaded"
    print(f"{fetched}; {status['hits']} already cached")
    source.close()
    return 0


def run_clean(args: argparse.Namespace) -> int:
    from tui_transformer import paths
    from tui_transformer.data.shard_cache import ShardCache

    deleted = ShardCache.from_env(args.cache_dir).clean()
    if args.cache_dir is None:
        from tui_transformer.data.hub_dataset import cached_datasets

        deleted += sum(cache.clean() for cache in cached_datasets())
    print(f"deleted {deleted} shards")
    if args.all:
        for folder in ("tokens", "tokenizers", "corpus"):
            shutil.rmtree(paths.cache_dir() / folder, ignore_errors=True)
        print(f"deleted token streams, trained tokenizers and the offline corpus under {paths.cache_dir()}")
    return 0


def _size(n: int | None) -> str:
    n = n or 0
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"
