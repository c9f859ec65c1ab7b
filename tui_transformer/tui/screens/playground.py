"""The Playground: pick a trained run, write a prompt, and watch the model continue it.

What a learner can see and change here:

* the prompt as **tokens** (alternating backgrounds), i.e. what the model actually receives;
* the **sampler**: temperature, top-k, top-p, min-p, repetition penalty, the number of new
  tokens and the seed, by hand with sliders or through a named preset (greedy ... very-creative);
* the **next-token bars**: the ten most likely tokens of the filtered distribution each token
  was drawn from, updated as the text streams in; before generating, the same bars preview the
  first step for the prompt as typed, so moving a slider shows what it does to the distribution;
* the **KV cache** switch and the **stats** it moves: time to first token (the prefill) and
  tokens per second (the decode loop), plus how much of the context window is used;
* **inspect** (``ctrl+o``): attention and the logit lens at the token under the cursor, and
  **ablation** (``ctrl+b``): switch chosen heads off (zero or mean, :mod:`tui_transformer.interpret.ablation`)
  for the preview, the generation and the inspect panel alike, to see what each head does for the
  prediction. The heading of the bars names the heads that are off.

Threading. Loading a checkpoint, the preview and generating are model work, so all run in thread
workers (``@work(thread=True)``). The generation worker iterates the core's ``generate_steps`` and posts
:class:`GenerationProgress` messages; to keep the UI responsive at hundreds of tokens per second
it batches them to about 20 a second. Stopping is cooperative: ``Escape`` sets a
``threading.Event`` that the worker checks after every token. Errors (a bad checkpoint, an invalid
sampler value) arrive as notifications; the screen stays usable.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Footer, Header, Input, Label, Select, Static, Switch, TextArea
from textual.worker import Worker, WorkerState

from tui_transformer.errors import ConfigError, UserError
from tui_transformer.tui.footer_fit import fit_footer
from tui_transformer.tui.plural import count_of
from tui_transformer.tui.messages import RunsListed
from tui_transformer.tui.run_labels import middle_cut
from tui_transformer.tui.screens.model_screen import ModelScreen
from tui_transformer.tui.widgets.run_list import RunOption, RunSelect
from tui_transformer.tui.worker_errors import notify_failed
from tui_transformer.tui.widgets.head_picker import Ablation, HeadPicker
from tui_transformer.tui.widgets.inspect_panel import InspectPanel, token_at
from tui_transformer.tui.widgets.next_token_bars import NextTokenBars
from tui_transformer.tui.widgets.slider import Slider
from tui_transformer.tui.widgets.token_view import TokenView

if TYPE_CHECKING:
    from tui_transformer.train.runs import RunInfo

TOP_CANDIDATES = 10
UPDATES_PER_SECOND = 20
PREVIEW_DELAY_S = 0.15  # wait for the keys to pause before re-running the model for the preview
DEFAULT_PROMPT = "The"
PICKER_WIDTH = 21  # the checkpoint picker's label, in cells, in the 33-column sidebar
NEXT_HEADING = "next token · top 10, sampler applied"


@dataclass(frozen=True)
class SliderSpec:
    """One sampler knob: its SamplingConfig field, range, step and how its value reads."""

    field: str
    label: str
    minimum: float
    maximum: float
    step: float
    default: float
    format: str | Any = "{:.2f}"


SAMPLER_SLIDERS = (
    SliderSpec("temperature", "temperature", 0.0, 2.0, 0.05, 0.8),
    SliderSpec("top_k", "top-k", 0, 200, 1, 50, lambda v: "off" if v == 0 else f"{int(v)}"),
    SliderSpec("top_p", "top-p", 0.05, 1.0, 0.05, 0.95, lambda v: "off" if v >= 1.0 else f"{v:.2f}"),
    SliderSpec("min_p", "min-p", 0.0, 0.5, 0.01, 0.0, lambda v: "off" if v == 0 else f"{v:.2f}"),
    SliderSpec("repetition_penalty", "rep. pen.", 1.0, 2.0, 0.05, 1.0,
               lambda v: "off" if v == 1.0 else f"{v:.2f}"),
)
MAX_NEW_TOKENS = SliderSpec("max_new_tokens", "new tokens", 1, 512, 1, 64, lambda v: f"{int(v)}")


# ---- messages from the worker threads ----------------------------------------------------------

@dataclass
class NextTokenPreview(Message):
    """The next-token candidates for the prompt as it stands, under the sampler as it stands."""

    serial: int
    candidates: list[tuple[str, float]]


@dataclass
class PresetsLoaded(Message):
    """The sampler presets, by name, as SamplingConfig keyword arguments."""

    presets: dict[str, dict[str, Any]]


@dataclass
class GenerationStats:
    """What the stats line shows; times in seconds from the start of the request."""

    prompt_tokens: int
    context_max: int
    generated: int = 0
    first_token_s: float | None = None
    last_token_s: float | None = None

    def record_token(self, elapsed_s: float) -> None:
        self.generated += 1
        if self.first_token_s is None:
            self.first_token_s = elapsed_s
        self.last_token_s = elapsed_s

    @property
    def decode_tokens_per_s(self) -> float | None:
        """Tokens after the first over the time since the first: the decode loop's speed alone."""
        if self.first_token_s is None or self.last_token_s is None or self.generated < 2:
            return None
        elapsed = self.last_token_s - self.first_token_s
        return (self.generated - 1) / elapsed if elapsed > 0 else None


