"""Named training configurations: a complete TrainConfig each, chosen by name.

==============  ========================================================================  ==========
preset          what it is                                                                where
==============  ========================================================================  ==========
``tiny``        ``classic`` with the modern recipe's winners (:data:`MODERN`): an untied   CPU
                head, ReLU², Muon for the blocks' matrices and a warm-up/flat/warm-down
                schedule. Small enough to learn visibly in minutes on 2 cores.
``classic``     the 2019 recipe at tiny's shape: d_model 128, 4 layers, 4 heads, d_ff      CPU
                512, T 128, RoPE, LayerNorm with biases, GELU, a tied head, AdamW at 2e-3
                with cosine to 10%; a BPE of 8192 tokens trained on the data.
``seed``        the original project's defaults: d_model 256, 6 layers, 4 heads,          GPU / MPS
                d_ff 1024, T 128, dropout 0.1, cl100k_base; batch 8 x 16 accumulation
                steps; LR 3e-4, 5% warmup, cosine to 10%; 100M tokens per epoch.
``gpt2-small``  GPT-2's 124M shape: d_model 768, 12 layers, 12 heads, T 1024, bf16.       GPU
``auto``        ``seed`` on CUDA or MPS, ``tiny`` on CPU.
==============  ========================================================================  ==========

Why a separate CPU preset: the cost of a step on CPU is dominated by the output layer and the
optimizer over the vocabulary (measured here: d256/L6 with cl100k's 100k tokens trains at about
200 tokens/s, with an 8k vocabulary at about 1,900). A tokenizer trained on the corpus itself keeps
the vocabulary small.

Why ``tiny`` stops at 1000 steps: it is the dashboard's first run on a CPU, which should end
while the learner is still watching, in about five minutes on 2 cores (1500 steps took about seven).
Its 1000 steps of 16 x 128 tokens (2.05M tokens) pass over the builtin corpus about five times; the
training doctor notes each new pass in the log and raises an alert only if val starts to rise.

Why ``tiny`` uses RoPE: the token embeddings start at std 0.02 while a sinusoidal table adds
values of size ~0.7, so at first the input is almost all position and the model sits on the
unigram plateau (loss ~7.1 with bpe-8192) for hundreds of steps. RoPE adds nothing to the input.
Measured here on builtin (d128, 2 layers, T 64, batch 8, LR 2e-3), mean loss of steps 126-150:
sinusoidal 7.15, learned 7.02, rope 6.80 (RoPE at LR 1e-3: 6.81, at 3e-3: 6.98).

A TOML file (``--config FILE``) and CLI flags override single fields of the preset; see
:func:`build_config`. ``model.vocab_size`` is always taken from the tokenizer at run time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tui_transformer.errors import ConfigError
from tui_transformer.model.config import ModelConfig
from tui_transformer.train.config import TrainConfig

# The modern recipe (issue #27): each piece as one change over the classic recipe. Each was measured
# alone and together at equal wall time by `bench recipe` (docs/benchmarks.md has the table).
RECIPE_CHANGES: dict[str, dict[str, Any]] = {
    "rmsnorm": {"model_norm": "rmsnorm"},
    "no-bias": {"model_bias": False},
    "qk-norm": {"model_qk_norm": True},
    "relu2": {"model_activation": "relu2"},
    "swiglu": {"model_activation": "swiglu"},
    "zero-init": {"model_zero_init_proj": True},
    "softcap": {"model_logit_softcap": 15.0},
    "untied": {"model_tie_weights": False},
    "muon": {"optimizer": "muon"},
    "wsd": {"schedule": "wsd"},
}

CLASSIC = TrainConfig(
    preset="classic",
    model=ModelConfig(vocab_size=8192, d_model=128, n_heads=4, n_layers=4, d_ff=512, max_seq_len=128,
                      dropout=0.0, pos_encoding="rope", attention="sdpa"),
    data="auto",
    tokenizer="bpe-8192",
    batch_size=16,
    accumulation_steps=1,
    lr=2e-3,
    warmup_frac=0.05,
    min_lr_ratio=0.1,
    max_steps=1000,  # a learner's first run: about five minutes on 2 CPU cores (see below)
    eval_interval=100,
    eval_batches=10,
    sample_interval=250,
    checkpoint_interval=250,
)

# What tiny adopts over the classic recipe: the changes that lowered held-out bits per byte at equal
# wall time beyond the seeds' spread (docs/benchmarks.md). The others stay options.
MODERN: dict[str, Any] = {
    **RECIPE_CHANGES["untied"], **RECIPE_CHANGES["relu2"], **RECIPE_CHANGES["muon"], **RECIPE_CHANGES["wsd"],
}

PRESETS: dict[str, TrainConfig] = {
    "tiny": CLASSIC.with_overrides(preset="tiny", **MODERN),
    "classic": CLASSIC,
    "seed": TrainConfig(
        preset="seed",
        model=ModelConfig(vocab_size=100277, d_model=256, n_heads=4, n_layers=6, d_ff=1024, max_seq_len=128,
                          dropout=0.1, pos_encoding="sinusoidal", attention="sdpa"),
        data="auto",
        tokenizer="cl100k_base",
        batch_size=8,
        accumulation_steps=16,
        lr=3e-4,
        warmup_frac=0.05,
        min_lr_ratio=0.1,
        max_steps=None,
        epochs=1,
        tokens_per_epoch=100_000_000,
        eval_interval=200,
        eval_batches=20,
        sample_interval=500,
        checkpoint_interval=500,
    ),
    "gpt2-small": TrainConfig(
        preset="gpt2-small",
        model=ModelConfig(vocab_size=50257, d_model=768, n_heads=12, n_layers=12, d_ff=3072, max_seq_len=1024,
                          dropout=0.0, pos_encoding="learned", attention="sdpa"),
        data="auto",
        tokenizer="gpt2",
        amp=True,
        batch_size=16,
        accumulation_steps=32,
        lr=6e-4,
        warmup_frac=0.02,
        min_lr_ratio=0.1,
        max_steps=10_000,
        eval_interval=250,
        eval_batches=20,
        sample_interval=1000,
        checkpoint_interval=500,
    ),
}

PRESET_NAMES = (*PRESETS, "auto")


def resolve_preset(name: str, device: str) -> tuple[TrainConfig, str]:
    """The preset called ``name`` and one line saying why it was chosen.

    ``device`` ("auto", "cpu", "cuda", "cuda:1", "mps") only matters for ``auto``.
    """
    if name == "auto":
        if device == "auto":
            from tui_transformer.train.device import resolve_device

            device = resolve_device("auto")
        if device.startswith("cuda") or device == "mps":
            return PRESETS["seed"], f"auto: an accelerator ({device}) is available, so the seed's defaults"
        return PRESETS["tiny"], "auto: no GPU found, so the CPU-sized tiny preset (the seed would train at ~200 tok/s)"
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; choose one of {', '.join(PRESET_NAMES)}")
    return PRESETS[name], f"{name}: chosen by name"


def build_config(preset: str | None, device: str, config_file: str | Path | None = None,
                 overrides: dict[str, Any] | None = None) -> tuple[TrainConfig, str]:
    """Preset, then the TOML file, then the flags: each layer overrides single fields of the one before.

    The preset comes from ``preset`` if given, else from the file's ``preset`` key, else ``auto``.
    ``overrides`` uses :meth:`TrainConfig.with_overrides` keys (``model_<field>`` for the model);
    ``None`` values mean "flag not given" and are skipped.
    """
    from tui_transformer.train import config_file as toml_file

    file_values = toml_file.read_overrides(config_file) if config_file else {}
    name = preset or file_values.get("preset") or "auto"
    base, reason = resolve_preset(name, device)
    flags = {k: v for k, v in (overrides or {}).items() if v is not None}
    merged = {**file_values, **flags, "preset": base.preset}
    try:
        return base.with_overrides(**merged), reason
    except TypeError as error:  # a value of the wrong kind reaches a comparison in __post_init__
        raise ConfigError(f"invalid setting: {error}") from None
