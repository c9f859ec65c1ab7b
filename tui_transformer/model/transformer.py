"""The decoder-only transformer (GPT style), assembled from the pieces in this package.

::

    tokens [B, T]  (int64 ids)
      -> TokenEmbedding                          [B, T, D]
      -> + positional encoding (sinusoidal or learned; rope and alibi act inside attention instead)
      -> dropout
      -> N x Block (pre-LN attention + feed-forward, with residuals)
      -> final LayerNorm (or RMSNorm)            [B, T, D]
      -> LM head: x · Eᵀ (tied) or x · W_outᵀ    [B, T, V]   logits: one score per vocabulary entry
         (logit_softcap c > 0: c · tanh(logits / c))
      -> given targets [B, T]: the mean next-token cross-entropy, a scalar

The logits at position ``t`` score the token at ``t + 1``: the causal mask ensures they only
depend on tokens ``0 .. t``, so one forward pass trains on all ``T`` next-token predictions at once.
The loss is the cross-entropy ``−log softmax(z_t)[y_t]`` averaged over all ``B · T`` positions,
computed in float32 (under 16-bit autocast a ``logsumexp`` over the vocabulary would lose the small
differences the gradient is made of).

**With a KV cache** (``model(tokens, cache=cache)``) the tokens are taken to sit at positions
``cache.length ..``: the first call (the *prefill*) runs the prompt, each next call one new token,
and each layer reads the keys and values of the earlier positions from the cache.

**Parameter count** (``count_parameters`` gives it without building the model)::

    embedding        V · D
    learned PE       max_seq_len · D          (sinusoidal, rope and alibi have none)
    per block        4·D² + 4·D               attention: W_qkv, W_o and their biases
                     2·D·F + F + D            feed-forward (swiglu: 3·D·F + 2·F + D)
                     4·D                      two LayerNorms (γ and β)
    final LayerNorm  2·D
    LM head          V · D                    only when the weights are not tied

``bias=False`` drops every bias term above (and β); ``norm="rmsnorm"`` has no β either (``D`` per
norm); ``qk_norm`` adds ``2 · d_head`` gains per block.

**Zero-initialised projections** (``zero_init_proj``; the NanoGPT speedrun): the two
matrices that write into the residual stream, the attention's ``W_o`` and the FFN's ``W_down``, start
at 0 instead of small random values. Every block then starts as the identity (``x + 0``), the
untrained network is the embedding read by the head, and each block's contribution grows from
nothing as training finds it useful. The gradient still reaches them: ``∂loss/∂W_o`` is the
gradient arriving at the block's output times the (non-zero) merged heads.

**Soft-capped logits** (``logit_softcap = c``; Gemma 2, the NanoGPT speedrun)::

    logits = c · tanh(z / c)          z [B, T, V], the LM head's output

``tanh`` is the identity near 0 and flattens towards ``±1``, so small logits pass unchanged and none
can exceed ``c``. The model cannot push a logit ever higher to make a training token more certain:
over-confident predictions stop paying, which keeps the head's weights from growing and the early
loss from spiking. ``0`` turns it off.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from tui_transformer.errors import ConfigError
from tui_transformer.model.attention import causal_mask
from tui_transformer.model.block import Block
from tui_transformer.model.config import ModelConfig
from tui_transformer.model.embedding import TokenEmbedding
from tui_transformer.model.kv_cache import Cache, KVCache, NaiveKVCache
from tui_transformer.model.feedforward import feedforward_parameters
from tui_transformer.model.rms_norm import make_norm
from tui_transformer.model.positional import (
    ALiBi,
    LearnedPositionalEncoding,
    RotaryEmbedding,
    SinusoidalPositionalEncoding,
)


def count_parameters(config: ModelConfig) -> int:
    """The closed-form parameter count of ``DecoderTransformer(config)`` (see the module docstring)."""
    c, d, v = config, config.d_model, config.vocab_size
    norm = d if c.norm == "rmsnorm" or not c.bias else 2 * d  # γ, and β for a LayerNorm with biases
    attention = 4 * d * d + (4 * d if c.bias else 0) + (2 * c.d_head if c.qk_norm else 0)
    per_block = attention + feedforward_parameters(d, c.d_ff, c.activation, c.bias) + 2 * norm
    total = v * d + config.n_layers * per_block + norm
    if config.pos_encoding == "learned":
        total += config.max_seq_len * d
    if not config.tie_weights:
        total += v * d
    return total


class DecoderTransformer(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        d = config.d_model
        self.embed = TokenEmbedding(config.vocab_size, d)
        self.pos: nn.Module | None = None
        self.alibi = ALiBi(config.n_heads) if config.pos_encoding == "alibi" else None
        rope = None
        if config.pos_encoding == "sinusoidal":
            self.pos = SinusoidalPositionalEncoding(config.max_seq_len, d)
        elif config.pos_encoding == "learned":
            self.pos = LearnedPositionalEncoding(config.max_seq_len, d)
        elif config.pos_encoding == "rope":
            rope = RotaryEmbedding(config.max_seq_len, config.d_head, config.rope_base)
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config, rope, layer) for layer in range(config.n_layers))
        self.ln_f = make_norm(config.norm, d, config.bias)
        self.lm_head = None if config.tie_weights else nn.Linear(d, config.vocab_size, bias=False)
        self._init_weights()

    def _init_weights(self) -> None:
        """GPT-2 initialisation: N(0, 0.02) weights, zero biases, and the two projections that
        write into the residual stream scaled by 1/√(2·layers), so the stream's variance does not
        grow with depth at initialisation (``zero_init_proj``: those two start at 0)."""
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, mean=0.0, std=0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
        residual_std = 0.02 / math.sqrt(2 * self.config.n_layers)
        for block in self.blocks:
            for projection in (block.attn.out.weight, block.ff.down.weight):
                if self.config.zero_init_proj:
                    nn.init.zeros_(projection)
                else:
                    nn.init.normal_(projection, mean=0.0, std=residual_std)

    def new_cache(self, batch_size: int, max_len: int | None = None, naive: bool = False) -> KVCache | NaiveKVCache:
        """An empty cache for ``batch_size`` sequences of up to ``max_len`` tokens (default
        ``max_seq_len``). ``naive=True`` gives the concatenating teaching contrast instead."""
        cfg = self.config
        max_len = cfg.max_seq_len if max_len is None else max_len
        if not 1 <= max_len <= cfg.max_seq_len:
            raise ConfigError(f"cache max_len must be in [1, max_seq_len={cfg.max_seq_len}], got {max_len}")
        if batch_size < 1:
            raise ConfigError(f"batch_size must be a positive integer, got {batch_size}")
        if naive:
            return NaiveKVCache(cfg.n_layers)
        weight = self.embed.weight
        return KVCache(cfg.n_layers, batch_size, cfg.n_heads, max_len, cfg.d_head, weight.dtype, weight.device)

    def forward(self, tokens: torch.Tensor, cache: Cache | None = None, last_only: bool = False,
                targets: torch.Tensor | None = None) -> torch.Tensor:
        """``tokens [B, T]`` -> logits ``[B, T, V]`` (``[B, 1, V]`` with ``last_only``), or with
        ``targets [B, T]`` the mean next-token loss, a scalar.

        Generating needs only the last position's logits: ``last_only`` skips the LM head for the
        others, ``T`` times less of the most expensive matmul of a prefill (``[T, D] x [D, V]``).
        """
        x = self.hidden(tokens, cache)
        if last_only:
            x = x[:, -1:]
        logits = self.unembed(x)
        if targets is None:
            return logits
        return F.cross_entropy(logits.float().view(-1, logits.size(-1)), targets.reshape(-1))

    def hidden(self, tokens: torch.Tensor, cache: Cache | None = None) -> torch.Tensor:
        """``tokens [B, T]`` -> the final hidden states ``[B, T, D]``: everything but the LM head.

        Without a cache the tokens sit at positions ``0 .. T-1``. With one they sit at
        ``cache.length .. cache.length + T - 1`` and the cache grows by ``T``.
        """
        n_tokens = tokens.shape[1]
        start = 0 if cache is None else cache.length
        if start + n_tokens > self.config.max_seq_len:
            raise ConfigError(
                f"positions {start}..{start + n_tokens - 1} exceed the model's max_seq_len "
                f"({self.config.max_seq_len}); generate() slides the window for long sequences"
            )
        x = self.embed(tokens)
        if self.pos is not None:
            x = self.pos(x, start)
        x = self.drop(x)
        mask = self.attention_mask(start, n_tokens)
        for block in self.blocks:
            x = block(x, start, mask, cache)
        if cache is not None:
            cache.advance(n_tokens)
        return self.ln_f(x)

    def unembed(self, x: torch.Tensor) -> torch.Tensor:
        """The LM head: hidden states ``[..., D]`` -> logits ``[..., V]``, soft-capped when ``logit_softcap`` > 0."""
        logits = F.linear(x, self.head_weight)
        cap = self.config.logit_softcap
        return cap * torch.tanh(logits / cap) if cap else logits

    @property
    def head_weight(self) -> torch.Tensor:
        """The LM head's ``[V, D]`` matrix: the embedding itself when the weights are tied."""
        return self.embed.weight if self.lm_head is None else self.lm_head.weight

    def attention_mask(self, start: int, n_tokens: int) -> torch.Tensor | None:
        """What the attention of tokens at ``start .. start + T - 1`` may see: the boolean causal
        mask ``[T, start + T]``, or under ALiBi that mask with each head's distance penalty, a
        float bias ``[H, T, start + T]``."""
        if self.alibi is not None:
            return self.alibi(start, n_tokens)
        return causal_mask(n_tokens, start + n_tokens, self.embed.weight.device)

    def num_parameters(self) -> int:
        """Trainable parameters, each counted once (a tied head shares the embedding)."""
        return sum(p.numel() for p in self.parameters())
