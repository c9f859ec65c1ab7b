"""The training doctor: each rule fires on a history that shows its problem and stays quiet on a healthy one."""

import pytest
import math
import random

from tui_transformer.train import doctor
from tui_transformer.train.doctor import Doctor
from tui_transformer.train.events import Alert


def healthy_losses(n: int, start: float = 9.0, seed: int = 0) -> list[float]:
    """A loss falling from ``start`` towards 3 with small noise, as a run that learns."""
    rng = random.Random(seed)
    return [3.0 + (start - 3.0) * math.exp(-i / 150) + rng.uniform(-0.05, 0.05) for i in range(n)]


def run_doctor(losses, norms=None, epochs=None, evals=(), vocab=8192, clip=1.0, warmup=20):
    d = Doctor(vocab, clip, warmup, None)
    fired = []
    for i, loss in enumerate(losses):
        step = i + 1
        fired += d.after_step(step, loss, (norms or [0.5] * len(losses))[i], (epochs or [1] * len(losses))[i])
    for step, (val, train) in enumerate(evals, 1):
        fired += d.after_eval(100 * step, val, train)
    return [f.rule for f in fired]


def test_a_healthy_run_raises_nothing():
    losses = healthy_losses(600)
    evals = [(8.0 - i * 0.5, 8.1 - i * 0.55) for i in range(8)]
    assert run_doctor(losses, evals=evals) == []


def test_a_loss_spike_fires_once_and_not_on_noise():
    losses = healthy_losses(300)
    losses[200] = losses[199] + 3.0
    assert run_doctor(losses) == ["loss spike"]
    assert doctor.loss_spike(3.2, 3.0, 100) is None  # 0.2 nats above: noise
    assert doctor.loss_spike(0.3, 0.1, 100) is None  # 3x, but 0.2 nats: a low loss's noise


def test_overfitting_needs_val_rising_while_train_falls_over_several_evals():
    rising = [(4.0, 4.0), (4.1, 3.8), (4.2, 3.6), (4.3, 3.4)]
    assert run_doctor([], evals=rising) == ["overfitting"]
    assert run_doctor([], evals=[(4.0, 4.0), (4.1, 3.8)]) == []  # two evals are not a trend
    assert run_doctor([], evals=[(4.0, 4.0), (4.1, 3.8), (4.0, 3.6)]) == []  # val fell back


def test_clipping_most_recent_steps_fires_and_a_few_clips_do_not():
    losses = healthy_losses(100)
    assert run_doctor(losses, norms=[3.0] * 100) == ["clipping"]
    assert run_doctor(losses, norms=[3.0 if i % 4 == 0 else 0.5 for i in range(100)]) == []
    assert run_doctor(losses, norms=[3.0] * 100, clip=0.0) == []  # clipping off: nothing is clipped


def test_a_norm_just_above_the_clip_on_every_step_is_no_alert():
    """A healthy small model's norm sits at 1.1-1.7 with a clip of 1 (the learning-rate lesson's runs that
    learned well): each update is trimmed a little, which is what clipping is for."""
    assert run_doctor(healthy_losses(100), norms=[1.7] * 100) == []


def test_a_plateau_near_ln_v_fires_after_warmup_and_a_low_flat_loss_does_not():
    stuck = [7.0 + random.Random(i).uniform(-0.05, 0.05) for i in range(300)]  # ln 8192 = 9.01; 0.7 x = 6.3
    assert run_doctor(stuck) == ["plateau"]
    assert run_doctor([2.0] * 300) == []  # flat but learned: a converged run is no plateau
    assert run_doctor(stuck, warmup=250) == []  # still warming up


def test_a_new_epoch_says_how_often_the_data_has_been_seen_as_a_note_not_an_alert():
    # Every first run on the builtin corpus raised "⚠ data repeating" at step 193: a false alarm, since
    # several passes over a small corpus are expected; overfitting is the alert when they start to hurt.
    d = Doctor(8192, 1.0, 20, 1_600_000)
    assert d.after_step(1, 5.0, 0.5, 1) == []
    (finding,) = d.after_step(2, 5.0, 0.5, 2)
    assert finding.rule == "data repeating" and "second time" in finding.message and "1,600,000" in finding.message
    assert not finding.alert
    assert d.after_step(3, 5.0, 0.5, 2) == []  # once per epoch
    assert [f.rule for f in d.after_step(4, 5.0, 0.5, 3)] == ["data repeating"]


def test_a_loss_above_ln_v_is_worse_than_guessing_from_the_first_step():
    d = Doctor(300, 1.0, 0, None)  # ln 300 = 5.70
    assert d.after_step(1, 5.9, 0.5, 1) == []  # a fresh model starts near ln V: no alarm
    (finding,) = d.after_step(2, 33.7, 0.5, 1)
    assert finding.rule == "worse than guessing" and "5.70" in finding.message and finding.alert


@pytest.mark.slow  # trains or resumes a run in-process
def test_a_real_run_at_an_absurd_rate_raises_an_alert_within_its_first_steps(tiny_config):
    from tui_transformer.train import run_training

    events = []
    run_training(tiny_config(lr=0.5, max_steps=60, eval_interval=1000, warmup_frac=0.0), on_event=events.append)
    alerts = [e for e in events if isinstance(e, Alert)]
    assert {"worse than guessing", "clipping", "loss spike"} & {a.rule for a in alerts}, [a.rule for a in alerts]
    assert alerts[0].step <= 10, alerts[0]
    assert all(a.learn == "Model and training" for a in alerts)


def test_a_real_run_into_its_second_epoch_logs_a_note_and_raises_no_alert(tiny_config):
    from tui_transformer.train import run_training
    from tui_transformer.train.events import LogMessage

    per_step = 4 * 16  # batch 4 x T 16
    events = []
    run_training(tiny_config(max_steps=None, tokens_per_epoch=per_step * 2, epochs=2, log_interval=1),
                 on_event=events.append)
    assert not [e for e in events if isinstance(e, Alert)]
    notes = [e.message for e in events if isinstance(e, LogMessage) and e.message.startswith("epoch 2:")]
    assert len(notes) == 1 and "as expected on a small corpus" in notes[0]
