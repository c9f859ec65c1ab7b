"""Training recipes compared at equal wall time, scored by bits per byte on held-out documents.

What a learner on a laptop feels is how good the model gets in the minutes they give it, so recipes
("arms") are compared at the same *wall time*, not the same number of steps: a recipe whose step
costs twice as much gets half the steps.

**An arm** is a name and :meth:`~tui_transformer.train.config.TrainConfig.with_overrides` keys
applied to a base preset (``classic``): :data:`ARMS` holds the built-in ones (``classic`` itself,
nanoGPT's CPU recipe, one arm per change of the modern recipe, ``modern``: the winners the ``tiny``
preset adopted, and ``every-change``), and ``--arm NAME:key=value,...`` adds one. A config is built
only when the bench runs, so an arm naming a setting this version lacks is one error that names the arm.

**Equal wall time, two ways** (``mode``):

* ``calibrated`` (the default): first, every arm's real training step (the trainer's own:
  data, forward, backward, clipping, optimizer) is timed on this machine, all arms in one phase and
  in turns (A B C A B C ...), so that a machine that slows down slows them all alike. After
  ``WARMUP_STEPS`` untimed steps, the turns go on for about ``calibrate_s`` seconds per arm; an
  arm's seconds per step is the median of its timed steps. Then each arm trains for exactly::

      steps = floor(budget_seconds / seconds_per_step)

  A step budget gives the learning-rate schedule its horizon, and the result no longer depends on
  what else the machine does while the arms train (a shared machine drifts over hours); only the
  calibration's ratios do, and they come from one short phase.
* ``wall``: each run trains with ``max_time`` = the budget and stops when it is spent. Simple and
  exact in time, but a busy machine gives a run fewer steps, and the schedule follows the time
  budget only as the trainer does.

**Seeds.** Each arm trains once per seed (``seed + i``); the table shows the mean bits per byte with
its spread as min-max (the JSON also holds the standard deviation), and each arm's ratio to the
reference arm's mean.

**Held-out score.** After training, the final weights (the run's ``latest.pt``) are scored on the
same ``eval_bytes`` bytes of the source's validation documents (:mod:`.held_out`), whatever the
arm's tokenizer and context.

**Runs.** Every run is an ordinary run directory, ``<name>-<data>-<arm>-s<seed>``, in the bench's
folder: a temporary one (removed at the end), one given, or the runs folder so that they show in
``runs list`` and on the Runs screen.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import statistics
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from tui_transformer.errors import ConfigError, UserError
from tui_transformer.model.config import ModelConfig, reject_unknown_fields
from tui_transformer.presets import MODERN, RECIPE_CHANGES
from tui_transformer.train.config import MAX_STEPS, TrainConfig

MODES = ("calibrated", "wall")
WARMUP_STEPS = 3  # untimed steps per arm before calibrating: the allocator and the kernels settle
MIN_TIMED_STEPS = 3  # an arm's median needs a few steps, however slow they are

# nanoGPT's documented CPU recipe (its README's shakespeare_char command: block 64, batch 12, 4 layers,
# 4 heads, n_embd 128, 2000 iterations, dropout 0; the config's LR 1e-3 decayed to 1e-4, beta2 0.99,
# 100 warmup iterations = 5% of 2000, and train.py's defaults: no biases, weight decay 0.1, clip 1),
# with a byte-level vocabulary: bpe-257 is the 256 bytes and end-of-text, with no merges.
NANOGPT_CPU: dict[str, Any] = {
    "tokenizer": "bpe-257", "model_d_model": 128, "model_n_layers": 4, "model_n_heads": 4, "model_d_ff": 512,
    "model_max_seq_len": 64, "model_dropout": 0.0, "model_pos_encoding": "learned", "model_attention": "sdpa",
    "model_activation": "gelu", "model_tie_weights": True, "model_bias": False, "batch_size": 12,
    "accumulation_steps": 1, "lr": 1e-3, "min_lr_ratio": 0.1, "warmup_frac": 0.05, "beta1": 0.9, "beta2": 0.99,
    "weight_decay": 0.1, "grad_clip": 1.0,
}

# Every piece of the modern recipe together, to compare with the winners tiny adopted (MODERN).
EVERY_CHANGE: dict[str, Any] = {key: value for change in RECIPE_CHANGES.values() for key, value in change.items()
                                if change is not RECIPE_CHANGES["swiglu"]}  # one activation: relu2

# Arms over the classic preset: itself, nanoGPT's CPU recipe, one per change, tiny's winners, and all of them.
ARMS: dict[str, dict[str, Any]] = {"classic": {}, "nanogpt-cpu": NANOGPT_CPU, **RECIPE_CHANGES, "modern": MODERN,
                                   "every-change": EVERY_CHANGE}

# What the bench itself sets for every run: an arm may not.
SET_BY_THE_BENCH = ("preset", "data", "seed", "device", "max_steps", "max_tokens", "max_time", "epochs",
                    "tokens_per_epoch", "eval_interval", "sample_interval", "checkpoint_interval", "keep_every",
                    "run_dir", "run_name", "sweep")
NEVER = MAX_STEPS  # an interval no run reaches: no periodic eval, sample or checkpoint, only the final ones


@dataclass(frozen=True)
class Arm:
    name: str
    overrides: dict[str, Any]  # with_overrides keys: "lr", "model_norm", ...


def builtin_arm(name: str) -> Arm:
    if name not in ARMS:
        raise ConfigError(f"no built-in arm called {name!r}; choose from {', '.join(ARMS)}, or define one with "
                          "--arm NAME:key=value,...")
    return Arm(name, dict(ARMS[name]))


def parse_arm(text: str) -> Arm:
    """``"lr3e-3:lr=3e-3,d_model=192"`` -> an Arm, each value read as ``sweep --vary`` reads it."""
    from tui_transformer.train.runs import check_run_name
    from tui_transformer.train.sweep import parse_vary

    name, sep, settings = text.partition(":")
    name = name.strip()
    if not sep or not name or not settings.strip():
        raise ConfigError(f"--arm takes NAME:key=value,key=value; got {text!r}")
    check_run_name(name)  # it names run folders
    overrides = {}
    for part in settings.split(","):
        axis = parse_vary(part, flag=f"--arm {name}")
        overrides[axis.key] = axis.values[0]
    return Arm(name, overrides)


def arm_config(base: TrainConfig, arm: Arm) -> TrainConfig:
    """``base`` with the arm's overrides; anything it cannot set is one ConfigError naming the arm."""
    keys = [key.removeprefix("model_") for key in arm.overrides if key.startswith("model_")]
    try:
        reject_unknown_fields(ModelConfig, keys, "model")
        fixed = sorted(set(arm.overrides) & set(SET_BY_THE_BENCH))
        if fixed:
            raise ConfigError(f"{', '.join(fixed)} is set by the bench for every arm")
        return base.with_overrides(**arm.overrides)
    except (ConfigError, TypeError) as error:  # TypeError: a value of the wrong kind reached a comparison
        raise ConfigError(f"arm {arm.name}: {error}") from None


