"""``tui-transformer interpret heads|induction|patch|lens --run RUN``: circuits in a trained model.

* ``heads``: every head's score for each attention pattern and its dominant role, on a sequence of
  random tokens repeated twice (so that induction heads show);
* ``induction``: each head's prefix-matching and copying scores and the in-context learning score;
* ``patch --clean TEXT --corrupted TEXT --answer TOKEN --wrong TOKEN``: activation patching, the
  fraction of the logit difference each (layer, position) and each head recovers;
* ``lens --prompt TEXT``: the logit lens, the top token after each layer at each position.

``--json`` prints the same numbers as one JSON object. The random tokens are drawn from the ids that
occur most often in Python's own documentation (the builtin corpus), or in ``--tokens-from FILE``.
"""

from __future__ import annotations

import argparse
import json

from tui_transformer.commands.generate import add_model_source

ANALYSES = ("heads", "induction", "patch", "lens")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("interpret", help="head roles, induction heads, patching and the logit lens",
                                   description=__doc__.split("\n\n")[0])
    parser.add_argument("analysis", choices=ANALYSES)
    add_model_source(parser)
    parser.add_argument("--prompt", default="The cat sat on the mat. The cat", help="the text for lens")
    parser.add_argument("--clean", help="patch: the clean prompt")
    parser.add_argument("--corrupted", help="patch: the corrupted prompt (same token length)")
    parser.add_argument("--answer", help="patch: the clean answer (one token of text, e.g. ' Paris')")
    parser.add_argument("--wrong", help="patch: the corrupted answer (one token)")
    parser.add_argument("--length", type=int, default=24, help="heads/induction: tokens in each repeated half")
    parser.add_argument("--batch", type=int, default=4, help="heads/induction: repeated sequences to average")
    parser.add_argument("--seed", type=int, default=0, help="heads/induction: seed of the random tokens")
    parser.add_argument("--tokens-from", metavar="FILE", help="draw the random tokens from this text's ids")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from tui_transformer.train.checkpoint import load_for_inference

    model, tokenizer, _ = load_for_inference(args.run or args.checkpoint, args.device)
    result = {"heads": _heads, "induction": _induction, "patch": _patch, "lens": _lens}[args.analysis](
        model, tokenizer, args)
    if args.json:
        print(json.dumps(result["json"]))
    else:
        Console().print(result["view"])
    return 0


def _token_pool(tokenizer, args) -> list[int]:
    from pathlib import Path

    from tui_transformer.errors import UserError
    from tui_transformer.interpret.induction import builtin_frequent_ids, frequent_ids

    if not args.tokens_from:
        return builtin_frequent_ids(tokenizer)
    try:
        texts = [Path(args.tokens_from).expanduser().read_text(encoding="utf-8")]
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"cannot read {args.tokens_from} as UTF-8 text: {error}") from None
    return frequent_ids(tokenizer, texts)


def _repeated(model, tokenizer, args):
    from tui_transformer.interpret.induction import repeated_random_tokens

    device = model.embed.weight.device
    return repeated_random_tokens(_token_pool(tokenizer, args), args.length, args.batch, args.seed).to(device)


def _heads(model, tokenizer, args) -> dict:
    from rich.table import Table

    from tui_transformer.interpret.head_roles import ROLES, head_roles

    _check_length(model, args)
    roles = head_roles(model, _repeated(model, tokenizer, args), period=args.length)
    table = Table(title=f"head roles (random tokens, {args.length} repeated twice, {args.batch} sequences)")
    for column in ("head", *ROLES, "role"):
        table.add_column(column, justify="right" if column not in ("head", "role") else "left")
    rows = []
    for layer, heads in enumerate(roles.scores.tolist()):
        for head, scores in enumerate(heads):
            role = roles.role(layer, head)
            rows.append({"layer": layer, "head": head, "scores": dict(zip(ROLES, scores)), "role": role})
            table.add_row(f"{layer}.{head}", *(f"{s:.2f}" for s in scores), role or "-")
    return {"json": {"length": args.length, "heads": rows}, "view": table}


