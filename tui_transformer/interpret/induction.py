"""Induction heads: how a transformer copies what came after the last time it saw a token.

Given ``... A B ... A``, an *induction head* at the second ``A`` attends to the ``B`` that followed
the first ``A`` and copies it into the prediction, so the model says ``B``. It takes two heads in
two layers: a *previous-token head* writes "the token before me was A" into ``B``'s residual
stream, and the induction head's query ("I am A") matches that key. Olsson et al. (2022) found such
heads in every model they trained, appearing suddenly, in a phase change that shows as a bump in the
loss curve, and that they carry most of in-context learning.

**The test sequence.** ``R`` random tokens, then the same ``R`` again: ``t_0 .. t_{R-1} t_0 .. t_{R-1}``.
Nothing in the first copy can be predicted (the tokens are random), while every token of the second
copy can, by looking back ``R`` positions. Only copying from context helps there.

**Scores**, with ``A[h, i, j]`` the attention of head ``h`` from position ``i`` to ``j``:

* prefix matching: at position ``R + i`` of the second copy (token ``t_i``), the attention paid to
  position ``i + 1``, the token right after ``t_i``'s first occurrence, averaged over ``i``:
  ``mean_i A[h, R + i, i + 1]`` (1 for a perfect induction head, about ``1/(R + i)`` for a uniform one);
* copying: what the head writes there, read through the unembedding: its *direct logit
  contribution* ``c = W_U · W_O^h z^h`` at each second-copy position, as a z-score of the correct next
  token among all tokens, ``(c[y] − mean(c)) / std(c)``, averaged. A head that copies the token it
  attends to scores well above 0;
* in-context learning: the model's mean loss on the first copy minus its mean loss on the second
  (in nats). Near 0 for a model that cannot copy; up to about ``ln V`` for one that copies perfectly.

**Which tokens.** Draw the random tokens from ids that the model saw in training: an id it never saw
has an untrained embedding, and no head can copy it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from tui_transformer.data.builtin_corpus import load_builtin_documents
from tui_transformer.data.sources import is_synthetic
from tui_transformer.data.synthetic_spec import parse_synthetic
from tui_transformer.errors import ConfigError
from tui_transformer.model.tools.eval_mode import eval_mode
from tui_transformer.model.tools.hooks import run_with_cache
from tui_transformer.model.tools.inspection import inspect
from tui_transformer.model.tools.loss import lm_loss


def repeated_random_tokens(token_ids: Sequence[int], length: int, batch: int = 1, seed: int = 0) -> torch.Tensor:
    """``[batch, 2 · length]``: ``length`` distinct ids drawn from ``token_ids``, then the same again."""
    pool = torch.tensor(sorted(set(int(t) for t in token_ids)), dtype=torch.long)
    if len(pool) < length:
        raise ConfigError(f"need at least {length} distinct token ids to repeat, got {len(pool)}")
    generator = torch.Generator().manual_seed(seed)
    rows = [pool[torch.randperm(len(pool), generator=generator)[:length]] for _ in range(batch)]
    first = torch.stack(rows)
    return torch.cat([first, first], dim=1)


def prefix_matching(weights: torch.Tensor, length: int) -> torch.Tensor:
    """``weights [B, H, T, T]`` -> ``[H]``: ``mean_i A[h, R + i, i + 1]`` over the batch and ``i = 0 .. R − 1``."""
    i = torch.arange(length)
    return weights[:, :, length + i, i + 1].float().mean(dim=(0, 2))


def repeat_targets(tokens: torch.Tensor) -> list[tuple[int, int, int]]:
    """``(row, query, key)`` for every token of ``tokens [B, T]`` seen before in its row: the query is
    the repeat, the key the position right after the token's latest earlier occurrence (where an
    induction head looks). On a sequence repeated with period ``R`` these are exactly the
    ``(R + i, i + 1)`` of :func:`prefix_matching`; on any text they are its own repeats."""
    targets = []
    for row, ids in enumerate(tokens.tolist()):
        last_seen: dict[int, int] = {}
        for query, token in enumerate(ids):
            earlier = last_seen.get(token)
            if earlier is not None and earlier + 1 < query:
                targets.append((row, query, earlier + 1))
            last_seen[token] = query
    return targets


def repeat_matching(weights: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """``weights [B, H, T, T]`` -> ``[H]``: the mean attention each head pays to the :func:`repeat_targets`
    of ``tokens [B, T]``; zeros where no token repeats."""
    targets = repeat_targets(tokens)
    if not targets:
        return torch.zeros(weights.shape[1])
    rows, queries, keys = (torch.tensor(column) for column in zip(*targets))
    return weights[rows, :, queries, keys].float().mean(dim=0)


def prefix_matching_scores(attention: list[torch.Tensor], length: int) -> torch.Tensor:
    """``[L, H]``: :func:`prefix_matching` of every layer's attention weights."""
    return torch.stack([prefix_matching(weights, length) for weights in attention])


