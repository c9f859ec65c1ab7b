"""What only a terminal sees, on a real pseudo-terminal: eval's progress bar, generate's interactive loop."""

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.tui.helpers import write_run

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")


def _read_until(fd: int, wanted: str, timeout: float = 60) -> str:
    seen = ""
    deadline = time.monotonic() + timeout
    while wanted not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                seen += os.read(fd, 65536).decode("utf-8", "replace")
            except OSError:  # the child closed the terminal
                break
    return seen


@pytest.mark.slow  # starts the command twice in a subprocess (torch import: a few seconds each)
def test_eval_shows_progress_and_generate_opens_a_loop_on_a_terminal(tmp_path):
    runs = Path(os.environ["TUI_TRANSFORMER_RUNS"])
    write_run(runs, "t", checkpoints=("latest",))
    text = tmp_path / "big.txt"
    text.write_text("The interpreter reads the source. " * 400)
    command = [sys.executable, "-m", "tui_transformer"]

    controller, terminal = pty.openpty()
    eval_ = subprocess.Popen([*command, "eval", "--run", "t", "--text", str(text), "--batch-size", "1"],
                             stdout=subprocess.PIPE, stderr=terminal, stdin=subprocess.DEVNULL, text=True)
    os.close(terminal)
    shown = _read_until(controller, "\0")  # everything, until the command closes the terminal
    out, _ = eval_.communicate(timeout=60)
    os.close(controller)
    assert eval_.returncode == 0 and "scoring batches" in shown and "bits per byte" in out

    controller, terminal = pty.openpty()
    chat = subprocess.Popen([*command, "generate", "--run", "t", "--max-new-tokens", "3", "--seed", "1"],
                            stdin=terminal, stdout=terminal, stderr=terminal)
    os.close(terminal)
    try:
        shown = _read_until(controller, "> ")
        assert "/help lists the commands" in shown
        os.write(controller, b"/temp 0\n")
        assert "temperature 0," in _read_until(controller, "> ")
        os.write(controller, b"Hello\n")
        assert "Hello" in _read_until(controller, "> ")
        os.write(controller, b"/quit\n")
        assert chat.wait(timeout=30) == 0
    finally:
        chat.kill()
        os.close(controller)