# ---- data ----------------------------------------------------------------------------------------

def resolve_data(name: str) -> str:
    """A ``--data`` value for a bench name: ``shakespeare`` becomes its cached file; others pass through."""
    if name == "shakespeare":
        from tui_transformer.data.shakespeare import shakespeare_path

        return str(shakespeare_path())
    return name


def data_label(name: str) -> str:
    """A short name for a data source, fit for run names: ``builtin``, ``shakespeare``, a path's stem."""
    return re.sub(r"[^A-Za-z0-9]+", "-", Path(name).stem if "/" in name else name).strip("-").lower() or "data"


# ---- calibration ---------------------------------------------------------------------------------

def seconds_to_steps(budget_s: float, seconds_per_step: float) -> int:
    """The steps that fit in ``budget_s`` at ``seconds_per_step``; at least one."""
    return max(1, math.floor(budget_s / seconds_per_step))


def calibrate(configs: dict[str, TrainConfig], seconds_per_arm: float, folder: Path,
              on_event: Callable | None = None, stop: threading.Event | None = None) -> dict[str, float]:
    """Each arm's median seconds per training step, timed in turns (see the module docstring).

    Each arm gets a real trainer, set up in ``folder`` (removed afterwards): its own data loader,
    model and optimizer, stepped by :meth:`~tui_transformer.train.trainer.Trainer.optimizer_step`.
    """
    from tui_transformer.train.events import SetupProgress
    from tui_transformer.train.peak import synchronize
    from tui_transformer.train.trainer import Trainer

    stop = stop or threading.Event()
    setup_only = (lambda event: on_event(event) if isinstance(event, SetupProgress) else None) if on_event else None
    trainers = {}
    try:
        for name, config in configs.items():
            trainer = trainers[name] = Trainer(config.with_overrides(run_dir=str(folder), run_name=name),
                                               setup_only, stop, threading.Event(), f"calibrating arm {name}")
            trainer.setup(None)
            trainer.model.train()
            for _ in range(WARMUP_STEPS):
                trainer.optimizer_step()
        timings: dict[str, list[float]] = {name: [] for name in configs}
        started = time.perf_counter()
        while not stop.is_set() and (time.perf_counter() - started < seconds_per_arm * len(configs)
                                     or min(map(len, timings.values())) < MIN_TIMED_STEPS):
            for name, trainer in trainers.items():
                synchronize(trainer.device)
                step_start = time.perf_counter()
                trainer.optimizer_step()
                synchronize(trainer.device)
                timings[name].append(time.perf_counter() - step_start)
        return {name: statistics.median(times) for name, times in timings.items() if times}
    finally:
        for trainer in trainers.values():
            trainer.close()
        shutil.rmtree(folder, ignore_errors=True)


