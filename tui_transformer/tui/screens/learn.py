"""Learn: twelve pages, one per concept of the transformer, each explained on the learner's own model.

Every page has three parts, in tabs:

* **Prose**: the idea, the math and the tensor shapes (``tui/learn/pages/*.md``);
* **Live**: a panel computed from the picked model for the prompt in the box above: the tokens,
  embedding neighbours, the positional matrix, attention maps, parameter counts, the logit lens,
  the KV cache's size, the sampler's steps;
* **Code**: this project's own source for the concept, read from the installed package.

The model picker lists the runs with a checkpoint and, always, a fresh untrained model (random
weights, cl100k tokenizer): with no run yet a learner can still see every shape and mechanism,
and the panel says clearly that the patterns are random. Learn explains the current run (the one
the Train screen shows, :mod:`tui_transformer.tui.current_run`) and follows it when it changes,
unless the learner pins another model in the picker (:mod:`tui_transformer.tui.run_pin`).

Threading. Loading a model and computing a panel are model work: both run in thread workers and
post their result back as a message. A thread cannot be stopped from outside, so holding ``↓``
through the pages must not start one computation per page: at most one panel computes at a time,
and a request made meanwhile waits; when the computation ends, only the newest waiting request
runs (the pages skipped over are never computed). Each request carries a serial number: the one
computing checks it between its slow steps (:meth:`LiveContext.check`) and gives up once a newer
one waits, and a late result for an old prompt or page is dropped. Typing in the prompt waits for
a 300 ms pause before recomputing.

The page list is the one source of the page shown: :meth:`LearnScreen.show_page` moves its
highlight, and a highlight message that arrives after the list moved on is ignored, so a burst of
keys cannot bounce between pages (each bounce would start a computation and a ``Markdown`` update
that waits on the one before, without end).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.syntax import Syntax
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, ScrollableContainer, Vertical, VerticalScroll
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Footer, Header, Input, Markdown, OptionList, Select, Static, TabbedContent, TabPane
from textual.worker import Worker, WorkerState, get_current_worker

from tui_transformer.model.sampling import SAMPLER_PRESETS
from tui_transformer.tui.essential_keys import HELP_AND_QUIT
from tui_transformer.tui.learn import registry
from tui_transformer.tui.learn.context import TEACHING_SAMPLER, LiveContext, Superseded
from tui_transformer.tui.messages import RunsListed, ShowLearnPage
from tui_transformer.tui.screens.model_screen import ModelScreen
from tui_transformer.tui.widgets.run_list import RunOption, RunSelect, preferred_value
from tui_transformer.tui.worker_errors import error_text, notify_failed

if TYPE_CHECKING:
    from tui_transformer.train.runs import RunInfo

FRESH = "fresh"  # the picker's value for the untrained model
DEBOUNCE_S = 0.3
DEFAULT_PROMPT = "The cat sat on the mat. The cat"


@dataclass
class LiveComputed(Message):
    """A page's live panel (a rich renderable), for request ``serial``."""

    serial: int
    renderable: Any


