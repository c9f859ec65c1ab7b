"""The shape of a model, in one dataclass.

Every size in the model follows from these numbers::

    vocab_size   V   how many token ids exist
    d_model      D   width of the residual stream (one vector of D floats per token)
    n_heads      H   attention heads per layer; each head works in d_head = D / H dimensions
    n_layers     L   transformer blocks stacked on top of each other
    d_ff         F   hidden width of the feed-forward network (usually 4 * D)
    max_seq_len  T   the longest context the model attends over

``pos_encoding`` picks how the model knows token order ("sinusoidal", "learned", "rope" or "alibi"), and
``attention`` picks the explicit reference implementation or PyTorch's fused kernel ("sdpa").

**The recipe.** The remaining fields choose between the 2019 recipe of GPT-2 (every default) and the
pieces later models adopted. Each is explained where it acts; none changes a shape above::

    norm            "layernorm" (γ·(x − μ)/σ + β) or "rmsnorm" (g·x/rms(x): no centring, no shift)  rms_norm
    bias            False drops the bias of every Linear and every norm (β of LayerNorm too)        block
    qk_norm         RMSNorm each head's q and k [.., d_head] before RoPE and the scores              multi_head
    activation      "gelu" (exact), "gelu_tanh" (GPT-2's), "relu2" (max(0, x)²) or "swiglu"           feedforward
                    (silu(W_gate x) ⊙ W_up x: a third F × D matrix)
    zero_init_proj  the attention's W_o and the FFN's W_down start at 0: each block starts as the identity
    logit_softcap   c > 0 squashes the logits into (−c, c) as c·tanh(z / c); 0 is off                transformer
    tie_weights     the LM head reuses the embedding matrix                                            transformer

An old checkpoint's config has none of the newer fields; each takes its default, which is what the
model computed before the field existed.
"""

from __future__ import annotations

import math

from dataclasses import asdict, dataclass, fields
from typing import Any

from tui_transformer.errors import ConfigError

POS_ENCODINGS = ("sinusoidal", "learned", "rope", "alibi")
ATTENTION_IMPLS = ("explicit", "sdpa")
ACTIVATIONS = ("gelu", "gelu_tanh", "relu2", "swiglu")
NORMS = ("layernorm", "rmsnorm")


@dataclass(frozen=True)
class ModelConfig:
    vocab_size: int = 8192
    d_model: int = 128
    n_heads: int = 4
    n_layers: int = 4
    d_ff: int = 512
    max_seq_len: int = 128
    dropout: float = 0.0
    pos_encoding: str = "sinusoidal"
    attention: str = "explicit"
    tie_weights: bool = True
    rope_base: float = 10000.0
    activation: str = "gelu"
    norm: str = "layernorm"
    bias: bool = True
    qk_norm: bool = False
    zero_init_proj: bool = False
    logit_softcap: float = 0.0

    def __post_init__(self) -> None:
        for name in ("vocab_size", "d_model", "n_heads", "n_layers", "d_ff", "max_seq_len"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        if self.d_model % self.n_heads:
            raise ConfigError(
                f"d_model ({self.d_model}) must be divisible by n_heads ({self.n_heads}): "
                "each head gets d_model / n_heads dimensions"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout!r}")
        if self.pos_encoding not in POS_ENCODINGS:
            raise ConfigError(f"pos_encoding must be one of {', '.join(POS_ENCODINGS)}; got {self.pos_encoding!r}")
        if self.attention not in ATTENTION_IMPLS:
            raise ConfigError(f"attention must be one of {', '.join(ATTENTION_IMPLS)}; got {self.attention!r}")
        if self.activation not in ACTIVATIONS:
            raise ConfigError(f"activation must be one of {', '.join(ACTIVATIONS)}; got {self.activation!r}")
        if self.norm not in NORMS:
            raise ConfigError(f"norm must be one of {', '.join(NORMS)}; got {self.norm!r}")
        for name in ("tie_weights", "bias", "qk_norm", "zero_init_proj"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name} must be true or false, got {getattr(self, name)!r}")
        if not (isinstance(self.logit_softcap, (int, float)) and 0.0 <= self.logit_softcap < math.inf):
            raise ConfigError(f"logit_softcap must be 0 (off) or a positive number (15 or 30 is usual), "
                              f"got {self.logit_softcap!r}")
        if not (isinstance(self.rope_base, (int, float)) and 1.0 < self.rope_base < math.inf):
            raise ConfigError(f"rope_base must be a finite number above 1 (10000 is usual), got {self.rope_base!r}")
        if self.pos_encoding == "rope" and self.d_head % 2:
            raise ConfigError(f"rope rotates pairs of dimensions, so d_head ({self.d_head}) must be even")
        if self.pos_encoding == "sinusoidal" and self.d_model % 2:
            raise ConfigError(f"sinusoidal encoding pairs sin/cos, so d_model ({self.d_model}) must be even")

    @property
    def d_head(self) -> int:
        return self.d_model // self.n_heads

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ModelConfig":
        """Build from a dict (a checkpoint, a TOML file); unknown keys are an error, not ignored."""
        reject_unknown_fields(cls, data, "model")
        return cls(**data)


def reject_unknown_fields(cls: type, keys: Any, what: str) -> None:
    """Raise ConfigError naming any of ``keys`` that is not a field of the dataclass ``cls``.

    A typo in a TOML file or a checkpoint from another version must be an error, not a silent default.
    """
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(keys) - known)
    if unknown:
        raise ConfigError(f"unknown {what} setting(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