# ---- the bench -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Plan:
    base: TrainConfig  # the preset with the device; every arm's starting point
    arms: tuple[Arm, ...]
    data: tuple[str, ...]  # bench data names: builtin, shakespeare, a path
    seconds: float  # the wall-time budget of every run
    seeds: int
    mode: str = "calibrated"
    calibrate_s: float = 15.0
    eval_bytes: int = 100_000
    reference: str = "nanogpt-cpu"
    name: str = "recipe"
    # seconds per step by source label and arm, from an earlier bench's JSON (``--calibration``):
    # calibrate once on a calm machine, then train while the machine does other work
    calibration: dict[str, dict[str, float]] | None = None
    calibrate_only: bool = False

    def check(self) -> None:
        """Everything that can be checked before anything trains (each arm's config among it)."""
        if self.mode not in MODES:
            raise ConfigError(f"--mode must be one of {', '.join(MODES)}; got {self.mode!r}")
        if self.mode != "calibrated" and (self.calibrate_only or self.calibration):
            raise ConfigError("--calibrate-only and --calibration belong to --mode calibrated")
        names = [arm.name for arm in self.arms]
        if not names or len(set(names)) != len(names):
            raise ConfigError(f"the arms need distinct names, at least one; got {', '.join(names) or 'none'}")
        if self.reference not in names:
            raise ConfigError(f"--reference {self.reference} is not among the arms ({', '.join(names)})")
        if not self.data:
            raise ConfigError("--data needs at least one source")
        for value, what in ((self.seconds, "--seconds"), (self.calibrate_s, "--calibrate")):
            if not 0 < value < math.inf:
                raise ConfigError(f"{what} must be a positive number of seconds, got {value!r}")
        if self.seeds < 1 or self.eval_bytes < 1:
            raise ConfigError("--seeds and --eval-bytes must be at least 1")
        for arm in self.arms:
            arm_config(self.base, arm)

    def run_config(self, arm: Arm, data_spec: str, folder: Path, run_name: str, seed_index: int,
                   steps: int | None) -> TrainConfig:
        """One run's config: the arm's, on ``data_spec``, with the bench's budget and no periodic extras."""
        budget = {"max_steps": steps, "max_time": None} if self.mode == "calibrated" else \
            {"max_steps": None, "max_time": float(self.seconds)}
        return arm_config(self.base, arm).with_overrides(
            data=data_spec, seed=self.base.seed + seed_index, max_tokens=None, epochs=None, tokens_per_epoch=None,
            eval_interval=NEVER, sample_interval=NEVER, checkpoint_interval=NEVER, keep_every=None,
            run_dir=str(folder), run_name=run_name, **budget)


