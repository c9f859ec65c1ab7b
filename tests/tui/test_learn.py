"""Learn mode, driven by Pilot: every page renders live from a tiny model, and follows the prompt.

The model is a seeded random d32/L2 DecoderTransformer with the offline cl100k_base tokenizer;
the panels are rich renderables, read back as plain text with a recording console.
"""

import torch
from textual.app import App
from textual.widgets import Input, Markdown, Static

from tests.tui.helpers import ScreenHost, make_app, plain
from tui_transformer.tui.learn.registry import PAGES
from tui_transformer.tui.screens.learn import LearnScreen

PROMPT = "The cat sat on the mat. The cat"


class LearnApp(ScreenHost):
    def on_mount(self) -> None:
        self.push_screen(LearnScreen(autoload=False))


async def _settled(screen: LearnScreen, pilot) -> str:
    await pilot.pause()
    await screen.workers.wait_for_complete()
    await pilot.pause()
    return plain(screen.live_renderable)


async def _ready(app, pilot, tiny) -> LearnScreen:
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, LearnScreen)
    await screen.workers.wait_for_complete()  # the run list
    screen.set_model(*tiny, "tiny-test")
    await _settled(screen, pilot)
    return screen


# what each page's live panel must show for PROMPT (a fact of that concept, from the real model)
EXPECTED = {
    "Tokenization": ["cl100k_base: 9 tokens", "␣mat"],
    "Token embeddings": ["E: [100,277 × 32]", "nearest by cosine"],
    "Positional encoding": ["sinusoidal: PE[p, d]", "positions 0..31 × 32 columns"],
    "Attention": ["layer 1/2 · head 1/2", "weights [9 × 9]"],
    "Multi-head attention": ["2 heads of d_head = 32 / 2 = 16", "head 2"],
    "Feed-forward": ["blocks.0.ff", "4,192"],
    "The block": ["blocks.0.attn", "block 1"],
    "Model and training": ["untrained", "layer 2"],
    "KV cache": ["512 bytes per position", "9 ← your prompt"],
    "Sampling": ["rep-pen 1.3", "temp 0.8", "min-p 0.05", "left"],
    "Circuits": ["head  prev self first local induct copy role", "L2 H2", "in-context learning"],
    "The modern recipe": ["speedrun lesson"],  # the learner's runs ranked, or how to make some
}


async def test_every_page_renders_prose_live_and_code(tiny):
    app = LearnApp()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _ready(app, pilot, tiny)
        assert [page.title for page in PAGES] == list(EXPECTED)
        for index, page in enumerate(PAGES):
            await pilot.press("down") if index else None  # the page list has focus
            live = await _settled(screen, pilot)
            assert screen.page_index == index
            for fact in EXPECTED[page.title]:
                assert fact in live, (page.title, fact, live)
            assert screen.query_one("#learn-prose", Markdown).source.startswith(f"# {index + 1} ·")
            code = plain(screen.query_one("#learn-code", Static).content)
            assert "def " in code or "class " in code


async def test_editing_the_prompt_updates_the_live_panel(tiny):
    app = LearnApp()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _ready(app, pilot, tiny)
        assert "9 tokens" in plain(screen.live_renderable)
        await pilot.click("#learn-prompt")
        await pilot.press("end", *" sleeps")
        await pilot.pause(0.4)  # past the debounce
        live = await _settled(screen, pilot)
        assert "␣sleeps" in live and "cl100k_base: 10 tokens" in live


async def test_layer_and_head_keys_pick_the_attention_map(tiny):
    app = LearnApp()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _ready(app, pilot, tiny)
        screen.show_page(3)
        await _settled(screen, pilot)
        await pilot.press("right_square_bracket", "full_stop")
        live = await _settled(screen, pilot)
        assert "layer 2/2 · head 2/2" in live
        weights = screen.live_context().inspection.attention[1][0, 1]
        row = next(line.split() for line in live.splitlines() if line.startswith(" 1 ␣cat"))
        # token 1 looks at token 0 with the weight the model computed, and not at the future
        assert row[2:] == [str(round(weights[1, 0].item() * 100)), str(round(weights[1, 1].item() * 100))] + ["·"] * 7
        await pilot.press("right_square_bracket")  # wraps around
        assert "layer 1/2 · head 2/2" in await _settled(screen, pilot)


async def test_learn_mode_opens_with_a_fresh_model_when_there_is_no_run():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LearnScreen) and app.current_mode == "learn"
        while screen.model is None:
            await screen.workers.wait_for_complete()
            await pilot.pause()
        assert "UNTRAINED" in str(screen.query_one("#learn-model", Static).content)
        screen.show_page([page.title for page in PAGES].index("Model and training"))
        assert "untrained" in await _settled(screen, pilot), "the live panel reads the fresh model"
        await app.workers.wait_for_complete()


