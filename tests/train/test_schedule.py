import math

import pytest

from tui_transformer.train.schedule import CosineSchedule


def test_warmup_ramps_linearly_to_the_peak():
    s = CosineSchedule.for_run(peak_lr=1e-3, total_steps=1000, warmup_frac=0.05, min_lr_ratio=0.1)
    assert s.warmup_steps == 50
    assert s.lr_at(0) == pytest.approx(1e-3 / 50)
    assert s.lr_at(24) == pytest.approx(1e-3 * 25 / 50)
    assert s.lr_at(49) == pytest.approx(1e-3)  # warmup end: the peak


def test_cosine_midpoint_and_floor():
    s = CosineSchedule.for_run(peak_lr=1e-3, total_steps=1000, warmup_frac=0.05, min_lr_ratio=0.1)
    assert s.lr_at(50) == pytest.approx(1e-3)  # decay starts at the peak
    mid = 50 + (1000 - 50) // 2
    assert s.lr_at(mid) == pytest.approx(1e-4 + (1e-3 - 1e-4) * 0.5 * (1 + math.cos(math.pi * 475 / 950)))
    assert s.lr_at(mid) == pytest.approx(5.5e-4, rel=1e-3)  # halfway between peak and floor
    assert s.lr_at(1000) == pytest.approx(1e-4)
    assert s.lr_at(5000) == pytest.approx(1e-4)  # past the horizon: stays at the floor
    rates = [s.lr_at(i) for i in range(50, 1000)]
    assert all(a >= b for a, b in zip(rates, rates[1:]))  # monotone decay


def test_no_warmup_and_no_horizon():
    s = CosineSchedule.for_run(peak_lr=3e-4, total_steps=10, warmup_frac=0.0, min_lr_ratio=0.1)
    assert s.lr_at(0) == pytest.approx(3e-4)
    open_ended = CosineSchedule.for_run(peak_lr=3e-4, total_steps=None, warmup_frac=0.05, min_lr_ratio=0.1)
    assert open_ended.lr_at(99) == pytest.approx(3e-4) and open_ended.lr_at(10_000) == pytest.approx(3e-4)
