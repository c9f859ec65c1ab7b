"""The overlay's curves: TensorBoard's debiased EMA and the three x axes, against values worked out by hand."""

import math

import pytest

from tui_transformer.train.smoothing import curve, debiased_ema


def test_the_debiased_ema_matches_the_hand_computed_weighted_means():
    # w = 0.5 over 1, 2, 3: s1 = 1; s2 = (1*0.5 + 2) / 1.5 = 5/3; s3 = (1*0.25 + 2*0.5 + 3) / 1.75 = 17/7
    assert debiased_ema([1.0, 2.0, 3.0], 0.5) == pytest.approx([1.0, 5 / 3, 17 / 7], abs=1e-12)


def test_without_the_bias_correction_the_start_would_be_dragged_to_zero():
    smoothed = debiased_ema([4.0] * 5, 0.9)
    assert smoothed == pytest.approx([4.0] * 5, abs=1e-12), "a constant stays itself from the first point"
    plain = [0.0]
    for value in [4.0] * 5:
        plain.append(0.9 * plain[-1] + 0.1 * value)
    assert plain[1] == pytest.approx(0.4), "the uncorrected EMA (what the division fixes) starts at a tenth"


def test_no_smoothing_is_the_identity_and_strong_smoothing_lags():
    values = [3.0, 1.0, 4.0, 1.0, 5.0]
    assert debiased_ema(values, 0.0) == values
    heavy = debiased_ema([10.0] * 50 + [0.0], 0.99)
    assert heavy[-1] == pytest.approx(10 * (0.99 - 0.99 ** 51) / (1 - 0.99 ** 51))


@pytest.mark.parametrize("weight", [-0.1, 1.0])
def test_a_weight_outside_0_to_0_99_is_refused(weight):
    with pytest.raises(ValueError, match="between 0 and 0.99"):
        debiased_ema([1.0], weight)


HISTORY = [  # metric_history rows: a step row, eval columns filled where an eval happened
    {"step": 1, "tokens_seen": 512, "elapsed_s": 0.5, "loss": 5.0, "val_loss": None, "val_bpb": None},
    {"step": 2, "tokens_seen": 1024, "elapsed_s": 1.25, "loss": 4.0, "val_loss": 4.5, "val_bpb": 2.0},
    {"step": 3, "tokens_seen": 1536, "elapsed_s": 2.0, "loss": math.nan, "val_loss": None, "val_bpb": None},
    {"step": 4, "tokens_seen": 2048, "elapsed_s": 2.5, "loss": 3.0, "val_loss": 3.5, "val_bpb": 1.5},
]


@pytest.mark.parametrize("axis, xs", [("step", [1, 2, 4]), ("tokens", [512, 1024, 2048]), ("time", [0.5, 1.25, 2.5])])
def test_the_x_axis_picks_the_column_and_unplottable_points_are_left_out(axis, xs):
    assert curve(HISTORY, "loss", axis) == (xs, [5.0, 4.0, 3.0]), "the NaN step is dropped"


def test_val_curves_have_a_point_per_eval_and_smooth_in_their_own_units():
    assert curve(HISTORY, "val_bpb", "tokens") == ([1024, 2048], [2.0, 1.5])
    # w = 0.5 over 2.0, 1.5: s2 = (2.0*0.5 + 1.5) / 1.5
    assert debiased_ema(curve(HISTORY, "val_bpb", "tokens")[1], 0.5) == [2.0, pytest.approx(2.5 / 1.5)]


def test_unknown_metric_or_axis_is_refused():
    with pytest.raises(ValueError, match="unknown metric"):
        curve(HISTORY, "lr2", "step")
    with pytest.raises(ValueError, match="unknown x axis"):
        curve(HISTORY, "loss", "epoch")
