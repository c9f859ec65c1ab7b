"""``?``: what every key does, and what the panels mean."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP_TEXT = """\
# tui-transformer

Train a small transformer, watch it learn, then probe it.

## Everywhere

| key | |
|---|---|
| `1`/`t`/`F1` | Train mode |
| `2`/`p`/`F2` | Playground mode |
| `3`/`b`/`F3` | Benchmark mode (F-keys work even while typing in an editor) |
| `4`/`l`/`F4` | Learn mode: twelve pages, each explained on your own model (`l` is log scale on Train and Runs) |
| `5`/`u`/`F5` | Runs mode: every run in a table, several overlaid on one chart, and what differs |
| `6`/`F6` | Lessons: experiments that answer one question each with your own runs |
| `ctrl+p` | command palette: start/stop training, open a run, benchmark, theme |
| `?` | this help (escape closes it) |
| `q`/`ctrl+q` | quit (asks first while a run trains, then saves a checkpoint) |

## Train

| key | |
|---|---|
| `s` | start training with the form's settings |
| `space` | pause / resume |
| `x` | stop: the trainer saves a checkpoint, then ends the run |
| `r` | resume a previous run from its last checkpoint |
| `o` | open (attach to) any run directory and follow its `metrics.jsonl` live |
| `l` | log scale on the loss and perplexity charts |
| `w` | window: all steps, the last 100, the last 1000 |
| `m` | the second chart: perplexity, val bits per byte, in-context learning, induction head |
| `a` | open the Learn page that explains the newest alert (the strip above the charts) |
| `f` | hide / show the form, giving the charts the whole width (under 30 rows, two charts: loss and `m`) |
| `escape` | leave a text field of the form |

**Loss** is the cross-entropy of the next token, in nats: a model that guesses uniformly over
a vocabulary of V tokens scores ln V (9.0 for 8192 tokens). **Perplexity** is e^loss: "as unsure
as a fair choice among that many tokens". The **val** curve is measured on text the model never
trains on; when it rises while train keeps falling, the model is memorising (overfitting).

The **learning rate** warms up, then decays along a cosine. **tokens/s** is the training
throughput. **grad** is the gradient norm before clipping.

**bpb** (bits per byte) is the val loss per byte of text, in bits: unlike loss and perplexity it
compares runs whose tokenizers differ. The **system** line is this process's CPU (100 % per busy
core), its memory (rss), CUDA memory and GPU use on a GPU, and **MFU**: the share of the device's
peak FLOP/s the model's arithmetic uses. An **alert** (⚠) is the training doctor's word on a run
going wrong, with the Learn page that explains it. **In-context learning** is how much lower the
loss is on the second copy of a repeated random sequence than on the first; the **induction head**
score is the best head's attention to the token after the earlier copy: it rises when one forms.

A text field takes every letter key: `escape` leaves it, and the keys work again.

## Playground

Opening it loads a model by itself: the run the Train screen shows, else the newest run.

| key | |
|---|---|
| `ctrl+g` | generate from the prompt with the sampler's settings |
| `escape` | stop generating; with nothing generating, leave the prompt: letters are keys again (`q`, `?`, `t`…) |
| `enter` | (after `escape`) back to the prompt; a letter typed anywhere else on this screen goes into the prompt |
| `ctrl+r` | open the checkpoint picker (any run's `latest` or `best`) |
| `ctrl+n` | the next sampler preset (greedy … very-creative) |
| `ctrl+t` | KV cache on / off: the same text, at another speed |
| `ctrl+o` | inspect: the last layer's attention and the logit lens at the token under the cursor |
| `ctrl+b` | ablate heads: arrows pick a layer and head, `space` switches it off / on, `m` zero / mean, `backspace` clears |
| `tab` | the next control; `←` / `→` move a slider (`shift` for ×10) |

The **next-token bars** show the ten likeliest tokens of the distribution the sampler draws
from, after its filters; before generating, they preview the first step for the prompt as typed.

## Benchmark

| key | |
|---|---|
| `r` | KV cache bench: tokens/s against length, without a cache, with a naive one, preallocated |
| `m` | training bench: tokens/s and MFU (the share of the machine's measured matmul peak) |
| `escape` | stop the bench |
| `s` | save the results as JSON (the screen says where) |

Measure with no run training: a bench shares the CPU with the trainer, and both slow down.

## Learn

| key | |
|---|---|
| `↑`/`↓` | the page (in the page list; `escape` returns there from the prompt) |
| `ctrl+o`/`ctrl+l`/`ctrl+k` | Prose / Live / Code tab |
| `←`/`→` | Code tab: scroll the source sideways |
| `[`/`]` | attention pages: previous / next layer |
| `<`/`>` | attention page: previous / next head |
| `s` | sampling page: the next sampler settings (teaching, then the presets) |
| `ctrl+r` | open the model picker |

Learn explains the run the Train screen shows (else the newest run). The **Live** tab is
computed from the picked model for the prompt at the top. A *fresh untrained model* has real
shapes but random patterns: train a run to see real ones.

## Runs

| key | |
|---|---|
| `space` | mark / unmark the run under the cursor for the overlay |
| `w` | mark every run of its sweep (again: unmark them) |
| `m`/`x`/`l` | the metric (val bpb, val loss, train loss) / the x axis (step, tokens, time) / log scale |
| `tab` | reach the smoothing slider; `←` / `→` move it (`shift` for ×10) |
| `s`/`S` | sort by the next column / reverse (or click a column's header) |
| `/` | filter by words (name, state, preset, data, sweep, note); `escape` back to the table |
| `o`/`g`/`e` | follow the run on Train / load it in the Playground / explain it in Learn |
| `r`/`n`/`d` | rename / add a one-line note / delete (asks first; never a run in training) |

**Bits per byte** compares runs whose tokenizers differ; loss does not. **tokens** is the fair
x axis across batch sizes, **time** shows which run gets lower sooner. **Smoothing** is
TensorBoard's debiased moving average: 0 draws the raw points, 0.99 averages about the last 100.
The dot before a marked run is its colour on the chart; it keeps it while others are marked.

## Lessons

| key | |
|---|---|
| `↑`/`↓` | pick a lesson: its question, what to expect, its runs and its verdict show on the right |
| `s`/`enter` | start the lesson, or continue it where it stopped (refused while another run trains) |
| `x` | stop it (the run training saves its checkpoint; `s` continues later) |
| `v` | read its runs again and give the verdict (a lesson run from the command line) |
| `o` | open its Learn page (the induction lesson: Circuits, on its best run) |
| `r` | show its runs overlaid on the Runs screen |

A lesson's runs are a sweep named after it (`induction-seed0`...): they train one after another in
the same worker as the Train screen's runs, so the Train screen draws each one's curves as it
trains. When the last one ends, the verdict says what your runs showed, with their numbers.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90%; max-width: 100; height: 90%; border: thick $accent; background: $surface;
    }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown(HELP_TEXT)

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
