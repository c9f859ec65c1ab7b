"""Everything before a training run's first step: the state of one session and the phases that fill it.

:class:`TrainingSetup` is the base of :class:`~tui_transformer.train.trainer.Trainer`: this file gets a
session ready, ``train.trainer`` runs the loop. The phases, in order::

    read the resume       the run's lock first, then its checkpoint (refused if its budget is spent)
    open the data         the source, the tokenizer (trained on first use, its progress shown live),
                          whether a step fits in memory
    open the run folder   a new run's folder, locked, with config.toml written first
    build the model       weights from the seed, the optimizer, the LR schedule, the doctor, the system sampler
    read val batches      the fixed validation batches and the induction probe's sequences
    start                 a resume's state put back, then RunStarted into metrics.jsonl

``stop`` is checked between phases (:class:`StoppedInSetup`). The slow phases (the corpus, a tokenizer
to train) run before a new run's folder exists, and the session's events reach ``metrics.jsonl`` only
when it starts, so a setup that is stopped or fails leaves a resumed run as it was and a new run not
at all. Under DDP every rank runs every phase; rank 0 alone names, locks and writes the run folder.
"""

from __future__ import annotations

import random
import threading
from collections import deque
from pathlib import Path
from typing import Any

import torch

from tui_transformer import progress
from tui_transformer.data.loader import BatchLoader
from tui_transformer.data.sources import is_hub_dataset
from tui_transformer.errors import UserError
from tui_transformer.interpret.induction import induction_probe_tokens, probe_length
from tui_transformer.model import DecoderTransformer
from tui_transformer.model.tools.flops import flops_per_token
from tui_transformer.train import checkpoint as ckpt
from tui_transformer.train import distributed
from tui_transformer.train.allocator import keep_freed_memory
from tui_transformer.train.budget import epoch_of, horizon_steps, refuse_a_spent_budget
from tui_transformer.train.config import TrainConfig
from tui_transformer.train.device import choose_precision, resolve_device
from tui_transformer.train.doctor import Doctor
from tui_transformer.train.events import EventCallback, RunFailed, RunStarted, SetupProgress
from tui_transformer.train.head_loss import ChunkedHeadLoss
from tui_transformer.train.memory import check_step_fits
from tui_transformer.train.optimizer import build_optimizer
from tui_transformer.train.peak import peak_flops
from tui_transformer.train.reporter import Reporter
from tui_transformer.train.resume_config import resume_config
from tui_transformer.train.runs import (CONFIG_FILE, TOKENIZER_FILE, RunDirectory, has_checkpoint,
                                        remove_dead_writers_temps)
from tui_transformer.train.schedule import build_schedule, warmup_steps
from tui_transformer.train.system import SystemSampler
from tui_transformer.train.validation import fixed_validation_batches


def refuse_an_imported_run(run_dir: Path) -> None:
    """An imported model (``import``) or a safetensors export holds weights only: no optimizer moments,
    no data position, no training tokenizer. Say so plainly instead of training it from scratch."""
    from tui_transformer.train.safetensors_run import find_export

    if find_export(run_dir) is not None:
        raise UserError(f"run {run_dir.name} was imported (or exported): it holds weights only, with no optimizer "
                        "state or data position, so it cannot be resumed or fine-tuned here; use it with "
                        "generate, eval, interpret or export")


class StoppedInSetup(Exception):
    """``stop`` was set before the first step: setup ends between two of its phases."""


