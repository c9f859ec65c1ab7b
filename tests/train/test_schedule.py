import math

import pytest

from tui_transformer.errors import ConfigError
from tui_transformer.train.budget import SECONDS, STEPS, Horizon, horizon_at
from tui_transformer.train.config import TrainConfig
from tui_transformer.train.schedule import DEFAULT_WARMUP, CosineSchedule, WSDSchedule, build_schedule, warmup_steps


def steps(done: int, total: int | None) -> Horizon:
    return Horizon(done, total, STEPS)


def rates(config: TrainConfig, peak: float) -> list[float]:
    schedule = build_schedule(config)
    return [schedule.lr_at(peak, horizon_at(config, 1, s, 0.0)) for s in range(config.max_steps + 5)]


def test_warmup_ramps_linearly_to_the_peak():
    s = build_schedule(TrainConfig(max_steps=1000, warmup_frac=0.05))
    assert s.warmup(steps(0, 1000)) == warmup_steps(TrainConfig(max_steps=1000, warmup_frac=0.05), 1) == 50
    assert s.lr_at(1e-3, steps(0, 1000)) == pytest.approx(1e-3 / 50)
    assert s.lr_at(1e-3, steps(24, 1000)) == pytest.approx(1e-3 * 25 / 50)
    assert s.lr_at(1e-3, steps(49, 1000)) == pytest.approx(1e-3)  # warmup end: the peak


def test_cosine_midpoint_and_floor():
    s = CosineSchedule(warmup_frac=0.05, min_lr_ratio=0.1)
    assert s.lr_at(1e-3, steps(50, 1000)) == pytest.approx(1e-3)  # decay starts at the peak
    mid = 50 + (1000 - 50) // 2
    assert s.lr_at(1e-3, steps(mid, 1000)) == pytest.approx(5.5e-4, rel=1e-3)  # halfway between peak and floor
    assert s.lr_at(1e-3, steps(1000, 1000)) == pytest.approx(1e-4)
    assert s.lr_at(1e-3, steps(5000, 1000)) == pytest.approx(1e-4)  # past the horizon: stays at the floor
    decay = [s.lr_at(1e-3, steps(i, 1000)) for i in range(50, 1000)]
    assert all(a >= b for a, b in zip(decay, decay[1:]))  # monotone decay


def test_no_warmup_and_no_horizon():
    s = build_schedule(TrainConfig(max_steps=10, warmup_frac=0.0))
    assert s.lr_at(3e-4, steps(0, 10)) == pytest.approx(3e-4)
    config = TrainConfig(max_steps=None, epochs=3, warmup_frac=0.05)
    open_ended = build_schedule(config)
    assert open_ended.warmup(steps(0, None)) == warmup_steps(config, 1) == DEFAULT_WARMUP
    assert open_ended.lr_at(3e-4, steps(49, None)) == pytest.approx(3e-4 * 50 / DEFAULT_WARMUP)
    assert open_ended.lr_at(3e-4, steps(99, None)) == pytest.approx(3e-4)
    assert open_ended.lr_at(3e-4, steps(10_000, None)) == pytest.approx(3e-4)


def cosine_before_time_horizons(peak: float, total: int, warmup_frac: float, ratio: float, step: int) -> float:
    """The cosine of the version before optimizers and time horizons, written out: a step-budgeted run
    must keep exactly these rates (bit for bit), so that its weights stay as they were."""
    warmup = round(warmup_frac * total)
    floor = peak * ratio
    if step < warmup:
        return peak * (step + 1) / warmup
    if step >= total:
        return floor
    progress = (step - warmup) / max(1, total - warmup)
    return floor + (peak - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))


@pytest.mark.parametrize("total, warmup_frac, ratio", [(1000, 0.05, 0.1), (37, 0.2, 0.0), (3, 0.5, 0.3), (1, 0.6, 0.1)])
def test_a_step_budgeted_cosine_keeps_the_rates_it_always_had(total, warmup_frac, ratio):
    config = TrainConfig(max_steps=total, warmup_frac=warmup_frac, min_lr_ratio=ratio)
    assert rates(config, 3e-3) == [cosine_before_time_horizons(3e-3, total, warmup_frac, ratio, s)
                                   for s in range(total + 5)]


def test_wsd_is_flat_then_falls_in_a_straight_line_to_the_floor():
    config = TrainConfig(max_steps=100, warmup_frac=0.1, warmdown_frac=0.2, min_lr_ratio=0.1, schedule="wsd")
    schedule = build_schedule(config)
    assert isinstance(schedule, WSDSchedule) and schedule.warmup(steps(0, 100)) == 10
    lr = rates(config, 1e-2)
    assert lr[0] == pytest.approx(1e-3) and lr[9] == pytest.approx(1e-2)  # the warm-up, as cosine's
    assert all(rate == 1e-2 for rate in lr[10:81])  # flat: 80 of 100 steps done, 20% left, not yet falling
    assert lr[90] == pytest.approx(1e-3 + 9e-3 * 0.5)  # half the warm-down done: half way to the floor
    assert lr[95] == pytest.approx(1e-3 + 9e-3 * 0.25)
    assert lr[100] == lr[104] == pytest.approx(1e-3)  # the end, and past it: the floor
    falling = lr[80:101]
    steps_down = [a - b for a, b in zip(falling, falling[1:])]
    assert all(step == pytest.approx(9e-3 / 20) for step in steps_down)  # a straight line


