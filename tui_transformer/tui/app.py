"""The dashboard's shell: modes, header, command palette, the training worker, errors and quitting.

Modes. Train, Playground, Benchmark, Learn, Runs and Lessons are Textual *modes*: each keeps its own
screen stack, so switching away from a training run and back loses nothing (``1``-``6``, F1-F6, or
``t``/``p``/``b``/``l``/``u`` for the first five).

Threads. The UI thread only draws. Training runs in a thread worker owned by the app (not by a
screen), so it survives mode switches; it reaches the UI only through ``post_message``. Every
worker is started with ``exit_on_error=False``, so a failure arrives as a ``Worker.StateChanged``
message instead of ending the app. Those messages do not bubble: the app handles its own workers'
(training, the device probe) and each screen its own, with that screen's context. Either way the
failure becomes a notification: the app never crashes on a bad checkpoint, a missing file or a
bug in a worker.

Quitting. A thread cannot be killed, and killing the process mid-step would lose the run. So
quitting while training asks first, then sets the trainer's ``stop`` event; the trainer saves a
checkpoint and returns, and the app exits when the worker reports it has ended.

Styles. Each widget and each screen carries its own layout in its ``DEFAULT_CSS``, every rule
starting with the screen's name; the app adds none, so a screen's look is read in one place.

The current run. The app owns the one run every screen shows (:mod:`tui_transformer.tui.current_run`):
starting a run here, ``o``, ``r``, ``--attach``, the Runs screen's open keys and a rename set it;
the trainer's events and the learner's pause and stop move its state. Screens read it, and ask the
app for anything else, through :class:`~tui_transformer.tui.host.DashboardHost`; the app tells
them with messages only (:mod:`tui_transformer.tui.messages`): a new current run goes to every
screen that is up, the trainer's events to the Train screen, after the app has read them.

The header's subtitle says where the work runs (device and torch version, found by importing
torch in a worker, since that import alone takes seconds) and the current run, in its state; the
tab bar under it says the same on every screen.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Iterable

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from tui_transformer.errors import UserError
from tui_transformer.train.config import TrainConfig
from tui_transformer.train.events import CheckpointSaved, RunFailed, RunFinished, RunStarted
from tui_transformer.train.run_state import RunState
from tui_transformer.train.sweep import Plan
from tui_transformer.tui.current_run import CurrentRun, model_shape, newest_checkpoint, opened_run
from tui_transformer.tui.host import OpenIn
from tui_transformer.tui.messages import (
    CurrentRunChanged,
    DeviceProbed,
    MarkRuns,
    OpenLearnPage,
    PinRun,
    ShowLearnPage,
    StartBenchmark,
    StartRun,
    SweepRunStarting,
    TrainAction,
    TrainCommand,
    TrainingEnded,
    TrainingEvent,
)
from tui_transformer.tui.screens.benchmark import BenchmarkScreen
from tui_transformer.tui.screens.lessons import LessonsScreen
from tui_transformer.tui.screens.playground import PlaygroundScreen
from tui_transformer.tui.screens.runs import RunsScreen
from tui_transformer.tui.screens.train import TrainScreen
from tui_transformer.tui.training_session import TrainingSession
from tui_transformer.tui.worker_errors import error_text

LIGHT_THEME, DARK_THEME = "textual-light", "textual-dark"


def learn_screen() -> Screen:
    """The Learn screen, imported when first opened: its pages import torch, which the first frame must not wait for."""
    from tui_transformer.tui.screens.learn import LearnScreen

    return LearnScreen()


class TuiTransformerApp(App):
    """``tui-transformer`` with no arguments. ``attach`` opens a run directory in the Train screen."""

    TITLE = "tui-transformer"
    SCREENS = {"train": TrainScreen, "playground": PlaygroundScreen, "benchmark": BenchmarkScreen,
               "learn": learn_screen, "runs": RunsScreen, "lessons": LessonsScreen}
    MODES = {"train": "train", "playground": "playground", "benchmark": "benchmark", "learn": "learn", "runs": "runs",
             "lessons": "lessons"}
    DEFAULT_MODE = "train"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]  # 80x24 gets a more compact layout
    BINDINGS = [
        Binding("1", "switch_mode('train')", "Train", show=False),
        Binding("2", "switch_mode('playground')", "Playground", show=False),
        Binding("3", "switch_mode('benchmark')", "Benchmark", show=False),
        Binding("4", "switch_mode('learn')", "Learn", show=False),
        Binding("5", "switch_mode('runs')", "Runs", show=False),
        Binding("6", "switch_mode('lessons')", "Lessons", show=False),
        Binding("t", "switch_mode('train')", "Train", show=False),
        Binding("p", "switch_mode('playground')", "Playground", show=False),
        Binding("b", "switch_mode('benchmark')", "Benchmark", show=False),
        Binding("l", "switch_mode('learn')", "Learn", show=False),  # the Train screen keeps l (log scale)
        Binding("u", "switch_mode('runs')", "Runs", show=False),
        # F1-F6 also switch from inside an editor (the Playground's prompt takes letters and digits).
        Binding("f1", "switch_mode('train')", "Train", show=False, priority=True),
        Binding("f2", "switch_mode('playground')", "Playground", show=False, priority=True),
        Binding("f3", "switch_mode('benchmark')", "Benchmark", show=False, priority=True),
        Binding("f4", "switch_mode('learn')", "Learn", show=False, priority=True),
        Binding("f5", "switch_mode('runs')", "Runs", show=False, priority=True),
        Binding("f6", "switch_mode('lessons')", "Lessons", show=False, priority=True),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, *, attach: str | None = None, train: tuple[TrainConfig, str] | None = None,
                 resume: str | None = None, device_info: tuple[str, str] | None = None) -> None:
        """Open the dashboard.

        ``attach``: a run to follow on start. ``train``: (config, why this preset) to start training
        at once, continuing the run ``resume`` if given (``tui-transformer train`` without ``--no-ui``).
        ``device_info``: (torch version, device) instead of probing (snapshot tests need fixed text).
        """
        super().__init__()
        self._train_on_start = train
        self._resume_on_start = resume
        self.training: TrainingSession | None = None
        self.probed_device: str | None = device_info[1] if device_info else None
        self.torch_version: str | None = device_info[0] if device_info else None
        self._attach_on_start = attach
        self._current = CurrentRun()
        self._exit_when_training_ends = False
        self._exiting = False  # quit was asked: keys still queued (q then u, fast) open no screen
        self._train_worker: Worker | None = None

    def on_mount(self) -> None:
        self._restore_theme()
        if self.torch_version is None:  # torch loads after the first frame: the import takes seconds
            self.call_after_refresh(self._probe_device)
        self.refresh_header()
        if self._attach_on_start:
            self.open_run(self._attach_on_start)
        elif self._train_on_start:
            config, reason = self._train_on_start
            self._tell("train", StartRun(config, self._resume_on_start, reason))

    def on_resize(self) -> None:
        self.refresh_header()  # the header's line is shorter at 80 columns

    def _tell(self, mode: str, message: Message) -> None:
        """Post ``message`` to the main screen of ``mode`` (the app talks to screens with messages only).

        A screen not shown yet gets it once it has mounted; after quitting, no screen is left to tell.
        """
        try:
            self.get_screen(mode).post_message(message)
        except KeyError:
            pass

    def exit(self, *args, **kwargs) -> None:
        self._exiting = True
        super().exit(*args, **kwargs)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "switch_mode" and self._exiting:
            return False  # a screen first mounted while the app closes finds its widgets gone
        return True

    # -- header ---------------------------------------------------------------------------------

    @work(thread=True, group="probe", exit_on_error=False)
    def _probe_device(self) -> None:
        import torch

        from tui_transformer.train.device import resolve_device

        self.post_message(DeviceProbed(torch.__version__, resolve_device("auto")))

    def on_device_probed(self, message: DeviceProbed) -> None:
        self.torch_version, self.probed_device = message.torch_version, message.device
        self.refresh_header()
        self._tell("train", DeviceProbed(message.torch_version, message.device))  # its form may change

    def refresh_header(self) -> None:
        where = f"{self.probed_device} · torch {self.torch_version}" if self.torch_version else "loading torch…"
        if self.torch_version and self.size.width < 100:  # 80 columns: the run and its state matter more
            where = str(self.probed_device)
        self.sub_title = f"{where} · {self._current.describe()}"

    # -- the current run ------------------------------------------------------------------------

    @property
    def current_run(self) -> CurrentRun:
        """The run every screen shows (see :mod:`tui_transformer.tui.current_run`)."""
        return self._current

    def _set_current(self, run: CurrentRun) -> None:
        """Make ``run`` the current run: the header, and every screen that is up, are told."""
        if run == self._current:
            return
        self._current = run
        self.refresh_header()
        for mode in self.MODES:
            if self._mode_is_up(mode):  # else it reads current_run when it mounts
                self.get_screen_stack(mode)[0].post_message(CurrentRunChanged(run))

    def _mode_is_up(self, mode: str) -> bool:
        """Whether ``mode``'s screen has been shown (it has a stack)."""
        try:
            self.get_screen_stack(mode)
        except KeyError:
            return False
        return True

    def open_run(self, run: str | Path, mode: OpenIn = "train") -> bool:
        """Make ``run`` the current run and show ``mode`` (see :meth:`DashboardHost.open_run`)."""
        from tui_transformer.tui.metrics_tail import find_run, metrics_path

        try:
            path = find_run(run)
            if mode == "train" or not path.is_dir():  # the Playground and Learn need only a checkpoint (an import)
                path = metrics_path(path).parent
        except UserError as error:
            self.notify(str(error), title="Cannot open run", severity="error")
            return False
        if self.training_active and path != self._current.path:
            if mode == "train":
                self.notify("a run is training here: stop it first (x)", severity="warning")
                return False
            self._tell(mode, PinRun(path))  # shown there, pinned, beside the run training
        elif path != self._current.path:
            from tui_transformer.train.runs import run_info

            self._set_current(opened_run(path, run_info(path).state))  # the state `runs list` gives it
        self.switch_mode(mode)
        return True

    def compare_runs(self, names: list[str]) -> None:
        """The Runs screen, with ``names`` marked (see :meth:`DashboardHost.compare_runs`)."""
        self.switch_mode("runs")
        self._tell("runs", MarkRuns(tuple(names)))

    def run_renamed(self, old: Path, new: Path) -> None:
        if self._current.path == old:
            self._set_current(self._current.moved_to(new))

    def followed_state(self, run_dir: Path, state: str) -> None:
        """The Train screen read ``state`` from the followed run's metrics; a run whose trainer died is interrupted."""
        from tui_transformer.train.run_lock import training_pid

        if self._current.path != run_dir or self._current.trained_here:
            return
        if state == RunState.RUNNING and training_pid(run_dir) is None:
            state = RunState.INTERRUPTED  # no ending written and nobody holds its lock: as `runs list` says
        checkpoint = newest_checkpoint(run_dir)
        self._set_current(replace(self._current, state=state, checkpoint=checkpoint))

    def _training_changed(self, event: object = None) -> None:
        """The run trained here moved on: its state, and with ``RunStarted`` or a checkpoint, its folder."""
        session = self.training
        if session is None or (self._current.path is not None and not self._current.trained_here):
            return  # (a run opened since then is not this session's)
        current = self._current if self._current.trained_here else CurrentRun(trained_here=True)
        if isinstance(event, RunStarted):
            path = Path(event.run_dir)
            current = CurrentRun(path=path, trained_here=True, checkpoint=newest_checkpoint(path),
                                 shape=model_shape(event.config))
        elif isinstance(event, CheckpointSaved) and current.path is not None:
            current = replace(current, checkpoint=newest_checkpoint(current.path))
        self._set_current(current.with_state(session.state))

    # -- training -------------------------------------------------------------------------------

    @property
    def training_active(self) -> bool:
        return self._train_worker is not None and self._train_worker.state in (WorkerState.PENDING,
                                                                              WorkerState.RUNNING)

    def start_training(self, config: TrainConfig, resume: str | None = None,
                       preset_reason: str = "") -> TrainingSession:
        """Start a run in the training worker (the Train screen calls this)."""
        return self._start_session(TrainingSession(config, resume=resume, preset_reason=preset_reason))

    def start_sweep(self, sweep: Plan) -> TrainingSession:
        """Train a sweep's runs one after another in the training worker (the Train screen calls this)."""
        return self._start_session(TrainingSession(sweep.configs[0], sweep=sweep))

    def _start_session(self, session: TrainingSession) -> TrainingSession:
        self.training = session
        self._train_worker = self._train(session)
        self._set_current(CurrentRun(state=session.state, trained_here=True))
        return session

    @work(thread=True, exclusive=True, group="train", exit_on_error=False, name="training")
    def _train(self, session: TrainingSession) -> object:
        def post(event) -> None:
            self.post_message(TrainingEvent(event))

        if session.sweep is not None:
            return session.run_sweep(post, lambda *notice: self.post_message(SweepRunStarting(*notice)))
        return session.run(post)

    def on_training_event(self, message: TrainingEvent) -> None:
        """An event of the run trained here: the current run moves on, then the Train screen draws it."""
        event = message.event
        if self.training is not None:
            self.training.note(event)
            if isinstance(event, (RunStarted, RunFinished, RunFailed, CheckpointSaved)):
                self._training_changed(event)
        self._tell("train", TrainingEvent(event))

    def on_sweep_run_starting(self, message: SweepRunStarting) -> None:
        """A sweep trained here moves on: the session's queue, then the Train screen, which follows that run."""
        if self.training is not None and self.training.progress is not None:
            self.training.progress.run_starting(message.index, message.action, message.best_val_bpb)
        self._tell("train", SweepRunStarting(message.index, message.action, message.run_dir,
                                                         message.best_val_bpb))

    def on_open_learn_page(self, message: OpenLearnPage) -> None:
        """The Train screen's ``a``: the Learn page that explains an alert."""
        from tui_transformer.tui.learn.registry import PAGES

        index = next((i for i, page in enumerate(PAGES) if page.title == message.title), None)
        if index is None:  # an alert from a newer trainer may name a page this version lacks
            self.notify(f"no Learn page called {message.title!r}", severity="warning")
            return
        self.switch_mode("learn")
        self._tell("learn", ShowLearnPage(index))  # handled after its first mount (page 1)

    def set_paused(self, paused: bool) -> None:
        if self.training_active and self.training is not None:
            if paused:
                self.training.pause.set()
            else:
                self.training.pause.clear()
            self._training_changed()

    def stop_training(self) -> None:
        if self.training_active and self.training is not None:
            self.training.stop.set()
            self._training_changed()

    # -- errors of the app's own workers --------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state == WorkerState.ERROR:
            what = worker.name or worker.group
            # a mistake the learner can fix stops the work; anything else is a bug, shown longer
            expected = isinstance(worker.error, UserError)
            self.notify(error_text(worker.error), title=f"{what} stopped" if expected else f"unexpected error in {what}",
                        severity="error", timeout=10 if expected else 15)
        if worker.group == "train" and worker.is_finished:
            self._training_ended(worker)

    def _training_ended(self, worker: Worker) -> None:
        if self.training is not None:
            self.training.worker_ended(failed=worker.state == WorkerState.ERROR)
        self._training_changed()
        error = worker.error if worker.state == WorkerState.ERROR else None
        self._tell("train", TrainingEnded(error))
        if self._mode_is_up("lessons"):  # a lesson it trained ends: its verdict (a screen never shown started none)
            self._tell("lessons", TrainingEnded(error))
        if self._exit_when_training_ends:
            self.exit()

    # -- quitting -------------------------------------------------------------------------------

    async def action_quit(self) -> None:
        if not self.training_active:
            self.exit()
            return
        from tui_transformer.tui.screens.confirm import ConfirmScreen

        def answered(yes: bool | None) -> None:
            if yes:
                self._exit_when_training_ends = True
                self.stop_training()
                self.notify("stopping the run: saving a checkpoint, then quitting…", timeout=30)

        await self.push_screen(ConfirmScreen("A run is training. Stop it (its checkpoint is saved) and quit?",
                                             yes="Stop and quit", no="Keep training"), answered)

    # -- help, themes, command palette ----------------------------------------------------------

    def action_help(self) -> None:
        from tui_transformer.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_toggle_theme(self) -> None:
        self.theme = LIGHT_THEME if self.current_theme.dark else DARK_THEME

    def _restore_theme(self) -> None:
        """Use the theme chosen last time (any theme, from the toggle or the palette's theme picker)."""
        from tui_transformer.tui import settings

        saved = settings.load_theme()
        if saved in self.available_themes:
            self.theme = saved
        self.theme_changed_signal.subscribe(self, lambda theme: settings.save_theme(theme.name))

    def _on_train_screen(self, action: TrainAction) -> None:
        """Do what one of the Train screen's keys does, from anywhere (the command palette)."""
        self.switch_mode("train")
        self._tell("train", TrainCommand(action))

    def action_run_benchmark(self) -> None:
        self.switch_mode("benchmark")
        self._tell("benchmark", StartBenchmark())

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield SystemCommand("Start training", "train with the Train screen's form", lambda: self._on_train_screen("start"))
        yield SystemCommand("Stop training", "stop the run; its checkpoint is saved", self.stop_training)
        yield SystemCommand("Pause / resume training", "hold the trainer between steps",
                            lambda: self._on_train_screen("pause"))
        yield SystemCommand("Open a run", "follow any run directory's metrics live",
                            lambda: self._on_train_screen("open_run"))
        yield SystemCommand("Resume a run", "continue training from a run's last checkpoint",
                            lambda: self._on_train_screen("resume_run"))
        yield SystemCommand("Run the benchmark", "KV cache: tokens/s against length", self.action_run_benchmark)
        yield SystemCommand("Learn", "how each part of the transformer works, on your own model",
                            lambda: self.switch_mode("learn"))
        yield SystemCommand("Lessons", "experiments that answer one question each with your own runs",
                            lambda: self.switch_mode("lessons"))
        yield SystemCommand("Compare runs", "the Runs screen: every run, overlaid curves, config diff",
                            lambda: self.switch_mode("runs"))
        yield SystemCommand("Switch theme (dark / light)", "toggle between the dark and light themes",
                            self.action_toggle_theme)
        yield SystemCommand("Help", "keys and what the panels mean", self.action_help)
        yield from super().get_system_commands(screen)