class TrainingSetup:
    """One session's state, made ready by :meth:`setup` and released by :meth:`close`."""

    def __init__(self, config: TrainConfig, on_event: EventCallback | None, stop: threading.Event,
                 pause: threading.Event, preset_reason: str) -> None:
        self.config = config
        self.stop = stop
        self.pause = pause
        self.preset_reason = preset_reason
        self.env = distributed.detect()
        self.reporter = Reporter(on_event, self.env.is_main)
        self.emit, self.log = self.reporter.emit, self.reporter.log  # rank 0 reports, the others stay silent
        self.run_dir: Path | None = None
        self.run: RunDirectory | None = None  # rank 0's hold on run_dir: its lock, run files, cleanup
        self.payload: dict[str, Any] | None = None  # the checkpoint a resume continues from
        self.source = self.loader = None
        self.step = 0
        self.tokens_seen = 0
        self.elapsed_before = 0.0  # seconds trained in earlier sessions of this run
        self.best_val_loss: float | None = None
        self.last_val_loss: float | None = None
        self.last_checkpoint: Path | None = None
        self.latest_saved_step: int | None = None
        self.recent_losses: deque[float] = deque(maxlen=50)
        self.session_start: float | None = None
        self.paused_s = 0.0
        self.failed = False

    def fail(self, error: BaseException) -> None:
        """Report how the run failed, once (``run_training`` re-raises the error)."""
        if self.failed:
            return
        self.failed = True
        if isinstance(error, UserError):
            reason = str(error)
        elif isinstance(error, KeyboardInterrupt):
            reason = "interrupted"
        else:
            reason = f"{type(error).__name__}: {error}"
        self.emit(RunFailed(step=self.step, reason=reason))

    def setup(self, resume: str | Path | None) -> None:
        """Get ready to train, phase by phase (the module's docstring lists them); ``stop`` is honoured
        between phases (StoppedInSetup)."""
        self.new_run = resume is None
        self.device = distributed.init(self.env, resolve_device(self.config.device))
        if torch.device(self.device).type == "cpu":
            keep_freed_memory()  # no page faults for the step's big tensors (train.allocator)
        self.precision = choose_precision(self.device, self.config.amp)
        self.payload = self._read_resume(resume)
        with progress.reporting(self._show_progress):  # a corpus built, a tokenizer trained...: counts, live
            for phase in (self._open_data, self._open_run_dir, self._build_model, self._read_val_batches, self._start):
                self._check_stop()
                phase()

    def _check_stop(self) -> None:
        if distributed.any_rank(self.stop.is_set(), self.env, self.device):
            raise StoppedInSetup

    def _open_data(self) -> None:
        """The data source and the tokenizer; then whether a training step can fit in memory at all."""
        from tui_transformer.data import get_tokenizer, open_source  # looked up per call: tests substitute a source

        config = self.config
        self.log(f"opening data {config.data!r} and tokenizer {config.tokenizer!r}"
                 + (" (trained on the data on first use, then cached)" if config.tokenizer.startswith("bpe-") else ""))
        named = {"text_column": config.text_column} if config.text_column else {}  # stand-in sources take none
        self.source = open_source(config.data, val_fraction=config.val_fraction, **named)
        if is_hub_dataset(config.data):  # the run's config records what was found: the column, the split
            found = self.source.status()
            config = self.config = config.with_overrides(text_column=found["text_column"], val_split=found["split"])
        own = self.source.own_tokenizer  # a source of ids (synthetic data) is written in one tokenizer only
        if own is not None and config.tokenizer != own:
            self.log(f"{config.data} is written in the {own!r} tokenizer's ids: using it, not {config.tokenizer!r}")
            config = self.config = config.with_overrides(tokenizer=own)
        self._check_stop()
        self.tokenizer = distributed.rank0_first(lambda: self._tokenizer(get_tokenizer), self.env)
        config = self.config = config.with_overrides(model_vocab_size=self.tokenizer.vocab_size)
        payload = self.payload
        if payload is not None:
            ckpt.check_compatible(payload, config.model.to_dict(), self.tokenizer, self.resume_path)
        activation_bytes = self.precision.dtype.itemsize if self.precision.dtype is not None else 4
        check_step_fits(config.model, config.batch_size, torch.device(self.device), activation_bytes)

    def _tokenizer(self, get_tokenizer):
        """The config's tokenizer; a resumed run given a ``.tiktoken`` file by path reads the run's own copy
        of it (the file may have moved since), checked against the checkpoint like any tokenizer."""
        from tui_transformer.data.tokenizer import load_tiktoken_file

        spec = self.config.tokenizer
        copy = self.run_dir / TOKENIZER_FILE if self.run_dir is not None else None
        if copy is not None and copy.is_file() and spec.endswith(".tiktoken"):
            return load_tiktoken_file(copy, name=Path(spec).stem)
        return get_tokenizer(spec, source=self.source)

    def _show_progress(self, report: progress.Progress) -> None:
        self.reporter.show(SetupProgress(report.stage, report.done, report.total, report.unit))

    def _read_resume(self, resume: str | Path | None) -> dict[str, Any] | None:
        """The checkpoint to continue from (None for a new run, or a run without a checkpoint yet).

        The run's lock is taken first, before anything is read or written: a second trainer is refused here.
        """
        if resume is None:
            return None
        run_dir = ckpt.run_of(resume)  # a run, or one of its checkpoint files (train --from best)
        refuse_an_imported_run(run_dir)
        if self.env.is_main:
            self.run = RunDirectory.resume(run_dir)
            remove_dead_writers_temps(run_dir)  # held by its lock now: a leftover's writer is dead
        self.run_dir = run_dir
        if not has_checkpoint(run_dir):  # set up, then killed before its first checkpoint: train it from the start
            self.log(f"run {run_dir.name} has no checkpoint yet; training it from step 0", level="warning")
            self._settle_config(run_dir, None)
            return None
        self.resume_path = ckpt.find(resume)
        payload = ckpt.load(self.resume_path, map_location="cpu")
        trained = TrainConfig.from_dict(payload["config"])
        self._settle_config(run_dir, trained)
        if self.config.optimizer != trained.optimizer:  # the saved moments belong to the other optimizer
            raise UserError(f"run {run_dir.name} was trained with --optimizer {trained.optimizer}, and a run cannot "
                            f"switch optimizers; resume it with --optimizer {trained.optimizer}, or start a new run")
        if self.resume_path.name != ckpt.LATEST and (self.resume_path.parent / ckpt.LATEST).is_file():
            self.log(f"resuming from {self.resume_path.name} (step {payload['step']}); this session's first save "
                     f"replaces the run's {ckpt.LATEST}", level="warning")
        done = ckpt.Progress.of(payload)  # checked before the run directory is touched: a finished run stays finished
        refuse_a_spent_budget(self.config, run_dir.name, done.step, done.tokens_seen, done.elapsed_s,
                              epoch_of(self.config, done.tokens_seen, payload["ranks"][0]["loader"]["epoch"]))
        self._say_if_the_schedule_shrinks(trained)
        return payload

    def _settle_config(self, run_dir: Path, trained: TrainConfig | None) -> None:
        """The resume's settings: config.toml only if unchanged since written, the flags, and a word on what
        differs from the checkpoint's (see train.resume_config)."""
        self.config, warnings = resume_config(run_dir / CONFIG_FILE, self.config, trained)
        for warning in warnings:
            self.log(warning, level="warning")

    def _say_if_the_schedule_shrinks(self, saved: TrainConfig) -> None:
        """A resume with a smaller budget re-fits the schedule to it: the rate falls faster from here. That is
        the rule (the schedule always ends at the budget); the log says so, and how to keep the old one."""
        before = horizon_steps(saved, self.env.world_size)
        now = horizon_steps(self.config, self.env.world_size)
        if before is not None and now is not None and now < before:
            self.log(f"the budget is now {now:,} steps, not the {before:,} this run was started with: the learning-"
                     f"rate schedule is fitted to the new budget, so the learning rate falls faster from here (resume "
                     f"with --max-steps {before} and stop early with Ctrl-C to keep the original schedule)",
                     level="warning")

    def _open_run_dir(self) -> None:
        """A new run's directory, locked and holding its config.toml (rank 0 picks the name); a resume has its own."""
        if self.run_dir is not None:
            return
        if self.env.is_main:
            self.run = RunDirectory.create(self.config, self.tokenizer)
        path = str(self.run.path) if self.run is not None else None
        self.run_dir = Path(distributed.broadcast(path, self.env))

    def _build_model(self) -> None:
        config = self.config
        torch.manual_seed(config.seed)  # the same initial weights on every rank
        random.seed(config.seed)
        self.model = DecoderTransformer(config.model).to(self.device)
        torch.manual_seed(config.seed + self.env.rank)  # but each rank its own dropout masks
        self.optimizer = build_optimizer(self.model, config, self.device)
        self.scaler = torch.amp.GradScaler("cuda") if self.precision.use_grad_scaler else None
        self.schedule = build_schedule(config)
        self.doctor = Doctor(config.model.vocab_size, config.grad_clip, warmup_steps(config, self.env.world_size),
                             config.tokens_per_epoch)
        self.system = SystemSampler(self.device, flops_per_token(config.model),
                                    lambda at_least: peak_flops(self.device, self.precision.dtype or torch.float32,
                                                                at_least))
        self.tokens_per_batch = config.batch_size * config.model.max_seq_len * self.env.world_size  # all ranks
        self.loader = self._loader("train")

    def _read_val_batches(self) -> None:
        """The fixed validation batches: ``eval_batches``, or all the val split holds if that is fewer."""
        wanted = self.config.eval_batches
        self.val_batches = fixed_validation_batches(self.source, self.tokenizer, self.config, self.env.rank,
                                                    self.env.world_size)
        if len(self.val_batches) < wanted:
            self.log(f"the validation split holds {len(self.val_batches):,} batches of {self.config.batch_size} x "
                     f"{self.config.model.max_seq_len} tokens, fewer than the {wanted:,} asked for (--eval-batches); "
                     "each evaluation uses those", level="warning")
        self.induction_tokens = induction_probe_tokens(self.val_batches, self.tokenizer.eot_id,
                                                       self.config.model.max_seq_len, probe_length(self.config.data))

    def _start(self) -> None:
        """The last phase: a resume's state put back, config.toml updated, then RunStarted into metrics.jsonl."""
        config = self.config
        if self.payload is not None:
            self._restore(self.payload)
        self.train_model = self._wrap(self.model)
        if self.run is not None:
            if not self.run.new:
                self.run.write_run_files(config, self.tokenizer)  # a resume's new flags (a larger budget)
            self.reporter.open(self.run_dir)
        self.emit(RunStarted(run_dir=str(self.run_dir), run_name=self.run_dir.name, config=config.to_dict(),
                             device=f"{self.device} ({self.precision.name})", preset=config.preset,
                             preset_reason=self.preset_reason, n_params=sum(p.numel() for p in self.model.parameters()),
                             data_notice=getattr(self.source, "notice", "") or "", resumed_from_step=self.step))
        if self.run is not None:
            self.run.started = True
        self.reporter.source_status(self.source)


    def _loader(self, split: str) -> BatchLoader:
        c = self.config
        return BatchLoader(self.source, self.tokenizer, split=split, batch_size=c.batch_size,
                           seq_len=c.model.max_seq_len, rank=self.env.rank, world_size=self.env.world_size, seed=c.seed)

    def _wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        """The module the training steps run through: the model with the trainer's chunked head loss
        (:mod:`.head_loss`), compiled and/or DDP-wrapped; eval and samples use the plain model."""
        step_module = ChunkedHeadLoss(model)
        return distributed.wrap(torch.compile(step_module) if self.config.compile else step_module, self.env,
                                self.device)

    def _restore(self, payload: dict[str, Any]) -> None:
        done = ckpt.restore_training(payload, self.model, self.optimizer, self.scaler, self.loader, self.env.rank,
                                     self.env.world_size, self.run_dir.name)
        self.step, self.tokens_seen, self.elapsed_before = done.step, done.tokens_seen, done.elapsed_s
        self.best_val_loss = done.best_val_loss
        self.last_checkpoint = self.resume_path
        self.latest_saved_step = self.step


    def close(self) -> None:
        if self.loader is not None:
            self.loader.close()
        if self.source is not None:
            self.source.close()
        self.reporter.close()
        if self.run is not None:
            self.run.close()
        distributed.shutdown(self.env)
