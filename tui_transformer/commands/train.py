"""``tui-transformer train --no-ui``: train from the command line, showing the run's events with rich.

Settings come in three layers, each overriding single fields of the one before: the preset
(``--preset``, default ``auto``), a TOML file (``--config FILE``), then the flags. ``--resume RUN``
starts from that run's saved ``config.toml`` instead of a preset; flags still override it (for
instance a larger ``--max-steps`` to train further). It continues from the run's ``latest.pt``;
``--from best`` continues from its ``best.pt`` instead (the lowest validation loss, or the one left
when latest.pt is damaged).

Ctrl-C or SIGTERM asks the trainer to stop: it saves a checkpoint, and the command exits 128 plus
the signal's number, the shell's convention: 130 after Ctrl-C (SIGINT), 143 after SIGTERM. A
second Ctrl-C aborts at once. Without ``--no-ui``, on a terminal, the dashboard opens on the Train
screen and starts the same run there; where stdout is not a terminal (a pipe, a log file, a job
under ``torchrun``) the command trains headless, as with ``--no-ui``.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from contextlib import contextmanager
from typing import Any

from tui_transformer.arguments import boolean, nonempty
from tui_transformer.sizes import parse_size

TIME_SUFFIXES = {"": 1, "s": 1, "m": 60, "h": 3600}
RESUME_FROM = ("latest", "best")  # --from: the run's checkpoints/latest.pt or best.pt


def count(text: str) -> int:
    """A count with an optional K/M/B (or G) suffix: ``100M`` -> 100_000_000 (see :mod:`tui_transformer.sizes`)."""
    try:
        value = parse_size(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number like 5000, 100k or 100M, got {text!r}") from None
    if abs(value - round(value)) > 1e-6:  # 1.5 steps is no count; 1.5M is (the tolerance: 0.1 * 10**6 in float)
        raise argparse.ArgumentTypeError(f"expected a whole number like 5000, 100k or 1.5M, got {text!r}")
    return round(value)


def duration(text: str) -> float:
    """Seconds, with an optional s/m/h suffix: ``10m`` -> 600."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhSMH]?)\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"expected a duration like 600, 90s, 10m or 1.5h, got {text!r}")
    return float(match.group(1)) * TIME_SUFFIXES[match.group(2).lower()]


def keep_every(text: str):
    """``--keep-every``: a step count, or ``eval`` for the eval interval (resolved by :func:`keeping_at_evals`)."""
    return "eval" if text.strip().lower() == "eval" else count(text)


