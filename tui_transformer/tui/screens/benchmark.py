"""The Benchmark screen: see why the KV cache matters, and how fast training runs.

**KV cache.** Generating token ``t`` needs the keys and values of all ``t`` earlier tokens. Without
a cache the model recomputes them every step, so the cost of a step grows with ``t`` and the
tokens per second fall as the text gets longer. With a cache each step computes K and V for one
new token and reads the rest. The screen runs the core's ``run_kv_bench`` for a model shape (a
preset's dims, or the dims of a trained run, with random weights: speed does not depend on what
the weights learned) at the chosen lengths, and shows tokens/s for no cache, a naive ``torch.cat``
cache and the preallocated cache, the speedup, and the memory the cache holds:
``2 (K and V) x layers x batch x heads x length x d_head x bytes per number``.

**Training.** ``run_train_bench`` measures training tokens/s and MFU (model FLOPs utilisation: the
FLOPs a step must do, about ``6 x parameters x tokens``, over the time it took, against the
matmul peak measured on the spot).

Both run in thread workers with cooperative stop (``Escape``) and report progress as messages.
``s`` saves the results as JSON in the config folder and says where.

**Under load.** A bench run while the dashboard trains shares the CPU with the trainer: both slow
down and the ratios between the variants stop meaning anything. So starting one then asks first,
and offers to pause the training for the bench (it resumes afterwards); results measured while a
run trained anyway say so.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import (
    DataTable,
    Footer,
    Header,
    Label,
    ProgressBar,
    Select,
    SelectionList,
    Static,
    TabbedContent,
    TabPane,
)
from textual.widgets.selection_list import Selection
from textual.worker import Worker, WorkerState

from tui_transformer.paths import config_dir
from tui_transformer.tui.essential_keys import HELP_AND_QUIT
from tui_transformer.tui.widgets.bench_chart import VARIANTS, BenchChart
from tui_transformer.train.run_state import RunState
from tui_transformer.tui.messages import CurrentRunChanged, RunsListed, StartBenchmark
from tui_transformer.tui.screens.dashboard_screen import DashboardScreen
from tui_transformer.tui.widgets.run_list import RunOption, RunSelect
from tui_transformer.tui.worker_errors import notify_failed

if TYPE_CHECKING:
    from tui_transformer.train.runs import RunInfo

TRAIN_NOTE = ("One training step (forward, loss, backward, AdamW) of our model with explicit attention, "
              "with PyTorch's fused attention, and of a lean nanoGPT-style reference of the same shape. "
              "MFU = model FLOPs per second / the matmul peak measured just before.")
LENGTHS = (8, 16, 32, 64, 128, 256, 512, 1024)
DEFAULT_LENGTHS = (64, 128, 256)
PRESET_SOURCES = ("tiny", "seed")
SPEEDUP_NOTE = "speedup = tok/s with the preallocated cache ÷ tok/s with no cache, at that length"
UNDER_LOAD = " · measured while a run trained: slower than alone, and the ratios are unreliable"
DEVICES = ("auto", "cpu", "cuda", "mps")


@dataclass
class BenchProgress(Message):
    """``done`` of ``total`` measurements made; ``text`` says which one runs now."""

    done: int
    total: int
    text: str


@dataclass
class BenchFinished(Message):
    """A benchmark returned; ``kind`` is "kv" or "train", ``result`` its JSON-ready dict."""

    kind: str
    result: dict[str, Any]
    shape: str = ""  # the model shape measured, in words


def shape_words(model: Any) -> str:
    """A ModelConfig in a few words: ``d48 L2 H2 · T 48 · vocab 512``."""
    return (f"d{model.d_model} L{model.n_layers} H{model.n_heads} · T {model.max_seq_len} · "
            f"vocab {model.vocab_size:,}")


def length_prompt(length: int, checked: bool) -> str:
    """A length in the list: a check mark tells a chosen one apart, not only the box's colour."""
    return f"{'✓' if checked else ' '} {length}"


def shape_options(runs: list[RunInfo]) -> list[RunOption]:
    """The model shapes to measure: each preset's dims, then each run's."""
    return ([(f"{name} preset dims", f"preset:{name}") for name in PRESET_SOURCES]
            + [(f"run {run.name}", f"run:{run.path}") for run in runs])


