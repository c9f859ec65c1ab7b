"""A real training run started from the Train screen: tiny model, builtin corpus, real threads.

This is the one TUI test that trains for real (torch, data, tokenizer, checkpoints). It checks the
path a learner takes: press ``s``, watch the charts fill, pause, then quit, which must stop the
trainer cooperatively so that the run directory keeps a checkpoint and a clean "stopped" ending.
"""

import json
from pathlib import Path

import pytest

from tests.tui.helpers import make_app
from tui_transformer.tui.screens.confirm import ConfirmScreen
from tui_transformer.tui.widgets.line_chart import LineChart

TINY = dict(data="builtin", tokenizer="bpe-512", max_steps=100_000, model_d_model=32, model_n_layers=2,
            model_n_heads=2, model_d_ff=64, model_max_seq_len=32, batch_size=4, eval_interval=3, eval_batches=1,
            sample_interval=3, sample_tokens=8, checkpoint_interval=1000)


async def wait_until(pilot, condition, timeout_s=240.0):
    for _ in range(int(timeout_s / 0.1)):
        if condition():
            return
        await pilot.pause(0.1)  # an explicit delay: pause() alone waits for an idle process, never true while training
    raise AssertionError("timed out")


@pytest.mark.slow  # builds the builtin corpus and a 512-token BPE on first use (~20-40 s on 2 busy cores)
async def test_train_from_the_screen_updates_charts_then_quit_saves_the_run(tmp_path):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        screen.config_overrides = dict(TINY)
        await pilot.press("s")
        assert app.training_active
        await wait_until(pilot, lambda: len(screen.history.val_loss) >= 2 and screen.history.samples)
        await pilot.pause(0.3)  # one redraw tick
        history = screen.history
        assert history.started.config["model"]["d_model"] == 32
        assert len(history.train_loss) >= 6 and history.train_loss.xs[:3] == [1, 2, 3]
        assert "┤" in str(screen.query_one("#loss-chart", LineChart).render())
        assert app.sub_title.endswith(f"{history.started.run_name}: running")
        run_dir = Path(history.started.run_dir)
        await pilot.press("q")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
    assert app.return_code == 0
    events = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert events[-1]["event"] == "RunFinished" and events[-1]["reason"] == "stopped"
    assert (run_dir / "checkpoints" / "latest.pt").is_file()
    assert events[-1]["step"] >= len(history.train_loss) - 1
