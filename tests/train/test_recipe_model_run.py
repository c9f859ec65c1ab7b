"""A model with every recipe option on trains through the real trainer, resumes exactly, and refuses a
resume that changes an option the weights depend on."""

import threading

import pytest
import torch

from tui_transformer.train import checkpoint as ckpt
from tui_transformer.train import run_training
from tui_transformer.train.events import StepMetrics

ALL_ON = dict(model_norm="rmsnorm", model_bias=False, model_qk_norm=True, model_activation="swiglu",
              model_zero_init_proj=True, model_logit_softcap=10.0, model_tie_weights=False, model_pos_encoding="rope")


@pytest.mark.slow  # trains and resumes runs in-process
def test_all_options_train_and_resume_bitwise(tiny_config):
    config = tiny_config(max_steps=6, eval_interval=3, **ALL_ON)
    losses = []
    straight = run_training(config.with_overrides(run_name="straight"),
                            on_event=lambda e: losses.append(e.loss) if isinstance(e, StepMetrics) else None)
    assert straight.step == 6 and losses[-1] < losses[0]

    stop = threading.Event()
    first = run_training(config.with_overrides(run_name="split"), stop=stop,
                         on_event=lambda e: stop.set() if isinstance(e, StepMetrics) and e.step == 3 else None)
    assert first.step == 3
    second = run_training(config, resume=first.run_dir)
    assert second.step == 6
    a, b = (ckpt.load(ckpt.find(run.run_dir))["model"] for run in (straight, second))
    assert not [name for name in a if name.endswith(".bias")]
    for name, tensor in a.items():
        assert torch.equal(tensor, b[name]), name


@pytest.mark.slow  # trains a run in-process
def test_resuming_with_another_norm_is_a_clear_error(tiny_config):
    summary = run_training(tiny_config(max_steps=2))
    with pytest.raises(ckpt.CheckpointError, match="different model .*norm: checkpoint 'layernorm', now 'rmsnorm'"):
        run_training(tiny_config(max_steps=4, model_norm="rmsnorm"), resume=summary.run_dir)
