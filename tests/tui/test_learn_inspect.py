"""The Playground's inspect toggle: the last layer's attention and the logit lens at the cursor."""

import torch
from textual.widgets import TextArea

from tests.tui.helpers import PlaygroundApp, plain, playground_ready
from tui_transformer.model.tools.inspection import inspect
from tui_transformer.tui.widgets.inspect_panel import InspectPanel, token_at


def test_token_at_maps_a_cursor_to_the_token_it_follows():
    pieces = ["The", " cat", " sat"]  # characters 0-2, 3-6, 7-10
    assert [token_at(pieces, offset) for offset in (0, 2, 3, 4, 7, 8, 11, 99)] == [0, 0, 0, 1, 1, 2, 2, 2]


async def test_inspect_toggle_shows_attention_and_logit_lens_at_the_cursor(tiny):
    model, tokenizer = tiny
    app = PlaygroundApp()
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await playground_ready(app, pilot, tiny, prompt="The cat sat on the mat")
        panel = screen.query_one(InspectPanel)
        assert not panel.display
        await pilot.press("ctrl+o")
        # let the screen settle first (run list, preview, the first inspection), so that nothing
        # queued before the cursor move can land after it
        await screen.workers.wait_for_complete()
        await pilot.pause()
        prompt = screen.query_one("#pg-prompt", TextArea)
        prompt.cursor_location = (0, 6)  # inside " cat": token 1
        # the cursor move reaches the panel as a message, then a worker computes: wait for the result
        for _ in range(100):
            await pilot.pause()
            await screen.workers.wait_for_complete()
            if panel.position == 1:
                break
            await pilot.pause(0.05)
        assert panel.display and panel.position == 1, (prompt.cursor_location, plain(panel.content, width=96))
        text = plain(panel.content, width=96)
        assert "token 1 ␣cat" in text
        assert "h1 " in text and "h2 " in text  # both heads of the last layer
        # the logit lens' last row is the model's own prediction after " cat", given "The cat"
        ids = tokenizer.encode("The cat")
        best = torch.softmax(inspect(model, ids).logits[0, -1], -1).argmax().item()
        last_row = next(line for line in text.splitlines() if line.startswith("L2"))
        assert last_row.split()[1] == tokenizer.decode([best]).replace(" ", "␣")

        await pilot.press("ctrl+o")
        await pilot.pause()
        assert not panel.display
        await screen.workers.wait_for_complete()


async def test_a_failed_inspection_says_why_in_the_panel(tiny):
    from copy import deepcopy

    from textual.app import App

    model, tokenizer = tiny
    broken = deepcopy(model)
    broken.blocks[-1].attn.qkv.weight.data = torch.zeros(3, 3)  # a corrupt layer: the forward pass fails

    class PanelApp(App):
        def compose(self):
            yield InspectPanel(classes="-shown")

    app = PanelApp()
    async with app.run_test(size=(100, 20)) as pilot:
        panel = app.query_one(InspectPanel)
        panel.show(broken, tokenizer, tokenizer.encode("The cat"), 1)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert panel.position is None
        assert "could not inspect token 1: RuntimeError" in plain(panel.content, width=96)
