"""The command line opens the dashboard with no subcommand, and ``dashboard --attach`` passes the run on."""

import pytest
from textual.widgets import Input, Select

from tests.tui.helpers import make_app
from tui_transformer import cli
from tui_transformer.presets import PRESETS
from tui_transformer.tui.app import TuiTransformerApp
from tui_transformer.tui.training_session import TrainingSession


def test_no_subcommand_and_dashboard_open_the_app(monkeypatch):
    opened = []

    def fake_run(self):
        opened.append(self._attach_on_start)

    monkeypatch.setattr(TuiTransformerApp, "run", fake_run)
    for stream in ("stdin", "stderr"):  # as on a terminal
        monkeypatch.setattr(f"sys.{stream}.isatty", lambda: True)
    assert cli.main([]) == 0
    assert cli.main(["dashboard", "--attach", "some-run"]) == 0
    assert opened == [None, "some-run"]


def test_without_a_terminal_the_dashboard_is_refused_with_the_headless_command(monkeypatch, capsys):
    # it used to start anyway and spin at 100 % CPU with no screen to draw on
    monkeypatch.setattr(TuiTransformerApp, "run", lambda self: pytest.fail("the app started"))
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert cli.main([]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: the dashboard needs a terminal") and "train --no-ui" in err


async def test_app_can_start_training_a_given_config(monkeypatch):
    started = []
    monkeypatch.setattr(TrainingSession, "run", lambda self, post: started.append((self.config, self.resume,
                                                                                     self.preset_reason)))
    config = PRESETS["tiny"].with_overrides(data="builtin", max_steps=60, lr=5e-4, device="cpu")
    app = make_app(train=(config, "tiny: chosen by name"), resume="old-run")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        # the form shows the run's values, not the preset's defaults
        assert app.get_screen("train").query_one("#budget", Input).value == "60"
        assert app.get_screen("train").query_one("#lr", Input).value == "0.0005"
        assert app.get_screen("train").query_one("#preset", Select).value == "tiny"
        assert app.get_screen("train").query_one("#device", Select).value == "cpu"
    assert started == [(config, "old-run", "tiny: chosen by name")]