class LearnScreen(ModelScreen):
    """The twelve Learn pages. ``autoload``: load the current run (else the newest, else the fresh model) on its own."""

    TITLE = "Learn"
    MODE = "learn"
    PICKER = "#learn-run"

    DEFAULT_CSS = """
    LearnScreen #learn-body { height: 1fr; }
    LearnScreen #learn-pages { width: 28; height: 1fr; border-right: tall $panel; }
    LearnScreen #learn-main { width: 1fr; }
    LearnScreen #learn-top { height: 3; }
    LearnScreen #learn-run { width: 2fr; max-width: 40; }  /* at 80 columns the prompt keeps most of the row */
    LearnScreen #learn-prompt { width: 3fr; }
    LearnScreen #learn-model { height: 1; color: $text-muted; padding: 0 1; }
    LearnScreen #learn-model.-untrained { color: $warning; }
    LearnScreen TabbedContent { height: 1fr; }
    LearnScreen TabPane { padding: 0 1; }
    LearnScreen .learn-scroll { height: 1fr; }
    /* The source keeps its lines whole (code does not wrap well): the pane scrolls sideways (←/→). */
    LearnScreen #learn-code-scroll { overflow-x: auto; }
    LearnScreen #learn-code { width: auto; }
    """

    BINDINGS = [
        Binding("right_square_bracket", "layer(1)", "Layer+", show=False),
        Binding("left_square_bracket", "layer(-1)", "Layer-", show=False),
        Binding("full_stop,greater_than_sign", "head(1)", "Head+", show=False),
        Binding("comma,less_than_sign", "head(-1)", "Head-", show=False),
        Binding("s", "next_sampler", "Sampler", show=False),
        *HELP_AND_QUIT,
        Binding("ctrl+o", "show_tab('prose')", "Prose"),
        Binding("ctrl+l", "show_tab('live')", "Live"),
        Binding("ctrl+k", "show_tab('code')", "Code"),
        Binding("escape", "focus_pages", "Pages", show=False),
        Binding("left", "scroll_code(-8)", "Code ←", show=False),  # the prompt keeps ←/→ while it has the focus
        Binding("right", "scroll_code(8)", "Code →", show=False),
        Binding("ctrl+r", "pick_model", "Model"),
    ]

    def __init__(self, autoload: bool = True, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.autoload = autoload
        self.model: Any = None
        self.tokenizer: Any = None
        self.run_dir: Path | None = None
        self.model_label = ""
        self.page_index = 0
        self.attn_layer = self.attn_head = 0
        self.samplers = {"teaching (all steps on)": TEACHING_SAMPLER} | SAMPLER_PRESETS
        self.sampler_name = next(iter(self.samplers))
        self.live_serial = 0  # bumped by every request: a result for an older one is dropped
        self.live_renderable: Any = None  # what the Live tab shows now (tests read it)
        self._live_waiting: tuple[int, registry.Page, LiveContext] | None = None  # the newest request not started
        self._live_worker: Worker | None = None  # the one computing, if any
        self._debounce: Timer | None = None

    # ---- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        yield self.tab_bar()
        with Horizontal(id="learn-body"):
            yield OptionList(*(f"{n:>2} {page.title}" for n, page in enumerate(registry.PAGES, 1)), id="learn-pages")
            with Vertical(id="learn-main"):
                with Horizontal(id="learn-top"):
                    yield RunSelect(model_options, prompt="pick a model", load=load_model, your_run=True,
                                    id="learn-run")
                    yield Input(DEFAULT_PROMPT, placeholder="a prompt to look at", id="learn-prompt")
                yield Static("no model yet", id="learn-model")
                with TabbedContent(initial="live", id="learn-tabs"):
                    with TabPane("Prose", id="prose"):
                        with VerticalScroll(classes="learn-scroll"):
                            yield Markdown(id="learn-prose")
                    with TabPane("Live", id="live"):
                        with VerticalScroll(classes="learn-scroll"):
                            yield Static("load a model to see this page live", id="learn-live")
                    with TabPane("Code", id="code"):
                        with ScrollableContainer(classes="learn-scroll", id="learn-code-scroll"):
                            yield Static(id="learn-code")
        yield Footer()

    def on_mount(self) -> None:
        pages = self.query_one("#learn-pages", OptionList)
        pages.highlighted = 0
        pages.focus()
        self._show_page()

    def on_screen_resume(self) -> None:
        self.action_refresh_runs()  # a run trained since the last visit shows up in the picker

    @property
    def page(self) -> registry.Page:
        return registry.PAGES[self.page_index]

    # ---- pages ---------------------------------------------------------------------------------

    @on(OptionList.OptionHighlighted, "#learn-pages")
    def _page_highlighted(self) -> None:
        # the list's highlight now, not the message's: a burst of keys leaves stale messages behind
        index = self.query_one("#learn-pages", OptionList).highlighted
        if index is not None and index != self.page_index:
            self.page_index = index
            self._show_page()

    def on_show_learn_page(self, message: ShowLearnPage) -> None:
        # after the refresh: on a first mount, the page list's own highlight of page 1 is still queued
        self.call_after_refresh(self.show_page, message.index)

    def show_page(self, index: int) -> None:
        """Open page ``index`` (0-based): its prose, its code, and a fresh live panel."""
        self.page_index = index
        self.query_one("#learn-pages", OptionList).highlighted = index
        self._show_page()

    def _show_page(self) -> None:
        page = self.page
        self.query_one("#learn-prose", Markdown).update(registry.prose(page))
        self.query_one("#learn-code", Static).update(
            Syntax(registry.code(page), "python", theme="monokai", line_numbers=False, word_wrap=False))
        if self.model is not None:  # the old page's panel would mislead while this one computes (seconds, for some)
            self.query_one("#learn-live", Static).update(Text(f"computing {page.title} on {self.model_label} …",
                                                              style="dim"))
        self.refresh_live()

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def action_scroll_code(self, columns: int) -> None:
        """←/→ on the Code tab: scroll the source sideways, so a long line is read whole at 80 columns."""
        if self.query_one(TabbedContent).active == "code":
            self.query_one("#learn-code-scroll").scroll_relative(x=columns, animate=False)

    def action_focus_pages(self) -> None:
        self.query_one("#learn-pages", OptionList).focus()

    def action_layer(self, step: int) -> None:
        if self.model is not None:
            self.attn_layer = (self.attn_layer + step) % self.model.config.n_layers
            self.refresh_live()

    def action_head(self, step: int) -> None:
        if self.model is not None:
            self.attn_head = (self.attn_head + step) % self.model.config.n_heads
            self.refresh_live()

    def action_next_sampler(self) -> None:
        """The sampling page's settings: the teaching one, then each preset of model.sampling."""
        names = list(self.samplers)
        self.sampler_name = names[(names.index(self.sampler_name) + 1) % len(names)]
        self.notify(f"sampler: {self.sampler_name} ({self.samplers[self.sampler_name]})", timeout=3)
        self.refresh_live()

    # ---- the model -----------------------------------------------------------------------------

    def set_model(self, model: Any, tokenizer: Any, label: str, run_dir: Path | None = None) -> None:
        """Explain this model from now on (the picker calls this once a model has loaded)."""
        self.model, self.tokenizer, self.run_dir, self.model_label = model, tokenizer, run_dir, label
        self.attn_layer, self.attn_head = self.attn_layer % model.config.n_layers, self.attn_head % model.config.n_heads
        self.describe_model()
        self.refresh_live()

    def describe_model(self) -> None:
        cfg, tokenizer, label = self.model.config, self.tokenizer, self.model_label
        shape = (f"d{cfg.d_model} L{cfg.n_layers} H{cfg.n_heads} · T {cfg.max_seq_len} · {cfg.pos_encoding} · "
                 f"{tokenizer.name} ({tokenizer.vocab_size:,})")
        line = self.query_one("#learn-model", Static)
        line.set_class(self.run_dir is None, "-untrained")
        if self.run_dir is None:
            line.update(f"{label}: UNTRAINED, random weights: shapes are real, patterns are noise · {shape}")
        else:
            line.update(f"{self.pin.describe(self.picker.picked, self.host.current_run.path, label)} · {shape}")

    def on_runs_listed(self, message: RunsListed) -> None:
        # the current run, else the newest run, else the fresh model (always listed last)
        self.pin.listed(message.options)
        if self.autoload:
            self.show_chosen()

    @on(Select.Changed, "#learn-run")
    def _model_picked(self, event: Select.Changed) -> None:
        if event.value is not Select.NULL and not self.pin_picked(str(event.value)):  # the picker loads it
            self.query_one("#learn-model", Static).update(f"loading {event.value} …")

    @on(RunSelect.Loaded, "#learn-run")
    def _model_loaded(self, message: RunSelect.Loaded) -> None:
        self.set_model(*message.loaded)

    @on(RunSelect.LoadFailed, "#learn-run")
    def _model_failed(self) -> None:  # the model in use stays
        self.query_one("#learn-model", Static).update(f"{self.model_label or 'no model'} (loading failed)")

    # ---- the live panel ------------------------------------------------------------------------

    @on(Input.Changed, "#learn-prompt")
    def _prompt_changed(self) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        self.live_serial += 1  # a panel still being computed is for the old prompt
        self._debounce = self.set_timer(DEBOUNCE_S, self.refresh_live)

    def live_context(self, serial: int | None = None) -> LiveContext:
        """What a panel is computed from; for request ``serial``, superseded once a newer request is made."""
        return LiveContext(self.model, self.tokenizer, self.query_one("#learn-prompt", Input).value,
                           run_dir=self.run_dir, layer=self.attn_layer, head=self.attn_head,
                           sampling=self.samplers[self.sampler_name],
                           superseded=lambda: serial is not None and self.live_serial != serial)

    def refresh_live(self) -> None:
        """Recompute the Live tab for the current page, prompt and model (in a worker)."""
        self.live_serial += 1
        if self.model is None:
            return
        self._live_waiting = (self.live_serial, self.page, self.live_context(self.live_serial))
        self._start_waiting_live()

    def _start_waiting_live(self) -> None:
        """Start the waiting request, unless a computation is still running (it starts it when done)."""
        if self._live_waiting is None or (self._live_worker is not None and not self._live_worker.is_finished):
            return
        request, self._live_waiting = self._live_waiting, None
        self._live_worker = self._compute(*request)

    @work(thread=True, group="learn", exit_on_error=False)
    def _compute(self, serial: int, page: registry.Page, ctx: LiveContext) -> None:
        try:
            renderable = page.live(ctx)
        except Superseded:
            return
        if not get_current_worker().is_cancelled:  # the screen is going away
            self.post_message(LiveComputed(serial, renderable))

    def on_live_computed(self, message: LiveComputed) -> None:
        if message.serial == self.live_serial:
            self.live_renderable = message.renderable
            self.query_one("#learn-live", Static).update(message.renderable)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is self._live_worker and event.worker.is_finished:
            self._start_waiting_live()
        if event.state is WorkerState.ERROR and event.worker.group == "learn":
            notify_failed(self, "learn", event.worker.error)
            self.query_one("#learn-live", Static).update(
                Text(f"could not compute this panel: {error_text(event.worker.error)}", style="red"))


def model_options(runs: list[RunInfo]) -> list[RunOption]:
    """The runs with a checkpoint, newest first, then always the fresh untrained model."""
    from tui_transformer.train.runs import CHECKPOINTS

    options = [(f"{run.name} · step {run.last_step}", str(run.path)) for run in runs
               if any((run.path / CHECKPOINTS).glob("*.pt"))]
    return [*options, ("fresh untrained model", FRESH)]


def load_model(choice: str) -> tuple[Any, Any, str, Path | None]:
    """(model, tokenizer, label, run directory) for a picked run, or for the fresh model (no directory)."""
    if choice == FRESH:
        model, tokenizer = fresh_model()
        return model, tokenizer, "fresh model", None
    from tui_transformer.train.checkpoint import load_for_inference
    from tui_transformer.train.device import resolve_device

    run_dir = Path(choice)
    model, tokenizer, _config = load_for_inference(checkpoint_of(run_dir), resolve_device("auto"))
    return model, tokenizer, run_dir.name, run_dir


def checkpoint_of(run_dir: Path) -> Path:
    """The checkpoint to explain a run with: ``latest.pt`` (where training is), else ``best.pt``.

    A run in its first minutes has only ``best.pt`` (written at the first evaluation, long before
    the first periodic ``latest.pt``), and the picker lists any run with a checkpoint.
    """
    from tui_transformer.train.checkpoint import BEST, LATEST
    from tui_transformer.train.runs import CHECKPOINTS

    latest, best = run_dir / CHECKPOINTS / LATEST, run_dir / CHECKPOINTS / BEST
    return latest if latest.is_file() or not best.is_file() else best


def fresh_model() -> tuple[Any, Any]:
    """An untrained model to learn on before any run exists: seeded, small, with cl100k_base."""
    import torch

    from tui_transformer.data import get_tokenizer
    from tui_transformer.model import DecoderTransformer, ModelConfig

    tokenizer = get_tokenizer("cl100k_base")
    torch.manual_seed(0)
    config = ModelConfig(vocab_size=tokenizer.vocab_size, d_model=64, n_heads=4, n_layers=2, d_ff=256,
                         max_seq_len=128)
    return DecoderTransformer(config).eval(), tokenizer
