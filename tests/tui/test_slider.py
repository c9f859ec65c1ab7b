"""The Slider widget: keys, mouse click and drag, snapping, formatting, the Changed message, disabled."""

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Button

from tui_transformer.tui.widgets.slider import Slider


class SliderApp(App):
    """One slider 42 cells wide (track 36 + space + 5-wide value), and a button to take focus away."""

    CSS = "Slider { width: 42; }"

    def __init__(self, **slider_kwargs) -> None:
        super().__init__()
        self.slider_kwargs = slider_kwargs
        self.changes: list[float] = []

    def compose(self) -> ComposeResult:
        yield Slider(**self.slider_kwargs, id="s")
        yield Button("other")

    def on_slider_changed(self, event: Slider.Changed) -> None:
        assert event.control is event.slider
        self.changes.append(event.value)


async def test_keys_step_shift_home_end():
    app = SliderApp(value=1.0, minimum=0.0, maximum=2.0, step=0.05)
    async with app.run_test(size=(60, 5)) as pilot:
        slider = app.query_one(Slider)
        slider.focus()
        await pilot.press("right")
        assert slider.value == pytest.approx(1.05)
        await pilot.press("left", "left")
        assert slider.value == pytest.approx(0.95)
        await pilot.press("shift+right")
        assert slider.value == pytest.approx(1.45)
        await pilot.press("shift+right", "shift+right")  # would be 2.45: clamps at the maximum
        assert slider.value == 2.0
        await pilot.press("home")
        assert slider.value == 0.0
        await pilot.press("left")  # stays at the minimum
        assert slider.value == 0.0
        await pilot.press("end")
        assert slider.value == 2.0
        await pilot.pause()
        assert app.changes == pytest.approx([1.05, 1.0, 0.95, 1.45, 1.95, 2.0, 0.0, 2.0])


async def test_values_snap_to_the_step_grid_and_format():
    app = SliderApp(value=17, minimum=1, maximum=512, step=1, format=lambda v: f"{int(v)} tok")
    async with app.run_test(size=(60, 5)):
        slider = app.query_one(Slider)
        slider.value = 33.4
        assert slider.value == 33
        slider.value = -5
        assert slider.value == 1
        slider.value = 0.1 + 0.2 + 99.6  # float noise does not leak into the value
        assert slider.value == 100
        assert slider.formatted() == "100 tok"
        assert "100 tok" in str(slider.render())


async def test_click_sets_value_under_the_pointer():
    # 42 cells: the value label is "1.00" (4 wide), so the track is 42 - 4 - 1 = 37 cells, 0..36
    app = SliderApp(value=0.5, minimum=0.0, maximum=1.0, step=0.01)
    async with app.run_test(size=(60, 5)) as pilot:
        slider = app.query_one(Slider)
        assert slider._track_width() == 37
        await pilot.click(Slider, offset=(0, 0))
        assert slider.value == 0.0
        assert slider.has_focus  # clicking focuses it, so the keys work next
        await pilot.click(Slider, offset=(36, 0))
        assert slider.value == 1.0
        await pilot.click(Slider, offset=(9, 0))
        assert slider.value == 0.25
        await pilot.press("right")
        assert slider.value == 0.26


async def test_drag_follows_the_pointer_even_outside_the_widget():
    app = SliderApp(value=0.0, minimum=0.0, maximum=1.0, step=0.01)
    async with app.run_test(size=(60, 5)) as pilot:
        slider = app.query_one(Slider)
        await pilot.mouse_down(Slider, offset=(9, 0))
        assert slider.value == 0.25
        await pilot.hover(Slider, offset=(18, 0))
        assert slider.value == 0.5
        await pilot.hover(Slider, offset=(55, 0))  # past the right end of the track: clamps
        assert slider.value == 1.0
        await pilot.mouse_up(Slider, offset=(27, 0))  # the release point is the last drag position
        assert slider.value == 0.75
        await pilot.hover(Slider, offset=(0, 0))  # button released: moving no longer changes it
        assert slider.value == 0.75


async def test_disabled_slider_ignores_keys_and_mouse():
    app = SliderApp(value=0.5, minimum=0.0, maximum=1.0, step=0.1, disabled=True)
    async with app.run_test(size=(60, 5)) as pilot:
        slider = app.query_one(Slider)
        assert not slider.focusable
        await pilot.click(Slider, offset=(0, 0))
        await pilot.press("home", "left")
        assert slider.value == 0.5
        slider.disabled = False
        await pilot.click(Slider, offset=(0, 0))
        assert slider.value == 0.0


def test_bad_range_is_a_clear_error():
    with pytest.raises(ValueError, match="maximum"):
        Slider(minimum=1.0, maximum=1.0)
    with pytest.raises(ValueError, match="step"):
        Slider(step=0)
