"""The training loop: one function, :func:`run_training`, for the CLI, the TUI and ``torchrun``.

One optimizer step, in order::

    batches = the next accumulation cycle        accumulation_steps micro-batches, fewer at an epoch end
    loss = accumulate_gradients(batches)         forward, mean cross-entropy, backward (train.accumulation)
    stop if the loss is NaN or inf               the last good checkpoint stays on disk
    norm = clip_grad_norm(grad_clip)             the norm *before* clipping is what gets logged
    lr = schedule(peak, horizon)                 warm-up, then cosine or wsd to a floor (train.schedule),
                                                 for each optimizer's own peak, at this step or second
    optimizer.step(); zero the gradients         AdamW, or Muon and AdamW (train.optimizer)

and around it: validation every ``eval_interval`` steps and at the end, a sample every
``sample_interval``, a checkpoint every ``checkpoint_interval`` and at the end, a ``StepMetrics``
event every ``log_interval`` steps. Budgets (steps, tokens, seconds, epochs; train.budget) end the
run; the first one reached is the reason in ``RunFinished``, and the one nearest its end is the
schedule's horizon (train.budget.horizon_at).

Before the loop, train.setup gets the session ready (the resume, the data, the run folder, the model,
the validation batches), phase by phase. Around the loop, other modules keep the bookkeeping: train.runs
the run directory, train.checkpoint what a checkpoint holds and how a resume puts it back,
train.reporter where the events go, train.doctor the alerts, train.distributed the DDP collectives.

The loop runs in the caller's thread (the TUI runs it in a worker thread), so it never installs
signal handlers or exits the process. It checks ``stop`` between steps (then saves a checkpoint
and returns), and while ``pause`` is set it waits between steps. Evaluation and sampling run under
``torch.random.fork_rng``, so they never move the random stream that dropout draws from: a run
with evaluations produces the same weights as one without, and a resumed run the same as a straight one.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import torch

from tui_transformer.data.loader import StopRequested
from tui_transformer.interpret.induction import probe_induction
from tui_transformer.model import SamplingConfig, generate
from tui_transformer.model.tools.perplexity import evaluate, perplexity_of
from tui_transformer.train import checkpoint as ckpt
from tui_transformer.train import distributed, kept_checkpoints
from tui_transformer.train.accumulation import accumulate_gradients
from tui_transformer.train.budget import Horizon, budget_reached, epoch_of, eta_s, horizon_at, horizon_steps
from tui_transformer.train.config import TrainConfig
from tui_transformer.train.doctor import LEARN_TRAINING, Finding
from tui_transformer.train.evaluate import verdict
from tui_transformer.train.events import (Alert, CheckpointSaved, EvalResult, EventCallback, RunFailed, RunFinished,
                                          Sample, StepMetrics)
from tui_transformer.train.run_state import STOPPED_REASON
from tui_transformer.train.runs import CHECKPOINTS, SAMPLES_FILE
from tui_transformer.train.setup import StoppedInSetup, TrainingSetup

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


class TrainingDiverged(Exception):
    """The loss became NaN or inf; carries the user-facing reason."""


def run_training(config: TrainConfig, on_event: EventCallback | None = None, stop: threading.Event | None = None,
                 pause: threading.Event | None = None, resume: str | Path | None = None,
                 preset_reason: str = "") -> RunSummary:
    """Train per ``config``; ``resume`` (a run name or directory) continues that run from its latest checkpoint,
    or from the one given (a file in the run's checkpoints/, e.g. best.pt).

    Errors the user can fix raise :class:`~tui_transformer.errors.UserError` after a ``RunFailed``
    event; a diverged loss returns with ``reason="diverged"`` after a ``RunFailed`` event. A stop
    during setup returns ``reason="stopped"`` with nothing written (``run_name`` "" for a new run).
    """
    trainer = Trainer(config, on_event, stop or threading.Event(), pause or threading.Event(), preset_reason)
    try:
        trainer.setup(resume)
        return trainer.train()
    except StoppedInSetup:
        return trainer.stopped_in_setup()
    except BaseException as error:
        trainer.fail(error)
        raise
    finally:
        trainer.close()


class Trainer(TrainingSetup):
    """One call of :func:`run_training`: :meth:`setup` (train.setup), :meth:`train`, then :meth:`close`."""

    def stopped_in_setup(self) -> RunSummary:
        """The summary of a session stopped before its first step: a resumed run is as it was, a new one gone."""
        kept = self.run_dir is not None and not self.new_run
        step = ckpt.Progress.of(self.payload).step if self.payload is not None else 0
        return RunSummary(run_dir=str(self.run_dir) if kept else "", run_name=self.run_dir.name if kept else "",
                          step=step, reason=STOPPED_REASON, tokens_seen=0, final_val_loss=None, best_val_loss=None,
                          checkpoint=str(self.resume_path) if self.payload is not None else None)

    # ---- budgets and time ----------------------------------------------------------------------

    def elapsed(self) -> float:
        """Seconds of training in this run so far, all sessions, pauses excluded."""
        if self.session_start is None:
            return self.elapsed_before
        return self.elapsed_before + time.monotonic() - self.session_start - self.paused_s

    def epoch(self, extra_tokens: int = 0) -> int:
        return epoch_of(self.config, self.tokens_seen + extra_tokens, self.loader.epoch)

    def budget_reached(self) -> str | None:
        return budget_reached(self.config, self.step, self.tokens_seen, self.elapsed(), self.epoch())

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
                reason = STOPPED_REASON
            if reason is not None:
                break
            started = time.monotonic()
            try:
                loss, grad_norm, lr, n_tokens = self.optimizer_step()
            except TrainingDiverged as diverged:
                return self._diverged(str(diverged))
            except StopRequested:  # while waiting for data (a slow download): the step never happened
                reason = STOPPED_REASON
                break
            self.step += 1
            self.tokens_seen += n_tokens
            self.recent_losses.append(loss)
            self.report(self.doctor.after_step(self.step, loss, grad_norm, self.epoch()))
            step_times.append(time.monotonic() - started)
            if self.system.due():
                self.emit(self.system.sample(self.step, n_tokens * len(step_times) / sum(step_times)))
            if self.step % self.config.log_interval == 0:
                self._emit_step(loss, grad_norm, lr, n_tokens, step_times)
            if self.step % self.config.eval_interval == 0:
                self.run_eval()
            if self.step % self.config.sample_interval == 0:
                self.sample()
            if self.step % self.config.checkpoint_interval == 0:
                self.save_checkpoint()
            if self.config.keep_every and self.step % self.config.keep_every == 0:
                self.keep_weights()
            if time.monotonic() - last_shard_status > SHARD_STATUS_EVERY_S:
                self.reporter.source_status(self.source)
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
        start_epoch = self.epoch()
        start = self.loader.position
        stop = None if self.env.enabled else self.stop
        try:
            for _ in range(self.config.accumulation_steps):
                batches.append(self.loader.next_batch(stop))
                ended = self.epoch(extra_tokens=len(batches) * self.tokens_per_batch) != start_epoch
                if distributed.any_rank(ended, self.env, self.device):
                    break
        except StopRequested:
            self.loader.rewind(start)
            raise
        return batches

    def optimizer_step(self) -> tuple[float, float, float, int]:
        """One optimizer step; returns (loss, gradient norm before clipping, AdamW's learning rate, tokens)."""
        batches = self.next_cycle()
        loss = accumulate_gradients(self.train_model, batches, self.config.accumulation_steps, self.device,
                                    autocast=lambda: self.precision.autocast(self.device), scaler=self.scaler)
        loss = distributed.mean(loss, self.env, self.device)
        parts = self.optimizer.optimizers.values()
        if self.scaler is not None:
            for part in parts:
                self.scaler.unscale_(part)
        clip = self.config.grad_clip if self.config.grad_clip > 0 else float("inf")
        grad_norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), clip).item()
        bad_norm = not math.isfinite(grad_norm) and self.scaler is None  # fp16 overflow is the scaler's business
        if not math.isfinite(loss) or bad_norm:
            self.optimizer.zero_grad(set_to_none=True)
            what = f"loss {loss}" if not math.isfinite(loss) else f"gradient norm {grad_norm}"
            muon = f" or --muon-lr (now {self.config.muon_lr:g})" if self.config.optimizer == "muon" else ""
            raise TrainingDiverged(f"training diverged at step {self.step + 1}: {what}. Try a lower --lr "
                                   f"(now {self.config.lr:g}){muon} or a stronger --grad-clip")
        horizon = self._horizon()
        lrs = self.optimizer.set_lrs(lambda peak: self.schedule.lr_at(peak, horizon))
        if self.scaler is not None:
            for part in parts:
                self.scaler.step(part)
            self.scaler.update()
        else:
            self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return loss, grad_norm, lrs["adamw"], len(batches) * self.tokens_per_batch

    def _horizon(self) -> Horizon:
        """Where the run stands on its horizon as this update is applied. Under DDP every rank reads rank 0's
        clock: the ranks' clocks differ a little, and a time horizon's rates must not (the replicas step alike)."""
        elapsed = distributed.broadcast(self.elapsed(), self.env)
        return horizon_at(self.config, self.env.world_size, self.step, elapsed)

    def _emit_step(self, loss: float, grad_norm: float, lr: float, n_tokens: int, step_times: deque[float]) -> None:
        mean_step, elapsed = sum(step_times) / len(step_times), self.elapsed()
        horizon = horizon_steps(self.config, self.env.world_size)
        self.emit(StepMetrics(step=self.step, max_steps=horizon or 0, epoch=self.epoch(), loss=loss,
                              ppl=perplexity_of(loss), lr=lr, grad_norm=grad_norm,
                              tokens_per_sec=n_tokens / mean_step if mean_step > 0 else 0.0,
                              tokens_seen=self.tokens_seen, elapsed_s=elapsed,
                              eta_s=eta_s(self.config, horizon, self.step, mean_step, elapsed)))

    # ---- evaluation and samples ----------------------------------------------------------------

    def run_eval(self) -> float:
        """Validation loss and bits per byte on the fixed batches (averaged over ranks), and the
        induction probe on its fixed repeated sequences; saves ``best.pt`` on a new best."""
        with torch.random.fork_rng(devices=self._rng_devices()):
            scored = evaluate(self.model, self.val_batches, autocast=lambda: self.precision.autocast(self.device),
                              token_bytes=self.tokenizer.token_byte_counts())
            probe = None if self.induction_tokens is None else probe_induction(
                self.model, self.induction_tokens, self.induction_tokens.shape[1] // 2)
        val_loss = distributed.mean(scored.loss, self.env, self.device)
        val_bpb = None if scored.bpb is None else distributed.mean(scored.bpb, self.env, self.device)
        train_loss = sum(self.recent_losses) / len(self.recent_losses) if self.recent_losses else float("nan")
        self.last_val_loss = val_loss
        self.report(self.doctor.after_eval(self.step, val_loss, train_loss))
        self.emit(EvalResult(step=self.step, val_loss=val_loss, val_ppl=perplexity_of(val_loss), train_loss=train_loss,
                             verdict=verdict(val_loss, train_loss), val_bpb=val_bpb,
                             in_context_learning=None if probe is None else probe.in_context_learning,
                             induction_score=None if probe is None else probe.best_prefix_matching))
        if math.isfinite(val_loss) and (self.best_val_loss is None or val_loss < self.best_val_loss):
            self.best_val_loss = val_loss
            self.save_checkpoint(("best",))
        return val_loss

    def sample(self) -> None:
        """A sample of the model at this step, into samples.txt and a Sample event (rank 0)."""
        if not self.env.is_main:
            return
        prompt = self.config.sample_prompt
        ids = self.tokenizer.encode(prompt) or [self.tokenizer.eot_id]
        sampling = SamplingConfig(temperature=0.8, top_k=50, seed=self.config.seed + self.step)
        with torch.random.fork_rng(devices=self._rng_devices()):  # generate itself switches to eval mode and back
            new = list(generate(self.model, ids, max_new_tokens=self.config.sample_tokens, sampling=sampling,
                                use_cache=True, eos_id=self.tokenizer.eot_id))
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

    # ---- checkpoints ---------------------------------------------------------------------------

    def save_checkpoint(self, kinds: tuple[str, ...] = ("latest",)) -> None:
        """Save this step as ``kinds`` (latest, best); under DDP every rank must call it."""
        ranks = distributed.gather(ckpt.rank_state(self.loader), self.env)  # each rank's data position and RNG
        if "latest" in kinds:
            self.latest_saved_step = self.step
        if not self.env.is_main:
            return
        progress = ckpt.Progress(self.step, self.tokens_seen, self.elapsed(), self.best_val_loss)
        payload = ckpt.training_payload(self.model, self.optimizer, self.scaler, progress, ranks,
                                        self.config.to_dict(), self.tokenizer.identity())
        for kind in kinds:
            path = self.run_dir / CHECKPOINTS / f"{kind}.pt"
            ckpt.save(payload, path)
            if kind == "latest":
                self.last_checkpoint = path
            self.emit(CheckpointSaved(step=self.step, path=str(path), kind=kind))

    def keep_weights(self) -> None:
        """The weights at this step, kept for ``eval --all-checkpoints`` (train.kept_checkpoints); rank 0."""
        if not self.env.is_main:
            return
        path = kept_checkpoints.keep(self.model, self.run_dir, self.step, self.config.to_dict(),
                                     self.tokenizer.identity())
        self.emit(CheckpointSaved(step=self.step, path=str(path), kind="kept"))

    # ---- endings -------------------------------------------------------------------------------

    def _check_replicas(self) -> None:
        """Under DDP, prove that every rank holds the same weights (they must, after each all-reduced step)."""
        if not self.env.enabled:
            return
        digest = distributed.same_on_every_rank(ckpt.digest({"model": self.model.state_dict()}), self.env)
        self.log(f"DDP: the {self.env.world_size} replicas hold identical weights (sha256 {digest[:12]})")

    def _finish(self, reason: str) -> RunSummary:
        evaluated_now = self.step % self.config.eval_interval == 0 and self.last_val_loss is not None
        if reason != STOPPED_REASON and self.step > 0 and not evaluated_now:
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
        self.report([Finding("not a number", message, LEARN_TRAINING)])  # the doctor's table lists it too
        self.emit(RunFailed(step=self.step, reason=message))
        self.failed = True
        return self._summary("diverged")

    def report(self, findings: list[Finding]) -> None:
        """The doctor's findings as Alert events, and its notes as lines of the log."""
        for finding in findings:
            if finding.alert:
                self.emit(Alert(step=self.step, rule=finding.rule, message=finding.message, learn=finding.learn))
            else:
                self.log(finding.message)

    def _summary(self, reason: str) -> RunSummary:
        return RunSummary(run_dir=str(self.run_dir), run_name=self.run_dir.name, step=self.step, reason=reason,
                          tokens_seen=self.tokens_seen, final_val_loss=self.last_val_loss,
                          best_val_loss=self.best_val_loss,
                          checkpoint=str(self.last_checkpoint) if self.last_checkpoint else None)
