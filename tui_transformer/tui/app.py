"""The dashboard's shell: modes, header, command palette, the training worker, errors and quitting.

Modes. Train, Playground, Benchmark, Learn and Runs are Textual *modes*: each keeps its own screen
stack, so switching away from a training run and back loses nothing (``1``-``5`` or ``t``/``p``/``b``/``l``/``u``).

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

The Train screen. The app owns the training worker; the screen asks the app for what it needs
through :class:`~tui_transformer.tui.training_host.TrainingHost`, and the app tells the screen
things with messages only (:mod:`tui_transformer.tui.messages`).

The header's subtitle says where the work runs (device and torch version, found by importing
torch in a worker, since that import alone takes seconds) and which run is active, in which state.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from tui_transformer.errors import UserError
from tui_transformer.train.config import TrainConfig
from tui_transformer.train.events import RunFailed, RunFinished, RunStarted
from tui_transformer.train.run_state import RunState
from tui_transformer.train.sweep import Plan
from tui_transformer.tui.messages import (
    DeviceProbed,
    FollowRun,
    OpenLearnPage,
    StartRun,
    SweepRunStarting,
    TrainAction,
    TrainCommand,
    TrainingEnded,
    TrainingEvent,
)
from tui_transformer.tui.screens.benchmark import BenchmarkScreen
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
               "learn": learn_screen, "runs": RunsScreen}
    MODES = {"train": "train", "playground": "playground", "benchmark": "benchmark", "learn": "learn", "runs": "runs"}
    DEFAULT_MODE = "train"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]  # 80x24 gets a more compact layout
    BINDINGS = [
        Binding("1", "switch_mode('train')", "Train", show=False),
        Binding("2", "switch_mode('playground')", "Playground", show=False),
        Binding("3", "switch_mode('benchmark')", "Benchmark", show=False),
        Binding("4", "switch_mode('learn')", "Learn", show=False),
        Binding("5", "switch_mode('runs')", "Runs", show=False),
        Binding("t", "switch_mode('train')", "Train", show=False),
        Binding("p", "switch_mode('playground')", "Playground", show=False),
        Binding("b", "switch_mode('benchmark')", "Benchmark", show=False),
        Binding("l", "switch_mode('learn')", "Learn", show=False),  # the Train screen keeps l (log scale)
        Binding("u", "switch_mode('runs')", "Runs", show=False),
        # F1-F3 also switch from inside an editor (the Playground's prompt takes letters and digits).
        Binding("f1", "switch_mode('train')", "Train", show=False, priority=True),
        Binding("f2", "switch_mode('playground')", "Playground", show=False, priority=True),
        Binding("f3", "switch_mode('benchmark')", "Benchmark", show=False, priority=True),
        Binding("f4", "switch_mode('learn')", "Learn", show=False, priority=True),
        Binding("f5", "switch_mode('runs')", "Runs", show=False, priority=True),
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
        self.following: Path | None = None  # the run the Train screen follows, set by the screen
        self.following_state = "running"  # and its state, from its events
        self._exit_when_training_ends = False
        self._train_worker: Worker | None = None

    def on_mount(self) -> None:
        self._restore_theme()
        if self.torch_version is None:  # torch loads after the first frame: the import takes seconds
            self.call_after_refresh(self._probe_device)
        self.refresh_header()
        if self._attach_on_start:
            self.train_screen.post_message(FollowRun(self._attach_on_start))
        elif self._train_on_start:
            config, reason = self._train_on_start
            self.train_screen.post_message(StartRun(config, self._resume_on_start, reason))

    def on_resize(self) -> None:
        self.refresh_header()  # the header's line is shorter at 80 columns

    @property
    def train_screen(self) -> TrainScreen:
        """The Train screen, which this app only sends messages to (see :mod:`tui_transformer.tui.training_host`)."""
        return self.get_screen("train")  # type: ignore[return-value]

    # -- header ---------------------------------------------------------------------------------

    @work(thread=True, group="probe", exit_on_error=False)
    def _probe_device(self) -> None:
        import torch

        from tui_transformer.train.device import resolve_device

        self.post_message(DeviceProbed(torch.__version__, resolve_device("auto")))

    def on_device_probed(self, message: DeviceProbed) -> None:
        self.torch_version, self.probed_device = message.torch_version, message.device
        self.refresh_header()
        self.train_screen.post_message(DeviceProbed(message.torch_version, message.device))  # its form may change

    def refresh_header(self) -> None:
        where = f"{self.probed_device} · torch {self.torch_version}" if self.torch_version else "loading torch…"
        if self.torch_version and self.size.width < 100:  # 80 columns: the run and its state matter more
            where = str(self.probed_device)
        session = self.training
        if session is not None and session.run_name:
            run = f"{session.run_name}: {session.state}"
        elif session is not None:
            run = session.state
        elif self.following is not None and self.following_state in (RunState.RUNNING, "idle"):
            run = f"following {self.following.name}"
        elif self.following is not None:  # it ended: there is nothing to follow any more
            run = f"{self.following.name}: {self.following_state}"
        else:
            run = "no run"
        self.sub_title = f"{where} · {run}"

    @property
    def run_in_view(self) -> Path | None:
        """The run the Train screen shows: the one it follows, else the one trained here last.

        The Playground and Learn load this run's model on their own, so the model a learner meets
        there is the one whose curves they were just watching. (Attaching is refused while a run
        trains, and starting a run stops following, so ``following`` set means it is the newer.)
        """
        if self.following is not None:
            return self.following
        if self.training is not None and self.training.run_dir:
            return Path(self.training.run_dir)
        return None

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
        self._train_worker = self._train(session, self.train_screen)
        self.refresh_header()
        return session

    @work(thread=True, exclusive=True, group="train", exit_on_error=False, name="training")
    def _train(self, session: TrainingSession, train_screen: TrainScreen) -> object:
        def post(event) -> None:
            train_screen.post_message(TrainingEvent(event))

        if session.sweep is not None:
            return session.run_sweep(post, lambda *notice: train_screen.post_message(SweepRunStarting(*notice)))
        return session.run(post)

    def on_training_event(self, message: TrainingEvent) -> None:
        """Bubbled up from the Train screen, which has folded the event into its history."""
        if self.training is not None:
            self.training.note(message.event)
        if isinstance(message.event, (RunStarted, RunFinished, RunFailed)):
            self.refresh_header()

    def on_sweep_run_starting(self, message: SweepRunStarting) -> None:
        """Bubbled up from the Train screen, which now follows that run: the session's queue moves on."""
        if self.training is not None and self.training.progress is not None:
            self.training.progress.run_starting(message.index, message.action, message.best_val_bpb)

    def on_open_learn_page(self, message: OpenLearnPage) -> None:
        """The Train screen's ``a``: the Learn page that explains an alert."""
        from tui_transformer.tui.learn.registry import PAGES

        index = next((i for i, page in enumerate(PAGES) if page.title == message.title), None)
        if index is None:  # an alert from a newer trainer may name a page this version lacks
            self.notify(f"no Learn page called {message.title!r}", severity="warning")
            return
        self.switch_mode("learn")
        learn = self.get_screen("learn")
        self.call_after_refresh(learn.show_page, index)  # after its first mount, which opens page 1

    def stop_training(self) -> None:
        if self.training_active and self.training is not None:
            self.training.stop.set()
            self.refresh_header()

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
        self.train_screen.post_message(TrainingEnded(worker.error if worker.state == WorkerState.ERROR else None))
        self.refresh_header()
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
        self.train_screen.post_message(TrainCommand(action))

    def action_run_benchmark(self) -> None:
        self.switch_mode("benchmark")
        self.call_after_refresh(self.get_screen("benchmark").action_run_kv)

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
        yield SystemCommand("Compare runs", "the Runs screen: every run, overlaid curves, config diff",
                            lambda: self.switch_mode("runs"))
        yield SystemCommand("Switch theme (dark / light)", "toggle between the dark and light themes",
                            self.action_toggle_theme)
        yield SystemCommand("Help", "keys and what the panels mean", self.action_help)
        yield from super().get_system_commands(screen)
