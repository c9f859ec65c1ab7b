"""``tui-transformer interpret heads|induction|patch|lens|attention --run RUN``: circuits in a trained model.

* ``heads``: every head's score for each attention pattern and its dominant role, on a sequence of
  random tokens repeated twice (so that induction heads show), or on ``--prompt TEXT``;
* ``induction``: each head's prefix-matching and copying scores, the in-context learning score, and
  each induction head paired with the previous-token head that feeds it (K-composition);
* ``patch --clean TEXT --corrupted TEXT --answer TOKEN --wrong TOKEN``: activation patching, the
  fraction of the logit difference each (layer, position) and each head recovers;
* ``lens --prompt TEXT [--top-k K]``: the logit lens, the top tokens after each layer;
* ``attention --prompt TEXT [--layer L --head H]``: one head's attention matrix as a heatmap.

Heads are named ``L1 H2`` (layer 1, head 2, counted from 1 as the dashboard does); ``--layer`` and
``--head`` count the same way. ``--json`` prints the same numbers as one JSON object (indices there
count from 0, with the name beside them). The random tokens are drawn from the ids that occur most
often in Python's own documentation (the builtin corpus), or in ``--tokens-from FILE``.
"""

from __future__ import annotations

import argparse
import json

from tui_transformer.commands.generate import add_model_source
from tui_transformer.terminal_text import number

ANALYSES = ("heads", "induction", "patch", "lens", "attention")
DEFAULT_PROMPT = "The cat sat on the mat. The cat"
CLOSE_LOGIT_DIFFERENCES = 1.0  # patch: below this gap (in logits) the recovered fractions mean little


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("interpret", help="head roles, induction heads, patching and the logit lens",
                                   description=__doc__.split("\n\n")[0])
    parser.add_argument("analysis", choices=ANALYSES)
    add_model_source(parser)
    parser.add_argument("--prompt", help=f"lens/attention: the text (default {DEFAULT_PROMPT!r}); "
                                         "heads: score the heads on it instead of on random repeated tokens")
    parser.add_argument("--top-k", type=int, default=1, help="lens: the K most likely tokens per layer (default 1)")
    parser.add_argument("--position", type=int, help="lens with --top-k above 1: the token position (default: last)")
    parser.add_argument("--ids", action="store_true", help="lens/attention: show token ids beside the text")
    parser.add_argument("--layer", type=int, default=1, help="attention: the layer, from 1 (default 1)")
    parser.add_argument("--head", type=int, default=1, help="attention: the head, from 1 (default 1)")
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

    model, tokenizer, config = load_for_inference(args.run or args.checkpoint, args.device)
    args.trained_on = config.data  # where the test sequences' ids come from (see _token_pool)
    result = {"heads": _heads, "induction": _induction, "patch": _patch, "lens": _lens,
              "attention": _attention}[args.analysis](model, tokenizer, args)
    if args.json:
        print(json.dumps(result["json"]))
    else:
        Console().print(result["view"])
    return 0


def _token_pool(tokenizer, args) -> list[int]:
    from pathlib import Path

    from tui_transformer.errors import UserError
    from tui_transformer.interpret.induction import frequent_ids, training_ids

    if not args.tokens_from:
        return training_ids(tokenizer, getattr(args, "trained_on", None))
    try:
        texts = [Path(args.tokens_from).expanduser().read_text(encoding="utf-8")]
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"cannot read {args.tokens_from} as UTF-8 text: {error}") from None
    pool = frequent_ids(tokenizer, texts)
    if not pool:
        raise UserError(f"--tokens-from {args.tokens_from} holds no text to draw tokens from; give a text file")
    return pool


def _repeated(model, tokenizer, args):
    from tui_transformer.interpret.induction import repeated_random_tokens

    device = model.embed.weight.device
    return repeated_random_tokens(_token_pool(tokenizer, args), args.length, args.batch, args.seed).to(device)


def head_name(layer: int, head: int) -> str:
    """``L1 H2``: layer and head counted from 1, as the dashboard names them."""
    return f"L{layer + 1} H{head + 1}"