def _induction(model, tokenizer, args) -> dict:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from tui_transformer.interpret.induction import induction_report

    _check_length(model, args)
    report = induction_report(model, _token_pool(tokenizer, args), args.length, args.batch, args.seed)
    table = Table(title=f"induction (random tokens, {args.length} repeated twice, {args.batch} sequences)")
    for column in ("head", "prefix matching", "copying"):
        table.add_column(column, justify="right")
    rows = []
    for layer, (prefix, copying) in enumerate(zip(report.prefix_matching.tolist(), report.copying.tolist())):
        for head, (p, c) in enumerate(zip(prefix, copying)):
            rows.append({"layer": layer, "head": head, "prefix_matching": p, "copying": c})
            table.add_row(f"{layer}.{head}", f"{p:.3f}", f"{c:+.2f}")
    layer, head, score = report.strongest()
    summary = Text(f"loss on the first copy {report.first_copy_loss:.3f}, on the second {report.second_copy_loss:.3f}: "
                   f"in-context learning score {report.in_context_learning:+.3f} nats; "
                   f"strongest induction head {layer}.{head} ({score:.3f})")
    return {"json": {"length": args.length, "heads": rows, "in_context_learning": report.in_context_learning,
                     "first_copy_loss": report.first_copy_loss, "second_copy_loss": report.second_copy_loss,
                     "strongest": {"layer": layer, "head": head, "prefix_matching": score}},
            "view": Group(table, summary)}


def _patch(model, tokenizer, args) -> dict:
    from rich.console import Group
    from rich.table import Table

    from tui_transformer.errors import UserError
    from tui_transformer.interpret.patching import patch

    missing = [f"--{name}" for name in ("clean", "corrupted", "answer", "wrong") if getattr(args, name) is None]
    if missing:
        raise UserError(f"patch needs {', '.join(missing)}")
    answer, wrong = (_one_token(tokenizer, getattr(args, name), name) for name in ("answer", "wrong"))
    clean, corrupted = tokenizer.encode(args.clean), tokenizer.encode(args.corrupted)
    result = patch(model, clean, corrupted, answer, wrong)
    pieces = [tokenizer.decode([i]) for i in clean]
    residual = Table(title=f"residual stream patched at (layer, position): fraction recovered "
                           f"(clean {result.clean:+.2f}, corrupted {result.corrupted:+.2f})")
    residual.add_column("layer")
    for piece in pieces:
        residual.add_column(repr(piece)[1:-1], justify="right")
    for layer, row in enumerate(result.residual.tolist()):
        residual.add_row(str(layer), *(f"{v:.2f}" for v in row))
    heads = Table(title="one head's output patched at every position: fraction recovered")
    heads.add_column("layer")
    for head in range(result.heads.shape[1]):
        heads.add_column(f"head {head}", justify="right")
    for layer, row in enumerate(result.heads.tolist()):
        heads.add_row(str(layer), *(f"{v:.2f}" for v in row))
    return {"json": {"clean": result.clean, "corrupted": result.corrupted, "tokens": pieces,
                     "residual": result.residual.tolist(), "heads": result.heads.tolist()},
            "view": Group(residual, heads)}


def _lens(model, tokenizer, args) -> dict:
    from rich.table import Table

    from tui_transformer.errors import UserError
    from tui_transformer.model.tools.explain import logit_lens_table
    from tui_transformer.model.tools.inspection import inspect

    ids = tokenizer.encode(args.prompt)[-model.config.max_seq_len:]
    if not ids:
        raise UserError("--prompt is empty")
    rows = logit_lens_table(inspect(model, ids), tokenizer.decode)
    table = Table(title="logit lens: the top next token after each layer")
    table.add_column("layer")
    for i in ids:
        table.add_column(repr(tokenizer.decode([i]))[1:-1])
    for layer, cells in enumerate(rows):
        table.add_row(str(layer), *(f"{repr(text)[1:-1]} {p:.0%}" for text, p in cells))
    return {"json": {"tokens": [tokenizer.decode([i]) for i in ids],
                     "layers": [[{"token": t, "p": p} for t, p in cells] for cells in rows]}, "view": table}


def _one_token(tokenizer, text: str, name: str) -> int:
    from tui_transformer.errors import UserError

    ids = tokenizer.encode(text)
    if len(ids) != 1:
        raise UserError(f"--{name} {text!r} is {len(ids)} tokens; it must be exactly one (mind the leading space)")
    return ids[0]


def _check_length(model, args) -> None:
    from tui_transformer.errors import UserError

    if not 2 <= args.length <= model.config.max_seq_len // 2:
        raise UserError(f"--length must be from 2 to {model.config.max_seq_len // 2} (half the model's context)")
    if args.batch < 1:
        raise UserError(f"--batch must be at least 1, got {args.batch}")
