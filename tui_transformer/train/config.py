"""Everything a training run needs to know, in one dataclass.

A preset (see :mod:`tui_transformer.presets`) fills every field; a TOML file and CLI flags then
override single fields. The effective config is written to ``config.toml`` in the run directory,
so a run can always be reproduced or resumed.

Batching vocabulary (the seed's names):

* a *micro-batch* is ``batch_size`` sequences of ``model.max_seq_len`` tokens, one forward/backward;
* ``accumulation_steps`` micro-batches make one optimizer *step*;
* so one step sees ``batch_size * accumulation_steps * max_seq_len`` tokens (times the DDP world size).
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from tui_transformer.data.sources import is_hub_dataset
from tui_transformer.errors import ConfigError
from tui_transformer.model.config import ModelConfig, reject_unknown_fields
from tui_transformer.seeds import check_seed


# Far above any useful rate (1e-4 .. 1e-2), and still a rate whose divergence the trainer reports
# as such (the loss turns NaN); near 1e38 AdamW's step size itself overflows float32 and crashes.
MAX_LR = 1e6
# The largest budgets that still mean a run: a trillion steps (or epochs) and a quadrillion tokens
# (a GPT-2-small step on one GPU takes ~0.1 s, so 10**12 of them is 3,000 years). Anything larger is
# a typo, and through the float of "1e30" it would fit the LR schedule to a horizon no run reaches.
MAX_STEPS = 10**12
OPTIMIZERS = ("adamw", "muon")
SCHEDULES = ("cosine", "wsd")
MAX_TOKENS = 10**15


@dataclass(frozen=True)
class TrainConfig:
    preset: str = "tiny"
    model: ModelConfig = field(default_factory=ModelConfig)
    # data: "auto", "builtin", "fineweb", "hf:OWNER/NAME[:CONFIG]", "hf:FOLDER" or a path;
    # tokenizer: "cl100k_base", "gpt2", "o200k_base", "bpe-<vocab>"
    data: str = "auto"
    text_column: str | None = None  # of an hf: dataset; None: the first of text, content, story
    val_split: str | None = None  # recorded at setup for an hf: dataset: where its validation text comes from
    tokenizer: str = "bpe-8192"
    val_fraction: float = 0.1
    device: str = "auto"  # auto | cpu | cuda | mps
    amp: bool = True  # bf16 autocast on CUDA (fp16 + GradScaler where bf16 is missing); ignored on CPU
    compile: bool = False
    seed: int = 1337
    # batching
    batch_size: int = 8
    accumulation_steps: int = 1
    # optimizer and schedule
    lr: float = 1e-3
    min_lr_ratio: float = 0.1
    warmup_frac: float = 0.05
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.95
    grad_clip: float = 1.0
    optimizer: str = "adamw"  # adamw | muon (Muon for the blocks' matrices, AdamW for the rest; train.optimizer)
    # Muon's own peak LR. 0.02 is Keller Jordan's published default (github.com/KellerJordan/Muon) and nanochat's
    # matrix LR, both with the "original" shape scaling we use: Muon's update has a fixed spectral size, so its
    # rate is not on AdamW's scale. The lead tunes it at CPU scale with a sweep.
    muon_lr: float = 0.02
    schedule: str = "cosine"  # cosine | wsd (warm-up, stable, linear warm-down; train.schedule)
    # The share of the run that wsd spends in its warm-down: 0.2, as nanochat's warmdown and Hägele et al. 2024
    # ("Scaling Laws and Compute-Optimal Training Beyond Fixed Training Durations"), who find 20% matches cosine.
    warmdown_frac: float = 0.2
    # budgets (whichever ends first; None means no limit from that budget)
    max_steps: int | None = 1000
    max_tokens: int | None = None
    max_time: float | None = None  # seconds
    epochs: int | None = None
    tokens_per_epoch: int | None = None
    # evaluation, samples, checkpoints (in optimizer steps)
    eval_interval: int = 100
    eval_batches: int = 20
    sample_interval: int = 200
    sample_prompt: str = "The"
    sample_tokens: int = 48
    checkpoint_interval: int = 200
    keep_every: int | None = None  # also keep the weights every N steps (train.kept_checkpoints); None: off
    log_interval: int = 1
    # where
    run_dir: str | None = None
    run_name: str | None = None
    sweep: str | None = None  # the sweep this run belongs to (see train.sweep)

    def __post_init__(self) -> None:
        positive = ("batch_size", "accumulation_steps", "eval_interval", "eval_batches", "sample_interval",
                    "checkpoint_interval", "log_interval", "sample_tokens")
        for name in positive:
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        for name, limit in (("max_steps", MAX_STEPS), ("max_tokens", MAX_TOKENS), ("epochs", MAX_STEPS),
                            ("tokens_per_epoch", MAX_TOKENS), ("keep_every", MAX_STEPS)):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ConfigError(f"{name} must be a positive integer or unset, got {value!r}")
            if value is not None and value > limit:
                raise ConfigError(f"{name} must be at most {limit:,}, got {value:,}")
        # `not 0 < x` (rather than `x <= 0`) also rejects NaN, which fails every comparison;
        # an infinite rate or decay would only turn the first step's weights into NaN.
        if self.max_time is not None and not 0 < self.max_time < math.inf:
            raise ConfigError(f"max_time must be a positive, finite number of seconds, got {self.max_time!r}")
        if not 0 < self.lr <= MAX_LR:
            raise ConfigError(f"lr must be a positive number up to {MAX_LR:g} (1e-3 is usual), got {self.lr!r}")
        if not 0.0 <= self.weight_decay < math.inf:
            raise ConfigError(f"weight_decay must be a finite number >= 0, got {self.weight_decay!r}")
        for name in ("beta1", "beta2"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ConfigError(f"{name} must be in [0, 1), got {getattr(self, name)!r}")
        if not 0.0 <= self.min_lr_ratio <= 1.0:
            raise ConfigError(f"min_lr_ratio must be in [0, 1], got {self.min_lr_ratio!r}")
        if not 0.0 <= self.warmup_frac < 1.0:
            raise ConfigError(f"warmup_frac must be in [0, 1), got {self.warmup_frac!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {self.optimizer!r}")
        if not 0 < self.muon_lr <= MAX_LR:
            raise ConfigError(f"muon_lr must be a positive number up to {MAX_LR:g} (0.02 is usual), got {self.muon_lr!r}")
        if self.schedule not in SCHEDULES:
            raise ConfigError(f"schedule must be one of {', '.join(SCHEDULES)}; got {self.schedule!r}")
        if not 0.0 < self.warmdown_frac <= 1.0:
            raise ConfigError(f"warmdown_frac must be in (0, 1], got {self.warmdown_frac!r}")
        if self.schedule == "wsd" and self.warmup_frac + self.warmdown_frac > 1.0:
            raise ConfigError(f"warmup_frac + warmdown_frac must be at most 1 with the wsd schedule (the warm-down "
                              f"starts after the warm-up), got {self.warmup_frac:g} + {self.warmdown_frac:g}")
        if not 0.0 < self.val_fraction < 1.0:
            raise ConfigError(f"val_fraction must be in (0, 1), got {self.val_fraction!r}")
        if not self.grad_clip >= 0:
            raise ConfigError(f"grad_clip must be >= 0 (0 disables clipping), got {self.grad_clip!r}")
        check_seed(self.seed)
        if not isinstance(self.data, str) or not self.data.strip():
            raise ConfigError("data must be auto, builtin, fineweb or a path; got an empty value")
        if self.text_column is not None and not is_hub_dataset(self.data):
            raise ConfigError(f"text_column applies to hf: datasets only, not to data {self.data!r}")
        if not isinstance(self.device, str) or not re.fullmatch(r"auto|cpu|mps|cuda(:\d+)?", self.device):
            raise ConfigError(f"device must be auto, cpu, cuda, cuda:N or mps; got {self.device!r}")

    @property
    def tokens_per_step(self) -> int:
        """Tokens one optimizer step consumes on one process."""
        return self.batch_size * self.accumulation_steps * self.model.max_seq_len

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        """Build from a dict such as a parsed ``config.toml``; unknown keys are an error."""
        reject_unknown_fields(cls, data, "training")
        values = dict(data)
        if isinstance(values.get("model"), dict):
            values["model"] = ModelConfig.from_dict(values["model"])
        return cls(**values)

    def with_overrides(self, **overrides: Any) -> "TrainConfig":
        """A copy with some fields replaced; ``model_<field>`` keys replace model fields."""
        model_changes = {k.removeprefix("model_"): v for k, v in overrides.items() if k.startswith("model_")}
        top = {k: v for k, v in overrides.items() if not k.startswith("model_")}
        reject_unknown_fields(type(self), top, "training")
        model = replace(self.model, **model_changes) if model_changes else self.model
        return replace(self, model=model, **top)