def kv_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """``run_kv_bench``'s rows (one per length and variant) folded into one row per length:
    tokens/s of each variant, the preallocated cache's speedup over no cache, and its memory."""
    by_length: dict[int, dict[str, Any]] = {}
    for row in result["rows"]:
        entry = by_length.setdefault(row["length"], {"length": row["length"]})
        entry[row["variant"]] = row["tokens_per_s"]
        if row["variant"] == "prealloc":
            entry["cache_bytes"] = row["cache_bytes"]
    for speedup in result["speedups"]:
        by_length[speedup["length"]]["speedup"] = speedup["prealloc_vs_none"]
    return [by_length[length] for length in sorted(by_length)]


def flatness_line(flatness: dict[str, Any] | None) -> str:
    """One decode step with the cache, early against late: about the same time, since each step
    computes K and V for one token only (without a cache the step time grows with the position)."""
    if not flatness:
        return ""
    return (f"one cached decode step: {flatness['ms_per_token_early']:.2f} ms at position "
            f"{flatness['early_position']}, {flatness['ms_per_token_late']:.2f} ms at {flatness['late_position']} "
            f"({flatness['late_over_early']:.2f}×)")


def _mib(n_bytes: float | None) -> str:
    return "—" if n_bytes is None else f"{n_bytes / 2**20:.2f} MiB"


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