def run_recipe_bench(plan: Plan, folder: Path, on_line: Callable[[str], None] = lambda text: None,
                     on_event: Callable | None = None, stop: threading.Event | None = None) -> dict[str, Any]:
    """Calibrate, train every arm x seed on every data source, score each; the JSON-ready result.

    ``folder`` holds the runs. ``on_line`` hears one line per phase and run, ``on_event`` each
    run's trainer events. A set ``stop`` ends the current run and the bench after it; the result
    then holds what finished.
    """
    import torch

    from tui_transformer.data import open_source
    from tui_transformer.train.device import resolve_device

    plan.check()
    stop = stop or threading.Event()
    sources = []
    for data in plan.data:
        if stop.is_set():
            break
        spec = resolve_data(data)
        source = open_source(spec, val_fraction=plan.base.val_fraction)
        try:
            from tui_transformer.bench.held_out import held_out_documents

            documents = held_out_documents(source, plan.eval_bytes)
        finally:
            source.close()
        sources.append(_bench_source(plan, data, spec, documents, folder, on_line, on_event, stop))
    return {
        "bench": "recipe", "name": plan.name, "mode": plan.mode, "seconds": plan.seconds,
        "calibrate_s": plan.calibrate_s if plan.mode == "calibrated" else None, "seeds": plan.seeds,
        "seed_values": [plan.base.seed + i for i in range(plan.seeds)], "reference": plan.reference,
        "eval_bytes": plan.eval_bytes, "spread": "min-max (std also given)", "preset": plan.base.preset,
        "arms": {arm.name: arm.overrides for arm in plan.arms}, "config": plan.base.to_dict(),
        "device": resolve_device(plan.base.device), "threads": torch.get_num_threads(), "torch": torch.__version__,
        "runs_dir": str(folder), "stopped": stop.is_set(), "sources": sources,
    }


def _bench_source(plan: Plan, data: str, spec: str, documents: list[str], folder: Path, on_line, on_event,
                  stop: threading.Event) -> dict[str, Any]:
    """Calibration (in that mode), then every seed x arm on one data source, then the ranked rows."""
    label = data_label(data)
    configs = {arm.name: plan.run_config(arm, spec, folder, arm.name, 0, None) for arm in plan.arms}
    step_s: dict[str, float] = {}
    if plan.mode == "calibrated":
        step_s = _calibration(plan, label, configs, folder, on_line, on_event, stop)
        for name, seconds in step_s.items():
            on_line(f"{label}: {name}: {seconds * 1e3:,.1f} ms/step -> "
                    f"{seconds_to_steps(plan.seconds, seconds):,} steps in {plan.seconds:g} s")
    runs: dict[str, list[dict[str, Any]]] = {arm.name: [] for arm in plan.arms}
    total, done = 0 if plan.calibrate_only else plan.seeds * len(plan.arms), 0
    for seed_index in range(0 if plan.calibrate_only else plan.seeds):
        for arm in plan.arms:
            if stop.is_set():
                break
            steps = seconds_to_steps(plan.seconds, step_s[arm.name]) if arm.name in step_s else None
            run_name = f"{plan.name}-{label}-{arm.name}-s{plan.base.seed + seed_index}"
            done += 1
            on_line(f"{label}: run {done}/{total}: {run_name}"
                    + (f" ({steps:,} steps)" if steps else f" ({plan.seconds:g} s)"))
            config = plan.run_config(arm, spec, folder, run_name, seed_index, steps)
            result = _train_and_score(config, documents, on_event, stop)
            if result is not None:
                runs[arm.name].append(result)
                bpb = "diverged" if result["bpb"] is None else f"{result['bpb']:.4f} bits/byte"
                on_line(f"{label}: {run_name}: {result['steps']:,} steps in {result['wall_s']:.1f} s, {bpb}")
    rows = [_row(arm, runs[arm.name], step_s.get(arm.name)) for arm in plan.arms if runs[arm.name]]
    reference = next((row["bpb_mean"] for row in rows if row["arm"] == plan.reference), None)
    for row in rows:
        row["ratio"] = row["bpb_mean"] / reference if reference and row["bpb_mean"] is not None else None
    rows.sort(key=lambda row: (row["bpb_mean"] is None, row["bpb_mean"] or 0.0))
    return {"data": data, "spec": spec, "eval_bytes": sum(len(d.encode("utf-8")) for d in documents),
            "eval_documents": len(documents), "calibration": step_s, "rows": rows}


