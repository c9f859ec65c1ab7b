"""The run pickers: listed off the UI thread, the choice kept when the list is refreshed, loads reported."""

from contextlib import suppress
from types import SimpleNamespace

from textual.app import App
from textual.widgets import Select
from textual.worker import WorkerFailed

from tui_transformer.tui.messages import RunsListed
from tui_transformer.tui.widgets.run_list import RunOptionList, RunSelect


def runs_named(*names):
    return [SimpleNamespace(name=name, path=f"/runs/{name}") for name in names]


def by_name(runs):
    return [(run.name, run.path) for run in runs]


class PickerApp(App):
    def __init__(self, picker) -> None:
        super().__init__()
        self.picker = picker
        self.seen: list = []

    def compose(self):
        yield self.picker

    def on_runs_listed(self, message: RunsListed) -> None:
        self.seen.append(("listed", [value for _, value in message.options], message.error))

    def on_run_select_loaded(self, message: RunSelect.Loaded) -> None:
        self.seen.append(("loaded", message.value, message.loaded))

    def on_run_select_load_failed(self, message: RunSelect.LoadFailed) -> None:
        self.seen.append(("failed", message.value, str(message.error)))


async def settle(app, pilot) -> None:
    """Let the workers end (failing ones too) and their messages arrive."""
    for _ in range(3):
        with suppress(WorkerFailed):
            await app.workers.wait_for_complete()
        await pilot.pause()


async def test_a_refresh_keeps_the_choice_and_does_not_load_it_again(monkeypatch):
    listed = [runs_named("b", "a")]
    monkeypatch.setattr("tui_transformer.train.runs.list_runs", lambda: listed[0])
    loads = []
    picker = RunSelect(by_name, load=lambda value: loads.append(value) or value.upper(), prompt="pick")
    app = PickerApp(picker)
    async with app.run_test() as pilot:
        picker.refresh_runs()
        await settle(app, pilot)
        picker.value = "/runs/a"
        await settle(app, pilot)
        assert loads == ["/runs/a"] and ("loaded", "/runs/a", "/RUNS/A") in app.seen
        listed[0] = runs_named("c", "b", "a")  # a run trained since
        picker.refresh_runs()
        await settle(app, pilot)
        assert picker.value == "/runs/a" and loads == ["/runs/a"]
        assert app.seen[-1] == ("listed", ["/runs/c", "/runs/b", "/runs/a"], None)
        listed[0] = runs_named("c")  # the chosen run was deleted
        picker.refresh_runs()
        await settle(app, pilot)
        assert picker.value is Select.NULL and loads == ["/runs/a"]


async def test_a_failed_load_is_notified_and_reported(monkeypatch):
    monkeypatch.setattr("tui_transformer.train.runs.list_runs", lambda: runs_named("a"))

    def broken(value):
        raise KeyError("model")

    picker = RunSelect(by_name, load=broken)
    app = PickerApp(picker)
    async with app.run_test() as pilot:
        picker.refresh_runs()
        await settle(app, pilot)
        picker.value = "/runs/a"
        await settle(app, pilot)
        assert app.seen[-1] == ("failed", "/runs/a", "'model'")
        assert [n.message for n in app._notifications] == ["KeyError: 'model'"]


async def test_the_option_list_keeps_its_highlight_and_says_when_listing_fails(monkeypatch):
    listed = [runs_named("b", "a")]
    monkeypatch.setattr("tui_transformer.train.runs.list_runs", lambda: listed[0])
    picker = RunOptionList(by_name)
    app = PickerApp(picker)
    async with app.run_test() as pilot:
        await settle(app, pilot)  # it lists on mount
        assert picker.chosen == "/runs/b"
        picker.highlighted = 1
        listed[0] = runs_named("c", "b", "a")
        picker.refresh_runs()
        await settle(app, pilot)
        assert picker.chosen == "/runs/a"

        def unreadable():
            raise PermissionError("denied")

        monkeypatch.setattr("tui_transformer.train.runs.list_runs", unreadable)
        picker.refresh_runs()
        await settle(app, pilot)
        assert picker.chosen is None and "could not list the runs folder: PermissionError: denied" in str(
            picker.get_option_at_index(0).prompt)
        assert app.seen[-1][0] == "listed" and isinstance(app.seen[-1][2], PermissionError)