def test_a_wsd_run_extended_before_its_warm_down_has_not_yet_lowered_its_rate():
    short = rates(TrainConfig(max_steps=100, schedule="wsd"), 1e-2)
    longer = rates(TrainConfig(max_steps=200, schedule="wsd"), 1e-2)
    assert short[10:80] == longer[10:80] == [1e-2] * 70  # so a checkpoint from then trains on as if planned longer


def test_a_time_budget_warms_up_and_anneals_on_the_clock():
    config = TrainConfig(max_steps=None, max_time=300.0, warmup_frac=0.05, min_lr_ratio=0.1)
    cosine, wsd = build_schedule(config), build_schedule(config.with_overrides(schedule="wsd"))

    def at(schedule, seconds: float) -> float:
        return schedule.lr_at(1e-3, horizon_at(config, 1, 1234, seconds))  # the step count plays no part

    assert at(cosine, 0.3) == pytest.approx(1e-3 * 0.3 / 15)  # warming up for 5% of 300 s
    assert at(cosine, 7.5) == at(wsd, 7.5) == pytest.approx(5e-4)
    assert at(cosine, 15.0) == pytest.approx(1e-3)  # the warm-up's end: the peak
    assert at(cosine, 15.0 + 285.0 / 2) == pytest.approx(5.5e-4)  # half way down the cosine
    assert at(cosine, 300.0) == at(wsd, 300.0) == pytest.approx(1e-4)  # the fifth minute: the floor
    assert at(wsd, 240.0) == 1e-3  # 20% left: still flat
    assert at(wsd, 270.0) == pytest.approx(1e-4 + 9e-4 * 0.5)  # half the warm-down: half way to the floor
    # the doctor waits out a warm-up in steps, which a time budget does not know: the default
    assert warmup_steps(config, 1) == DEFAULT_WARMUP


def test_the_horizon_is_the_budget_nearest_its_end():
    both = TrainConfig(max_steps=1000, max_time=60.0)
    assert horizon_at(both, 1, 100, 30.0) == Horizon(30.0, 60.0, SECONDS)  # half the time, a tenth of the steps
    assert horizon_at(both, 1, 900, 30.0) == Horizon(900, 1000, STEPS)
    assert horizon_at(both, 1, 500, 30.0).unit == STEPS  # a tie: the steps, as without a time budget
    tokens = TrainConfig(max_steps=None, max_tokens=10 * 8 * 128, batch_size=8)  # 10 steps of 8 x 128 tokens
    assert horizon_at(tokens, 1, 4, 99.0) == Horizon(4, 10, STEPS)
    assert horizon_at(tokens, 2, 4, 99.0) == Horizon(4, 5, STEPS)  # two ranks: twice the tokens per step
    assert horizon_at(TrainConfig(max_steps=None, epochs=2), 1, 7, 9.0).total is None
    assert Horizon(30.0, 60.0, SECONDS).fraction == 0.5 and Horizon(7, None, STEPS).fraction == 0.0


@pytest.mark.parametrize("overrides, message", [
    ({"optimizer": "sgd"}, "optimizer must be one of adamw, muon; got 'sgd'"),
    ({"schedule": "linear"}, "schedule must be one of cosine, wsd; got 'linear'"),
    ({"muon_lr": 0.0}, "muon_lr must be a positive number"),
    ({"muon_lr": float("nan")}, "muon_lr must be a positive number"),
    ({"warmdown_frac": 0.0}, r"warmdown_frac must be in \(0, 1\]"),
    ({"warmdown_frac": 1.5}, r"warmdown_frac must be in \(0, 1\]"),
    ({"schedule": "wsd", "warmup_frac": 0.5, "warmdown_frac": 0.6}, "warmup_frac \\+ warmdown_frac must be at most 1"),
])
def test_bad_optimizer_and_schedule_settings_are_one_line_errors(overrides, message):
    with pytest.raises(ConfigError, match=message) as error:
        TrainConfig(**overrides)
    assert "\n" not in str(error.value)
    TrainConfig(warmup_frac=0.5, warmdown_frac=0.6)  # the sum only matters to wsd


@pytest.mark.slow  # trains for three seconds of wall time
def test_a_run_budgeted_by_time_alone_anneals_by_its_end(tiny_config):
    from tui_transformer.train import run_training
    from tui_transformer.train.events import StepMetrics

    events = []
    summary = run_training(tiny_config(max_steps=None, max_time=3.0, warmup_frac=0.0, lr=3e-3, eval_interval=10_000),
                           on_event=events.append)
    rates = [e.lr for e in events if isinstance(e, StepMetrics)]
    assert summary.reason == "max_time" and len(rates) >= 3  # a loaded machine takes few steps
    assert rates[0] == pytest.approx(3e-3, rel=1e-3)  # second 0: the peak
    assert all(a >= b for a, b in zip(rates, rates[1:]))  # falling with the clock
    assert rates[-1] < 0.5 * 3e-3  # the last step starts in the second half of the time: past the cosine's middle