def _calibration(plan: Plan, label: str, configs: dict[str, TrainConfig], folder: Path, on_line, on_event,
                 stop: threading.Event) -> dict[str, float]:
    """Seconds per step of every arm: from ``plan.calibration`` when it holds them all, else timed now."""
    known = (plan.calibration or {}).get(label, {})
    if all(name in known for name in configs):
        on_line(f"{label}: seconds per step from the given calibration")
        return {name: known[name] for name in configs}
    on_line(f"{label}: calibrating {len(configs)} arms, about {plan.calibrate_s:g} s each, in turns")
    return calibrate(configs, plan.calibrate_s, folder / f".calibrating-{label}", on_event, stop)


def read_calibration(path: str | Path) -> dict[str, dict[str, float]]:
    """``{source label: {arm: seconds per step}}`` from the JSON line an earlier ``bench recipe --json`` printed."""
    try:
        lines = Path(path).expanduser().read_text().strip().splitlines()
        result = json.loads(lines[-1])
        return {data_label(source["data"]): {arm: float(s) for arm, s in source["calibration"].items()}
                for source in result["sources"]}
    except (OSError, IndexError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise UserError(f"--calibration {path}: not the JSON of a calibrated bench recipe run "
                        f"({type(error).__name__}: {error})") from None


def _train_and_score(config: TrainConfig, documents: list[str], on_event, stop) -> dict[str, Any] | None:
    """Train one run, then score its final weights; None if it was stopped."""
    from tui_transformer.bench.held_out import score
    from tui_transformer.train.checkpoint import load_for_inference
    from tui_transformer.train.events import StepMetrics
    from tui_transformer.train.run_state import STOPPED_REASON
    from tui_transformer.train.trainer import run_training

    last_step: list[StepMetrics] = []

    def watch(event) -> None:
        if isinstance(event, StepMetrics):
            last_step[:] = [event]
        if on_event is not None:
            on_event(event)

    summary = run_training(config, on_event=watch, stop=stop, preset_reason=f"bench recipe: {config.run_name}")
    if summary.reason == STOPPED_REASON:
        return None
    wall = last_step[0].elapsed_s if last_step else 0.0
    result = {"seed": config.seed, "run": summary.run_name, "steps": summary.step, "wall_s": wall, "bpb": None,
              "tokenizer": config.tokenizer, "params": None}
    if summary.reason != "diverged":
        model, tokenizer, trained = load_for_inference(summary.run_dir, device=config.device)
        scored = score(model, tokenizer, documents, trained.model.max_seq_len, trained.batch_size)
        result.update(bpb=scored.bpb, params=sum(p.numel() for p in model.parameters()))
    return result


def _row(arm: Arm, runs: list[dict[str, Any]], seconds_per_step: float | None) -> dict[str, Any]:
    """One arm's line of the table: its runs summed up (mean, min-max and std of the bits per byte)."""
    scores = [run["bpb"] for run in runs if run["bpb"] is not None]
    steps = statistics.mean(run["steps"] for run in runs)
    wall = statistics.mean(run["wall_s"] for run in runs)
    return {
        "arm": arm.name, "tokenizer": runs[0]["tokenizer"],
        "params": next((run["params"] for run in runs if run["params"] is not None), None),
        "steps": round(steps), "s_per_step": seconds_per_step or wall / max(1.0, steps),  # wall mode: as run
        "wall_s": wall, "wall_s_max": max(run["wall_s"] for run in runs),
        "bpb_mean": statistics.mean(scores) if scores else None,
        "bpb_min": min(scores, default=None), "bpb_max": max(scores, default=None),
        "bpb_std": (statistics.stdev(scores) if len(scores) > 1 else 0.0) if scores else None,
        "diverged": len(runs) - len(scores), "runs": runs,
    }