def _snapshot(snap_compare, tiny, page: int, keys: tuple[str, ...] = (), size: tuple[int, int] = (110, 32)) -> bool:
    app = LearnApp()

    async def run_before(pilot) -> None:
        screen = await _ready(app, pilot, tiny)
        screen.query_one("#learn-prompt", Input).cursor_blink = False
        screen.show_page(page)
        await _settled(screen, pilot)
        for key in keys:
            await pilot.press(key)
            await _settled(screen, pilot)

    return snap_compare(app, terminal_size=size, run_before=run_before)


def test_snapshot_attention_page(snap_compare, tiny):
    """Page 4 on layer 2, head 2 of the seeded tiny model: the shaded grid and the empty upper triangle."""
    assert _snapshot(snap_compare, tiny, 3, ("right_square_bracket", "full_stop"))


def test_snapshot_sampling_page(snap_compare, tiny):
    """Page 10 with the teaching sampler: every processor's column, and the tokens each one leaves."""
    assert _snapshot(snap_compare, tiny, 9)


def test_snapshot_block_page_80x24(snap_compare, tiny):
    """Page 7 at 80x24: the component table, then the stream's mean L2 norm from "embed + pos" on."""
    assert _snapshot(snap_compare, tiny, 6, size=(80, 24))


async def test_s_steps_the_sampling_page_through_the_presets(tiny):
    app = LearnApp()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _ready(app, pilot, tiny)
        screen.show_page(9)
        assert "temp 0.8" in await _settled(screen, pilot)
        await pilot.press("s")  # the next settings: greedy
        live = await _settled(screen, pilot)
        assert screen.sampler_name == "greedy" and "temp 0 (greedy)" in live
        left = next(line for line in live.splitlines() if "left" in line).split("│")
        assert left[-2].strip() == "1"  # greedy leaves one token