def _heads(model, tokenizer, args) -> dict:
    from rich.table import Table

    from tui_transformer.interpret.head_roles import ROLES, head_roles

    if args.prompt is not None:
        ids = _prompt_ids(model, tokenizer, args.prompt)
        roles = head_roles(model, [ids])
        used = {"input": "prompt", "prompt": tokenizer.decode(ids), "tokens": len(ids)}
        title = (f"head roles on your prompt ({len(ids)} tokens; induction: attention to the token after each "
                 f"repeated token's earlier occurrence)")
    else:
        _check_length(model, args)
        roles = head_roles(model, _repeated(model, tokenizer, args), period=args.length)
        used = {"input": "random repeated tokens", "length": args.length, "batch": args.batch}
        title = f"head roles on random tokens ({args.length} repeated twice, {args.batch} sequences; --prompt for yours)"
    table = Table(title=title)
    for column in ("head", *ROLES, "role"):
        table.add_column(column, justify="right" if column not in ("head", "role") else "left")
    rows = []
    for layer, heads in enumerate(roles.scores.tolist()):
        for head, scores in enumerate(heads):
            role = roles.role(layer, head)
            rows.append({"layer": layer, "head": head, "name": head_name(layer, head),
                         "scores": dict(zip(ROLES, scores)), "role": role})
            table.add_row(head_name(layer, head), *(number(s, 2) for s in scores), role or "-")
    return {"json": {**used, "length": args.length if args.prompt is None else None, "heads": rows},
            "view": table}


def _induction(model, tokenizer, args) -> dict:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from tui_transformer.interpret.head_roles import head_roles
    from tui_transformer.interpret.induction import induction_report

    _check_length(model, args)
    report = induction_report(model, _token_pool(tokenizer, args), args.length, args.batch, args.seed)
    found = head_roles(model, _repeated(model, tokenizer, args), period=args.length)
    roles = found.table()
    table = Table(title=f"induction (random tokens, {args.length} repeated twice, {args.batch} sequences)")
    for column in ("head", "prefix matching", "copying", "role"):
        table.add_column(column, justify="right" if column != "role" else "left")
    rows = []
    for layer, (prefix, copying) in enumerate(zip(report.prefix_matching.tolist(), report.copying.tolist())):
        for head, (p, c) in enumerate(zip(prefix, copying)):
            rows.append({"layer": layer, "head": head, "name": head_name(layer, head), "prefix_matching": p,
                         "copying": c, "role": roles[layer][head]})
            table.add_row(head_name(layer, head), number(p, 3), number(c, 2, sign=True), roles[layer][head] or "-")
    layer, head, score = report.strongest()
    summary = Text(f"loss on the first copy {number(report.first_copy_loss, 3)}, on the second "
                   f"{number(report.second_copy_loss, 3)}: in-context learning score "
                   f"{number(report.in_context_learning, 3, sign=True)} nats; strongest induction head "
                   f"{head_name(layer, head)} ({number(score, 3)})")
    pairs, circuit_view = _circuits(model, found, report.prefix_matching)
    return {"json": {"length": args.length, "heads": rows, "in_context_learning": report.in_context_learning,
                     "first_copy_loss": report.first_copy_loss, "second_copy_loss": report.second_copy_loss,
                     "strongest": {"layer": layer, "head": head, "name": head_name(layer, head),
                                   "prefix_matching": score},
                     "circuits": pairs},
            "view": Group(table, summary, circuit_view)}


