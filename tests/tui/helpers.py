"""Plain helpers shared by the dashboard tests (fixtures live in conftest.py).

Test modules import from here, never from each other: a test module is a list of tests, and
what two of them share belongs to neither.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import torch

from rich.console import Console
from textual.app import App
from textual.widgets import TextArea

from tui_transformer.train.events import RunFinished, RunStarted, StepMetrics
from tui_transformer.tui.current_run import CurrentRun
from tui_transformer.tui.screens.playground import PlaygroundScreen

RECORDED = Path(__file__).parent / "data" / "recorded_run.jsonl"
PLAYGROUND_PROMPT = "The cat sat on the mat."


def run_dir_of(recording: Path, parent: Path, name: str) -> Path:
    """A run directory ``parent/name`` holding ``recording`` as its ``metrics.jsonl``."""
    run_dir = parent / name
    run_dir.mkdir()
    shutil.copy(recording, run_dir / "metrics.jsonl")
    return run_dir


def make_app(**kwargs):
    """The real app, with the device probe replaced by fixed text (snapshots must not depend on the machine)."""
    from tui_transformer.tui.app import TuiTransformerApp

    return TuiTransformerApp(device_info=("2.x", "cpu"), **kwargs)


def plain(renderable, width: int = 120) -> str:
    """A rich renderable as the plain text a terminal of ``width`` columns would show."""
    console = Console(width=width, record=True, file=open("/dev/null", "w"))
    console.print(renderable)
    return console.export_text()


def fake_session_run(self, post):
    """Stands in for ``TrainingSession.run``: emits steps until stopped, honouring pause, like run_training does."""
    post(RunStarted(run_dir="/tmp/fake", run_name="fake", config={}, device="cpu", preset="tiny",
                    preset_reason="", n_params=1))
    step = 0
    while not self.stop.is_set():
        if not self.pause.is_set():
            step += 1
            post(StepMetrics(step=step, max_steps=0, epoch=0, loss=3.0, ppl=20.0, lr=1e-3, grad_norm=1.0,
                             tokens_per_sec=1.0, tokens_seen=step, elapsed_s=0.0, eta_s=None))
        time.sleep(0.02)
    post(RunFinished(step=step, reason="stopped", tokens_seen=step, final_val_loss=None))
    self.finished_cleanly = True


class ScreenHost(App):
    """A plain app that is a :class:`~tui_transformer.tui.host.DashboardHost` with no run and no
    training: one screen is tested alone in it. What the screen asks of it is recorded in ``asked``."""

    training = None
    probed_device = None
    training_active = False

    def __init__(self) -> None:
        super().__init__()
        self.current_run = CurrentRun()
        self.asked: list[tuple] = []

    def open_run(self, run, mode="train") -> bool:
        self.asked.append(("open_run", run, mode))
        return True

    def run_renamed(self, old, new) -> None:
        self.asked.append(("run_renamed", old, new))

    def followed_state(self, run_dir, state) -> None:
        self.asked.append(("followed_state", run_dir, state))

    def set_paused(self, paused: bool) -> None:
        self.asked.append(("set_paused", paused))


class PlaygroundApp(ScreenHost):
    """The Playground screen alone, without the rest of the dashboard."""

    def on_mount(self) -> None:
        self.push_screen(PlaygroundScreen())


async def playground_ready(app: PlaygroundApp, pilot, tiny, prompt: str = PLAYGROUND_PROMPT) -> PlaygroundScreen:
    """The Playground once its run list is loaded, holding the ``tiny`` (model, tokenizer) and ``prompt``."""
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, PlaygroundScreen)
    await screen.workers.wait_for_complete()  # the run list
    screen.set_model(*tiny, "tiny-test")
    editor = screen.query_one("#pg-prompt", TextArea)
    editor.text = prompt
    editor.move_cursor(editor.document.end)  # where a learner's cursor is after typing it
    await pilot.pause()
    return screen


async def settled_bars(screen: PlaygroundScreen, pilot) -> list[tuple[str, float]]:
    """The next-token bars' candidates once the preview of the latest change has come back."""
    from tui_transformer.tui.widgets.next_token_bars import NextTokenBars

    await pilot.pause(0.3)  # past the preview's debounce
    await screen.workers.wait_for_complete()
    await pilot.pause()
    return screen.query_one(NextTokenBars)._last[0]


def text_of(app: App, widget=None) -> list[str]:
    """The lines the terminal shows: the whole screen, or only the region of ``widget`` (a dialog)."""
    lines = [strip.text for strip in app.screen._compositor.render_strips()]
    if widget is None:
        return lines
    region = widget.region
    return [line[region.x:region.right] for line in lines[region.y:region.bottom]]


def write_run(runs: Path, name: str, checkpoints: tuple[str, ...]) -> Path:
    """A real run directory with a tiny model saved as the given checkpoints (``best``, ``latest``)."""
    from tui_transformer.data import get_tokenizer
    from tui_transformer.model import DecoderTransformer
    from tui_transformer.presets import PRESETS
    from tui_transformer.train import checkpoint, config_file

    tokenizer = get_tokenizer("cl100k_base")
    config = PRESETS["classic"].with_overrides(
        tokenizer="cl100k_base", data="builtin", model_vocab_size=tokenizer.vocab_size, model_d_model=32,
        model_n_heads=2, model_n_layers=2, model_d_ff=64, model_max_seq_len=32)
    run_dir = runs / name
    (run_dir / "checkpoints").mkdir(parents=True)
    config_file.write(config, run_dir / "config.toml")
    torch.manual_seed(0)
    model = DecoderTransformer(config.model)
    for which in checkpoints:
        checkpoint.save({"config": config.to_dict(), "model": model.state_dict(), "tokenizer": tokenizer.identity()},
                        run_dir / "checkpoints" / f"{which}.pt")
    return run_dir