@dataclass
class GenerationProgress(Message):
    """New text since the last message, the latest next-token candidates, and the stats so far.

    ``generation`` numbers the request, so that the last messages of a generation that was just
    replaced by a new one are recognised and dropped.
    """

    generation: int
    text: str
    candidates: list[tuple[str, float]]
    chosen: int | None  # where the drawn token is among the candidates, if it is
    stats: GenerationStats


@dataclass
class GenerationDone(Message):
    """Generation ``generation`` ended, for ``reason``: "max new tokens", "end of text" or "stopped"."""

    generation: int
    reason: str


class PlaygroundScreen(ModelScreen):
    """Generate from a trained run with a live view of the sampler."""

    MODE = "playground"
    PICKER = "#pg-run"

    TITLE = "Playground"

    DEFAULT_CSS = """
    PlaygroundScreen #pg-body { height: 1fr; }
    PlaygroundScreen #pg-controls { width: 33; border-right: tall $panel; padding: 0 1; scrollbar-size-vertical: 1; }
    PlaygroundScreen #pg-main { width: 1fr; padding: 0 1; }
    PlaygroundScreen .pg-heading { color: $text-muted; text-style: bold; margin-top: 1; }
    PlaygroundScreen .pg-row { height: 1; }
    PlaygroundScreen .pg-row > Label { width: 12; }
    PlaygroundScreen .pg-row > Slider { width: 1fr; }
    PlaygroundScreen .pg-field { height: 3; }
    PlaygroundScreen .pg-field > Label { width: 12; padding-top: 1; }
    PlaygroundScreen .pg-field > Input { width: 1fr; }
    PlaygroundScreen .pg-field > Switch { width: auto; }
    PlaygroundScreen Select { width: 1fr; }
    PlaygroundScreen #pg-model-label { color: $text-muted; height: auto; }
    PlaygroundScreen #pg-prompt { height: 4; }
    PlaygroundScreen #pg-output-scroll { height: 1fr; min-height: 4; border: round $panel; }
    PlaygroundScreen #pg-output-scroll:focus { border: round $accent; }  /* a tab stop shows it has the focus */
    PlaygroundScreen #pg-stats { height: auto; max-height: 2; color: $text-muted; }
    PlaygroundScreen #pg-main .pg-heading { margin-top: 0; }
    PlaygroundScreen #pg-next { height: 1fr; max-height: 10; }
    /* 80 columns with inspect open: the inspect panel's logit lens stands in for the bars, so the
       output keeps its rows and the panel is not clipped */
    PlaygroundScreen.-narrow #pg-main.-inspecting #pg-next,
    PlaygroundScreen.-narrow #pg-main.-inspecting #pg-next-heading { display: none; }
    PlaygroundScreen.-narrow #pg-main.-inspecting InspectPanel { max-height: 9; }
    PlaygroundScreen.-narrow #pg-main.-inspecting HeadPicker { max-height: 1; }  /* the cursor's layer only */
    PlaygroundScreen HeadPicker { display: none; }
    PlaygroundScreen #pg-main.-inspecting HeadPicker { display: block; }
    PlaygroundScreen #pg-next-heading.-ablated { color: $error; }
    """

    BINDINGS = [
        Binding("ctrl+g", "generate", "Generate"),
        # the app's help and quit, shown only while letters are keys (see "focus" below): escape, then ?
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit"),
        Binding("escape", "escape", "Stop · leave"),
        Binding("enter", "write", "Write"),  # back to the prompt (only while letters are keys)
        Binding("ctrl+n", "next_preset", "Preset"),
        Binding("ctrl+t", "toggle_cache", "KV cache"),
        Binding("ctrl+r", "pick_model", "Model"),
        Binding("ctrl+o", "toggle_inspect", "Inspect"),
        Binding("ctrl+b", "ablate", "Ablate"),
    ]

    def __init__(self, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.model: Any = None
        self.tokenizer: Any = None
        self.model_label = ""
        self.show_timings = True  # snapshot tests turn timings off: they differ on every run
        self._stop = threading.Event()
        self._generation = 0
        self._preview_serial = 0  # bumped by every change and every generation: stale previews are dropped
        self._preview_timer: Timer | None = None
        self._stats: GenerationStats | None = None
        self.finish_reason = ""  # why the last generation ended: "max new tokens", "end of text", "stopped"
        self._prompt_text = ""  # the output pane: the prompt (dim), then what the model generated (bold)
        self._generated_text = ""
        self._checkpoints_listed = False  # as of the last listing (what ctrl+g with no model says)
        self._presets: dict[str, dict[str, Any]] = {}  # SAMPLER_PRESETS, loaded off the UI thread (torch import)
        self.ablation = Ablation()  # the heads switched off for every forward pass here (none: as trained)
        self.typing = True  # letters go to the prompt; escape makes them keys, the prompt's focus undoes it

    # ---- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        yield self.tab_bar()
        with Horizontal(id="pg-body"):
            # not a tab stop itself (it showed no focus): tabbing through its fields scrolls it
            with VerticalScroll(id="pg-controls", can_focus=False):
                yield Label("Model", classes="pg-heading")
                yield RunSelect(checkpoint_options, prompt="pick a checkpoint", empty_prompt="no checkpoints yet",
                                load=load_checkpoint, your_run=True, id="pg-run")
                yield Static("no model loaded", id="pg-model-label")
                yield Label("Sampler", classes="pg-heading")
                yield Select([], prompt="preset", id="pg-preset")
                for spec in (*SAMPLER_SLIDERS, MAX_NEW_TOKENS):
                    with Horizontal(classes="pg-row"):
                        yield Label(spec.label)
                        yield Slider(spec.default, minimum=spec.minimum, maximum=spec.maximum, step=spec.step,
                                     format=spec.format, id=f"pg-{spec.field}")
                with Horizontal(classes="pg-field"):
                    yield Label("seed")
                    yield Input("0", placeholder="random", type="integer", id="pg-seed")
                with Horizontal(classes="pg-field"):
                    yield Label("KV cache")
                    yield Switch(True, id="pg-cache")
            with Vertical(id="pg-main"):
                yield TextArea(DEFAULT_PROMPT, id="pg-prompt", soft_wrap=True, show_line_numbers=False)
                yield TokenView(id="pg-tokens")
                with VerticalScroll(id="pg-output-scroll"):
                    yield Static(id="pg-output")
                yield Static(id="pg-stats")
                yield Label(NEXT_HEADING, classes="pg-heading", id="pg-next-heading")
                yield NextTokenBars(id="pg-next")
                yield InspectPanel(id="pg-inspect")
                yield HeadPicker(id="pg-heads")
        yield Footer()

    def on_mount(self) -> None:
        self._load_presets()
        prompt = self.query_one("#pg-prompt", TextArea)
        prompt.move_cursor(prompt.document.end)  # typing continues the prompt, as generating does
        prompt.focus()
        self._show_stats(None)
        self._update_tokens()

    def on_resize(self) -> None:
        self.call_after_refresh(fit_footer, self)  # once the breakpoint's class (-narrow) is set

    def on_screen_resume(self) -> None:
        self.action_refresh_runs()  # a run trained since the last visit shows up in the picker
        self.query_one("#pg-prompt", TextArea).focus()  # back on the Playground: back to writing

    def on_unmount(self) -> None:
        self._stop.set()  # a generation still running stops at its next token
        self._cancel_preview()

    # ---- focus: where a typed letter goes ------------------------------------------------------
    #
    # A prompt is for typing, so on this screen a printable key goes into the prompt from wherever
    # the focus is (the output, a slider, the picker once a checkpoint is picked), unless the
    # focused widget binds that key itself (space on a switch, m on the head picker). The app's
    # one-letter keys (q quits, t/p/b/l/u switch screens) would otherwise fire while a learner is
    # writing. ``escape`` (with nothing generating) leaves the prompt and makes letters keys again;
    # ``enter``, a click or tab back into the prompt returns to typing. F1-F5 switch screens always.

    def check_consume_key(self, key: str, character: str | None = None) -> bool:
        """While typing, the app's printable keys are hidden and inactive: the prompt takes them."""
        return self.typing and character is not None and character.isprintable()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("help", "quit", "write"):
            return not self.typing  # while typing, q and ? are letters for the prompt
        return True

    def on_key(self, event: events.Key) -> None:
        """A printable key no focused widget took or binds goes into the prompt (see above).

        The prompt and the seed field stop the keys they take, so a key that gets here was not typed
        into either (keys typed fast can still arrive from the old focus after the prompt took it)."""
        if not (self.typing and event.is_printable and event.character) or event.key in self.active_bindings:
            return
        event.stop()
        event.prevent_default()
        prompt = self.query_one("#pg-prompt", TextArea)
        prompt.focus()
        prompt.insert(event.character)

    @on(events.DescendantFocus, "#pg-prompt")
    def _writing(self) -> None:
        self._set_typing(True)

    def _set_typing(self, typing: bool) -> None:
        self.typing = typing
        self.refresh_bindings()  # the footer shows q and ? only while letters are keys

    def action_escape(self) -> None:
        """Stop a generation; with none running, leave the prompt so that letters are keys."""
        if self._generating():
            self._stop.set()
            return
        if self.typing:
            self._set_typing(False)
            self.query_one("#pg-output-scroll").focus()
            self.notify("letters are keys now (q quits, ? helps); enter returns to the prompt", timeout=3)

    def action_write(self) -> None:
        self.query_one("#pg-prompt", TextArea).focus()

    async def action_help(self) -> None:
        await self.app.run_action("help")

    async def action_quit(self) -> None:
        await self.app.run_action("quit")

    # ---- the model -----------------------------------------------------------------------------

    def set_model(self, model: Any, tokenizer: Any, label: str) -> None:
        """Use this model and tokenizer from now on (the picker calls this after loading)."""
        self.model, self.tokenizer, self.model_label = model, tokenizer, label
        self.describe_model()
        self.query_one(HeadPicker).set_shape(model.config.n_layers, model.config.n_heads)  # nothing ablated in a new model
        self._update_tokens()
        self._schedule_preview()
        self._inspect()

    def describe_model(self) -> None:
        config = self.model.config
        self.query_one("#pg-model-label", Static).update(
            f"{self.pin.describe(self.picker.picked, self.host.current_run.path, self.model_label)}\n"
            f"d{config.d_model} L{config.n_layers} H{config.n_heads} · T {config.max_seq_len} · "
            f"vocab {self.tokenizer.vocab_size}")

    def on_runs_listed(self, message: RunsListed) -> None:
        """Show the current run's newest checkpoint (else the newest run's), unless one is pinned."""
        self._checkpoints_listed = bool(message.options)
        self.pin.listed(message.options)
        self.show_chosen()

    @on(Select.Changed, "#pg-run")
    def _checkpoint_picked(self, event: Select.Changed) -> None:
        if event.value is not Select.NULL and not self.pin_picked(str(event.value)):  # the picker loads it
            self.query_one("#pg-model-label", Static).update(f"loading {event.value} ...")

    @on(RunSelect.Loaded, "#pg-run")
    def _checkpoint_loaded(self, message: RunSelect.Loaded) -> None:
        model, tokenizer, label = message.loaded
        self.set_model(model, tokenizer, label)
        self.notify(f"loaded {label}")

    @on(RunSelect.LoadFailed, "#pg-run")
    def _checkpoint_failed(self) -> None:
        self.query_one("#pg-model-label", Static).update(self.model_label or "no model loaded")

    # ---- the prompt ----------------------------------------------------------------------------

    @on(TextArea.Changed, "#pg-prompt")
    def _prompt_changed(self) -> None:
        self._update_tokens()
        self._schedule_preview()

    def _update_tokens(self) -> None:
        view = self.query_one("#pg-tokens", TokenView)
        if self.tokenizer is None:
            view.update("load a run to see the prompt's tokens")
            return
        ids = self.tokenizer.encode(self.query_one("#pg-prompt", TextArea).text)
        view.show_tokens([self.tokenizer.decode([i]) for i in ids])

    # ---- the sampler ---------------------------------------------------------------------------

    def sampler_values(self) -> dict[str, float]:
        """The sampler sliders as SamplingConfig keyword arguments (top-k 0 means off)."""
        values: dict[str, Any] = {spec.field: self.query_one(f"#pg-{spec.field}", Slider).value
                                  for spec in SAMPLER_SLIDERS}
        values["top_k"] = int(values["top_k"])
        return values

    def sampling_config(self) -> Any:
        """The SamplingConfig the sliders and the seed describe (a ConfigError names a bad value)."""
        from tui_transformer.model import SamplingConfig

        return SamplingConfig(**self.sampler_values(), seed=parse_seed(self.query_one("#pg-seed", Input).value))

    @on(Slider.Changed)
    def _sampler_moved(self) -> None:
        preset = self.query_one("#pg-preset", Select)
        if preset.value in self._presets and not self._matches(self._presets[preset.value]):
            preset.clear()  # the sliders have left the preset: stop showing its name
        self._schedule_preview()

    def _matches(self, preset: dict[str, Any]) -> bool:
        values = self.sampler_values()
        return all(math.isclose(values[spec.field], preset[spec.field], abs_tol=1e-9) for spec in SAMPLER_SLIDERS)

    # ---- the preview: what the sampler would draw from next, before generating ----------------

    def _cancel_preview(self) -> None:
        """Forget a preview that is waiting or running: its result will be dropped."""
        self._preview_serial += 1
        if self._preview_timer is not None:
            self._preview_timer.stop()

    def _schedule_preview(self) -> None:
        """Show the next-token bars for the current prompt and sampler, once the keys pause."""
        self._cancel_preview()
        if self.model is not None:
            self._preview_timer = self.set_timer(PREVIEW_DELAY_S, self._start_preview)

    def _start_preview(self) -> None:
        if self._generating():
            return  # the generation's own bars are showing
        try:
            sampling = self.sampling_config()
        except (UserError, ValueError):
            return  # generating will say what is wrong
        prompt_ids = self.tokenizer.encode(self.query_one("#pg-prompt", TextArea).text)
        if prompt_ids:
            self._preview(self._preview_serial, self.model, self.tokenizer, prompt_ids, sampling, self.ablation)

    @work(thread=True, exclusive=True, group="preview", exit_on_error=False)
    def _preview(self, serial: int, model: Any, tokenizer: Any, prompt_ids: list[int], sampling: Any,
                 ablation: Ablation) -> None:
        """One forward pass over the prompt, then the sampler's filters: the first step of a generation."""
        import torch

        from tui_transformer.model.sampling import Sampler

        device = model.embed.weight.device
        with torch.inference_mode(), ablation.applied(model, prompt_ids):
            tokens = torch.tensor([prompt_ids[-model.config.max_seq_len:]], device=device)
            probs = Sampler(sampling, device).distribution(model(tokens)[:, -1], tokens)
        candidates, _ = _top_candidates(tokenizer, probs[0], token_id=-1)
        self.post_message(NextTokenPreview(serial, candidates))

    def on_next_token_preview(self, message: NextTokenPreview) -> None:
        if message.serial == self._preview_serial and not self._generating():
            self.query_one(NextTokenBars).show(message.candidates)

    def _generating(self) -> bool:
        return any(worker.group == "generate" and worker.is_running for worker in self.workers)

    @work(thread=True, group="presets", exit_on_error=False)
    def _load_presets(self) -> None:
        from tui_transformer.model import SAMPLER_PRESETS

        self.post_message(PresetsLoaded({name: asdict(preset) for name, preset in SAMPLER_PRESETS.items()}))

    def on_presets_loaded(self, message: PresetsLoaded) -> None:
        self._presets = message.presets
        self.query_one("#pg-preset", Select).set_options([(name, name) for name in message.presets])

    def apply_preset(self, name: str) -> None:
        """Move the sliders to a named preset from ``tui_transformer.model.SAMPLER_PRESETS``."""
        preset = self._presets[name]
        for spec in SAMPLER_SLIDERS:
            self.query_one(f"#pg-{spec.field}", Slider).value = preset[spec.field]
        self.query_one("#pg-preset", Select).value = name

    @on(Select.Changed, "#pg-preset")
    def _preset_picked(self, event: Select.Changed) -> None:
        if event.value is not Select.NULL:
            self.apply_preset(str(event.value))

    def action_next_preset(self) -> None:
        names = list(self._presets)
        if not names:
            return  # still loading
        current = self.query_one("#pg-preset", Select).value
        index = names.index(current) + 1 if current in names else 0
        self.apply_preset(names[index % len(names)])

    def action_toggle_cache(self) -> None:
        switch = self.query_one("#pg-cache", Switch)
        switch.value = not switch.value

    # ---- generation ----------------------------------------------------------------------------

    def action_generate(self) -> None:
        if self.model is None:
            hint = ("ctrl+r opens the checkpoint picker" if self._checkpoints_listed
                    else "no checkpoints yet: train a run first (F1 for Train, then s)")
            self.notify(f"no model loaded: {hint}", severity="warning")
            return
        try:
            sampling = self.sampling_config()
        except (UserError, ValueError) as error:
            self.notify(str(error), title="sampler", severity="error")
            return
        prompt_ids = self.tokenizer.encode(self.query_one("#pg-prompt", TextArea).text)
        if not prompt_ids:
            self.notify("the prompt is empty: write at least one character", severity="warning")
            return
        self._prompt_text, self._generated_text = self.tokenizer.decode(prompt_ids), ""
        self._show_output()
        self.query_one(NextTokenBars).show([])
        self._stop.set()  # a generation still running ends at its next token
        self._stop = threading.Event()
        self._cancel_preview()  # the generation's own bars take over
        self.finish_reason = ""
        self._generation += 1
        max_new_tokens = int(self.query_one("#pg-max_new_tokens", Slider).value)
        self._generate(self._generation, self.model, self.tokenizer, prompt_ids, sampling, max_new_tokens,
                       self.query_one("#pg-cache", Switch).value, self._stop, self.ablation)

    @work(thread=True, exclusive=True, group="generate", exit_on_error=False)
    def _generate(self, generation: int, model: Any, tokenizer: Any, prompt_ids: list[int], sampling: Any,
                  max_new_tokens: int, use_cache: bool, stop: threading.Event, ablation: Ablation) -> None:
        """Runs in a thread: the model and tokenizer come as arguments, since loading another
        checkpoint meanwhile replaces the screen's; so does the ablation, fixed for the whole
        generation (its hooks hold in this thread, where the generator runs every step)."""
        from tui_transformer.data.text_stream import TextStream
        from tui_transformer.model import generate_steps

        stats = GenerationStats(prompt_tokens=len(prompt_ids), context_max=model.config.max_seq_len)
        stream = TextStream(tokenizer)  # a token may end inside a character: the stream holds it back
        pending, latest = "", None  # text not posted yet; the latest step's (distribution, token id)
        start = last_post = time.perf_counter()
        reason = "max new tokens"
        steps = generate_steps(model, prompt_ids, max_new_tokens=max_new_tokens, sampling=sampling,
                               use_cache=use_cache, eos_id=tokenizer.eot_id)
        try:
            with ablation.applied(model, prompt_ids):
                for step in steps:
                    stats.record_token(time.perf_counter() - start)
                    token_id = int(step.token_ids[0])
                    pending += stream.push(token_id)
                    latest = (step.probs[0], token_id)
                    if bool(step.finished[0]):
                        reason = "end of text"
                    if stop.is_set():
                        reason = "stopped"
                        break
                    if time.perf_counter() - last_post >= 1 / UPDATES_PER_SECOND:
                        self.post_message(_progress(generation, pending, tokenizer, latest, stats))
                        pending, last_post = "", time.perf_counter()
        finally:
            steps.close()  # lets the generator restore the model's train/eval mode
        pending += stream.flush()  # bytes that never became a character show as they would decoded whole
        self.post_message(_progress(generation, pending, tokenizer, latest, stats))
        self.post_message(GenerationDone(generation, reason))

    def on_generation_progress(self, message: GenerationProgress) -> None:
        if message.generation != self._generation:
            return
        if message.text:
            self._generated_text += message.text
            self._show_output()
            self.query_one("#pg-output-scroll", VerticalScroll).scroll_end(animate=False)
        self.query_one(NextTokenBars).show(message.candidates, message.chosen)
        self._stats = message.stats
        self._show_stats(message.stats)

    def _show_output(self) -> None:
        self.query_one("#pg-output", Static).update(
            Text.assemble((self._prompt_text, "dim"), (self._generated_text, "bold")))

    def on_generation_done(self, message: GenerationDone) -> None:
        if message.generation == self._generation:
            self.finish_reason = message.reason
            self._show_stats(self._stats)

    def _show_stats(self, stats: GenerationStats | None) -> None:
        line = self.query_one("#pg-stats", Static)
        if stats is None:
            line.update("ctrl+g generates · escape stops")
            return
        total = stats.prompt_tokens + stats.generated
        # past max_seq_len generation slides the window: the model then sees only the last tokens
        used = f"{min(total, stats.context_max)}/{stats.context_max}"
        if total > stats.context_max:
            used += " (sliding)"
        ttft = tps = "—"
        if self.show_timings and stats.first_token_s is not None:
            ttft = f"{stats.first_token_s * 1000:.0f} ms"
        if self.show_timings and stats.decode_tokens_per_s is not None:
            tps = f"{stats.decode_tokens_per_s:.0f}"
        ending = f" · {self.finish_reason}" if self.finish_reason else ""
        line.update(f"first token {ttft} · {tps} tok/s · {count_of(stats.generated, 'new token')} · "
                    f"context {used}{ending}")

    # ---- inspect: the last layer's attention and the logit lens at the token under the cursor --

    def action_toggle_inspect(self) -> None:
        panel = self.query_one(InspectPanel)
        panel.toggle_class("-shown")
        self.query_one("#pg-main").set_class(panel.has_class("-shown"), "-inspecting")
        self._inspect()

    @on(TextArea.SelectionChanged, "#pg-prompt")
    @on(TextArea.Changed, "#pg-prompt")
    def _inspect(self) -> None:
        panel = self.query_one(InspectPanel)
        if self.model is None or not panel.has_class("-shown"):
            return
        prompt = self.query_one("#pg-prompt", TextArea)
        ids = self.tokenizer.encode(prompt.text)
        offset = len(prompt.get_text_range((0, 0), prompt.cursor_location))
        panel.show(self.model, self.tokenizer, ids, token_at([self.tokenizer.decode([i]) for i in ids], offset),
                   self.ablation)

    # ---- ablation: switch heads off, for the preview, the generation and the inspect panel ----

    def action_ablate(self) -> None:
        """ctrl+b: open the inspect panel if it is closed, and give the head picker the focus."""
        if not self.query_one(InspectPanel).has_class("-shown"):
            self.action_toggle_inspect()
        self.query_one(HeadPicker).focus()

    @on(HeadPicker.Changed)
    def _ablation_changed(self, message: HeadPicker.Changed) -> None:
        self.ablation = message.ablation
        heading = self.query_one("#pg-next-heading", Label)
        heading.update(f"{NEXT_HEADING} · ablated: {message.ablation.label()}" if message.ablation.heads
                       else NEXT_HEADING)
        heading.set_class(bool(message.ablation.heads), "-ablated")
        self._schedule_preview()
        self._inspect()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            notify_failed(self, event.worker.group, event.worker.error)


def checkpoint_options(runs: list[RunInfo]) -> list[RunOption]:
    """Every checkpoint of every run, newest run first: ``latest.pt`` (where training stopped),
    then ``best.pt`` (the lowest validation loss); an imported model's weights (``tui-transformer
    import``) are listed as its run."""
    from tui_transformer.train.safetensors_run import find_export
    from tui_transformer.train.runs import CHECKPOINTS

    options = []
    for run in runs:
        checkpoints = sorted((run.path / CHECKPOINTS).glob("*.pt"), key=lambda p: (p.stem != "latest", p.stem))
        options.extend((checkpoint_label(run.name, checkpoint.stem), str(checkpoint)) for checkpoint in checkpoints)
        if not checkpoints and find_export(run.path) is not None:
            options.append((checkpoint_label(run.name, "imported"), str(run.path)))
    return options


def checkpoint_label(run: str, which: str) -> str:
    """``run · which`` in the picker's :data:`PICKER_WIDTH` cells: the run's name is cut in its middle
    so that ``which`` (latest, best) and the end of the name, where a sweep's runs differ, both show."""
    return f"{middle_cut(run, PICKER_WIDTH - len(which) - 3)} · {which}"


def load_checkpoint(checkpoint: str) -> tuple[Any, Any, str]:
    """A checkpoint (or a run's latest one) loaded for inference on the best device there is, and its label."""
    from tui_transformer.train.checkpoint import load_for_inference
    from tui_transformer.train.device import resolve_device

    model, tokenizer, _config = load_for_inference(checkpoint, resolve_device("auto"))
    path = Path(checkpoint)
    label = f"{path.parent.parent.name} · {path.stem}" if path.suffix == ".pt" else path.name
    return model, tokenizer, label


def parse_seed(text: str) -> int | None:
    """The seed field: a whole number, or empty for a random draw each time.

    The field only lets digits and a minus sign in, so a lone ``-`` is what a typo looks like.
    """
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"seed must be a whole number, or empty for a random one, got {text!r}") from None


def _progress(generation: int, text: str, tokenizer: Any, latest: tuple[Any, int] | None,
              stats: GenerationStats) -> GenerationProgress:
    """The message for the UI; the top candidates are worked out here, only for steps that are shown."""
    candidates, chosen = _top_candidates(tokenizer, *latest) if latest else ([], None)
    # a copy of the stats: the UI thread reads them while the worker keeps counting
    return GenerationProgress(generation, text, candidates, chosen, GenerationStats(**vars(stats)))


def _top_candidates(tokenizer: Any, probs: Any, token_id: int) -> tuple[list[tuple[str, float]], int | None]:
    """The ``TOP_CANDIDATES`` likeliest tokens of ``probs [V]`` (those with p > 0) and where the drawn one is."""
    import torch

    values, ids = torch.topk(probs, min(TOP_CANDIDATES, probs.shape[-1]))
    ids_list = ids.tolist()
    candidates = [(tokenizer.decode([i]), p) for i, p in zip(ids_list, values.tolist()) if p > 0]
    return candidates, ids_list.index(token_id) if token_id in ids_list else None
