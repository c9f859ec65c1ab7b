"""``tui-transformer eval --run RUN [--text FILE] [--all-checkpoints]``: how well a trained model predicts text.

Prints the mean cross-entropy per token (the loss), the perplexity ``exp(loss)``, the bits per byte
(the summed loss over the UTF-8 bytes of the predicted text, in bits: comparable across tokenizers)
and the number of predicted tokens and bytes.

* Without ``--text``: the run's own validation batches, the very ones its training evaluations
  use (:mod:`tui_transformer.train.validation`), so the loss is the one ``runs list`` shows for
  the same checkpoint.
* With ``--text FILE``: the file, cut into consecutive windows of the model's context length; each
  token is predicted from the tokens before it in its window.
* ``--all-checkpoints``: every checkpoint of the run (the weights kept with ``train --keep-every``,
  then best and latest), each scored on the same batches: the run's learning curve, as a table or
  ``--json``.

On a terminal a progress bar on stderr counts the batches (and the checkpoints).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tui_transformer.commands.generate import add_model_source


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("eval", help="loss and perplexity of a trained model on its validation data or a text",
                                   description=__doc__.split("\n\n")[0])
    add_model_source(parser)
    parser.add_argument("--text", metavar="FILE", help="a UTF-8 text file (default: the run's validation batches)")
    parser.add_argument("--batch-size", type=int, default=8, help="with --text: windows per forward pass")
    parser.add_argument("--all-checkpoints", action="store_true",
                        help="score every checkpoint of the run on the same batches (keep them with train --keep-every)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def windows(ids: list[int], seq_len: int, batch_size: int):
    """Batches ``(x, y)`` covering ``ids``: windows of ``seq_len`` inputs, targets shifted by one.

    Full windows are batched together; a shorter last window forms its own batch, so every token
    after the first is predicted exactly once.
    """
    import torch

    starts = range(0, len(ids) - 1, seq_len)
    full = [s for s in starts if s + seq_len + 1 <= len(ids)]
    for i in range(0, len(full), batch_size):
        rows = torch.tensor([ids[s:s + seq_len + 1] for s in full[i:i + batch_size]])
        yield rows[:, :-1], rows[:, 1:]
    rest = [s for s in starts if s + seq_len + 1 > len(ids)]
    if rest:
        row = torch.tensor([ids[rest[0]:]])
        yield row[:, :-1], row[:, 1:]


def run(args: argparse.Namespace) -> int:
    from tui_transformer.errors import UserError
    from tui_transformer.train.checkpoint import load_for_inference
    from tui_transformer.train.device import resolve_device

    resolve_device(args.device)  # a bad device is the first thing to say, before any file
    if args.batch_size < 1:
        raise UserError(f"--batch-size must be at least 1, got {args.batch_size}")
    if args.all_checkpoints and not args.run:
        raise UserError("--all-checkpoints scores the checkpoints of a run: give --run RUN")
    text = _read_text(args.text) if args.text is not None else None
    checkpoints = _checkpoints(args)
    model, tokenizer, config = load_for_inference(checkpoints[0][1], args.device)
    if text is not None:
        ids = tokenizer.encode(text)
        if len(ids) < 2:
            raise UserError(f"{args.text} holds {len(ids)} token(s); at least 2 are needed to predict one")
        batches = list(windows(ids, config.model.max_seq_len, args.batch_size))
        what = str(Path(args.text).expanduser())
    else:
        from tui_transformer.train.validation import run_validation_batches

        run_dir = checkpoints[0][1].parent.parent  # <run>/checkpoints/latest.pt, or an export folder's parent
        data, batches = run_validation_batches(config, tokenizer, run_dir if checkpoints[0][1].is_file() else None)
        what = f"validation batches of {data} ({len(batches)} x {config.batch_size} x {config.model.max_seq_len})"
    rows = []
    with _Progress(len(checkpoints) * len(batches)) as progress:
        for label, path in checkpoints:
            if rows:  # the first is loaded already
                model, tokenizer, _ = load_for_inference(path, args.device)
            rows.append({"checkpoint": label, "path": str(path), **_score(model, tokenizer, batches, progress)})
    if args.all_checkpoints:
        _print_curve(what, rows, tokenizer.name, args.json)
    else:
        _print_one(what, rows[0], tokenizer.name, args.json, text is not None)
    return 0


def _read_text(name: str) -> str:
    from tui_transformer.errors import UserError

    path = Path(name).expanduser()
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"text file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"cannot read {path} as UTF-8 text: {error}") from None


def _checkpoints(args) -> list[tuple[str, Path]]:
    """``(label, path)`` of what to score: the one checkpoint named, or all of the run's."""
    from tui_transformer.errors import UserError
    from tui_transformer.interop.safetensors_export import find_export
    from tui_transformer.train.checkpoint import find, run_of
    from tui_transformer.train.kept_checkpoints import run_checkpoints

    source = args.run or args.checkpoint
    if not args.all_checkpoints:
        return [("checkpoint", find_export(source) or find(source))]
    found = run_checkpoints(run_of(args.run))
    if not found:
        raise UserError(f"run {args.run} has no checkpoint yet")
    return found


def _score(model, tokenizer, batches, progress) -> dict:
    from tui_transformer.model.perplexity import evaluate, perplexity_of

    scored = evaluate(model, progress.counting(batches), token_bytes=tokenizer.token_byte_counts())
    return {"loss": scored.loss, "perplexity": perplexity_of(scored.loss), "bpb": scored.bpb,
            "tokens": scored.tokens, "bytes": scored.bytes}


def _print_one(what: str, row: dict, tokenizer: str, as_json: bool, is_file: bool) -> None:
    if as_json:
        key = {"file": what} if is_file else {"data": what}
        print(json.dumps({**key, **{k: row[k] for k in ("loss", "perplexity", "bpb", "tokens", "bytes")},
                          "tokenizer": tokenizer, "checkpoint": row["path"]}))
        return
    name = Path(what).name if is_file else what
    print(f"{name}: loss {row['loss']:.4f}, perplexity {row['perplexity']:,.2f}, {row['bpb']:.4f} bits per byte "
          f"over {row['tokens']:,} tokens ({row['bytes']:,} bytes, {tokenizer})")


def _print_curve(what: str, rows: list[dict], tokenizer: str, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"data": what, "tokenizer": tokenizer, "checkpoints": rows}))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"every checkpoint on the same {what}")
    for column in ("checkpoint", "val loss", "perplexity", "bits per byte"):
        table.add_column(column, justify="left" if column == "checkpoint" else "right")
    for row in rows:
        table.add_row(row["checkpoint"], f"{row['loss']:.4f}", f"{row['perplexity']:,.2f}", f"{row['bpb']:.4f}")
    Console(highlight=False).print(table)


class _Progress:
    """A bar on stderr counting the batches scored, on a terminal only (stdout stays the result)."""

    def __init__(self, total: int) -> None:
        self.total, self.bar, self.task = total, None, None

    def __enter__(self):
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(TextColumn("scoring batches"), MofNCompleteColumn(), BarColumn(), TimeRemainingColumn(),
                                console=Console(stderr=True), transient=True)
            self.bar.__enter__()
            self.task = self.bar.add_task("eval", total=self.total)
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)

    def counting(self, batches):
        for batch in batches:
            yield batch
            if self.bar is not None:
                self.bar.advance(self.task)
