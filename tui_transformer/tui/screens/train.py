"""The Train screen: configure a run, start it, and watch the model learn.

Two sources feed the same panels:

* a **live** run, started here: the app's thread worker posts each trainer event to this screen
  as a :class:`~tui_transformer.tui.messages.TrainingEvent` (it then bubbles on to the app);
* an **attached** run, started anywhere (``train --no-ui`` in another terminal): a timer reads
  the lines appended to its ``metrics.jsonl`` (see :mod:`tui_transformer.tui.metrics_tail`).

Either way, events are folded into a :class:`~tui_transformer.tui.run_history.RunHistory`, which is
cheap, and a 10 Hz timer redraws whatever changed. A fast CPU run emits far more than ten events a
second; drawing each one would steal the CPU from the training it is showing (the UI thread shares
the GIL with the trainer). The charts, the costliest to draw, redraw at most twice a second, and
only those whose series have new points.

The training worker and the current run are the app's (a run outlives a mode switch). This screen
shows the current run: the one trained here, else the one the app says is open, whose metrics it
follows. It asks the app for what it needs through :class:`~tui_transformer.tui.host.DashboardHost`
only (start, pause, stop, open a run), and the app answers with messages (a new current run, the
trainer's events, the worker's end, the probed device, the palette's commands).
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.timer import Timer
from textual.widgets import Button, Footer, Header, Input, Select, TabbedContent, TabPane

from tui_transformer.errors import UserError
from tui_transformer.tui.current_run import PAUSED, CurrentRun
from tui_transformer.tui.essential_keys import HELP_AND_QUIT
from tui_transformer.tui.footer_fit import fit_footer
from tui_transformer.tui.messages import (
    CurrentRunChanged,
    DeviceProbed,
    OpenLearnPage,
    StartRun,
    SweepRunStarting,
    TrainCommand,
    TrainingEnded,
    TrainingEvent,
)
from tui_transformer.tui.metrics_tail import MetricsTail, find_run, metrics_path
from tui_transformer.tui.run_history import RunHistory
from tui_transformer.tui.screens.dashboard_screen import DashboardScreen
from tui_transformer.tui.widgets.alert_panel import AlertPanel
from tui_transformer.tui.widgets.line_chart import WINDOWS, Line, LineChart
from tui_transformer.tui.widgets.log_pane import LogPane
from tui_transformer.tui.widgets.samples_view import SamplesView
from tui_transformer.tui.widgets.shard_panel import ShardPanel
from tui_transformer.tui.widgets.stats_panel import StatsPanel
from tui_transformer.tui.widgets.sweep_queue import SweepQueue
from tui_transformer.tui.widgets.system_panel import SystemPanel
from tui_transformer.tui.widgets.train_form import TrainForm

if TYPE_CHECKING:
    from tui_transformer.train.config import TrainConfig
    from tui_transformer.train.sweep import Plan
    from tui_transformer.tui.training_session import TrainingSession

REDRAW_INTERVAL_S = 0.1  # at most ten redraws a second, however fast the events come
CHART_INTERVAL_S = 0.5  # and two of the charts: a curve moving twice a second reads as live
ATTACH_POLL_S = 0.5

TRAIN_STYLE, VAL_STYLE, PROBE_STYLE = "#4ea1ff", "#ff9f43", "#e056fd"

# What the second chart can show (``m`` cycles): how well the model predicts, and whether it has
# learnt to copy from its context. Bits per byte compares runs whose tokenizers differ; the
# induction probe (measured at each eval) shows an induction head forming, as a rise from 0.
METRIC_VIEWS = ("perplexity", "bits per byte", "in-context learning", "induction head")


def metric_title(view: str) -> str:
    """The second chart's title: its view, and the key that shows the next one."""
    return f"{view} [m]"


