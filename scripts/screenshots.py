"""Export the screenshots of the README and docs/ (SVG, as Textual renders them) into ``assets/``.

    uv run python scripts/screenshots.py [--run RUN_DIR]

* ``assets/train.svg`` and ``assets/train-80x24.svg``: the Train screen following the recorded
  run of the test suite (``tests/tui/data/recorded_run.jsonl``);
* ``assets/playground.svg``: a generation (balanced preset, seed 0) from ``--run`` (default: trains a small run first,
  a minute or two on two CPU cores);
* ``assets/benchmark.svg``: the KV-cache benchmark of the tiny preset's dims;
* ``assets/help.svg``: the help screen.

Everything runs in temporary folders; nothing is written outside ``assets/``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets"
RECORDED = ROOT / "tests" / "tui" / "data" / "recorded_run.jsonl"


def train_small_run() -> Path:
    from tui_transformer.presets import PRESETS
    from tui_transformer.train import run_training

    config = PRESETS["tiny"].with_overrides(
        data="builtin", tokenizer="bpe-512", max_steps=300, batch_size=8, lr=3e-3, eval_interval=50,
        sample_interval=300, checkpoint_interval=300, model_d_model=48, model_n_layers=2, model_n_heads=2,
        model_d_ff=96, model_max_seq_len=48, run_name="screenshot")
    print("training a small run for the Playground screenshot…")
    return Path(run_training(config).run_dir)


async def wait_for_workers(app, pilot) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause(0.5)


async def export(run_dir: Path, recorded_dir: Path) -> None:
    from tui_transformer.tui.app import TuiTransformerApp

    for name, size in (("train", (120, 40)), ("train-80x24", (80, 24))):
        app = TuiTransformerApp(attach=str(recorded_dir), device_info=("2.x", "cpu"))
        async with app.run_test(size=size) as pilot:
            await pilot.pause(0.5)
            (ASSETS / f"{name}.svg").write_text(app.export_screenshot(title="tui-transformer: Train"))
            if name == "train":
                await pilot.press("question_mark")
                await pilot.pause(0.3)
                (ASSETS / "help.svg").write_text(app.export_screenshot(title="tui-transformer: help"))

    from tui_transformer.train.checkpoint import load_for_inference

    app = TuiTransformerApp(device_info=("2.x", "cpu"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f2")
        await wait_for_workers(app, pilot)
        screen = app.screen
        screen.show_timings = False
        model, tokenizer, _ = load_for_inference(str(run_dir), "cpu")
        screen.set_model(model, tokenizer, f"{run_dir.name} · latest")
        screen.apply_preset("balanced")  # seeded (seed 0), so the text is reproducible on one machine
        await pilot.pause(0.3)
        screen.action_generate()
        await wait_for_workers(app, pilot)
        (ASSETS / "playground.svg").write_text(app.export_screenshot(title="tui-transformer: Playground"))

        await pilot.press("f3")
        await pilot.pause(0.3)
        app.screen.action_run_kv()
        await wait_for_workers(app, pilot)
        (ASSETS / "benchmark.svg").write_text(app.export_screenshot(title="tui-transformer: Benchmark"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", help="a trained run directory for the Playground (default: train one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        scratch_path = Path(scratch)
        os.environ.setdefault("TUI_TRANSFORMER_RUNS", str(scratch_path / "runs"))
        os.environ.setdefault("TUI_TRANSFORMER_CONFIG", str(scratch_path / "config"))
        recorded_dir = scratch_path / "recorded"
        recorded_dir.mkdir()
        shutil.copy(RECORDED, recorded_dir / "metrics.jsonl")
        run_dir = Path(args.run) if args.run else train_small_run()
        ASSETS.mkdir(exist_ok=True)
        asyncio.run(export(run_dir, recorded_dir))
    print(f"wrote {', '.join(sorted(p.name for p in ASSETS.glob('*.svg')))} to {ASSETS}")


if __name__ == "__main__":
    main()
