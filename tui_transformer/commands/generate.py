"""``tui-transformer generate``: continue a prompt with a trained model, streaming to stdout.

The sampler settings start from ``--preset`` (``--list-presets`` shows them; default balanced) and
single flags override them. ``--seed`` makes a sample repeatable.

Without ``--prompt`` it reads prompts: on a terminal, an interactive loop (type a prompt, watch the
answer stream, repeat; ``/temp 0.8``, ``/top-k 40``, ``/preset creative`` and the like change the
sampler, ``/help`` lists them, ``/quit`` or Ctrl-D leaves); from a pipe, each line is a prompt.

Control characters in the prompt or the model's text (an escape sequence, a carriage return) are
shown escaped (``\\x1b``), never sent to the terminal. A prompt longer than the model's context is
cut to the tokens the model can see, with a note on stderr, and so is the stop at ``<|endoftext|>``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from tui_transformer.arguments import nonempty

SAMPLER_PRESET_NAMES = ("greedy", "precise", "balanced", "creative", "very-creative")
SAMPLER_FLAGS = [
    ("--temperature", "temperature", float, "0 means greedy; higher is more random"),
    ("--top-k", "top_k", int, "keep the k most likely tokens (0: off)"),
    ("--top-p", "top_p", float, "keep the smallest set of tokens whose probability reaches p"),
    ("--min-p", "min_p", float, "drop tokens below min_p times the top probability"),
    ("--repetition-penalty", "repetition_penalty", float, "above 1 discourages repeating tokens (CTRL rule)"),
    ("--seed", "seed", int, "random seed of the sampler"),
]
# the loop's commands: /NAME VALUE sets a SamplingConfig field (or the answer's length)
LOOP_SETTINGS = {"temp": ("temperature", float), "temperature": ("temperature", float), "top-k": ("top_k", int),
                 "top-p": ("top_p", float), "min-p": ("min_p", float), "rep": ("repetition_penalty", float),
                 "repetition-penalty": ("repetition_penalty", float), "seed": ("seed", int),
                 "tokens": ("max_new_tokens", int)}
LOOP_HELP = ("commands: /temp 0.8, /top-k 40, /top-p 0.9, /min-p 0.05, /rep 1.1, /seed 7 (/seed off), /tokens 200, "
             "/preset NAME (/presets lists them), /settings, /help, /quit (or Ctrl-D)")


def add_model_source(parser: argparse.ArgumentParser, required: bool = True) -> None:
    where = parser.add_mutually_exclusive_group(required=required)
    where.add_argument("--run", type=nonempty, help="a run name or run directory (uses its latest checkpoint)")
    where.add_argument("--checkpoint", type=nonempty, help="a checkpoint file (.pt)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("generate", help="generate text from a trained model", description=__doc__.split("\n\n")[0])
    add_model_source(parser, required=False)  # --list-presets needs no model
    parser.add_argument("--prompt", help="the text to continue (without it: read prompts, interactively on a terminal)")
    parser.add_argument("--max-new-tokens", type=int, default=100, help="tokens to generate (default 100)")
    parser.add_argument("--preset", choices=SAMPLER_PRESET_NAMES, default="balanced", help="sampler preset")
    parser.add_argument("--list-presets", action="store_true", help="print the sampler presets and exit")
    for flag, dest, kind, text in SAMPLER_FLAGS:
        parser.add_argument(flag, dest=dest, type=kind, default=None, help=text)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tui_transformer.errors import ConfigError, UserError
    from tui_transformer.interop.safetensors_export import find_export
    from tui_transformer.model import SAMPLER_PRESETS
    from tui_transformer.train.checkpoint import find, load_for_inference
    from tui_transformer.train.device import resolve_device

    if args.list_presets:
        print(presets_table(SAMPLER_PRESETS))
        return 0
    if not (args.run or args.checkpoint):
        raise UserError("generate needs a model: --run RUN or --checkpoint FILE")
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
    writer = Writer(model, tokenizer)
    if args.prompt is not None:
        writer.answer(args.prompt, sampling, args.max_new_tokens)
        return 0
    return Loop(writer, sampling, args.max_new_tokens, interactive=sys.stdin.isatty()).run()


def presets_table(presets: dict) -> str:
    """One line per sampler preset, its settings in the order the sampler applies them."""
    lines = []
    for name, config in presets.items():
        lines.append(f"{name:<14} temperature {config.temperature:g}, top-k {config.top_k or 'off'}, "
                     f"top-p {config.top_p:g}, min-p {config.min_p:g}, repetition penalty {config.repetition_penalty:g}")
    return "\n".join(lines)


class Writer:
    """Streams a prompt and its continuation to stdout, control characters escaped; notes on stderr."""

    def __init__(self, model, tokenizer) -> None:
        self.model, self.tokenizer = model, tokenizer

    def answer(self, prompt: str, sampling, max_new_tokens: int) -> None:
        from tui_transformer.data.text_stream import TextStream
        from tui_transformer.model import generate
        from tui_transformer.model.generation import window_keep
        from tui_transformer.terminal_text import visible

        tokenizer, context = self.tokenizer, self.model.config.max_seq_len
        ids = tokenizer.encode(prompt) or [tokenizer.eot_id]
        if len(ids) > context:  # generation slides its window to the last tokens; show what it sees
            kept = ids[-window_keep(context):]
            note(f"the prompt is {len(ids):,} tokens, longer than the model's context of {context:,}: it continues "
                 f"from the last {len(kept):,}")
            ids, prompt = kept, "…" + tokenizer.decode(kept)
        stream = TextStream(tokenizer)  # never prints half a character
        sys.stdout.write(visible(prompt))
        produced, ended = 0, False
        for token_id in generate(self.model, ids, max_new_tokens=max_new_tokens, sampling=sampling,
                                 use_cache=True, eos_id=tokenizer.eot_id):
            if token_id == tokenizer.eot_id:
                ended = True
                break
            produced += 1
            sys.stdout.write(visible(stream.push(token_id)))
            sys.stdout.flush()
        sys.stdout.write(visible(stream.flush()) + "\n")
        sys.stdout.flush()
        if ended:
            note(f"stopped at <|endoftext|> after {produced:,} tokens: the model ended its text")


def note(text: str) -> None:
    say(f"note: {text}")


class Loop:
    """Prompts, one after another: typed on a terminal (with ``> ``), or the lines of a pipe."""

    def __init__(self, writer: Writer, sampling, max_new_tokens: int, interactive: bool) -> None:
        self.writer, self.sampling, self.max_new_tokens, self.interactive = writer, sampling, max_new_tokens, interactive

    def run(self) -> int:
        if self.interactive:
            try:
                import readline  # noqa: F401  (line editing and history for input())
            except ImportError:
                pass
            print("type a prompt and press Enter; /help lists the commands; /quit or Ctrl-D leaves", file=sys.stderr)
        while (line := self.read()) is not None:
            text = line.rstrip("\n")
            if text.strip() in ("/quit", "/exit", "/q"):
                break
            if text.startswith("/"):
                self.command(text)
            elif text.strip():
                self.generate(text)
        return 0

    def read(self) -> str | None:
        """The next line, or None at the end: Ctrl-D or Ctrl-C at the prompt, or the pipe's end."""
        if not self.interactive:
            return sys.stdin.readline() or None
        try:
            return input("> ")
        except (EOFError, KeyboardInterrupt):
            print(file=sys.stderr)
            return None

    def generate(self, prompt: str) -> None:
        try:
            self.writer.answer(prompt, self.sampling, self.max_new_tokens)
        except KeyboardInterrupt:  # Ctrl-C while it writes stops this answer, not the loop
            print("\n(stopped)", file=sys.stderr)

    def command(self, text: str) -> None:
        """``/name value``: change a setting, or show them; a bad one is one line and changes nothing."""
        from tui_transformer.errors import ConfigError
        from tui_transformer.model import SAMPLER_PRESETS

        name, _, value = text[1:].strip().partition(" ")
        value = value.strip()
        try:
            if name == "help":
                say(LOOP_HELP)
            elif name == "settings":
                say(self.settings())
            elif name == "presets":
                say(presets_table(SAMPLER_PRESETS))
            elif name == "preset":
                if value not in SAMPLER_PRESETS:
                    raise ValueError(f"unknown preset {value!r}; /presets lists them")
                self.sampling = replace(SAMPLER_PRESETS[value], seed=self.sampling.seed)
                say(self.settings())
            elif name in LOOP_SETTINGS:
                self.set(*LOOP_SETTINGS[name], value)
                say(self.settings())
            else:
                raise ValueError(f"unknown command /{name}; /help lists them")
        except (ValueError, ConfigError) as error:
            say(f"error: {error}")

    def set(self, field: str, kind, value: str) -> None:
        if field == "seed" and value == "off":
            self.sampling = replace(self.sampling, seed=None)
            return
        try:
            parsed = kind(value)
        except ValueError:
            raise ValueError(f"/{field.replace('_', '-')} takes {'a whole number' if kind is int else 'a number'}, "
                             f"got {value!r}") from None
        if field == "max_new_tokens":
            if parsed < 1:
                raise ValueError(f"/tokens must be at least 1, got {parsed}")
            self.max_new_tokens = parsed
        else:
            self.sampling = replace(self.sampling, **{field: parsed})

    def settings(self) -> str:
        s = self.sampling
        return (f"temperature {s.temperature:g}, top-k {s.top_k or 'off'}, top-p {s.top_p:g}, min-p {s.min_p:g}, "
                f"repetition penalty {s.repetition_penalty:g}, seed {s.seed if s.seed is not None else 'off'}, "
                f"{self.max_new_tokens} tokens")


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
