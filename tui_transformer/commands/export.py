"""``tui-transformer export RUN --format hf|safetensors --out DIR``: use a trained model elsewhere.

``hf`` writes a folder that Hugging Face ``transformers`` loads with no custom code (GPT-2 or
GPT-NeoX, whichever computes exactly what the run's model does); ``safetensors`` writes our own
weights and config in the safe format, which ``generate``, ``eval`` and the Playground also take.
``--verify`` loads the hf folder back with transformers (the optional ``hf`` extra) and prints the
largest logit difference.
"""

from __future__ import annotations

import argparse

VERIFY_TEXT = "The quick brown fox jumps over the lazy dog. def main():\n    return 42\n"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("export", help="write a run's model as a Hugging Face or safetensors folder",
                                   description=__doc__.split("\n\n")[0])
    parser.add_argument("run", help="a run name, run directory, checkpoint (.pt) or safetensors export")
    parser.add_argument("--format", choices=("hf", "safetensors"), default="hf", help="default hf")
    parser.add_argument("--out", required=True, metavar="DIR", help="the folder to create")
    parser.add_argument("--force", action="store_true", help="replace --out if it exists")
    parser.add_argument("--verify", action="store_true",
                        help="hf only: load the folder with transformers and compare logits and token ids")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tui_transformer.errors import UserError
    from tui_transformer.interop.exports import export_run

    if args.verify and args.format != "hf":
        raise UserError("--verify checks an hf export; it needs --format hf")
    if args.verify:
        from tui_transformer.interop.hf_extra import require_transformers

        require_transformers()  # before writing anything: a missing extra is one line, not a half-done job
    done = export_run(args.run, args.out, args.format, args.force)
    print(f"wrote {done.out} ({done.architecture}): {', '.join(done.files)}")
    if args.verify:
        from tui_transformer.interop.hf_export import verify

        check = verify(done.out, done.model, done.tokenizer, VERIFY_TEXT)
        print(f"verified with transformers: max |logit difference| {check['max_abs_diff']:.2e} over "
              f"{check['tokens']} tokens; token ids {'equal' if check['ids_equal'] else 'DIFFER'}")
        if check["max_abs_diff"] > 1e-4 or not check["ids_equal"]:
            raise UserError("the export does not reproduce the model; please report this")
    return 0
