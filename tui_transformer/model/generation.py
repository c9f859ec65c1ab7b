"""Generation: turning a prompt into a stream of new tokens.

:func:`generate` is an iterator: it yields each token as soon as it is chosen, so a dashboard can
print text as it appears. :func:`generate_steps` yields richer :class:`GenerationStep` records
that also carry the distribution each token was drawn from.

**With the KV cache** (``use_cache=True``, the default) there are two phases:

* *prefill*: one forward pass over the whole prompt ``[B, P]`` fills the cache and gives the
  logits for the first new token;
* *decode*: each later step feeds only the newest token ``[B, 1]``; attention reads the earlier
  keys and values from the cache. The cost per token stays nearly flat instead of growing with the
  text.

**Without it** (``use_cache=False``) every step runs the model over the whole context again,
``O(t)`` work for token ``t``. It exists to check the cache and to measure what it saves.

**Sliding window.** The model has positions ``0 .. max_seq_len - 1`` only. When the next forward
pass would need more, generation keeps the last ``keep = max(1, 3 · max_seq_len // 4)`` tokens,
empties the cache and prefills it again from those (they take positions ``0 .. keep - 1``), then
decodes on. A refill costs one prefill every ``max_seq_len - keep + 1`` tokens, and the model
always sees at least ``keep`` tokens of context. The uncached path uses the very same windows, so
both paths produce the same tokens however long the generation. A prompt longer than
``max_seq_len`` is cut to its last ``keep`` tokens the same way.

**Stopping.** Generation ends after ``max_new_tokens``, or once every row has produced
``eos_id`` or completed one of ``stop_sequences`` (lists of token ids, matched within the generated
tokens). The token that ends a row *is* yielded. In a batch, rows that have finished emit
``eos_id`` while the others go on (or keep sampling if there is no ``eos_id``;
``GenerationStep.finished`` tells them apart).

The model runs under ``torch.inference_mode()`` (no autograd bookkeeping) and in eval mode
(dropout off) for the duration; its previous mode is restored when the iterator ends or is closed.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch

from tui_transformer.errors import ConfigError, UserError
from tui_transformer.model.sampling import Sampler, SamplingConfig


@dataclass
class GenerationStep:
    """One decoding step for a batch of ``B`` sequences."""

    token_ids: torch.Tensor  # [B] int64: the token chosen for each row
    probs: torch.Tensor  # [B, V]: the filtered distribution the token was drawn from
    position: int  # index of this token in the full sequence (prompt + generated)
    finished: torch.Tensor  # [B] bool: rows that have ended (EOS or stop sequence), this step included


def generate(
    model,
    prompt,
    max_new_tokens: int = 64,
    sampling: SamplingConfig | None = None,
    use_cache: bool = True,
    eos_id: int | None = None,
    stop_sequences: Sequence[Sequence[int]] | None = None,
) -> Iterator:
    """Yield new tokens: ``int`` for a 1-D prompt (list of ids or 1-D tensor), ``LongTensor [B]``
    for a 2-D prompt ``[B, P]``. ``sampling`` defaults to greedy."""
    batched = _is_batched(prompt)
    for step in _run(model, prompt, max_new_tokens, sampling, use_cache, eos_id, stop_sequences, want_probs=False):
        yield step.token_ids if batched else int(step.token_ids[0])


def generate_steps(
    model,
    prompt,
    max_new_tokens: int = 64,
    sampling: SamplingConfig | None = None,
    use_cache: bool = True,
    eos_id: int | None = None,
    stop_sequences: Sequence[Sequence[int]] | None = None,
) -> Iterator[GenerationStep]:
    """Like :func:`generate`, yielding :class:`GenerationStep` records (batch dimension always present)."""
    yield from _run(model, prompt, max_new_tokens, sampling, use_cache, eos_id, stop_sequences, want_probs=True)


def window_keep(max_seq_len: int) -> int:
    """How many trailing tokens survive a slide of the window (see the module docstring)."""
    return max(1, 3 * max_seq_len // 4)


def _is_batched(prompt) -> bool:
    ndim = getattr(prompt, "ndim", None)  # tensors and arrays
    if ndim is not None:
        return ndim == 2
    return len(prompt) > 0 and isinstance(prompt[0], (list, tuple))


def _prompt_tensor(prompt, vocab_size: int, device: torch.device) -> torch.Tensor:
    """The prompt as ``LongTensor [B, P]`` on ``device``, validated."""
    try:
        tokens = torch.as_tensor(prompt, dtype=torch.long, device=device)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"prompt must be a list of token ids, a list of equal-length lists, or a tensor ({error})")
    if tokens.dim() == 1:
        tokens = tokens.unsqueeze(0)
    if tokens.dim() != 2 or tokens.shape[1] == 0:
        raise ConfigError(f"prompt must hold at least one token id, in 1-D [P] or 2-D [B, P]; got shape {list(tokens.shape)}")
    low, high = int(tokens.min()), int(tokens.max())
    if low < 0 or high >= vocab_size:
        raise ConfigError(f"prompt token ids must be in [0, {vocab_size - 1}], got values from {low} to {high}")
    return tokens


def _run(model, prompt, max_new_tokens, sampling, use_cache, eos_id, stop_sequences, want_probs):
    if not isinstance(max_new_tokens, int) or max_new_tokens < 0:
        raise ConfigError(f"max_new_tokens must be an integer >= 0, got {max_new_tokens!r}")
    stops = _stop_lists(stop_sequences)
    device = model.embed.weight.device
    # A row ends only on eos_id or a stop sequence; without either, asking whether all rows have
    # ended is a wasted operator per token (and on a GPU a sync that stalls the pipeline).
    can_end = eos_id is not None or bool(stops)
    was_training = model.training
    model.eval()  # dropout off while generating; the caller gets its mode back at the end
    try:
        with torch.inference_mode():
            decoder = _Decoder(model, _prompt_tensor(prompt, model.config.vocab_size, device), max_new_tokens,
                               Sampler(sampling or SamplingConfig(temperature=0.0), device), use_cache)
        for _ in range(max_new_tokens):
            with torch.inference_mode():  # not around the yield: the consumer's own code runs between steps
                step = decoder.step(want_probs, eos_id, stops)
            yield step
            if can_end and bool(step.finished.all()):
                return
    finally:
        model.train(was_training)


def _stop_lists(stop_sequences) -> list[list[int]]:
    """``stop_sequences`` as lists of ints (empty ones dropped), or a clear error."""
    stops = []
    for seq in stop_sequences or []:
        if not isinstance(seq, (list, tuple)) or not all(isinstance(t, numbers.Integral) for t in seq):
            raise ConfigError(f"stop_sequences must be a list of token-id lists, e.g. [[13, 13]]; got {stop_sequences!r}")
        if seq:
            stops.append([int(t) for t in seq])
    return stops


class _Decoder:
    """The decoding state: the token buffer, the window start, the cache and the next logits."""

    def __init__(self, model, prompt: torch.Tensor, max_new_tokens: int, sampler: Sampler, use_cache: bool) -> None:
        self.model = model
        self.sampler = sampler
        self.max_seq_len = model.config.max_seq_len
        batch, self.prompt_len = prompt.shape
        self.tokens = torch.empty(batch, self.prompt_len + max_new_tokens, dtype=torch.long, device=prompt.device)
        self.tokens[:, : self.prompt_len] = prompt
        self.length = self.prompt_len
        self.start = self._window_start(0)
        self.finished = torch.zeros(batch, dtype=torch.bool, device=prompt.device)
        self.cache = None
        if use_cache and max_new_tokens:
            needed = min(self.max_seq_len, self.length - self.start + max_new_tokens)
            self.cache = model.new_cache(batch_size=batch, max_len=needed)
        self.logits = self._prefill() if max_new_tokens else None

    def _window_start(self, start: int) -> int:
        """Where the context begins, sliding it when it no longer fits in ``max_seq_len``."""
        if self.length - start > self.max_seq_len:
            return self.length - window_keep(self.max_seq_len)
        return start

    def _prefill(self) -> torch.Tensor:
        """Run the whole window in one forward pass; the logits [B, V] at its last position."""
        if self.cache is not None:
            self.cache.reset()
        logits = self.model(self.tokens[:, self.start : self.length], cache=self.cache, last_only=True)[:, -1]
        # Broken weights (a diverged run) give NaN everywhere, so the prefill shows it. Checked here
        # once, not at every token: the check reads the logits back to the CPU.
        if not bool(torch.isfinite(logits).all()):
            raise UserError("the model produced NaN/inf logits, so there is nothing to sample from "
                            "(did training diverge? try a lower learning rate)")
        return logits

    def step(self, want_probs: bool, eos_id: int | None, stops: list[list[int]]) -> GenerationStep:
        # The forward pass for this token runs now rather than at the end of the previous step,
        # so a consumer that stops iterating never pays for a token it will not see.
        if self.logits is None:
            self.logits = self._next_logits()
        context = self.tokens[:, : self.length] if self.sampler.config.repetition_penalty != 1.0 else None
        next_ids, probs = self.sampler.sample(self.logits, context, want_probs)
        self.logits = None
        if eos_id is not None:
            next_ids = torch.where(self.finished, eos_id, next_ids)
        position = self.length
        self.tokens[:, position] = next_ids
        self.length += 1
        if eos_id is not None or stops:
            self.finished = self.finished | self._ended(next_ids, eos_id, stops)
        return GenerationStep(next_ids, probs, position, self.finished)

    def _next_logits(self) -> torch.Tensor:
        """The logits [B, V] for the next token, given everything generated so far."""
        new_start = self._window_start(self.start)
        if self.cache is None:
            self.start = new_start
            return self.model(self.tokens[:, self.start : self.length], last_only=True)[:, -1]
        if new_start != self.start:  # the window slid: rebuild the cache from the new window
            self.start = new_start
            return self._prefill()
        return self.model(self.tokens[:, self.length - 1 : self.length], cache=self.cache, last_only=True)[:, -1]

    def _ended(self, next_ids: torch.Tensor, eos_id: int | None, stops: list[list[int]]) -> torch.Tensor:
        """Rows whose newest token is ``eos_id`` or completes a stop sequence."""
        ended = next_ids == eos_id if eos_id is not None else torch.zeros_like(self.finished)
        if stops:
            tail_start = max(self.prompt_len, self.length - max(len(seq) for seq in stops))
            for row, tail in enumerate(self.tokens[:, tail_start : self.length].tolist()):
                if any(len(seq) <= len(tail) and tail[-len(seq):] == seq for seq in stops):
                    ended[row] = True
        return ended
