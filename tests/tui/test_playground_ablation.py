"""Head ablation in the Playground, by keyboard: the next-token bars, the inspect panel and the
generation follow the heads switched off, and clearing them gives back the model's own numbers.

The expected numbers come from the core (``interpret.ablation.ablate_heads`` around the same
forward pass and sampler), on the seeded random d32/L2/H2 model of the ``tiny`` fixture.
"""

import pytest
import torch

from tests.tui.helpers import PLAYGROUND_PROMPT, PlaygroundApp, plain, playground_ready, settled_bars
from tui_transformer.interpret.ablation import ablate_heads
from tui_transformer.model.sampling import Sampler
from tui_transformer.tui.screens.playground import _top_candidates
from tui_transformer.tui.widgets.head_picker import HeadPicker
from tui_transformer.tui.widgets.inspect_panel import InspectPanel
from tui_transformer.tui.widgets.next_token_bars import NextTokenBars
from tui_transformer.tui.widgets.slider import Slider


def expected_bars(screen, model, tokenizer, heads=(), mode="zero"):
    """The bars the core gives for the prompt under the screen's sampler, with ``heads`` ablated."""
    ids = tokenizer.encode(PLAYGROUND_PROMPT)
    tokens = torch.tensor([ids])
    with torch.inference_mode(), ablate_heads(model, list(heads), mode, reference=tokens):
        probs = Sampler(screen.sampling_config(), "cpu").distribution(model(tokens)[:, -1], tokens)
    return _top_candidates(tokenizer, probs[0], token_id=-1)[0]


async def test_ablating_a_head_changes_the_bars_and_clearing_restores_them_exactly(tiny):
    model, tokenizer = tiny
    app = PlaygroundApp()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await playground_ready(app, pilot, tiny)
        screen.apply_preset("balanced")
        original = await settled_bars(screen, pilot)
        assert original == expected_bars(screen, model, tokenizer)

        await pilot.press("ctrl+b")  # opens the inspect panel and focuses the head picker
        picker = screen.query_one(HeadPicker)
        assert screen.query_one(InspectPanel).display and app.focused is picker
        await pilot.press("down", "space")  # layer 2, head 1: off
        ablated = await settled_bars(screen, pilot)
        assert screen.ablation.heads == ((1, 0),) and screen.ablation.mode == "zero"
        assert ablated == expected_bars(screen, model, tokenizer, [(1, 0)]) and ablated != original
        assert "ablated: L2 H1 (zero)" in str(screen.query_one("#pg-next-heading").content)
        assert "✗h1" in plain(picker.content)
        inspected = plain(screen.query_one(InspectPanel).content, width=110)
        assert "ablated L2 H1 (zero)" in inspected and "✗h1 " in inspected  # a last-layer head: marked in its row

        await pilot.press("m")  # mean ablation: the head's average output over the prompt
        mean = await settled_bars(screen, pilot)
        assert mean == expected_bars(screen, model, tokenizer, [(1, 0)], "mean") and mean != ablated

        await pilot.press("backspace")
        assert await settled_bars(screen, pilot) == original  # exactly: the same pass, no hook open
        assert screen.ablation.heads == () and "ablated" not in str(screen.query_one("#pg-next-heading").content)
        assert "✗" not in plain(picker.content)


async def test_a_generation_runs_with_the_ablated_heads_off(tiny):
    """The text and the last step's bars are those of the core's generation with the heads off."""
    from tui_transformer.model import generate_steps

    model, tokenizer = tiny
    app = PlaygroundApp()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await playground_ready(app, pilot, tiny)
        screen.apply_preset("balanced")  # seed 0: the same draws every run
        screen.query_one("#pg-max_new_tokens", Slider).value = 8
        await pilot.press("ctrl+b", "space", "right", "space")  # both heads of layer 1
        await pilot.pause()
        assert screen.ablation.heads == ((0, 0), (0, 1))
        await pilot.press("ctrl+g")
        await screen.workers.wait_for_complete()
        await pilot.pause()
        ids = tokenizer.encode(PLAYGROUND_PROMPT)

        def core(ablated: bool):
            """(text, the last step's bars) of the core's own generation, with or without layer 1."""
            heads = [(0, 0), (0, 1)] if ablated else []
            with ablate_heads(model, heads):
                steps = list(generate_steps(model, ids, max_new_tokens=8, sampling=screen.sampling_config(),
                                            use_cache=True, eos_id=tokenizer.eot_id))
            text = tokenizer.decode([int(step.token_ids[0]) for step in steps])
            return text, _top_candidates(tokenizer, steps[-1].probs[0], int(steps[-1].token_ids[0]))[0]

        text, bars = core(ablated=True)
        assert str(screen.query_one("#pg-output").content) == PLAYGROUND_PROMPT + text
        assert screen.query_one(NextTokenBars)._last[0] == bars
        assert core(ablated=False)[1] != bars  # without the ablation the last step's distribution differs


async def test_a_new_model_starts_with_no_head_ablated(tiny):
    app = PlaygroundApp()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await playground_ready(app, pilot, tiny)
        await pilot.press("ctrl+b", "space")
        await pilot.pause()
        assert screen.ablation.heads == ((0, 0),)
        screen.set_model(*tiny, "tiny-again")
        await pilot.pause()
        assert screen.ablation.heads == () and screen.query_one(HeadPicker).n_layers == 2


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_the_head_picker_shows_whole_at_both_sizes(tiny, size):
    from tests.tui.helpers import make_app, text_of

    app = make_app()  # the whole app: its breakpoints give the screen the 80-column layout
    async with app.run_test(size=size) as pilot:
        await pilot.press("2")
        screen = await playground_ready(app, pilot, tiny)
        await pilot.press("ctrl+b", "space")
        await screen.workers.wait_for_complete()
        await pilot.pause()
        picker = screen.query_one(HeadPicker)
        assert picker.region.bottom <= screen.query_one("Footer").region.y
        shown = "\n".join(text_of(app, picker))
        assert "✗h1" in shown and "h2" in shown
        assert screen.query_one("#pg-output-scroll").content_region.height >= 4