def copying_scores(model, tokens: torch.Tensor, length: int) -> torch.Tensor:
    """``[L, H]``: each head's direct logit contribution to the correct next token, as a z-score (see above).

    The contribution skips the final LayerNorm's centring and scaling (the usual direct-logit
    approximation): it reads what the head writes, not what the rest of the model does with it.
    """
    n_layers, n_heads = model.config.n_layers, model.config.n_heads
    names = [f"blocks.{layer}.attn.hook_z" for layer in range(n_layers)]
    with eval_mode(model), torch.inference_mode():
        _, seen = run_with_cache(model, tokens, names)
    unembed = model.embed.weight if model.lm_head is None else model.lm_head.weight  # [V, D]
    positions = torch.arange(length, 2 * length - 1)  # predicting t_{i+1} from t_i in the second copy
    targets = tokens[:, positions + 1]  # [B, R-1]
    scores = torch.zeros(n_layers, n_heads)
    for layer in range(n_layers):
        attn = model.blocks[layer].attn
        z = seen[names[layer]][:, :, positions]  # [B, H, R-1, d_head]
        for head in range(n_heads):
            w_out = attn.out.weight[:, head * attn.d_head:(head + 1) * attn.d_head]  # [D, d_head]
            logits = z[:, head] @ w_out.T @ unembed.T  # [B, R-1, V]
            correct = logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
            spread = logits.std(dim=-1).clamp_min(1e-6)
            scores[layer, head] = ((correct - logits.mean(dim=-1)) / spread).mean()
    return scores


def copy_losses(logits: torch.Tensor, tokens: torch.Tensor, length: int) -> tuple[float, float]:
    """The mean loss on the first copy and on the second, in nats (``R − 1`` predictions each).

    First: predicting ``t_1 .. t_{R-1}`` from positions ``0 .. R − 2``; second: predicting the same
    tokens again from positions ``R .. 2R − 2``. The in-context learning score is their difference.
    """
    first = lm_loss(logits[:, : length - 1], tokens[:, 1:length])
    second = lm_loss(logits[:, length : 2 * length - 1], tokens[:, length + 1 :])
    return float(first), float(second)


@dataclass(frozen=True)
class InductionProbe:
    """What the trainer measures at each eval to watch an induction head form: the cheap half of
    :func:`induction_report` (one forward pass, no copying scores)."""

    in_context_learning: float  # nats
    best_prefix_matching: float  # of any head


PROBE_LENGTH, PROBE_BATCH = 24, 4  # 4 sequences of 24 ids twice: about 1/10 of a default eval's tokens


def probe_length(data: str) -> int:
    """The repeat length ``R`` of the trainer's probe for a run on ``data`` (a ``--data`` value).

    On text, ``PROBE_LENGTH``. On ``synthetic:repeats``, the data's longest segment: the model
    learnt to copy from at most that far back, and a probe that repeats later measures how far its
    heads generalise rather than whether they formed (measured on the induction lesson: a formed
    head reads about 0.8 nats at 24, about 2.5 at 16).
    """
    return parse_synthetic(data).max if is_synthetic(data) else PROBE_LENGTH