def metric_lines(history: RunHistory, view: str) -> list[Line]:
    """The series the second chart draws in ``view`` (one of :data:`METRIC_VIEWS`)."""
    if view == "bits per byte":
        return [Line(history.val_bpb, VAL_STYLE)]
    if view == "in-context learning":
        return [Line(history.in_context, PROBE_STYLE)]
    if view == "induction head":
        return [Line(history.induction, PROBE_STYLE)]
    return [Line(history.ppl, TRAIN_STYLE), Line(history.val_ppl, VAL_STYLE)]


def chart_lines(history: RunHistory, metric_view: str = METRIC_VIEWS[0]) -> dict[str, list[Line]]:
    """Which series each chart draws (by chart id)."""
    return {
        "loss-chart": [Line(history.train_loss, TRAIN_STYLE), Line(history.val_loss, VAL_STYLE)],
        "ppl-chart": metric_lines(history, metric_view),
        "lr-chart": [Line(history.lr, "#a29bfe")],
        "tps-chart": [Line(history.tokens_per_sec, "#2ecc71")],
    }


class TrainScreen(DashboardScreen):
    """Config form and controls on the left; stats, the system line, the doctor's alerts, four charts
    and detail tabs on the right."""

    TITLE = "tui-transformer"
    MODE = "train"

    # Small terminals (80x24): under 100 columns (the app's "-narrow" breakpoint) a narrower form,
    # and under 30 rows ("-short", below) two charts and a shorter detail area.
    DEFAULT_CSS = """
    TrainScreen #train-body { height: 1fr; }
    TrainScreen #sidebar { width: 34; padding: 1 1 0 1; border-right: vkey $panel; }
    TrainScreen #sidebar.-hidden { display: none; }
    TrainScreen #sidebar .controls { height: 1; margin-bottom: 1; }
    TrainScreen #sidebar .controls Button { margin-right: 1; min-width: 8; }
    TrainScreen #main { width: 1fr; }
    TrainScreen #charts { grid-size: 2 2; grid-gutter: 0 1; height: 1fr; min-height: 8; }
    TrainScreen #details { height: 12; }
    TrainScreen #details TabPane { padding: 0 1; }
    TrainScreen.-narrow #sidebar { width: 30; }
    /* Under 30 rows (80x24: about 11 rows for the charts) four charts had 2 plot rows each, so two
       are shown: the loss and the m chart. tokens/s is on the step line, and the learning rate
       follows its schedule. */
    TrainScreen.-short #charts { grid-size: 2 1; }
    TrainScreen.-short #lr-chart, TrainScreen.-short #tps-chart { display: none; }
    TrainScreen.-short #details { height: 6; }
    TrainScreen.-narrow TrainForm .row { margin-bottom: 0; }
    TrainScreen.-narrow AlertPanel { max-height: 1; }
    """

    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]

    # Nothing has the focus at first, so the keys reach the screen's bindings until the learner tabs
    # into the form. (None would inherit the app's "*", which focused the first field.)
    AUTO_FOCUS = ""
    BINDINGS = [
        Binding("s", "start", "Start"),
        *HELP_AND_QUIT,
        # space pauses a run training here, and while it is paused, space (or r) resumes it: one key
        # shown at a time, named for what it does now
        Binding("space", "pause", "Pause"),  # short labels: the row must fit at 80 columns
        Binding("space", "unpause", "Resume"),
        Binding("x", "stop", "Stop"),
        Binding("r", "unpause", "Resume", show=False),
        Binding("r", "resume_run", "Resume"),
        Binding("r", "refuse_while_training", show=False),  # r while a run trains: say why nothing resumes
        Binding("o", "open_run", "Open"),
        Binding("l", "toggle_log", "Log scale"),  # not "Log": that is a tab below the charts
        Binding("w", "cycle_window", "Window"),
        # the footer is full at 80 columns: these two are named where they act (the chart's title, the alert strip)
        Binding("m", "cycle_metric", "Metric", show=False),
        Binding("a", "learn_alert", "Why?", show=False),
        Binding("f", "toggle_form", "Form"),
        # A focused field takes every letter (s types an "s"), so the footer hides the letter keys;
        # it then shows this one instead: how to give the keys back to the screen.
        Binding("escape", "leave_field", "Leave field (keys work again)"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.history = RunHistory()
        self.attached: MetricsTail | None = None
        self._own_session: TrainingSession | None = None  # the training this screen's form started last
        self.config_overrides: dict[str, Any] = {}  # applied after the form (tests: tiny dims)
        self._drawn_version = -1
        self._charts_drawn_at = -math.inf  # time.monotonic() of the last chart redraw
        self._drawn_panels: tuple | None = None
        self._drawn_run: tuple | None = None  # the (RunStarted, ShardStatus) the form shows
        self._attach_timer: Timer | None = None
        self.metric_view = METRIC_VIEWS[0]
        self._run = CurrentRun()  # the current run as last told (the stats line names it)

    def compose(self) -> ComposeResult:
        from tui_transformer.presets import PRESET_NAMES

        yield Header()
        yield self.tab_bar()
        with Horizontal(id="train-body"):
            with VerticalScroll(id="sidebar", can_focus=False):  # its fields take the focus; it showed none
                yield SweepQueue(id="sweep-queue")  # on top while a sweep runs here; hidden otherwise
                yield TrainForm(("auto", *(name for name in PRESET_NAMES if name != "auto")), id="form")
                with Horizontal(classes="controls"):
                    yield Button("Start", id="start", variant="success", compact=True)
                    yield Button("Pause", id="pause", compact=True, disabled=True)
                    yield Button("Stop", id="stop", variant="error", compact=True, disabled=True)
                with Horizontal(classes="controls"):
                    yield Button("Resume…", id="resume-run", compact=True)
                    yield Button("Open…", id="open-run", compact=True)
            with Vertical(id="main"):
                yield StatsPanel(id="stats")
                yield SystemPanel(id="system")
                yield AlertPanel(id="alerts")
                with Grid(id="charts"):
                    lines = chart_lines(self.history, self.metric_view)
                    yield LineChart("loss", lines["loss-chart"], id="loss-chart")
                    yield LineChart(metric_title(self.metric_view), lines["ppl-chart"], id="ppl-chart")
                    yield LineChart("learning rate", lines["lr-chart"], id="lr-chart")
                    yield LineChart("tokens/s", lines["tps-chart"], id="tps-chart")
                with TabbedContent(id="details"):
                    with TabPane("Samples", id="samples-tab"):
                        with VerticalScroll():
                            yield SamplesView(id="samples")
                    with TabPane("Log", id="log-tab"):
                        yield LogPane(id="log")
                    with TabPane("Data", id="data-tab"):
                        with VerticalScroll():
                            yield ShardPanel(id="shards")
        yield Footer()

    def on_resize(self) -> None:
        self.call_after_refresh(fit_footer, self)  # once the breakpoint's class (-narrow) is set

    def on_mount(self) -> None:
        self._charts = list(self.query(LineChart))  # looked at ten times a second: a query walks the whole screen
        self._fill_form_from_preset()
        self.set_interval(REDRAW_INTERVAL_S, self.redraw)
        self._show_current(self.host.current_run)
        self.redraw()

    # -- messages from the app ----------------------------------------------------------------

    def on_current_run_changed(self, message: CurrentRunChanged) -> None:
        self._show_current(message.run)

    def _show_current(self, run: CurrentRun) -> None:
        """Show the current run: follow an opened one's metrics (another run than the one followed), and
        say in the log when the learner's pause takes effect or ends, whoever asked for it."""
        before, self._run = self._run, run
        if not run.trained_here and run.path is not None and (self.attached is None
                                                             or self.attached.path.parent != run.path):
            self._follow(run.path)
        if run.trained_here and self.attached is not None:  # a sweep started elsewhere (a lesson): its runs come here
            self.detach()
            self._follow_new_run(None, "starting")
        if run.trained_here and (run.state == PAUSED) != (before.state == PAUSED) and before.trained_here:
            self.history.note("info", "paused" if run.state == PAUSED else "resumed", time.time())
        self._drawn_version = -1  # the stats line names the run and its state
        self.sync_controls()

    def on_training_event(self, message: TrainingEvent) -> None:
        """One event of the live run (UI thread, once per event: keep it tiny), passed on by the app."""
        self.history.absorb(message.event)

    def on_training_ended(self, message: TrainingEnded) -> None:
        if message.error is not None and self.history.failed is None:
            # the trainer's own RunFailed, when it got that far, has already logged the reason
            self.history.note("error", f"training stopped on an error: {message.error}", time.time())
        self.sync_controls()

    def on_sweep_run_starting(self, message: SweepRunStarting) -> None:
        """A sweep trained here moves on: its next run is followed from empty panels, as a run started alone."""
        if message.action != "skip":
            self._follow_new_run(message.run_dir if message.action == "resume" else None,
                                 f"sweep run {message.index + 1}: {message.action}")

    def on_start_run(self, message: StartRun) -> None:
        self.start_config(message.config, message.resume, message.preset_reason)

    def on_train_command(self, message: TrainCommand) -> None:
        actions = {"start": self.action_start, "pause": self.action_unpause if self._paused else self.action_pause,
                   "open_run": self.action_open_run, "resume_run": self.action_resume_run}
        actions[message.action]()

    def redraw(self) -> None:
        """Redraw the panels if anything changed since the last call (the 10 Hz timer)."""
        session = self.host.training
        self.query_one(SweepQueue).show(session.progress if session is not None and not self.attached else None)
        self._redraw_charts()  # before the check below: a change held back by the charts' rate is drawn later
        if self.history.version == self._drawn_version:
            return
        self._drawn_version = self.history.version
        self.query_one(StatsPanel).show(self.history, self._run)
        self.query_one(SystemPanel).show(self.history.system)
        self.query_one(AlertPanel).show(self.history.alerts)
        self.query_one(LogPane).show(self.history)
        # Samples and the data panel change rarely and their height follows their text, so updating
        # them costs a layout pass of the whole screen: do it only when they changed.
        newest = self.history.samples[0] if self.history.samples else None
        if (newest, self.history.shards, self.history.started) != self._drawn_panels:
            self._drawn_panels = (newest, self.history.shards, self.history.started)
            self.query_one(SamplesView).show(self.history)
            self.query_one(ShardPanel).show(self.history.shards)
        if (self.history.started, self.history.shards) != self._drawn_run:
            self._drawn_run = (self.history.started, self.history.shards)
            self._show_run_in_form()

    def _redraw_charts(self) -> None:
        """The charts with new points, if the last chart redraw was at least ``CHART_INTERVAL_S`` ago
        (a new placeholder, what a run being set up is doing, is shown at once: it draws no points)."""
        now = time.monotonic()
        placeholder = self.history.preparing or ("no run yet" if self.history.started is None else "waiting for data…")
        if now - self._charts_drawn_at < CHART_INTERVAL_S and placeholder == self._charts[0].placeholder:
            return
        redrawn = [chart.show_new_points(placeholder) for chart in self._charts]
        if any(redrawn):
            self._charts_drawn_at = now

    def _show_run_in_form(self) -> None:
        """The form shows the run on screen: the settings of a run it did not start (an attached run, or one
        another screen trains: a lesson's), and what ``auto`` became."""
        form = self.query_one(TrainForm)
        started, shards = self.history.started, self.history.shards
        not_from_the_form = self.attached is not None or self.host.training is not self._own_session
        if not_from_the_form and started is not None:
            from tui_transformer.train.config import TrainConfig

            try:
                config = TrainConfig.from_dict(started.config)
            except (UserError, TypeError, ValueError, KeyError):
                config = None  # a run from another version: the form keeps its values
            if config is not None:
                with form.prevent(Select.Changed):
                    form.show_run(config)
        form.show_resolved({
            "preset": started.preset if started is not None else None,
            "device": started.device.split(" ")[0] if started is not None else None,  # "cpu (fp32)"
            "data": shards.source if shards is not None else None,
        })

    def reset_history(self) -> None:
        """Start from empty panels (a new run, or attaching to another one)."""
        self.history = RunHistory()
        self._drawn_version = -1
        self._charts_drawn_at = -math.inf
        self._drawn_panels = self._drawn_run = None
        for chart_id, lines in chart_lines(self.history, self.metric_view).items():
            self.query_one(f"#{chart_id}", LineChart).set_lines(lines)
        self.query_one(LogPane).reset()

    # -- the form -----------------------------------------------------------------------------

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id in ("preset", "device"):
            self._fill_form_from_preset()

    def _fill_form_from_preset(self) -> None:
        from tui_transformer.presets import resolve_preset

        form = self.query_one(TrainForm)
        config, _reason = resolve_preset(form.preset, self._device_hint(form.device))
        form.fill_from(config)

    def on_device_probed(self, message: DeviceProbed) -> None:
        """The real device is known: ``auto`` may now mean another preset (seed on a GPU)."""
        message.stop()  # the app sent it here, having read it already
        form = self.query_one(TrainForm)
        if form.preset == "auto" and form.device == "auto" and not self.host.training_active:
            self._fill_form_from_preset()

    def _device_hint(self, device: str) -> str:
        """The device to resolve presets against, without importing torch on the UI thread."""
        if device != "auto":
            return device
        return self.host.probed_device or "cpu"

    def build_config(self) -> tuple["TrainConfig", str]:
        """The form's config (preset, then the form's values, then ``config_overrides``) and why this preset."""
        from tui_transformer.presets import resolve_preset

        form = self.query_one(TrainForm)
        overrides = form.overrides()
        base, reason = resolve_preset(form.preset, self._device_hint(form.device))
        return base.with_overrides(**overrides).with_overrides(**self.config_overrides), reason

    # -- controls -----------------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        actions = {"start": self.action_start, "pause": self.action_pause, "stop": self.action_stop,
                   "resume-run": self.action_resume_run, "open-run": self.action_open_run}
        action = actions.get(event.button.id or "")
        if action is not None:
            action()

    def action_start(self) -> None:
        try:
            config, reason = self.build_config()
        except UserError as error:
            self.notify(str(error), title="Cannot start", severity="error")
            return
        form = self.query_one(TrainForm)
        if form.sweep_axes() or form.sweep_field:
            self._start_form_sweep(config)
        else:
            self.start_config(config, resume=None, preset_reason=reason)

    def _start_form_sweep(self, base: "TrainConfig") -> None:
        """The form's sweep: a new one over ``base`` with its vary axes, or, with only a name, that sweep
        continued. Each run's config is checked before anything trains; a mistake is one line in the form."""
        from tui_transformer.train import sweep

        if self._refuse_while_training():  # before the new sweep's manifest is written
            return
        form = self.query_one(TrainForm)
        axes = form.sweep_axes()
        try:
            if axes:
                plan = sweep.new_sweep(form.sweep_name, base, axes)
            else:
                plan = sweep.resume_plan(form.sweep_field, sweep.parent_folder(base))
                with form.prevent(Select.Changed):  # it continues with its own settings: show them
                    form.show_run(plan.configs[0])
        except UserError as error:
            form.show_error("vary" if axes else "sweep-name", str(error))
            return
        self.start_sweep(plan)

    def start_sweep(self, plan: "Plan") -> None:
        """Train a sweep's runs one after another (its finished runs are skipped); the queue shows them."""
        if self._refuse_while_training():
            return
        self.detach()
        self._follow_new_run(None, f"sweep {plan.name} ({len(plan.configs)} runs)")
        self._own_session = self.host.start_sweep(plan)
        self.sync_controls()

    def start_config(self, config: "TrainConfig", resume: str | None = None, preset_reason: str = "") -> None:
        """Train ``config`` (continuing the run ``resume`` if given), bypassing the form."""
        if self._refuse_while_training():
            return
        self.detach()
        self._follow_new_run(resume, f"resuming {resume}" if resume else f"starting {config.preset}")
        form = self.query_one(TrainForm)
        # Show the run's own values; filling the selects must not refill the form from the preset.
        with form.prevent(Select.Changed):
            form.show_run(config)
        self._own_session = self.host.start_training(config, resume=resume, preset_reason=preset_reason)
        self.sync_controls()

    def _follow_new_run(self, resume: str | None, what: str) -> None:
        """Empty panels for a run about to train here (a resumed run's earlier steps replayed first)."""
        self.reset_history()
        if resume:
            self._replay_earlier_events(resume)
        self.history.preparing_run(f"{what}: loading data and tokenizer…", time.time())

    def _replay_earlier_events(self, run: str) -> None:
        """Fold a resumed run's ``metrics.jsonl`` in first, so its charts and samples show its whole
        history, as opening it with ``o`` does. The trainer's resumed ``RunStarted`` then drops the
        steps it redoes (see :meth:`RunHistory._on_started`)."""
        try:
            tail = MetricsTail(metrics_path(find_run(run)))
        except UserError:
            return  # nothing recorded yet: the trainer explains what is wrong with the run, if anything
        while True:  # poll reads at most a few MB at a time
            offset = tail.offset
            for event in tail.poll():
                self.history.absorb(event)
            if tail.offset == offset:
                return

    def action_pause(self) -> None:
        self.host.set_paused(True)  # the app tells this screen (and the others) with the new current run

    def action_unpause(self) -> None:
        self.host.set_paused(False)

    def action_stop(self) -> None:
        if self.host.training_active and self.host.training is not None:
            self.host.stop_training()
            self.history.note("info", "stopping: the trainer saves a checkpoint first…", time.time())
            self.sync_controls()

    def sync_controls(self) -> None:
        """Enable the buttons, and show the keys, that make sense in the current state."""
        self.refresh_bindings()
        active = self.host.training_active
        self.query_one("#start", Button).disabled = active
        self.query_one("#resume-run", Button).disabled = active
        self.query_one("#open-run", Button).disabled = active
        pause = self.query_one("#pause", Button)
        pause.disabled = not active
        pause.label = "Resume" if self._paused else "Pause"
        self.query_one("#stop", Button).disabled = not active

    def action_refuse_while_training(self) -> None:
        self._refuse_while_training()

    def _refuse_while_training(self) -> bool:
        """True (with a notification) when a run trains here: another one cannot be opened or resumed."""
        if self.host.training_active:
            self.notify("a run is training here: stop it first (x)", severity="warning")
            return True
        return False

    def action_resume_run(self) -> None:
        from tui_transformer.tui.screens.run_picker import RunPickerScreen

        if self._refuse_while_training():  # the buttons are disabled, but the keys and the palette still come
            return

        def chosen(run: str | None) -> None:
            if run:
                self.resume_run(run)

        self.app.push_screen(RunPickerScreen("Resume a run", "continue training from its last checkpoint"), chosen)

    def resume_run(self, run: str) -> None:
        """Continue a run from its last checkpoint, with the config saved in it."""
        from tui_transformer.train.runs import load_run_config

        try:
            config = load_run_config(run).with_overrides(**self.config_overrides)
        except UserError as error:
            self.notify(str(error), title="Cannot resume", severity="error")
            return
        self.start_config(config, resume=run, preset_reason=f"resuming {run} with its saved config")

    # -- attaching ----------------------------------------------------------------------------

    def action_open_run(self) -> None:
        from tui_transformer.tui.screens.run_picker import RunPickerScreen

        if self._refuse_while_training():
            return

        def chosen(run: str | None) -> None:
            if run:
                self.attach(run)

        self.app.push_screen(RunPickerScreen("Open a run", "follow its metrics.jsonl live"), chosen)

    def attach(self, run_dir: str | Path) -> bool:
        """Make another run the current run (the app then tells this screen to follow it); False (and a
        notification) when that is impossible."""
        return self.host.open_run(run_dir)

    def _follow(self, run_dir: Path) -> None:
        """Follow the current run's ``metrics.jsonl`` from empty panels (an imported model has none to chart)."""
        self.detach()
        self.reset_history()
        try:
            path = metrics_path(run_dir)
        except UserError as error:
            self.history.note("warning", f"{error}: nothing to chart", time.time())
            return
        self.attached = MetricsTail(path)
        self.history.note("info", f"following {path}", time.time())
        self.poll_attached()  # reads what is there, and tells the app whether it still runs
        self._attach_timer = self.set_interval(ATTACH_POLL_S, self.poll_attached)

    def poll_attached(self) -> None:
        if self.attached is None:
            return
        was_there = self.attached.exists
        for event in self.attached.poll():
            self.history.absorb(event)
        if was_there and not self.attached.exists:
            message = f"{self.attached.path} was deleted or moved; the charts keep what was read"
            self.history.note("warning", message, time.time())
            self.notify(message, title="Run gone", severity="warning")
        # every poll: a trainer that dies writes nothing more, and only its lock tells (the app asks it)
        self.host.followed_state(self.attached.path.parent, self.history.state)
        self.redraw()

    def detach(self) -> None:
        if self._attach_timer is not None:
            self._attach_timer.stop()
            self._attach_timer = None
        self.attached = None

    # -- the keyboard --------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "leave_field":
            return isinstance(self.focused, Input)  # shown and bound only while a text field has the focus
        training = self.host.training_active
        if action == "stop":
            # only a run trained here can be paused or stopped (not an attached one): hidden otherwise
            return training
        if action == "pause":
            return training and not self._paused
        if action == "unpause":
            return training and self._paused
        if action == "resume_run":
            return not training  # while a run trains here, r resumes it from a pause (unpause), else says why not
        if action == "refuse_while_training":
            return training and not self._paused
        return True

    @property
    def _paused(self) -> bool:
        return self._run.trained_here and self._run.state == PAUSED

    def action_leave_field(self) -> None:
        """Escape: no widget has the focus, so s, x, r, o... reach the screen's bindings again."""
        self.set_focus(None)

    # -- view toggles -------------------------------------------------------------------------

    def action_toggle_log(self) -> None:
        for chart_id in ("loss-chart", "ppl-chart"):
            chart = self.query_one(f"#{chart_id}", LineChart)
            chart.log = not chart.log

    def action_cycle_window(self) -> None:
        for chart in self.query(LineChart):
            chart.window = WINDOWS[(WINDOWS.index(chart.window) + 1) % len(WINDOWS)]

    def action_cycle_metric(self) -> None:
        """``m``: the second chart shows the next of :data:`METRIC_VIEWS`."""
        self.metric_view = METRIC_VIEWS[(METRIC_VIEWS.index(self.metric_view) + 1) % len(METRIC_VIEWS)]
        chart = self.query_one("#ppl-chart", LineChart)
        chart.title = metric_title(self.metric_view)
        chart.set_lines(metric_lines(self.history, self.metric_view))

    def action_learn_alert(self) -> None:
        """``a``: open the Learn page that explains the newest alert (the app switches to Learn)."""
        if not self.history.alerts:
            self.notify("no alert yet: the training doctor has had nothing to say about this run")
            return
        self.post_message(OpenLearnPage(self.history.alerts[-1].learn))

    def action_toggle_form(self) -> None:
        self.query_one("#sidebar").toggle_class("-hidden")