def _circuits(model, roles, prefix_matching):
    """Each induction head (or, with none, the strongest by prefix matching above the first layer)
    paired with the earlier head whose output its keys read most: K-composition
    (:mod:`tui_transformer.interpret.composition`)."""
    from rich.console import Group
    from rich.text import Text

    from tui_transformer.interpret.composition import pair_induction_heads

    induction, previous = roles.heads_with("induction"), set(roles.heads_with("previous token"))
    if not induction and roles.scores.shape[0] > 1:  # none passes the threshold: pair the best candidate, and say so
        flat = int(prefix_matching[1:].argmax())
        strongest = (1 + flat // prefix_matching.shape[1], flat % prefix_matching.shape[1])
        note = f" (no head reaches the induction role; pairing the strongest after the first layer, {head_name(*strongest)})"
        induction = [strongest]
    else:
        note = ""
    pairs = pair_induction_heads(model, induction, previous)
    lines = [Text(f"circuits: which earlier head feeds each induction head's keys (K-composition){note}")]
    rows = []
    for pair in pairs:
        ranked = sorted(((float(pair.scores[li, h]), (li, h)) for li in range(pair.scores.shape[0])
                         for h in range(pair.scores.shape[1])), reverse=True)
        others = ", ".join(f"{head_name(*at)} {number(s, 2)}" for s, at in ranked[:4])
        kind = "previous-token head" if pair.partner_is_previous_token else "no previous-token head before it; top"
        lines.append(Text(f"  {head_name(*pair.induction)} <- {head_name(*pair.partner)} ({kind}); "
                          f"K-composition: {others}"))
        rows.append({"induction": head_name(*pair.induction), "partner": head_name(*pair.partner),
                     "partner_is_previous_token": pair.partner_is_previous_token,
                     "k_composition": {head_name(*at): s for s, at in ranked}})
    if not pairs:
        lines.append(Text("  none: a model of one layer has no earlier head to compose with"))
    return rows, Group(*lines)


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
    residual = Table(title=f"residual stream entering each layer, patched at one position: fraction recovered "
                           f"(logit difference clean {number(result.clean, 2, sign=True)}, corrupted "
                           f"{number(result.corrupted, 2, sign=True)})")
    residual.add_column("layer")
    for piece in pieces:
        residual.add_column(_piece(piece), justify="right")
    for layer, row in enumerate(result.residual.tolist()):
        residual.add_row(f"L{layer + 1}", *(number(v, 2) for v in row))
    heads = Table(title="one head's output patched at every position: fraction recovered")
    heads.add_column("layer")
    for head in range(result.heads.shape[1]):
        heads.add_column(f"H{head + 1}", justify="right")
    for layer, row in enumerate(result.heads.tolist()):
        heads.add_row(f"L{layer + 1}", *(number(v, 2) for v in row))
    gap = abs(result.clean - result.corrupted)
    warning = None
    if gap < CLOSE_LOGIT_DIFFERENCES:
        warning = (f"the clean and corrupted logit differences ({number(result.clean, 2, sign=True)} and "
                   f"{number(result.corrupted, 2, sign=True)}) are only {number(gap, 2)} apart: every fraction is "
                   f"divided by that gap, so these fractions mean little. Pick prompts whose answers the model "
                   f"tells apart (a gap of {CLOSE_LOGIT_DIFFERENCES:g} or more)")
        import sys

        print(f"warning: {warning}", file=sys.stderr)
    return {"json": {"clean": result.clean, "corrupted": result.corrupted, "tokens": pieces,
                     "residual": result.residual.tolist(), "heads": result.heads.tolist(), "warning": warning},
            "view": Group(residual, heads)}


def _lens(model, tokenizer, args) -> dict:
    from rich.table import Table

    from tui_transformer.errors import UserError
    from tui_transformer.model.tools.inspection import inspect

    ids = _prompt_ids(model, tokenizer, args.prompt or DEFAULT_PROMPT)
    if not 1 <= args.top_k <= tokenizer.vocab_size:
        raise UserError(f"--top-k must be from 1 to the vocabulary size {tokenizer.vocab_size:,}, got {args.top_k}")
    probs, top = inspect(model, ids).logit_lens_top(args.top_k)  # [L, 1, T, K] each
    cells = [[[{"token": tokenizer.decode([i]), "id": i, "p": p} for i, p in zip(top[layer, 0, t].tolist(),
                                                                               probs[layer, 0, t].tolist())]
              for t in range(len(ids))] for layer in range(top.shape[0])]
    pieces = [_piece(tokenizer.decode([i]), i if args.ids else None) for i in ids]
    result = {"tokens": [tokenizer.decode([i]) for i in ids], "ids": ids, "top_k": args.top_k, "layers": cells}
    if args.top_k == 1:
        table = Table(title="logit lens: the top next token after each layer, at each position")
        table.add_column("layer")
        for piece in pieces:
            table.add_column(piece)
        for layer, row in enumerate(cells):
            table.add_row(f"L{layer + 1}", *(_guess(cell[0], args.ids) for cell in row))
        return {"json": result, "view": table}
    position = len(ids) - 1 if args.position is None else args.position
    if not 0 <= position < len(ids):
        raise UserError(f"--position must be from 0 to {len(ids) - 1} (the prompt's tokens), got {args.position}")
    table = Table(title=f"logit lens: the top {args.top_k} next tokens after each layer, after token {position} "
                        f"({pieces[position]})")
    table.add_column("layer")
    for rank in range(args.top_k):
        table.add_column(f"#{rank + 1}")
    for layer, row in enumerate(cells):
        table.add_row(f"L{layer + 1}", *(_guess(guess, args.ids) for guess in row[position]))
    return {"json": {**result, "position": position}, "view": table}


def _attention(model, tokenizer, args) -> dict:
    from rich.table import Table
    from rich.text import Text

    from tui_transformer.errors import UserError
    from tui_transformer.model.tools.inspection import inspect

    config = model.config
    if not 1 <= args.layer <= config.n_layers or not 1 <= args.head <= config.n_heads:
        raise UserError(f"--layer must be from 1 to {config.n_layers} and --head from 1 to {config.n_heads}, "
                        f"got {args.layer} and {args.head}")
    layer, head = args.layer - 1, args.head - 1
    ids = _prompt_ids(model, tokenizer, args.prompt or DEFAULT_PROMPT)
    weights = inspect(model, ids).attention[layer][0, head].float().cpu()  # [T, T]
    pieces = [_piece(tokenizer.decode([i]), i if args.ids else None) for i in ids]
    table = Table(title=f"attention of {head_name(layer, head)}: row = the token attending, column = the token "
                        f"attended to, in % (each row sums to 100)", show_edge=False, pad_edge=False)
    table.add_column("query")
    for position in range(len(ids)):
        table.add_column(str(position), justify="right")
    for query, row in enumerate(weights.tolist()):
        cells = [_heat(w) if key <= query else Text("·", style="dim") for key, w in enumerate(row)]
        table.add_row(f"{query} {pieces[query]}", *cells)
    return {"json": {"layer": layer, "head": head, "name": head_name(layer, head),
                     "tokens": [tokenizer.decode([i]) for i in ids], "ids": ids, "weights": weights.tolist()},
            "view": table}


def _heat(weight: float):
    """A cell of the heatmap: the weight in %, on a background as bright as the weight."""
    from rich.text import Text

    level = int(40 + 215 * weight)
    return Text(f"{weight * 100:3.0f}", style=f"{'black' if weight > 0.5 else 'white'} on rgb({level // 4},{level // 2},{level})")


def _piece(text: str, token_id: int | None = None) -> str:
    """A token's text as it can be read in a table cell: escaped, a space shown as ␣, its id on request."""
    shown = repr(text)[1:-1].replace(" ", "␣")
    return shown if token_id is None else f"{shown} ({token_id})"


def _guess(guess: dict, with_id: bool) -> str:
    return f"{_piece(guess['token'], guess['id'] if with_id else None)} {guess['p'] * 100:.2g}%"


def _prompt_ids(model, tokenizer, prompt: str) -> list[int]:
    """The prompt's ids, its last ``max_seq_len`` if longer (saying so on stderr)."""
    import sys

    from tui_transformer.errors import UserError

    ids = tokenizer.encode(prompt)
    if not ids:
        raise UserError("--prompt is empty")
    if len(ids) > model.config.max_seq_len:
        print(f"note: the prompt is {len(ids):,} tokens; its last {model.config.max_seq_len:,} (the model's context) "
              "are used", file=sys.stderr)
    return ids[-model.config.max_seq_len:]


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