def induction_probe_tokens(batches, eot_id: int, max_seq_len: int, length: int = PROBE_LENGTH) -> torch.Tensor | None:
    """The trainer's fixed probe ``[PROBE_BATCH, 2R]``: ids drawn from those the validation ``batches``
    hold (so the model has seen them), ``R = min(length, max_seq_len / 2)``; None if too few ids."""
    counts: dict[int, int] = {}
    for x, _ in batches:
        for token in x.reshape(-1).tolist():
            counts[token] = counts.get(token, 0) + 1
    counts.pop(eot_id, None)
    pool = sorted(counts, key=counts.get, reverse=True)[:1000]
    length = min(length, max_seq_len // 2, len(pool))
    if length < 2:
        return None
    device = batches[0][0].device
    return repeated_random_tokens(pool, length, PROBE_BATCH, seed=0).to(device)


def probe_induction(model, tokens: torch.Tensor, length: int) -> InductionProbe:
    """Both numbers on ``tokens [B, 2 · length]``, a fixed batch of repeated sequences."""
    seen = inspect(model, tokens)
    first, second = copy_losses(seen.logits, tokens, length)
    return InductionProbe(first - second, float(prefix_matching_scores(seen.attention, length).max()))


@dataclass(frozen=True)
class InductionReport:
    length: int
    prefix_matching: torch.Tensor  # [L, H]
    copying: torch.Tensor  # [L, H]
    in_context_learning: float  # nats
    first_copy_loss: float
    second_copy_loss: float

    def strongest(self) -> tuple[int, int, float]:
        """The head with the highest prefix-matching score: ``(layer, head, score)``."""
        flat = int(self.prefix_matching.argmax())
        layer, head = divmod(flat, self.prefix_matching.shape[1])
        return layer, head, float(self.prefix_matching[layer, head])


def induction_report(model, token_ids: Sequence[int], length: int = 24, batch: int = 4, seed: int = 0) -> InductionReport:
    """The scores above on ``batch`` repeated sequences of ``length`` ids drawn from ``token_ids``."""
    if not 2 <= length <= model.config.max_seq_len // 2:
        raise ConfigError(f"the repeated length must be from 2 to max_seq_len / 2 = {model.config.max_seq_len // 2}, "
                          f"got {length}")
    tokens = repeated_random_tokens(token_ids, length, batch, seed).to(model.embed.weight.device)
    seen = inspect(model, tokens)
    first, second = copy_losses(seen.logits, tokens, length)
    return InductionReport(length=length, prefix_matching=prefix_matching_scores(seen.attention, length),
                           copying=copying_scores(model, tokens, length), in_context_learning=first - second,
                           first_copy_loss=first, second_copy_loss=second)


def frequent_ids(tokenizer, texts: Sequence[str], limit: int = 1000) -> list[int]:
    """The ``limit`` token ids that occur most often in ``texts`` (end-of-text left out): ids a model
    trained on such text has seen, so their embeddings are trained."""
    ids = [i for encoded in tokenizer.encode_batch(list(texts)) for i in encoded]
    counts = torch.bincount(torch.tensor(ids, dtype=torch.long), minlength=tokenizer.vocab_size)  # long: [] too
    counts[tokenizer.eot_id] = 0
    ranked = counts.argsort(descending=True, stable=True)[:limit]  # ties in a fixed order: the same pool every run
    return [int(i) for i in ranked if counts[i] > 0]


BUILTIN_DOCUMENTS = 400  # enough text for 1,000 frequent ids under any of our tokenizers


def training_ids(tokenizer, data: str | None = None) -> list[int]:
    """Ids a model trained on ``data`` (a ``--data`` value) has seen, to draw test sequences from: a
    synthetic source's own ids (``synthetic:repeats`` uses ``0 .. ids-1`` and nothing else), else
    :func:`builtin_frequent_ids`."""
    if data and is_synthetic(data):
        return list(range(parse_synthetic(data).ids))
    return builtin_frequent_ids(tokenizer)


def builtin_frequent_ids(tokenizer, documents: int = BUILTIN_DOCUMENTS) -> list[int]:
    """:func:`frequent_ids` over the first ``documents`` of the builtin corpus (Python's own
    documentation, always there): where ``interpret`` and the Learn "Circuits" page draw their
    random tokens from. It encodes about a megabyte of text: seconds under a large vocabulary."""
    return frequent_ids(tokenizer, [text for _, text in load_builtin_documents()[:documents]])
