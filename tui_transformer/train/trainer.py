"""The training loop: one function, :func:`run_training`, for the CLI, the TUI and ``torchrun``.

One optimizer step, in order::

    lr = schedule(step)                          warmup, then cosine to a floor (train.schedule)
    batches = the next accumulation cycle        accumulation_steps micro-batches, fewer at an epoch end
    loss = accumulate_gradients(batches)         forward, mean cross-entropy, backward (train.accumulation)
    stop if the loss is NaN or inf               the last good checkpoint stays on disk
    norm = clip_grad_norm(grad_clip)             the norm *before* clipping is what gets logged
    optimizer.step(); zero the gradients         AdamW (train.optimizer)

and around it: validation every ``eval_interval`` steps and at the end, a sample every
``sample_interval``, a checkpoint every ``checkpoint_interval`` and at the end, a ``StepMetrics``
event every ``log_interval`` steps. Budgets (steps, tokens, seconds, epochs) end the run; the first
one reached is the reason in ``RunFinished``.

The loop runs in the caller's thread (the TUI runs it in a worker thread), so it never installs
signal handlers or exits the process. It checks ``stop`` between steps (then saves a checkpoint
and returns), and while ``pause`` is set it waits between steps. Evaluation and sampling run under
``torch.random.fork_rng``, so they never move the random stream that dropout draws from: a run
with evaluations produces the same weights as one without, and a resumed run the same as a straight one.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from tui_transformer.data.loader import StopRequested
from tui_transformer.errors import UserError
from tui_transformer.train import checkpoint as ckpt
from tui_transformer.train import config_file, distributed
from tui_transformer.train.accumulation import accumulate_gradients
from tui_transformer.train.config import TrainConfig
from tui_transformer.train.device import choose_precision, resolve_device
from tui_transformer.model.perplexity import mean_loss, perplexity_of
from tui_transformer.train.evaluate import verdict
from tui_transformer.train.events import (CheckpointSaved, EvalResult, Event, EventCallback, LogMessage, RunFailed,
                                          RunFinished, RunStarted, Sample, ShardStatus, StepMetrics)
from tui_transformer.train.metrics import METRICS_FILE, MetricsWriter
from tui_transformer.train.optimizer import build_optimizer
from tui_transformer.train.runs import (CHECKPOINTS, CONFIG_FILE, RUNNING_FILE, SAMPLES_FILE, TOKENIZER_FILE,
                                        clear_running, create_run_dir, is_running, mark_running, resolve_run)
from tui_transformer.train.schedule import CosineSchedule

SHARD_STATUS_EVERY_S = 10.0


@dataclass(frozen=True)
class RunSummary:
    """What a finished call to :func:`run_training` reports back."""

    run_dir: str
    run_name: str
    step: int
    reason: str  # a budget ("max_steps", "max_tokens", "max_time", "epochs"), "stopped" or "diverged"
    tokens_seen: int
    final_val_loss: float | None
    best_val_loss: float | None
    checkpoint: str | None


def _budget_reached(c: TrainConfig, step: int, tokens_seen: int, elapsed_s: float, epoch: int) -> str | None:
    """The first budget of ``c`` that these counters have reached, or None."""
    if c.max_steps is not None and step >= c.max_steps:
        return "max_steps"
    if c.max_tokens is not None and tokens_seen >= c.max_tokens:
        return "max_tokens"
    if c.max_time is not None and elapsed_s >= c.max_time:
        return "max_time"
    if c.epochs is not None and epoch > c.epochs:
        return "epochs"
    return None


class TrainingDiverged(Exception):
    """The loss became NaN or inf; carries the user-facing reason."""


def run_training(config: TrainConfig, on_event: EventCallback | None = None, stop: threading.Event | None = None,
                 pause: threading.Event | None = None, resume: str | Path | None = None,
                 preset_reason: str = "") -> RunSummary:
    """Train per ``config``; ``resume`` (a run name or directory) continues that run from its latest checkpoint.

    Errors the user can fix raise :class:`~tui_transformer.errors.UserError` after a ``RunFailed``
    event; a diverged loss returns with ``reason="diverged"`` after a ``RunFailed`` event.
    """
    trainer = Trainer(config, on_event, stop or threading.Event(), pause or threading.Event(), preset_reason)
    try:
        trainer.setup(resume)
        return trainer.train()
    except BaseException as error:
        trainer.fail(error)
        raise
    finally:
        trainer.close()


class Trainer:
    def __init__(self, config: TrainConfig, on_event: EventCallback | None, stop: threading.Event,
                 pause: threading.Event, preset_reason: str) -> None:
        self.config = config
        self.on_event = on_event
        self.stop = stop
        self.pause = pause
        self.preset_reason = preset_reason
        self.env = distributed.detect()
        self.metrics: MetricsWriter | None = None
        self.early_events: list[Event] = []
        self.run_dir: Path | None = None
        self.new_run_dir = False  # this process created run_dir (not a resume)
        self.run_files_written = False  # config.toml is there: the run can be listed and resumed
        self.source = None
        self.loader = None
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
        self.last_shard_status: dict | None = None

    # ---- events --------------------------------------------------------------------------------

    def emit(self, event: Event) -> None:
        if not self.env.is_main:
            return
        if self.metrics is not None:
            self.metrics.write(event)
        else:
            self.early_events.append(event)  # written once the run directory exists
        if self.on_event is not None:
            self.on_event(event)

    def log(self, message: str, level: str = "info") -> None:
        self.emit(LogMessage(level=level, message=message))

    def fail(self, error: BaseException) -> None:
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

    # ---- setup ---------------------------------------------------------------------------------

    def setup(self, resume: str | Path | None) -> None:
        from tui_transformer.data import BatchLoader, get_tokenizer, open_source
        from tui_transformer.model import DecoderTransformer

        config = self.config
        self.device = distributed.init(self.env, resolve_device(config.device))
        self.precision = choose_precision(self.device, config.amp)
        payload = self._read_resume(resume)

        self.log(f"opening data {config.data!r} and tokenizer {config.tokenizer!r}"
                 + (" (trained on the data on first use, then cached)" if config.tokenizer.startswith("bpe-") else ""))
        self.source = open_source(config.data, val_fraction=config.val_fraction)
        self.tokenizer = self._rank0_first(lambda: get_tokenizer(config.tokenizer, source=self.source))
        config = self.config = config.with_overrides(model_vocab_size=self.tokenizer.vocab_size)
        if payload is not None:
            ckpt.check_compatible(payload, config.model.to_dict(), self.tokenizer.identity(), self.resume_path)
        self._open_run_dir()

        torch.manual_seed(config.seed)  # the same initial weights on every rank
        random.seed(config.seed)
        self.model = DecoderTransformer(config.model).to(self.device)
        torch.manual_seed(config.seed + self.env.rank)  # but each rank its own dropout masks
        self.optimizer = build_optimizer(self.model, config, self.device)
        self.scaler = torch.amp.GradScaler("cuda") if self.precision.use_grad_scaler else None
        self.schedule = self._schedule()

        seq_len = config.model.max_seq_len
        self.loader = BatchLoader(self.source, self.tokenizer, split="train", batch_size=config.batch_size,
                                  seq_len=seq_len, rank=self.env.rank, world_size=self.env.world_size, seed=config.seed)
        val_loader = BatchLoader(self.source, self.tokenizer, split="val", batch_size=config.batch_size,
                                 seq_len=seq_len, rank=self.env.rank, world_size=self.env.world_size, seed=config.seed)
        try:
            self.val_batches = val_loader.fixed_batches(config.eval_batches)
        finally:
            val_loader.close()

        if payload is not None:
            self._restore(payload)
        self.train_model = self._wrap(self.model)
        self._write_run_files()
        self.emit(RunStarted(run_dir=str(self.run_dir), run_name=self.run_dir.name, config=config.to_dict(),
                             device=f"{self.device} ({self.precision.name})", preset=config.preset,
                             preset_reason=self.preset_reason, n_params=sum(p.numel() for p in self.model.parameters()),
                             data_notice=getattr(self.source, "notice", "") or "", resumed_from_step=self.step))
        self._emit_shard_status()

    def _read_resume(self, resume: str | Path | None) -> dict[str, Any] | None:
        """The checkpoint to continue from (None for a new run); refuses a run that another process is training."""
        if resume is None:
            return None
        run_dir = resolve_run(resume)
        if self.env.is_main and is_running(run_dir):
            raise UserError(f"run {run_dir.name} is being trained right now by another process; stop it first")
        self.resume_path = ckpt.find(run_dir)
        payload = ckpt.load(self.resume_path, map_location="cpu")
        self._refuse_a_spent_budget(run_dir, payload)
        self.run_dir = run_dir
        return payload

    def _refuse_a_spent_budget(self, run_dir: Path, payload: dict[str, Any]) -> None:
        """A resume whose budget is already used up would only re-evaluate and log a second ending.

        Checked before the run directory is touched, so a finished run stays listed as finished.
        """
        c = self.config
        loader_epoch = payload["ranks"][0]["loader"]["epoch"]
        epoch = payload["tokens_seen"] // c.tokens_per_epoch + 1 if c.tokens_per_epoch else loader_epoch + 1
        reason = _budget_reached(c, payload["step"], payload["tokens_seen"], payload["elapsed_s"], epoch)
        if reason is not None:
            flag = "--" + reason.replace("_", "-")
            raise UserError(f"run {run_dir.name} has already reached its {reason.replace('_', ' ')} budget "
                            f"(step {payload['step']}); give a larger {flag} to train it further")

    def _open_run_dir(self) -> None:
        """Create the run directory (rank 0 picks the name) unless resuming; start its metrics file."""
        if self.run_dir is None:
            path = create_run_dir(self.config) if self.env.is_main else None
            self.run_dir = Path(distributed.broadcast(str(path) if path else None, self.env))
            self.new_run_dir = True
        if self.env.is_main:
            self.metrics = MetricsWriter(self.run_dir)
            for event in self.early_events:
                self.metrics.write(event)
            mark_running(self.run_dir)

    def _rank0_first(self, make):
        """Run ``make`` on rank 0 first (it may train and cache a tokenizer), then on the others from the cache."""
        if not self.env.enabled:
            return make()
        if self.env.is_main:
            value = make()
            torch.distributed.barrier()
        else:
            torch.distributed.barrier()
            value = make()
        return value

    def _schedule(self) -> CosineSchedule:
        c = self.config
        per_step = c.tokens_per_step * self.env.world_size
        horizons = [c.max_steps] if c.max_steps else []
        if c.max_tokens:
            horizons.append(math.ceil(c.max_tokens / per_step))
        if c.epochs and c.tokens_per_epoch:
            horizons.append(math.ceil(c.epochs * c.tokens_per_epoch / per_step))
        return CosineSchedule.for_run(c.lr, min(horizons) if horizons else None, c.warmup_frac, c.min_lr_ratio)

    def _wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        """The module the training steps run through: compiled and/or DDP-wrapped; eval and samples use the plain one."""
        if self.config.compile:
            model = torch.compile(model)
        if self.env.enabled:
            from torch.nn.parallel import DistributedDataParallel

            ids = [torch.device(self.device).index] if self.device.startswith("cuda") else None
            model = DistributedDataParallel(model, device_ids=ids)
        return model

    def _write_run_files(self) -> None:
        if not self.env.is_main:
            return
        config_file.write(self.config, self.run_dir / CONFIG_FILE)
        self.run_files_written = True
        copy = self.run_dir / TOKENIZER_FILE
        if self.tokenizer.name.startswith("bpe-") and not copy.exists():
            # a trained tokenizer lives in the cache, which may be cleaned: the run keeps its own copy
            from tui_transformer.data.bpe import write_tiktoken_file

            ranks = self.tokenizer.encoding._mergeable_ranks
            write_tiktoken_file(copy, sorted(ranks, key=ranks.__getitem__))

    # ---- checkpoints ---------------------------------------------------------------------------

    def _payload(self) -> dict[str, Any]:
        """The checkpoint dict (collective under DDP: every rank contributes its loader position and RNG)."""
        ranks = distributed.gather({"loader": self.loader.state_dict(), "rng": ckpt.capture_rng_state()}, self.env)
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "schedule": self.schedule.state_dict(),
            "scaler": self.scaler.state_dict() if self.scaler else None,
            "step": self.step,
            "tokens_seen": self.tokens_seen,
            "elapsed_s": self.elapsed(),
            "best_val_loss": self.best_val_loss,
            "world_size": self.env.world_size,
            "ranks": ranks,
            "config": self.config.to_dict(),
            "tokenizer": self.tokenizer.identity(),
        }

    def save_checkpoint(self, kinds: tuple[str, ...] = ("latest",)) -> None:
        payload = self._payload()  # every rank takes part: the payload gathers each rank's data position
        if "latest" in kinds:
            self.latest_saved_step = self.step
        if not self.env.is_main:
            return
        for kind in kinds:
            path = self.run_dir / CHECKPOINTS / f"{kind}.pt"
            ckpt.save(payload, path)
            if kind == "latest":
                self.last_checkpoint = path
            self.emit(CheckpointSaved(step=self.step, path=str(path), kind=kind))

    def _restore(self, payload: dict[str, Any]) -> None:
        if payload["world_size"] != self.env.world_size:
            raise UserError(f"run {self.run_dir.name} was trained on {payload['world_size']} process(es) and can "
                            f"only resume on as many (this is {self.env.world_size}): each has its own data position")
        self.model.load_state_dict(payload["model"])
        self.optimizer.load_state_dict(payload["optimizer"])
        if self.scaler is not None and payload.get("scaler"):
            self.scaler.load_state_dict(payload["scaler"])
        self.step = payload["step"]
        self.tokens_seen = payload["tokens_seen"]
        self.elapsed_before = payload["elapsed_s"]
        self.best_val_loss = payload["best_val_loss"]
        mine = payload["ranks"][self.env.rank]
        self.loader.load_state_dict(mine["loader"])
        ckpt.restore_rng_state(mine["rng"])
        self.last_checkpoint = self.resume_path
        self.latest_saved_step = self.step

    # ---- budgets and time ----------------------------------------------------------------------

    def elapsed(self) -> float:
        """Seconds of training in this run so far, all sessions, pauses excluded."""
        if self.session_start is None:
            return self.elapsed_before
        return self.elapsed_before + time.monotonic() - self.session_start - self.paused_s

    def epoch(self, extra_tokens: int = 0) -> int:
        """The epoch in progress, from 1: by ``tokens_per_epoch`` if set, else by passes over the data."""
        if self.config.tokens_per_epoch:
            return (self.tokens_seen + extra_tokens) // self.config.tokens_per_epoch + 1
        return self.loader.epoch + 1

    def budget_reached(self) -> str | None:
        return _budget_reached(self.config, self.step, self.tokens_seen, self.elapsed(), self.epoch())

    # ---- the loop ------------------------------------------------------------------------------

    def train(self) -> RunSummary:
        self.session_start, self.paused_s = time.monotonic(), 0.0
        step_times: deque[float] = deque(maxlen=20)
        last_shard_status = time.monotonic()
        reason = None
        self.model.train()
        while reason is None:
            # time and a rank's own epoch count can differ between ranks: all follow rank 0's decision
            reason = distributed.broadcast(self.budget_reached(), self.env)
            if reason is None and self._should_stop():
                reason = "stopped"
            if reason is not None:
                break
            started = time.monotonic()
            try:
                loss, grad_norm, lr, n_tokens = self.optimizer_step()
            except TrainingDiverged as diverged:
                return self._diverged(str(diverged))
            except StopRequested:  # while waiting for data (a slow download): the step never happened
                reason = "stopped"
                break
            self.step += 1
            self.tokens_seen += n_tokens
            self.recent_losses.append(loss)
            step_times.append(time.monotonic() - started)
            if self.step % self.config.log_interval == 0:
                self._emit_step(loss, grad_norm, lr, n_tokens, step_times)
            if self.step % self.config.eval_interval == 0:
                self.run_eval()
            if self.step % self.config.sample_interval == 0:
                self.sample()
            if self.step % self.config.checkpoint_interval == 0:
                self.save_checkpoint()
            if time.monotonic() - last_shard_status > SHARD_STATUS_EVERY_S:
                self._emit_shard_status()
                last_shard_status = time.monotonic()
        return self._finish(reason)

    def _should_stop(self) -> bool:
        paused_at = time.monotonic()
        while self.pause.is_set() and not self.stop.is_set():
            time.sleep(0.05)
        self.paused_s += time.monotonic() - paused_at
        return distributed.any_rank(self.stop.is_set(), self.env, self.device)

    def next_cycle(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """The micro-batches of one optimizer step: ``accumulation_steps``, or fewer if an epoch ends inside.

        A stop while a batch is still being prepared raises StopRequested, with the loader put back
        where the step began, so the checkpoint saved next resumes exactly. Under DDP every rank must
        take part in every step, so there the wait is not cut short.
        """
        batches = []
        per_batch = self.config.batch_size * self.config.model.max_seq_len * self.env.world_size
        start_epoch = self.epoch()
        start = self.loader.position
        stop = None if self.env.enabled else self.stop
        try:
            for _ in range(self.config.accumulation_steps):
                batches.append(self.loader.next_batch(stop))
                ended = self.epoch(extra_tokens=len(batches) * per_batch) != start_epoch
                if distributed.any_rank(ended, self.env, self.device):
                    break
        except StopRequested:
            self.loader.rewind(start)
            raise
        return batches

    def optimizer_step(self) -> tuple[float, float, float, int]:
        lr = self.schedule.lr_at(self.step)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        batches = self.next_cycle()
        loss = accumulate_gradients(self.train_model, batches, self.config.accumulation_steps, self.device,
                                    autocast=lambda: self.precision.autocast(self.device), scaler=self.scaler)
        loss = distributed.mean(loss, self.env, self.device)
        if self.scaler is not None:
            self.scaler.unscale_(self.optimizer)
        clip = self.config.grad_clip if self.config.grad_clip > 0 else float("inf")
        grad_norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), clip).item()
        bad_norm = not math.isfinite(grad_norm) and self.scaler is None  # fp16 overflow is the scaler's business
        if not math.isfinite(loss) or bad_norm:
            self.optimizer.zero_grad(set_to_none=True)
            what = f"loss {loss}" if not math.isfinite(loss) else f"gradient norm {grad_norm}"
            raise TrainingDiverged(f"training diverged at step {self.step + 1}: {what}. Try a lower --lr "
                                   f"(now {self.config.lr:g}) or a stronger --grad-clip")
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        n_tokens = len(batches) * self.config.batch_size * self.config.model.max_seq_len * self.env.world_size
        return loss, grad_norm, lr, n_tokens

    def _emit_step(self, loss: float, grad_norm: float, lr: float, n_tokens: int, step_times: deque[float]) -> None:
        mean_step = sum(step_times) / len(step_times)
        horizon = self.schedule.total_steps
        eta = None
        if horizon:
            eta = max(0, horizon - self.step) * mean_step
        if self.config.max_time is not None:
            left = max(0.0, self.config.max_time - self.elapsed())
            eta = left if eta is None else min(eta, left)
        self.emit(StepMetrics(step=self.step, max_steps=horizon or 0, epoch=self.epoch(), loss=loss,
                              ppl=perplexity_of(loss), lr=lr, grad_norm=grad_norm,
                              tokens_per_sec=n_tokens / mean_step if mean_step > 0 else 0.0,
                              tokens_seen=self.tokens_seen, elapsed_s=self.elapsed(), eta_s=eta))

    # ---- evaluation and samples ----------------------------------------------------------------

    def run_eval(self) -> float:
        """Validation loss on the fixed batches (averaged over ranks); saves ``best.pt`` on a new best."""
        with torch.random.fork_rng(devices=self._rng_devices()):
            val_loss, _ = mean_loss(self.model, self.val_batches, autocast=lambda: self.precision.autocast(self.device))
        val_loss = distributed.mean(val_loss, self.env, self.device)
        train_loss = sum(self.recent_losses) / len(self.recent_losses) if self.recent_losses else float("nan")
        self.last_val_loss = val_loss
        self.emit(EvalResult(step=self.step, val_loss=val_loss, val_ppl=perplexity_of(val_loss), train_loss=train_loss,
                             verdict=verdict(val_loss, train_loss)))
        if math.isfinite(val_loss) and (self.best_val_loss is None or val_loss < self.best_val_loss):
            self.best_val_loss = val_loss
            self.save_checkpoint(("best",))
        return val_loss

    def sample(self) -> None:
        if not self.env.is_main:
            return
        from tui_transformer.model import SamplingConfig, generate

        prompt = self.config.sample_prompt
        ids = self.tokenizer.encode(prompt) or [self.tokenizer.eot_id]
        sampling = SamplingConfig(temperature=0.8, top_k=50, seed=self.config.seed + self.step)
        with torch.random.fork_rng(devices=self._rng_devices()):
            self.model.eval()
            try:
                new = list(generate(self.model, ids, max_new_tokens=self.config.sample_tokens, sampling=sampling,
                                    use_cache=True, eos_id=self.tokenizer.eot_id))
            finally:
                self.model.train()
        text = self.tokenizer.decode(new)
        with open(self.run_dir / SAMPLES_FILE, "a", encoding="utf-8") as file:
            file.write(f"--- step {self.step}\n{prompt}{text}\n")
        self.emit(Sample(step=self.step, prompt=prompt, text=text))

    def _rng_devices(self) -> list[int]:
        """The CUDA device whose generator eval and sampling must leave untouched (none on CPU)."""
        if not self.device.startswith("cuda"):
            return []
        index = torch.device(self.device).index
        return [torch.cuda.current_device() if index is None else index]

    def _emit_shard_status(self) -> None:
        """A ShardStatus event when the source's status changed since the last one."""
        status = self.source.status() if hasattr(self.source, "status") else {}
        if status == self.last_shard_status:
            return
        self.last_shard_status = status
        self.emit(ShardStatus(source=self.source.name, description=getattr(self.source, "description", ""),
                              status=status))

    # ---- endings -------------------------------------------------------------------------------

    def _check_replicas(self) -> None:
        """Under DDP, prove that every rank holds the same weights (they must, after each all-reduced step)."""
        if not self.env.enabled:
            return
        digests = distributed.gather(ckpt.digest({"model": self.model.state_dict()}), self.env)
        if len(set(digests)) != 1:
            raise RuntimeError(f"DDP replicas diverged: weight digests per rank {digests}")
        self.log(f"DDP: the {self.env.world_size} replicas hold identical weights (sha256 {digests[0][:12]})")

    def _finish(self, reason: str) -> RunSummary:
        evaluated_now = self.step % self.config.eval_interval == 0 and self.last_val_loss is not None
        if reason != "stopped" and self.step > 0 and not evaluated_now:
            self.run_eval()  # the final validation; a user's stop skips it to return promptly
        self._check_replicas()
        if self.latest_saved_step != self.step:  # the periodic save may have just written this step
            self.save_checkpoint()
        self.emit(RunFinished(step=self.step, reason=reason, tokens_seen=self.tokens_seen,
                              final_val_loss=self.last_val_loss))
        return self._summary(reason)

    def _diverged(self, message: str) -> RunSummary:
        kept = f"; the last good checkpoint ({self.last_checkpoint}) is kept" if self.last_checkpoint else \
            "; no checkpoint had been saved yet"
        self.log(message + kept, level="error")
        self.emit(RunFailed(step=self.step, reason=message))
        self.failed = True
        return self._summary("diverged")

    def _summary(self, reason: str) -> RunSummary:
        return RunSummary(run_dir=str(self.run_dir), run_name=self.run_dir.name, step=self.step, reason=reason,
                          tokens_seen=self.tokens_seen, final_val_loss=self.last_val_loss,
                          best_val_loss=self.best_val_loss,
                          checkpoint=str(self.last_checkpoint) if self.last_checkpoint else None)

    def close(self) -> None:
        if self.loader is not None:
            self.loader.close()
        if self.source is not None:
            self.source.close()
        if self.metrics is not None:
            self.metrics.close()
        if self.run_dir is not None and self.env.is_main:
            clear_running(self.run_dir)
            if self.new_run_dir and not self.run_files_written:
                self._remove_unstarted_run_dir()
        distributed.shutdown(self.env)

    def _remove_unstarted_run_dir(self) -> None:
        """Undo a new run directory whose setup failed (bad data, a tokenizer error, no network).

        Without its config.toml it can be neither listed nor resumed, yet it would keep its
        ``--name`` taken. Only the files setup writes are removed, so nothing else is ever lost.
        """
        for name in (METRICS_FILE, RUNNING_FILE):
            (self.run_dir / name).unlink(missing_ok=True)
        for folder in (self.run_dir / CHECKPOINTS, self.run_dir):
            try:
                folder.rmdir()  # only if empty
            except OSError:
                return
