"""``tui-transformer eval --run RUN --text FILE``: how well a trained model predicts a text.

Prints the mean cross-entropy per token (the loss), the perplexity ``exp(loss)``, the bits per byte
(the summed loss over the UTF-8 bytes of the predicted text, in bits: comparable across tokenizers)
and the number of predicted tokens and bytes. The text is cut into consecutive windows of the model's context length; each
token is predicted from the tokens before it in its window.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tui_transformer.commands.generate import add_model_source


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("eval", help="loss and perplexity of a trained model on a text file",
                                   description=__doc__.split("\n\n")[0])
    add_model_source(parser)
    parser.add_argument("--text", required=True, metavar="FILE", help="a UTF-8 text file")
    parser.add_argument("--batch-size", type=int, default=8, help="windows per forward pass")
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
    from tui_transformer.model.tools.perplexity import evaluate, perplexity_of

    path = Path(args.text).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"text file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"cannot read {path} as UTF-8 text: {error}") from None
    if args.batch_size < 1:
        raise UserError(f"--batch-size must be at least 1, got {args.batch_size}")
    model, tokenizer, config = load_for_inference(args.run or args.checkpoint, args.device)
    ids = tokenizer.encode(text)
    if len(ids) < 2:
        raise UserError(f"{path} holds {len(ids)} token(s); at least 2 are needed to predict one")
    scored = evaluate(model, windows(ids, config.model.max_seq_len, args.batch_size),
                      token_bytes=tokenizer.token_byte_counts())
    result = {"file": str(path), "loss": scored.loss, "perplexity": perplexity_of(scored.loss), "bpb": scored.bpb,
              "tokens": scored.tokens, "bytes": scored.bytes, "tokenizer": tokenizer.name}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{path.name}: loss {scored.loss:.4f}, perplexity {result['perplexity']:,.2f}, "
              f"{scored.bpb:.4f} bits per byte over {scored.tokens:,} tokens ({scored.bytes:,} bytes, {tokenizer.name})")
    return 0
