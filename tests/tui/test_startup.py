"""The dashboard draws its first frame without waiting for torch, then loads torch in a worker.

In a fresh interpreter, an import hook holds ``import torch`` back in a worker thread until the
test has looked at the first frame, then fails it (quicker than loading it). On the main thread,
where the app draws, it fails the import at once: if anything on the way to the first frame
imported torch, the app would not start. The hook records which threads asked for torch.
"""

import json
import subprocess
import sys
import textwrap

import pytest

from tui_transformer.cli import main

HELD_TORCH_APP = textwrap.dedent('''
    import asyncio, contextlib, importlib.abc, json, sys, threading
    from textual.worker import WorkerFailed

    released, asked = threading.Event(), []

    class HoldTorch(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name == "torch":
                on_main_thread = threading.current_thread() is threading.main_thread()
                asked.append(on_main_thread)
                if not on_main_thread:  # the worker: held until the frame has been looked at
                    released.wait()
                raise ImportError("torch held back by the test")
            return None

    sys.meta_path.insert(0, HoldTorch())
    from tui_transformer.tui.app import TuiTransformerApp

    async def main():
        app = TuiTransformerApp()
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()  # mounted and drawn
            frame = {"screen": type(app.screen).__name__, "header": app.sub_title,
                     "heavy_loaded": [m for m in ("torch", "numpy") if m in sys.modules]}
            released.set()
            await pilot.pause()
            with contextlib.suppress(WorkerFailed):  # the worker that loads torch, failed by the hook
                await app.workers.wait_for_complete()
        print(json.dumps({**frame, "asked_from_main_thread": asked}))

    asyncio.run(main())
''')


def test_the_first_frame_is_drawn_while_torch_is_still_loading(tmp_path):
    result = subprocess.run([sys.executable, "-c", HELD_TORCH_APP], capture_output=True, text=True, timeout=60,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    frame = json.loads(result.stdout.strip().splitlines()[-1])
    assert frame["screen"] == "TrainScreen" and frame["heavy_loaded"] == []  # numpy costs a second loaded
    assert "loading torch" in frame["header"]
    assert frame["asked_from_main_thread"] == [False]  # only the worker asked, once


@pytest.mark.slow  # launches the real dashboard in a pseudo-terminal and loads torch: seconds
def test_bench_tui_startup_times_the_first_frame_in_a_terminal(capsys):
    assert main(["bench", "tui", "--startup", "--rounds", "1", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["bench"] == "tui-startup" and result["terminal"] == "120x40"
    assert 0 < result["first_frame_s"][0] < result["torch_ready_s"][0]
    assert result["first_frame_median_s"] == result["first_frame_s"][0]