async def test_the_code_tab_scrolls_sideways_to_show_long_lines_at_80x24(tiny):
    # The Code tab cut long lines at the pane's edge, with no wrap and no horizontal scroll.
    from tests.tui.helpers import text_of
    from tui_transformer.tui.learn.registry import code

    app = LearnApp()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _ready(app, pilot, tiny)
        await pilot.press("ctrl+k")
        await pilot.pause()
        lines = code(screen.page).splitlines()
        longest = max(lines, key=len).rstrip()
        pane = screen.query_one("#learn-code-scroll")
        pane.scroll_to(y=lines.index(longest), animate=False)  # that line at the top of the pane
        await pilot.pause()
        assert len(longest) > pane.size.width  # the page has a line wider than the pane
        tail = longest[-12:]
        assert not any(tail in line for line in text_of(app, pane))
        for _ in range(len(longest) // 8 + 1):
            await pilot.press("right")
        await pilot.pause()
        assert any(tail in line for line in text_of(app, pane)), text_of(app, pane)
        await pilot.press("left")
        assert pane.scroll_x > 0 and app.focused is screen.query_one("#learn-pages")


async def test_learn_explains_the_followed_run_not_the_newest(tmp_path):
    # At 80x24 Learn picked the newest run, not the run the header said it was following.
    from tests.tui.helpers import write_run

    runs = tmp_path / "runs"
    followed = write_run(runs, "followed", checkpoints=("latest",))
    write_run(runs, "newer", checkpoints=("latest",))
    (followed / "metrics.jsonl").write_text("")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.screen.attach(followed)
        await pilot.press("4")
        screen = app.screen
        for _ in range(3):
            await screen.workers.wait_for_complete()
            await pilot.pause()
        assert screen.run_dir == followed and screen.model_label == "followed"
        assert screen.query_one("#learn-run").region.height == 3  # its label on one line, not wrapped in two


async def test_the_circuits_page_shows_the_interpret_scores_of_the_model(tiny):
    """Page 11: a row per head with the role scores interpret.head_roles computes on the same test
    sequences, the copying and in-context learning scores of interpret.induction, and the strongest
    induction head's attention from a second-copy token."""
    from tui_transformer.interpret.head_roles import head_roles
    from tui_transformer.interpret.induction import induction_report, repeated_random_tokens
    from tui_transformer.tui.learn.circuits import BATCH, LENGTH, SEED, token_pool

    model, tokenizer = tiny
    app = LearnApp()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _ready(app, pilot, tiny)
        await pilot.press("end", "up")  # the page list has the focus: Circuits is next to last
        live = await _settled(screen, pilot)
        assert screen.page.title == "Circuits"
        pool = token_pool(tokenizer)
        roles = head_roles(model, repeated_random_tokens(pool, LENGTH, BATCH, SEED), period=LENGTH)
        with torch.inference_mode():
            report = induction_report(model, pool, LENGTH, BATCH, SEED)
        rows = {line.split()[0] + " " + line.split()[1]: line.split()[2:] for line in live.splitlines()
                if line.startswith("L") and len(line.split()) == 9}
        assert list(rows) == ["L1 H1", "L1 H2", "L2 H1", "L2 H2"]  # every head of the d32/L2/H2 model
        for layer in range(2):
            for head in range(2):
                scores, copying, role = rows[f"L{layer + 1} H{head + 1}"][:5], *rows[f"L{layer + 1} H{head + 1}"][5:]
                assert scores == [f"{s:.2f}" for s in roles.scores[layer, head].tolist()]
                assert copying == f"{float(report.copying[layer, head]):+.1f}"
                assert role == (roles.role(layer, head) or "—")  # random weights: no head reaches 0.4
        words = " ".join(live.split())  # the sentences, whatever the panel's width wrapped
        assert f"in-context learning {report.in_context_learning:+.2f} nats" in words
        layer, head, score = report.strongest()
        assert f"Strongest induction head L{layer + 1} H{head + 1}, prefix matching {score:.2f}" in words
        assert "the token after the first one" in words
        assert "pattern_scores" in plain(screen.query_one("#learn-code", Static).content)  # the detector's source
        assert "write two prompts of the same token length as `clean | corrupted`" in words  # no pair yet
        heads_part = screen.live_renderable.renderables[0]
        await pilot.click("#learn-prompt")
        await pilot.press("end", *" sleeps")
        await pilot.pause(0.4)  # past the debounce
        await _settled(screen, pilot)
        assert screen.live_renderable.renderables[0] is heads_part  # the prompt plays no part: cached per model


async def test_the_circuits_page_patches_the_prompt_pair_in_the_box(tiny):
    """``clean | corrupted`` in the prompt: the two grids are interpret.patching's, for the answers the
    model gives after each prompt; a pair of unequal lengths gets one line saying so."""
    from tui_transformer.interpret.patching import patch

    model, tokenizer = tiny
    app = LearnApp()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _ready(app, pilot, tiny)
        screen.query_one("#learn-prompt", Input).value = "The cat sat | The dog ran"
        screen.show_page(10)
        live = await _settled_after_edit(screen, pilot)
        clean, corrupted = tokenizer.encode("The cat sat"), tokenizer.encode("The dog ran")
        answer, wrong = (int(model(torch.tensor([ids]))[0, -1].argmax()) for ids in (clean, corrupted))
        assert answer != wrong
        result = patch(model, clean, corrupted, answer, wrong)
        lines = live.splitlines()
        start = next(i for i, line in enumerate(lines) if line.startswith("residual stream entering"))
        assert lines[start + 1].split() == ["token", "L1", "L2"]  # a row per position, a column per layer
        for position, piece in enumerate(["The", "␣cat", "␣sat"]):
            assert lines[start + 2 + position].split() == [piece, *(f"{v:.2f}" for v in result.residual[:, position])]
        start = next(i for i, line in enumerate(lines) if line.startswith("one head's output patched"))
        for layer in range(2):
            assert lines[start + 2 + layer].split() == [f"L{layer + 1}", *(f"{v:.2f}" for v in result.heads[layer])]
        assert f"logit difference {result.clean:+.2f} clean, {result.corrupted:+.2f} corrupted" in " ".join(live.split())

        screen.query_one("#learn-prompt", Input).value = "The cat sat | The dog ran away"
        live = " ".join((await _settled_after_edit(screen, pilot)).split())
        assert "the clean one has 3, the corrupted one 4" in live and "residual stream" not in live


async def _settled_after_edit(screen: LearnScreen, pilot) -> str:
    await pilot.pause(0.4)  # past the prompt's debounce
    return await _settled(screen, pilot)


async def test_the_circuits_page_says_what_to_do_without_a_model():
    app = LearnApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        await screen.workers.wait_for_complete()
        screen.show_page(10)
        await pilot.pause()
        assert screen.model is None
        assert str(screen.query_one("#learn-live", Static).content) == "load a model to see this page live"


def test_snapshot_circuits_page(snap_compare, tiny):
    """Page 11 at 120x40 on the seeded tiny model: the role table, the induction scores, the test sequence."""
    assert _snapshot(snap_compare, tiny, 10, size=(120, 40))
