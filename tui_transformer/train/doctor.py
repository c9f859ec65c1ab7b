"""The training doctor: plain-language alerts when a run goes wrong, and the idea that explains it.

Each rule is a small pure function over the recent history that returns a message or None. Its
threshold is named and explained beside it. :class:`Doctor` keeps that history as the run goes,
asks every rule after each step and each eval, and raises each rule's alert once per episode: a rule
that fired stays quiet for ``COOLDOWN_STEPS`` steps, and the data-repeating note comes once per
epoch.

==================  ====================================================  =========================
rule                fires when                                            the idea (Learn page)
==================  ====================================================  =========================
worse than guessing the train loss is above ``ln V`` (a uniform guess)    Model and training
loss spike          the train loss jumps well above its recent EMA        Model and training
overfitting         val rises while train falls, over several evals       Model and training
clipping            most recent updates were cut to under half          Model and training
plateau             no progress, with the loss still near ``ln V``        Model and training
data repeating      a new epoch: the same text is seen again (a note)     Tokenization
not a number        the loss or the gradient became NaN or inf            Model and training
==================  ====================================================  =========================

The last one stops the run (the trainer raises it with the divergence); the others only speak.

A new epoch is a **note** (``Finding.alert`` false: the log says it, no ⚠), not an alert: on a
small corpus a run of a few minutes passes over its text several times (the builtin corpus's
``tiny`` run about five), which is expected and harmless while val keeps improving. When the
repetition starts to hurt, val rises while train falls, and that is the overfitting alert.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

LEARN_TRAINING = "Model and training"
LEARN_TOKENIZATION = "Tokenization"

# A spike: the loss above its EMA by both SPIKE_RATIO and SPIKE_NATS (a ratio alone would fire on
# the noise of a loss near 0, a difference alone on the normal swings of a loss near 10), after
# MIN_STEPS steps, once the EMA has settled.
SPIKE_RATIO, SPIKE_NATS, EMA_DECAY = 1.3, 0.5, 0.9
MIN_STEPS = 20
# Worse than guessing: a uniform guess over V tokens scores ln V, and a fresh model starts near it.
# A loss GUESS_NATS above it, at any step, means the updates made the model worse than knowing
# nothing: almost always a learning rate far too high. It needs no history, so it speaks at once.
GUESS_NATS = 1.0
# Overfitting: OVERFIT_EVALS evals in a row where val rose and train fell.
OVERFIT_EVALS = 3
# Clipping: the norm was above CLIP_FACTOR · grad_clip (the update cut to under 1/CLIP_FACTOR of its
# size) in at least CLIP_SHARE of the last CLIP_WINDOW steps. A few clipped steps are what clipping is
# for. A norm just above the clip on most steps is normal too: a healthy small model's norm starts
# above 1 and rises again late in training (measured on the learning-rate lesson: medians 1.1-1.7 in
# runs that learn well, 2-3.6 at a learning rate 250 times too high).
CLIP_WINDOW, CLIP_SHARE, CLIP_FACTOR = 50, 0.8, 2.0
# Plateau: the mean loss of the last PLATEAU_WINDOW steps is within PLATEAU_NATS of the window
# before, while still above PLATEAU_FRACTION · ln V, and the warmup ended PLATEAU_WINDOW steps ago.
PLATEAU_WINDOW, PLATEAU_NATS, PLATEAU_FRACTION = 100, 0.02, 0.7
COOLDOWN_STEPS = 200


@dataclass(frozen=True)
class Finding:
    rule: str
    message: str
    learn: str  # the Learn page that explains it
    alert: bool = True  # False: a note for the log, nothing going wrong


def loss_spike(loss: float, ema: float | None, steps: int) -> str | None:
    if ema is None or steps < MIN_STEPS or not (loss > ema * SPIKE_RATIO and loss - ema > SPIKE_NATS):
        return None
    return (f"the train loss jumped to {loss:.2f} from a recent average of {ema:.2f}: a step that large often "
            "means the learning rate is too high for this batch size")


def worse_than_guessing(loss: float, vocab_size: int) -> str | None:
    uniform = math.log(vocab_size)
    if not loss > uniform + GUESS_NATS:
        return None
    return (f"the train loss is {loss:.2f}, above the {uniform:.2f} of a uniform guess over {vocab_size:,} tokens "
            "(ln V): the updates made the model worse than knowing nothing, so the learning rate is far too "
            "high (try a tenth of it)")


def overfitting(evals: list[tuple[float, float]]) -> str | None:
    """``evals``: ``(val_loss, train_loss)`` of the recent evals, oldest first."""
    recent = evals[-OVERFIT_EVALS:]
    if len(recent) < OVERFIT_EVALS:
        return None
    val_rising = all(b[0] > a[0] for a, b in zip(recent, recent[1:]))
    train_falling = all(b[1] < a[1] for a, b in zip(recent, recent[1:]))
    if not (val_rising and train_falling):
        return None
    return (f"overfitting: over the last {OVERFIT_EVALS} evals val rose to {recent[-1][0]:.3f} while train fell to "
            f"{recent[-1][1]:.3f}: the model is memorising its training text (more data, dropout, or stop here: "
            "best.pt holds the best val so far)")


def clipping(clipped: list[bool]) -> str | None:
    if len(clipped) < CLIP_WINDOW or sum(clipped[-CLIP_WINDOW:]) < CLIP_SHARE * CLIP_WINDOW:
        return None
    share = sum(clipped[-CLIP_WINDOW:]) / CLIP_WINDOW
    return (f"the gradient norm was over {CLIP_FACTOR:g}x the clip in {share:.0%} of the last {CLIP_WINDOW} steps: "
            f"most updates are cut to under 1/{CLIP_FACTOR:g} of their size, so the learning rate may be too high "
            "(try a lower --lr)")


def plateau(losses: list[float], vocab_size: int, steps_after_warmup: int) -> str | None:
    if steps_after_warmup < PLATEAU_WINDOW or len(losses) < 2 * PLATEAU_WINDOW:
        return None
    before = sum(losses[-2 * PLATEAU_WINDOW:-PLATEAU_WINDOW]) / PLATEAU_WINDOW
    now = sum(losses[-PLATEAU_WINDOW:]) / PLATEAU_WINDOW
    uniform = math.log(vocab_size)
    if before - now > PLATEAU_NATS or now < PLATEAU_FRACTION * uniform:
        return None
    return (f"the loss has stayed near {now:.2f} for {PLATEAU_WINDOW} steps (a uniform guess scores ln V = "
            f"{uniform:.2f}): the model predicts little beyond how common each token is (the unigram plateau); "
            "a higher --lr or rope positions often get it moving")


def data_repeating(epoch: int, tokens_per_epoch: int | None) -> str | None:
    if epoch < 2:
        return None
    size = f" of {tokens_per_epoch:,} tokens" if tokens_per_epoch else ""
    return (f"epoch {epoch}: the training text{size} is being seen for the {_ordinal(epoch)} time, as expected "
            "on a small corpus; val improves less from here, and if it starts to rise while train falls the "
            "model is memorising (the overfitting alert says so)")


def _ordinal(n: int) -> str:
    return {2: "second", 3: "third"}.get(n, f"{n}th")


class Doctor:
    """The recent history of one run, and the rules asked after each step and eval."""

    def __init__(self, vocab_size: int, grad_clip: float, warmup_steps: int, tokens_per_epoch: int | None) -> None:
        self.vocab_size, self.grad_clip, self.warmup_steps = vocab_size, grad_clip, warmup_steps
        self.tokens_per_epoch = tokens_per_epoch
        self.losses: deque[float] = deque(maxlen=2 * PLATEAU_WINDOW)
        self.clipped: deque[bool] = deque(maxlen=CLIP_WINDOW)
        self.evals: list[tuple[float, float]] = []
        self.ema: float | None = None
        self.steps = 0
        self.epoch = 1
        self._last_fired: dict[str, int] = {}

    def after_step(self, step: int, loss: float, grad_norm: float, epoch: int) -> list[Finding]:
        findings = [self._fire("worse than guessing", step, worse_than_guessing(loss, self.vocab_size), LEARN_TRAINING),
                    self._fire("loss spike", step, loss_spike(loss, self.ema, self.steps), LEARN_TRAINING)]
        self.steps += 1
        self.losses.append(loss)
        self.ema = loss if self.ema is None else EMA_DECAY * self.ema + (1 - EMA_DECAY) * loss
        self.clipped.append(self.grad_clip > 0 and grad_norm > CLIP_FACTOR * self.grad_clip)
        findings.append(self._fire("clipping", step, clipping(list(self.clipped)), LEARN_TRAINING))
        findings.append(self._fire("plateau", step, plateau(list(self.losses), self.vocab_size,
                                                           step - self.warmup_steps), LEARN_TRAINING))
        if epoch > self.epoch:
            self.epoch = epoch
            findings.append(Finding("data repeating", data_repeating(epoch, self.tokens_per_epoch), LEARN_TOKENIZATION,
                                    alert=False))
        return [finding for finding in findings if finding is not None]

    def after_eval(self, step: int, val_loss: float, train_loss: float) -> list[Finding]:
        self.evals.append((val_loss, train_loss))
        finding = self._fire("overfitting", step, overfitting(self.evals), LEARN_TRAINING)
        return [finding] if finding is not None else []

    def _fire(self, rule: str, step: int, message: str | None, learn: str) -> Finding | None:
        last = self._last_fired.get(rule)
        if message is None or (last is not None and step - last < COOLDOWN_STEPS):
            return None
        self._last_fired[rule] = step
        return Finding(rule, message, learn)
