"""``tui-transformer generate``: continue a prompt with a trained model, streaming to stdout.

The sampler settings start from ``--preset`` (greedy, precise, balanced, creative, very-creative;
default balanced) and single flags override them. ``--seed`` makes a sample repeatable.
"""

from __future__ import annotations

import argparse
import sys

SAMPLER_PRESET_NAMES = ("greedy", "precise", "balanced", "creative", "very-creative")
SAMPLER_FLAGS = [
    ("--temperature", "temperature", float, "0 means greedy; higher is more random"),
    ("--top-k", "top_k", int, "keep the k most likely tokens (0: off)"),
    ("--top-p", "top_p", float, "keep the smallest set of tokens whose probability reaches p"),
    ("--min-p", "min_p", float, "drop tokens below min_p times the top probability"),
    ("--repetition-penalty", "repetition_penalty", float, "above 1 discourages repeating tokens (CTRL rule)"),
    ("--seed", "seed", int, "random seed of the sampler"),
]


def add_model_source(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--run", help="a run name or run directory (uses its latest checkpoint)")
    where.add_argument("--checkpoint", help="a checkpoint file (.pt)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("generate", help="generate text from a trained model", description=__doc__.split("\n\n")[0])
    add_model_source(parser)
    parser.add_argument("--prompt", required=True, help="the text to continue")
    parser.add_argument("--max-new-tokens", type=int, default=100, help="tokens to generate (default 100)")
    parser.add_argument("--preset", choices=SAMPLER_PRESET_NAMES, default="balanced", help="sampler preset")
    for flag, dest, kind, text in SAMPLER_FLAGS:
        parser.add_argument(flag, dest=dest, type=kind, default=None, help=text)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from tui_transformer.errors import ConfigError, UserError
    from tui_transformer.data.text_stream import TextStream
    from tui_transformer.model import SAMPLER_PRESETS, generate
    from tui_transformer.train.safetensors_run import find_export
    from tui_transformer.train.checkpoint import find, load_for_inference
    from tui_transformer.train.device import resolve_device

    if args.max_new_tokens < 1:
        raise UserError(f"--max-new-tokens must be at least 1, got {args.max_new_tokens}")
    changes = {dest: getattr(args, dest) for _, dest, _, _ in SAMPLER_FLAGS if getattr(args, dest) is not None}
    try:
        sampling = replace(SAMPLER_PRESETS[args.preset], **changes)
    except ValueError as error:  # the sampler validates its values with a message naming the bad one
        raise ConfigError(str(error)) from None
    device = resolve_device(args.device)  # a bad device is the first thing to say, before any file
    source = args.run or args.checkpoint
    # a run means its latest checkpoint (say which file that is); an export or an imported run is its folder
    checkpoint = find_export(source) or find(source)
    model, tokenizer, _ = load_for_inference(checkpoint, device)
    print(f"generating with {checkpoint}", file=sys.stderr)  # stderr: stdout is the text alone
    prompt_ids = tokenizer.encode(args.prompt) or [tokenizer.eot_id]
    stream = TextStream(tokenizer)  # never prints half a character
    sys.stdout.write(args.prompt)
    for token_id in generate(model, prompt_ids, max_new_tokens=args.max_new_tokens, sampling=sampling,
                             use_cache=True, eos_id=tokenizer.eot_id):
        sys.stdout.write(stream.push(token_id))
        sys.stdout.flush()
    sys.stdout.write(stream.flush() + "\n")
    return 0
