"""The braille canvas and the chart's axes, scaling and modes (pure rendering, no app)."""

import math

from tui_transformer.tui.run_history import Series
from tui_transformer.tui.widgets.braille import BRAILLE_BASE, BrailleCanvas
from tui_transformer.tui.widgets.line_chart import Line, format_number, render_chart


def test_dots_map_to_braille_bits():
    canvas = BrailleCanvas(2, 1)
    canvas.dot(0, 0, "red")  # top-left dot of cell 0 -> bit 0x01
    canvas.dot(3, 3, "red")  # bottom-right dot of cell 1 -> bit 0x80
    assert canvas.row_text(0).plain == chr(BRAILLE_BASE + 0x01) + chr(BRAILLE_BASE + 0x80)
    canvas.dot(10, 10, "red")  # outside: ignored, not an error
    empty = BrailleCanvas(3, 1)
    assert empty.row_text(0).plain == "   "


def test_line_has_no_gaps():
    canvas = BrailleCanvas(10, 2)  # 20 x 8 dots
    canvas.line(0, 0, 19, 7, "x")
    dots = sum(bin(ord(ch) - BRAILLE_BASE).count("1") for row in range(2) for ch in canvas.row_text(row).plain
               if ch != " ")
    assert dots == 20  # one dot per x column along a shallow line


def chart(series, width=60, height=12, **kwargs):
    return render_chart("loss", [Line(s, "blue") for s in series], width, height, **kwargs).plain.split("\n")


def falling(n=200):
    series = Series("train")
    for step in range(1, n + 1):
        series.append(step, 1.0 + 5.0 * math.exp(-step / 40))
    return series


def test_chart_has_title_y_labels_and_x_axis_with_step_labels():
    lines = chart([falling()])
    assert len(lines) == 12
    assert lines[0].startswith("loss") and "━ train" in lines[0]
    assert all(len(line) <= 60 for line in lines)
    y_top, y_bottom = float(lines[1].split("┤")[0]), float(lines[-2].split("┤")[0])
    assert y_top > 5.5 and y_bottom < 1.2  # the padded data range
    axis = lines[-1]
    assert "└" in axis and axis.split("└")[1].startswith("1") and axis.rstrip().endswith("200")
    assert "100" in axis


def test_falling_curve_is_drawn_from_top_left_to_bottom_right():
    rows = [line.split("┤" if "┤" in line else "│", 1)[1] for line in chart([falling()])[1:-1]]
    top, bottom = rows[0], rows[-1]
    assert top.strip() and len(top) - len(top.lstrip()) <= 2  # starts at the top-left
    assert top.rstrip() and len(top.rstrip()) < len(top) // 2  # and leaves the top quickly
    assert len(bottom.rstrip()) >= len(bottom) - 1  # ends at the bottom-right
    assert len(bottom) - len(bottom.lstrip()) > len(bottom) // 2


def test_log_scale_labels_show_real_values():
    series = Series("ppl")
    for step in range(1, 101):
        series.append(step, 10 ** (3 - step / 50))  # 1000 down to 10
    lines = chart([series], log=True)
    assert "[log]" in lines[0]
    top, bottom = float(lines[1].split("┤")[0].replace("k", "e3")), float(lines[-2].split("┤")[0])
    assert 900 < top < 2000 and 5 < bottom < 11


def test_a_power_law_on_log_log_axes_is_a_straight_line_with_real_x_labels():
    law = Series("loss")
    for exponent in range(9, 14):
        law.append(10.0 ** exponent, 5.0 * (10.0 ** exponent) ** -0.05)  # L = 5 C^-0.05, C from 1e9 to 1e13
    lines = chart([law], log=True, log_x=True)
    assert "[log-log]" in lines[0]
    axis = lines[-1].split("└")[1]
    assert axis.startswith("1e+09") and axis.rstrip().endswith("1e+13") and "1e+11" in axis  # 10**x, not x
    rows = [line.split("┤" if "┤" in line else "│", 1)[1] for line in lines[1:-1]]
    columns = [min(i for i, ch in enumerate(row) if ch != " ") for row in rows if row.strip()]
    assert columns == sorted(columns) and len(columns) == len(rows)  # falls steadily across every row: no bend


def test_window_shows_only_the_last_steps():
    lines = chart([falling(1000)], window=100)
    assert "[last 100]" in lines[0]
    assert lines[-1].split("└")[1].startswith("900")


def test_empty_chart_says_it_waits():
    assert any("waiting for data" in line for line in chart([Series("train")]))


def test_format_number():
    assert format_number(1234) == "1.23k"
    assert format_number(2_500_000) == "2.5M"
    assert format_number(4.55e9) == "4.55e+09"  # not 4.55e+03M
    assert format_number(3.14159) == "3.14"
    assert format_number(0.0003) == "3.0e-04"
    assert format_number(0) == "0"


def test_a_narrow_chart_keeps_its_last_x_label():
    # At 80x24 a chart lost its last x label: the middle one was written first and took its room.
    from tui_transformer.tui.widgets.line_chart import _x_axis

    axis = _x_axis(1, 1020, label_width=3, cols=10).plain
    assert axis.rstrip().endswith("1.02k") and axis.split("└")[1].startswith("1")


def _python_calls(function) -> int:
    """How many Python and builtin functions ``function()`` calls: work counted, not timed."""
    import sys

    count = 0

    def profile(frame, event, arg):
        nonlocal count
        count += event in ("call", "c_call")

    sys.setprofile(profile)
    try:
        function()
    finally:
        sys.setprofile(None)
    return count


def test_a_redraws_python_work_does_not_grow_with_the_runs_length():
    # The chart looped over every point in Python: four charts of a long run cost tens of ms a frame.
    short, long = falling(300), falling(4000)
    render_chart("loss", [Line(short, "blue")], 60, 12)  # numpy's first import is not a redraw
    calls = {len(series): _python_calls(lambda s=series: render_chart("loss", [Line(s, "blue")], 60, 12))
             for series in (short, long)}
    assert calls[4000] < 1.3 * calls[300], calls