# (flag, TrainConfig field or model_<field>, type, help)
SETTINGS = [
    ("--data", "data", nonempty, "auto, builtin, fineweb, hf:OWNER/NAME[:CONFIG] (any Hub dataset), hf:FOLDER, "
                            "synthetic:repeats[:ids=32:min=4:max=16:seed=0] (generated, for circuits), "
                            "or a path (.txt/.md file or folder, .jsonl, .parquet)"),
    ("--text-column", "text_column", str, "the column of an hf: dataset to train on (default: text, content or story)"),
    ("--tokenizer", "tokenizer", nonempty, "cl100k_base, gpt2, o200k_base, bpe-<vocab>, letters or a .tiktoken file"),
    ("--val-fraction", "val_fraction", float, "share of documents held out for validation"),
    ("--device", "device", nonempty, "auto, cpu, cuda, cuda:N or mps"),
    ("--seed", "seed", int, "random seed: the same seed gives the same data order, initial weights and dropout; "
                            "on CPU the losses then agree within 1e-5 (sums over threads may round apart), "
                            "not bit for bit"),
    ("--batch-size", "batch_size", int, "sequences per micro-batch"),
    ("--accumulation-steps", "accumulation_steps", int, "micro-batches per optimizer step"),
    ("--lr", "lr", float, "peak learning rate"),
    ("--min-lr-ratio", "min_lr_ratio", float, "the schedule's floor as a fraction of the peak"),
    ("--warmup-frac", "warmup_frac", float, "share of the steps spent warming up"),
    ("--weight-decay", "weight_decay", float, "weight decay (2-D weights only; Muon's shrinks as much per step)"),
    ("--grad-clip", "grad_clip", float, "clip the gradient norm to this (0: off)"),
    ("--optimizer", "optimizer", str, "adamw, or muon (Muon for the blocks' matrices, AdamW for the rest)"),
    ("--muon-lr", "muon_lr", float, "Muon's peak learning rate (with --optimizer muon; --lr stays AdamW's)"),
    ("--schedule", "schedule", str, "cosine, or wsd (warm-up, flat at the peak, linear warm-down)"),
    ("--warmdown-frac", "warmdown_frac", float, "share of the run in wsd's linear warm-down"),
    ("--max-steps", "max_steps", count, "stop after this many optimizer steps"),
    ("--max-tokens", "max_tokens", count, "stop after this many training tokens (e.g. 10M)"),
    ("--max-time", "max_time", duration, "stop after this much training time (e.g. 600, 10m, 1h)"),
    ("--epochs", "epochs", int, "stop after this many epochs"),
    ("--tokens-per-epoch", "tokens_per_epoch", count, "define an epoch as this many tokens (e.g. 100M)"),
    ("--eval-interval", "eval_interval", int, "validate every N steps"),
    ("--eval-batches", "eval_batches", int, "validation batches per evaluation"),
    ("--sample-interval", "sample_interval", int, "generate a sample every N steps"),
    ("--sample-prompt", "sample_prompt", str, "prompt of the samples"),
    ("--checkpoint-interval", "checkpoint_interval", int, "save latest.pt every N steps"),
    ("--log-interval", "log_interval", int, "report step metrics every N steps"),
    ("--keep-every", "keep_every", keep_every, "also keep the weights every N steps, or 'eval' at each evaluation, "
                                               "for `eval --all-checkpoints` (4 bytes per parameter each; default off)"),
    ("--run-dir", "run_dir", nonempty, "parent folder of the run directory (default: the user data dir)"),
    ("--name", "run_name", nonempty, "name of the run directory"),
    ("--vocab-size", "model_vocab_size", int, argparse.SUPPRESS),  # always taken from the tokenizer
    ("--d-model", "model_d_model", int, "model width"),
    ("--n-layers", "model_n_layers", int, "transformer blocks"),
    ("--n-heads", "model_n_heads", int, "attention heads"),
    ("--d-ff", "model_d_ff", int, "feed-forward width"),
    ("--seq-len", "model_max_seq_len", int, "context length T"),
    ("--dropout", "model_dropout", float, "dropout rate"),
    ("--pos-encoding", "model_pos_encoding", str, "sinusoidal, learned, rope or alibi"),
    ("--attention", "model_attention", str, "explicit (the readable reference) or sdpa (fused)"),
    ("--norm", "model_norm", str, "layernorm or rmsnorm (no centring, no shift)"),
    ("--bias", "model_bias", boolean, "biases in every Linear and LayerNorm: true or false"),
    ("--qk-norm", "model_qk_norm", boolean, "RMS-normalise each head's queries and keys: true or false"),
    ("--activation", "model_activation", str, "feed-forward activation: gelu, gelu_tanh, relu2 or swiglu"),
    ("--zero-init-proj", "model_zero_init_proj", boolean,
     "start the attention output and FFN down projections at zero: true or false"),
    ("--logit-softcap", "model_logit_softcap", float, "cap the logits softly at ±c as c·tanh(z/c) (0: off)"),
    ("--tie-weights", "model_tie_weights", boolean, "the LM head reuses the embedding matrix: true or false"),
]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("train", help="train a model (headless with --no-ui)",
                                   description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-ui", action="store_true", help="print progress instead of opening the dashboard")
    parser.add_argument("--preset", type=nonempty, help="tiny, seed, gpt2-small or auto (default: auto)")
    parser.add_argument("--config", metavar="FILE", type=nonempty, help="TOML file overriding the preset")
    parser.add_argument("--resume", metavar="RUN", type=nonempty,
                        help="continue a run (name or directory) from its latest checkpoint")
    parser.add_argument("--from", dest="resume_from", choices=RESUME_FROM, default=None,
                        help="with --resume: the checkpoint to continue from (default: latest)")
    parser.add_argument("--compile", action="store_true", default=None, help="torch.compile the model (GPUs)")
    parser.add_argument("--no-amp", dest="amp", action="store_false", default=None,
                        help="train in float32 on CUDA too (default: bf16 autocast)")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--quiet", action="store_true", help="print only the final summary")
    output.add_argument("--json-events", action="store_true", help="print each event as one JSON line")
    for flag, dest, kind, text in SETTINGS:
        parser.add_argument(flag, dest=dest, type=kind, default=None, help=text)
    parser.set_defaults(func=run)


def overrides_from(args: argparse.Namespace) -> dict:
    """The flags given, as config overrides (``--keep-every eval`` is applied by :func:`keeping_at_evals`)."""
    keys = [dest for _, dest, _, _ in SETTINGS] + ["compile", "amp"]
    return {key: getattr(args, key) for key in keys if getattr(args, key) not in (None, "eval")}


def keeping_at_evals(config, args: argparse.Namespace):
    """``config`` keeping the weights at each evaluation when ``--keep-every eval`` was given."""
    if getattr(args, "keep_every", None) == "eval":
        return config.with_overrides(keep_every=config.eval_interval)
    return config


def build(args: argparse.Namespace):
    """(TrainConfig, one line on where it came from) for these arguments."""
    from tui_transformer.presets import build_config
    from tui_transformer.train.config_file import read_overrides
    from tui_transformer.train.runs import load_run_config

    overrides = overrides_from(args)
    if args.resume:
        if args.preset:
            from tui_transformer.errors import UserError

            raise UserError("--resume continues a run with its own config; drop --preset (flags still override)")
        base = load_run_config(args.resume)
        file_values = read_overrides(args.config) if args.config else {}
        config = base.with_overrides(**{**file_values, **overrides})
        return keeping_at_evals(config, args), f"{base.preset}: resumed run {args.resume}"
    config, reason = build_config(args.preset, overrides.get("device", "auto"), args.config, overrides)
    return keeping_at_evals(config, args), reason


def resume_target(args: argparse.Namespace) -> str | None:
    """What the trainer continues from: the run (its latest.pt), or with ``--from best`` that run's best.pt."""
    if args.resume_from is not None and not args.resume:
        from tui_transformer.errors import UserError

        raise UserError(f"--from {args.resume_from} picks the checkpoint that --resume continues from; "
                        f"add --resume RUN")
    if args.resume_from in (None, "latest"):
        return args.resume
    from tui_transformer.train import checkpoint

    return str(checkpoint.find(args.resume, checkpoint.BEST))


def run(args: argparse.Namespace) -> int:
    if not args.no_ui and sys.stdin.isatty() and sys.stdout.isatty():
        resume = resume_target(args)
        return _run_in_dashboard(*build(args), resume)  # the dashboard asks before it stops a run
    # Installed first, before the seconds of importing torch and opening the data: a SIGTERM that
    # early must still end in the same clean way as one during training.
    with stop_on_signals() as (stop, interrupted):
        return _train(args, stop, interrupted)


@contextmanager
def stop_on_signals():
    """``with stop_on_signals() as (stop, interrupted):`` SIGINT and SIGTERM set ``stop`` and are
    appended to ``interrupted``; a second one raises KeyboardInterrupt (stop waiting for the
    checkpoint). The previous handlers come back on exit."""
    import signal
    import threading

    stop = threading.Event()
    interrupted: list[int] = []

    def on_signal(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        interrupted.append(signum)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop, interrupted
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _train(args: argparse.Namespace, stop, interrupted: list) -> int:
    from tui_transformer.train import run_training

    resume = resume_target(args)
    config, reason = build(args)
    if interrupted:
        print("stopped before training started; nothing was written", file=sys.stderr)
        return signal_exit_code(interrupted)
    view = JsonView() if args.json_events else ProgressView(quiet=args.quiet)
    with view:
        summary = run_training(config, on_event=view.handle, stop=stop, resume=resume, preset_reason=reason)
    if summary.reason == "diverged":
        print(f"error: {view.failure}", file=sys.stderr)
        return 1
    if interrupted and not summary.run_name:  # stopped in setup: a new run leaves nothing behind
        print("stopped before training started; nothing was written", file=sys.stderr)
        return signal_exit_code(interrupted)
    if interrupted:
        print(f"stopped at step {summary.step}; continue with: tui-transformer train --no-ui --resume "
              f"{summary.run_name}", file=sys.stderr)
        return signal_exit_code(interrupted)
    return 0


def signal_exit_code(interrupted: list[int]) -> int:
    """128 plus the number of the first signal that stopped the command: 130 for SIGINT, 143 for SIGTERM."""
    return 128 + interrupted[0]


def _run_in_dashboard(config, reason: str, resume: str | None) -> int:
    from tui_transformer.tui.app import TuiTransformerApp

    app = TuiTransformerApp(train=(config, reason), resume=resume)
    app.run()
    return app.return_code or 0


class JsonView:
    """One JSON object per event on stdout, for pipes (``| jq``)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass

    failure = None

    def handle(self, event) -> None:
        from tui_transformer.train.events import RunFailed, to_json

        if isinstance(event, RunFailed):
            self.failure = event.reason

        print(to_json(event), flush=True)


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


# A data source's status fields, as words (value first); the paths and names already said are left out.
STATUS_WORDS = {"documents": "documents", "train_documents": "for training", "val_documents": "held out for validation",
                "files": "files", "chunks": "chunks", "text_column": "text column", "split": "validation from",
                "dataset": "dataset", "config": "config", "hits": "cache hits", "misses": "cache misses",
                "bytes": "", "total_bytes": "cached", "max_bytes": "cache limit", "bytes_downloaded": "downloaded",
                "max_shards": "shards at most", "corrupt_refetched": "corrupt shards fetched again",
                "metadata_rebuilt": "metadata rebuilds"}
STATUS_UNSAID = {"source", "cache_file", "path", "description", "corpus", "endpoint", "offline"}


def _status_words(status: dict) -> str:
    """``{"documents": 3852, "train_documents": 3450, "bytes": 1350000}`` -> ``3,852 documents, 3,450 for
    training, 1.35 MB``: the scalar fields of a data source's status, read aloud."""
    words = []
    for key, value in status.items():
        if key in STATUS_UNSAID or not isinstance(value, (int, float, str)) or isinstance(value, bool):
            continue
        label = STATUS_WORDS.get(key, key.replace("_", " "))
        if "bytes" in key and not isinstance(value, str):
            words.append(f"{value / 1e6:,.2f} MB {label}".rstrip())
        elif isinstance(value, str):
            words.append(f"{label} {value}")
        else:
            words.append(f"{value:,} {label}")
    return ", ".join(words)


class ProgressView:
    """A live progress bar on a terminal (plain lines elsewhere), and a line for each eval, sample and checkpoint."""

    def __init__(self, quiet: bool = False, stderr: bool = False) -> None:
        from rich.console import Console

        self.quiet = quiet
        self.console = Console(highlight=False, stderr=stderr)
        if not self.console.is_terminal:  # a pipe or a log file: one line per message, never wrapped
            self.console = Console(highlight=False, soft_wrap=True, stderr=stderr)
        self.progress = None
        self.task = None
        self.last_plain_step = 0
        self.last_plain_time = time.monotonic()
        self.failure: str | None = None
        self.last_shard_line = ""
        self.system_text = ""  # the latest SystemSample, appended to the progress line
        self.setup_progress = None  # the bars of the slow setup steps (the corpus, the tokenizer), before the run's
        self.setup_tasks: dict[str, Any] = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._end_setup_bars()
        self._end_bar()

    def _start_bar(self) -> None:
        """The live line of one run: ``step N/M``, the bar and the ETA always; the fields after them as
        many as fit (:meth:`_fields`)."""
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
        from rich.table import Column

        self._end_setup_bars()  # one live display at a time: the setup's bars stay printed above the run's
        self.progress = Progress(TextColumn("[bold]step"), MofNCompleteColumn(), BarColumn(bar_width=self._bar_width()),
                                 TextColumn("ETA {task.fields[eta]}"),
                                 TextColumn("{task.fields[info]}", table_column=Column(no_wrap=True,
                                                                                       overflow="ellipsis")),
                                 console=self.console, transient=False)
        self.progress.__enter__()
        self.task = None

    def _end_bar(self) -> None:
        """Draw the bar's last state and stop it, so that whatever prints next prints below it."""
        if self.progress is not None:
            self.progress.__exit__(None, None, None)
        self.progress = self.task = None

    def _bar_width(self) -> int:
        return 20 if self.console.width >= 100 else 10

    def _fields(self, e, room: int) -> str:
        """The secondary fields that fit in ``room`` characters: loss first, then speed, lr, |g|, ..."""
        from tui_transformer.terminal_text import fit_fields

        return fit_fields([(0, f"loss {e.loss:.4f}"), (1, f"{e.tokens_per_sec:,.0f} tok/s"), (2, f"lr {e.lr:.2e}"),
                           (3, f"|g| {e.grad_norm:.2f}"), (4, f"ppl {e.ppl:,.1f}"), (5, f"epoch {e.epoch}"),
                           (6, f"{e.tokens_seen:,} tok"), (7, self.system_text.strip())], room)

    def line(self, text: str) -> None:
        if not self.quiet:
            self.console.print(text)

    def handle(self, event) -> None:
        handler = getattr(self, f"on_{type(event).__name__}", None)
        if handler is not None:
            handler(event)

    def on_RunStarted(self, e) -> None:
        resumed = f", resumed from step {e.resumed_from_step}" if e.resumed_from_step else ""
        self.line(f"[bold]run[/] {e.run_name}  ({e.run_dir}){resumed}")
        self.line(f"preset {e.preset_reason or e.preset}; device {e.device}; {e.n_params / 1e6:.2f}M parameters")
        if e.data_notice:
            self.line(f"[yellow]data:[/] {e.data_notice}")

    def on_ShardStatus(self, e) -> None:
        details = _status_words(e.status or {})
        text = f"[dim]data {e.source}: {e.description}{'; ' + details if details else ''}[/]"
        if text != self.last_shard_line:  # nested counters change often; print what a reader can see change
            self.last_shard_line = text
            self.line(text)

    def on_StepMetrics(self, e) -> None:
        if self.console.is_terminal and not self.quiet:
            self._update_bar(e)
        elif not self.quiet:
            every = max(1, (e.max_steps or 100) // 20)  # about 20 lines a run, and one at least every 30 s
            if e.step - self.last_plain_step >= every or e.step == 1 or time.monotonic() - self.last_plain_time > 30:
                self.last_plain_step, self.last_plain_time = e.step, time.monotonic()
                total = f"/{e.max_steps}" if e.max_steps else ""
                info = self._fields(e, 10_000)
                self.console.print(f"step {e.step}{total}  ETA {_clock(e.eta_s)}  {info}")

    def _update_bar(self, e) -> None:
        if self.progress is None:
            self._start_bar()
        total = e.max_steps or None
        counter = 2 * len(str(e.max_steps or e.step)) + 1
        fixed = len("step ") + counter + 1 + self._bar_width() + 1 + len(f"ETA {_clock(e.eta_s)}") + 1
        fields = {"completed": e.step, "total": total, "eta": _clock(e.eta_s),
                  "info": self._fields(e, self.console.width - fixed - 1)}
        if self.task is None:
            self.task = self.progress.add_task("train", **fields)
        else:
            self.progress.update(self.task, **fields)

    def on_EvalResult(self, e) -> None:
        bpb = f", {e.val_bpb:.3f} bits/byte" if e.val_bpb is not None else ""
        self.line(f"[cyan]eval[/] step {e.step}: val loss {e.val_loss:.4f} (ppl {e.val_ppl:,.1f}{bpb}), "
                  f"train {e.train_loss:.4f} -> {e.verdict}")

    def on_SystemSample(self, e) -> None:
        gpu = f" · gpu {e.cuda_reserved / 1e9:.1f} GB" if e.cuda_reserved is not None else ""
        util = f" {e.gpu_util:.0f}%" if e.gpu_util is not None else ""
        self.system_text = f"  cpu {e.cpu_percent:.0f}% · rss {e.rss_bytes / 1e9:.2f} GB{gpu}{util} · mfu {e.mfu:.1%}"

    def on_Alert(self, e) -> None:
        self.line(f"[yellow]alert[/] step {e.step}: {e.message} (Learn: {e.learn})")

    def on_Sample(self, e) -> None:
        self.line(f"[magenta]sample[/] step {e.step}: {(e.prompt + e.text)!r}")

    def on_CheckpointSaved(self, e) -> None:
        self.line(f"[dim]checkpoint ({e.kind}) step {e.step} -> {e.path}[/]")

    def on_SetupProgress(self, e) -> None:
        """A bar per slow setup step on a terminal; elsewhere a line as each one starts and ends."""
        if self.console.is_terminal and not self.quiet:
            self._update_setup_bar(e)
        elif e.done in (0, e.total):
            self.line(f"[dim]{e.stage}: {'done, ' if e.done else ''}{e.total:,} {e.unit}[/]")

    def _update_setup_bar(self, e) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        if self.setup_progress is None:
            self.setup_progress = Progress(TextColumn("[bold]{task.description}"), MofNCompleteColumn(), BarColumn(),
                                           TextColumn("{task.fields[info]}"), console=self.console, transient=False)
            self.setup_progress.__enter__()
        task = self.setup_tasks.get(e.stage)
        if task is None:
            task = self.setup_tasks[e.stage] = self.setup_progress.add_task(e.stage, total=e.total, info=e.unit)
        self.setup_progress.update(task, completed=e.done, total=e.total)

    def _end_setup_bars(self) -> None:
        if self.setup_progress is not None:
            self.setup_progress.__exit__(None, None, None)
        self.setup_progress = None
        self.setup_tasks = {}

    def on_LogMessage(self, e) -> None:
        style = {"error": "red", "warning": "yellow"}.get(e.level, "dim")
        self.line(f"[{style}]{e.message}[/]")

    def on_RunFinished(self, e) -> None:
        self._end_bar()  # the summary is the last line: the bar's final state prints above it
        val = f", val loss {e.final_val_loss:.4f}" if e.final_val_loss is not None else ""
        self.console.print(f"[green]finished[/] ({e.reason}) at step {e.step}, {e.tokens_seen:,} tokens{val}")

    def on_RunFailed(self, e) -> None:
        self.failure = e.reason  # printed by run() as the one-line error