class BenchmarkScreen(DashboardScreen):
    """KV-cache and training throughput benchmarks with a table and a chart."""

    TITLE = "Benchmark"
    MODE = "benchmark"

    DEFAULT_CSS = """
    BenchmarkScreen #bn-body { height: 1fr; }
    BenchmarkScreen #bn-controls { width: 28; border-right: tall $panel; padding: 0 1; }
    BenchmarkScreen #bn-main { width: 1fr; padding: 0 1; }
    BenchmarkScreen .bn-heading { color: $text-muted; text-style: bold; margin-top: 1; }
    BenchmarkScreen #bn-lengths { height: auto; max-height: 10; }
    BenchmarkScreen #bn-status { height: auto; max-height: 3; color: $text-muted; }
    BenchmarkScreen #bn-progress { display: none; }
    BenchmarkScreen #bn-progress Bar { width: 1fr; }
    BenchmarkScreen #bn-kv { height: auto; max-height: 11; }
    BenchmarkScreen #bn-flat { height: auto; color: $text-muted; }
    BenchmarkScreen #bn-train { height: auto; max-height: 6; }
    BenchmarkScreen #bn-train-note, BenchmarkScreen #bn-train-summary { color: $text-muted; height: auto; }
    BenchmarkScreen #bn-tabs, BenchmarkScreen #bn-tabs ContentSwitcher { height: 1fr; }
    BenchmarkScreen TabPane { height: 1fr; padding: 0; }
    """

    BINDINGS = [
        Binding("r", "run_kv", "KV bench"),
        *HELP_AND_QUIT,
        Binding("m", "run_train", "Train bench"),
        Binding("escape", "stop", "Stop"),
        Binding("s", "save", "Save JSON"),
    ]

    def __init__(self, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.results: dict[str, dict[str, Any]] = {}
        self._stop = threading.Event()
        self._paused_training = False  # this screen paused the run training here for a bench
        self._shape_picked = False  # the learner chose a shape: listing the runs again keeps it

    def compose(self) -> ComposeResult:
        yield Header()
        yield self.tab_bar()
        with Horizontal(id="bn-body"):
            with VerticalScroll(id="bn-controls"):
                yield Label("Model shape", classes="bn-heading")
                yield RunSelect(shape_options, shape_options([]), value="preset:tiny", allow_blank=False,
                                id="bn-model")
                yield Label("Lengths (new tokens)", classes="bn-heading")
                yield SelectionList(*(Selection(length_prompt(n, n in DEFAULT_LENGTHS), n, n in DEFAULT_LENGTHS)
                                      for n in LENGTHS), id="bn-lengths")
                yield Label("Device", classes="bn-heading")
                yield Select([(d, d) for d in DEVICES], value="auto", allow_blank=False, id="bn-device")
            with Vertical(id="bn-main"):
                yield Static("r runs the KV-cache bench, m the training bench", id="bn-status")
                yield ProgressBar(id="bn-progress", show_eta=False)
                with TabbedContent(id="bn-tabs"):
                    with TabPane("KV cache: decode tokens/s", id="bn-tab-kv"):
                        yield DataTable(id="bn-kv", cursor_type="row", zebra_stripes=True)
                        yield Static(id="bn-flat")
                        yield BenchChart(id="bn-chart")
                    with TabPane("Training: MFU", id="bn-tab-train"):
                        yield Static(TRAIN_NOTE, id="bn-train-note")
                        yield DataTable(id="bn-train", cursor_type="row", zebra_stripes=True)
                        yield Static(id="bn-train-summary")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#bn-kv", DataTable).add_columns("length", *VARIANTS, "speedup", "cache")
        self.query_one("#bn-train", DataTable).add_columns("variant", "tok/s", "step", "MFU", "vs ref")

    def on_screen_resume(self) -> None:
        self.query_one("#bn-model", RunSelect).refresh_runs()  # a run trained since the last visit shows up

    def on_unmount(self) -> None:
        self._stop.set()

    # ---- choices -------------------------------------------------------------------------------

    def selected_lengths(self) -> list[int]:
        return sorted(self.query_one("#bn-lengths", SelectionList).selected)

    def on_selection_list_selected_changed(self, message: SelectionList.SelectedChanged) -> None:
        lengths = message.selection_list
        for index, length in enumerate(LENGTHS):
            lengths.replace_option_prompt_at_index(index, length_prompt(length, length in lengths.selected))

    def on_current_run_changed(self, message: CurrentRunChanged) -> None:
        if not self._shape_picked:
            self.query_one("#bn-model", RunSelect).refresh_runs()  # the listing picks the new run's shape

    def on_start_benchmark(self, message: StartBenchmark) -> None:
        self.action_run_kv()

    def on_runs_listed(self, message: RunsListed) -> None:
        """Measure the current run's shape, until the learner picks a shape."""
        run_dir = self.host.current_run.path
        picker = self.query_one("#bn-model", RunSelect)
        if not self._shape_picked and run_dir is not None and any(v == f"run:{run_dir}" for _, v in message.options):
            with picker.prevent(Select.Changed):
                picker.value = f"run:{run_dir}"

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "bn-model" and event.select.has_focus_within:  # the learner's pick, not the start value
            self._shape_picked = True

    # ---- training on the same machine -----------------------------------------------------------

    def _training_here(self) -> bool:
        """Whether a run trains here and is not paused."""
        run = self.host.current_run
        return self.host.training_active and run.trained_here and run.state in (RunState.STARTING, RunState.RUNNING)

    def _unless_training(self, start: Any) -> None:
        """Call ``start``, but first offer to pause a run training here (or cancel)."""
        if not self._training_here():
            start()
            return
        from tui_transformer.tui.screens.confirm import ConfirmScreen

        def answered(pause: bool | None) -> None:
            if pause:
                self.host.set_paused(True)
                self._paused_training = True
                start()

        self.app.push_screen(ConfirmScreen(
            "A run is training here. A bench shares the CPU with it: both slow down, and the bench's ratios "
            "are wrong. Pause the training while the bench runs? It resumes afterwards.",
            yes="Pause and bench", no="Cancel"), answered)

    def _resume_training(self) -> None:
        if self._paused_training:
            self.host.set_paused(False)
            self._paused_training = False
            self.notify("training resumed")
    # ---- running -------------------------------------------------------------------------------

    def _start(self) -> threading.Event | None:
        """A fresh stop event, or None (with a notification) if a benchmark is already running."""
        if any(w.group == "bench" and w.is_running for w in self.workers):
            self.notify("a benchmark is already running (Escape stops it)", severity="warning")
            return None
        self._stop = threading.Event()
        progress = self.query_one("#bn-progress", ProgressBar)
        progress.display = True
        progress.update(total=None, progress=0)
        return self._stop

    def action_run_kv(self) -> None:
        self._unless_training(self._start_kv)

    def action_run_train(self) -> None:
        self._unless_training(self._start_train)

    def _start_kv(self) -> None:
        lengths = self.selected_lengths()
        if not lengths:
            self.notify("select at least one length", severity="warning")
            return
        self.query_one("#bn-tabs", TabbedContent).active = "bn-tab-kv"
        stop = self._start()
        if stop is not None:
            self._run_kv(str(self.query_one("#bn-model", Select).value), lengths,
                         str(self.query_one("#bn-device", Select).value), stop)

    def _start_train(self) -> None:
        self.query_one("#bn-tabs", TabbedContent).active = "bn-tab-train"
        stop = self._start()
        if stop is not None:
            self._run_train(str(self.query_one("#bn-model", Select).value),
                            str(self.query_one("#bn-device", Select).value), stop)

    def action_stop(self) -> None:
        self._stop.set()

    def _progress(self, done: int, total: int, text: str) -> None:
        """Called by the core from the worker thread: post_message is thread-safe and does not block."""
        self.post_message(BenchProgress(done, total, text))

    @work(thread=True, exclusive=True, group="bench", exit_on_error=False)
    def _run_kv(self, source: str, lengths: list[int], device: str, stop: threading.Event) -> None:
        from tui_transformer.bench.kv_cache import run_kv_bench
        from tui_transformer.train.device import resolve_device

        shape = model_shape(source)
        result = run_kv_bench(shape, lengths=tuple(lengths), batch_size=1,
                              device=resolve_device(device), on_progress=self._progress, stop=stop)
        self.post_message(BenchFinished("kv", result, shape_words(shape)))

    @work(thread=True, exclusive=True, group="bench", exit_on_error=False)
    def _run_train(self, source: str, device: str, stop: threading.Event) -> None:
        from tui_transformer.bench.training import run_train_bench
        from tui_transformer.train.device import resolve_device

        shape = model_shape(source)
        result = run_train_bench(shape, device=resolve_device(device), on_progress=self._progress, stop=stop)
        self.post_message(BenchFinished("train", result, shape_words(shape)))

    # ---- results -------------------------------------------------------------------------------

    def on_bench_progress(self, message: BenchProgress) -> None:
        self.query_one("#bn-progress", ProgressBar).update(total=message.total, progress=message.done)
        self.query_one("#bn-status", Static).update(message.text)

    def on_bench_finished(self, message: BenchFinished) -> None:
        under_load = self._training_here()
        result = {**message.result, "measured_while_training": under_load}  # saved with the JSON too
        self._resume_training()
        self.results[message.kind] = result
        if message.kind == "kv":
            self.show_kv(result)
        else:
            self.show_train(result)
        name = "KV-cache" if message.kind == "kv" else "training"
        ending = "stopped early" if result.get("stopped") or self._stop.is_set() else "done"
        shape = f" on {message.shape}" if message.shape else ""
        self.query_one("#bn-status", Static).update(
            f"{name} benchmark {ending}{shape} · s saves JSON" + (UNDER_LOAD if under_load else ""))
        if result.get("tokens_match") is False:
            self.notify("the cache variants chose different tokens: the speed comparison is not trustworthy",
                        severity="warning", timeout=10)

    def show_kv(self, result: dict[str, Any]) -> None:
        rows = kv_rows(result)
        table = self.query_one("#bn-kv", DataTable)
        table.clear()
        for row in rows:
            table.add_row(str(row["length"]), *(_rate(row.get(v)) for v in VARIANTS),
                          f"{row['speedup']:.1f}×" if "speedup" in row else "—", _mib(row.get("cache_bytes")))
        self.query_one(BenchChart).show([row["length"] for row in rows],
                                        {v: [row.get(v) for row in rows] for v in VARIANTS})
        self.query_one("#bn-flat", Static).update("\n".join(filter(None, [SPEEDUP_NOTE,
                                                                         flatness_line(result.get("flatness"))])))

    def show_train(self, result: dict[str, Any]) -> None:
        table = self.query_one("#bn-train", DataTable)
        table.clear()
        for row in result["rows"]:
            ratio = row.get("vs_reference")
            table.add_row(row["variant"], _rate(row["tokens_per_s"]), f"{row['step_ms']:.0f} ms", f"{row['mfu']:.1%}",
                          "—" if ratio is None else f"{ratio:.2f}×")
        self.query_one("#bn-train-summary", Static).update(
            f"batch {result['batch_size']} × {result['seq_len']} tokens · {result['precision']} · "
            f"matmul peak {result['peak_flops'] / 1e9:.0f} GFLOP/s · "
            f"peak memory {result['peak_memory_mb']:.0f} MiB ({result['peak_memory_kind']})")

    def action_save(self) -> None:
        if not self.results:
            self.notify("nothing to save yet: run a benchmark first (r or m)", severity="warning")
            return
        folder = config_dir() / "benchmarks"
        path = folder / time.strftime("bench-%Y%m%d-%H%M%S.json")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(self.results, indent=2, default=str) + "\n", encoding="utf-8")
        except OSError as error:
            self.notify(f"could not save {path}: {error}", severity="error")
            return
        self.notify(f"saved {path}", title="benchmark results")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            self._resume_training()
            notify_failed(self, "benchmark", event.worker.error)
            self.query_one("#bn-status", Static).update("failed: see the notification")


def model_shape(source: str) -> Any:
    """``preset:<name>`` -> that preset's ModelConfig; ``run:<dir>`` -> the dims the run trained with."""
    kind, _, name = source.partition(":")
    if kind == "preset":
        from tui_transformer.presets import PRESETS

        return PRESETS[name].model
    from tui_transformer.train.runs import load_run_config

    return load_run_config(Path(name)).model
