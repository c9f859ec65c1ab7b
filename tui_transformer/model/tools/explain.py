"""Explain: the numbers the Learn pages show, computed from a real model (no UI here).

Each function answers one question a learner asks about *their own* model and returns plain
Python data (lists, dataclasses, small tensors) that a view can draw:

* :func:`nearest_neighbours`: which tokens have embeddings pointing the same way? Cosine
  similarity ``cos(a, b) = a·b / (|a| |b|)`` between rows of the embedding matrix ``E [V, D]``.
* :func:`positional_matrix`: the positional signal added to (or, for RoPE, the angles rotating)
  each position, as a ``[T, n]`` matrix to draw as a heatmap.
* :func:`component_table`: every component's parameter shapes and counts, from the live modules.
* :func:`residual_norms`: the mean length ``|x|`` of the residual stream entering and leaving
  each block, from one inspected forward pass.
* :func:`logit_lens_table`: the top token per layer and position (see ``model.tools.inspection``).
* :func:`kv_cache_table`: the KV cache's memory (:func:`~tui_transformer.model.kv_cache.kv_cache_bytes`)
  as the context grows.
* :func:`sampler_stages`: the next-token distribution after each processor of
  ``model.sampling``, in the order the sampler applies them. It calls the sampler's own
  functions, so what it shows is what generation does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F

from tui_transformer.model.kv_cache import kv_cache_bytes
from tui_transformer.model.sampling import Sampler, SamplingConfig


# ---- embeddings ----------------------------------------------------------------------------------

def nearest_neighbours(embedding: torch.Tensor, token_ids: list[int], k: int = 5) -> list[list[tuple[int, float]]]:
    """For each id, the ``k`` other rows of ``embedding [V, D]`` with the highest cosine similarity.

    Returns one list of ``(token_id, cosine)`` per input id, most similar first (the id itself excluded).
    """
    with torch.inference_mode():
        unit = F.normalize(embedding.float(), dim=-1)  # [V, D], each row of length 1
        ids = torch.as_tensor(token_ids, dtype=torch.long, device=embedding.device)
        cosines = unit[ids] @ unit.T  # [N, V]
        cosines[torch.arange(len(token_ids)), ids] = float("-inf")  # a token is not its own neighbour
        values, indices = cosines.topk(min(k, embedding.shape[0] - 1), dim=-1)
    return [list(zip(row_ids, row_values)) for row_ids, row_values in zip(indices.tolist(), values.tolist())]


# ---- positions -----------------------------------------------------------------------------------

def positional_matrix(model, n_positions: int) -> tuple[str, torch.Tensor]:
    """``(what, matrix)`` for the first ``n_positions`` positions.

    Sinusoidal and learned: the table added to the embeddings, ``[T, D]``. RoPE adds nothing;
    its matrix is the rotation angle ``p · θ_i`` of each dimension pair, ``[T, d_head / 2]``,
    wrapped into ``(-π, π]`` as the rotation itself sees it. ALiBi adds nothing either: its matrix is
    each head's penalty ``−m_h · d`` at distance ``d``, ``[H, T]`` (a row per head).
    """
    n = min(n_positions, model.config.max_seq_len)
    kind = model.config.pos_encoding
    with torch.inference_mode():
        if kind == "sinusoidal":
            return "PE[p, d] added to the embeddings", model.pos.table[:n].float().cpu()
        if kind == "learned":
            return "learned P[p, d] added to the embeddings", model.pos.weight[:n].float().cpu()
        if kind == "alibi":
            bias = model.alibi(0, n).float().cpu()  # [H, T, T]; the future is -inf
            rows = bias[:, -1, :].flip(-1)  # the last query's penalty at distance 0, 1, ... per head
            return "ALiBi penalty −m_h·distance per head (row = head, column = distance)", rows
        rope = model.blocks[0].attn.rope
        half = rope.cos.shape[-1] // 2  # the tables hold pair i's angle at i and i + d_head/2
        return "rotation angle p·θ_i of pair i (radians)", torch.atan2(rope.sin[:n, :half], rope.cos[:n, :half]).float().cpu()


# ---- shapes, parameters, the residual stream ------------------------------------------------------

@dataclass(frozen=True)
class Component:
    """One row of the parameter table: a module path, its parameter shapes, and their total count."""

    name: str
    shapes: tuple[tuple[int, ...], ...]
    parameters: int


def component_table(model, blocks: tuple[int, ...] | None = None) -> list[Component]:
    """Parameters grouped by component (``embed``, ``blocks.0.attn``, ``blocks.0.ff`` ...).

    ``blocks`` limits the rows to those blocks (every block is alike); the ``total`` row always counts all.
    """
    groups: dict[str, list[torch.Tensor]] = {}
    for name, parameter in model.named_parameters():
        parts = name.split(".")
        key = ".".join(parts[:3] if parts[0] == "blocks" else parts[:1])
        if blocks is not None and parts[0] == "blocks" and int(parts[1]) not in blocks:
            continue
        groups.setdefault(key, []).append(parameter)
    rows = [Component(key, tuple(tuple(p.shape) for p in params), sum(p.numel() for p in params))
            for key, params in groups.items()]
    rows.append(Component("total", (), model.num_parameters()))
    return rows


def residual_norms(inspection) -> list[tuple[str, float]]:
    """The mean L2 norm of the residual stream (over batch and positions), after the embeddings
    and after each block: it grows as every block *adds* its output to the stream."""
    with torch.inference_mode():
        rows = [("embed + pos", inspection.embedded.float().norm(dim=-1).mean().item())]
        for layer, stream in enumerate(inspection.residual):
            rows.append((f"block {layer}", stream.float().norm(dim=-1).mean().item()))
    return rows


def logit_lens_table(inspection, decode, batch: int = 0) -> list[list[tuple[str, float]]]:
    """``table[layer][position] = (top token text, its probability)`` read through the logit lens."""
    probs, ids = inspection.logit_lens_top(1)  # [L, B, T, 1] each
    return [[(decode([int(i)]), float(p)) for i, p in zip(ids[layer, batch, :, 0].tolist(),
                                                         probs[layer, batch, :, 0].tolist())]
            for layer in range(probs.shape[0])]


# ---- the KV cache --------------------------------------------------------------------------------

def kv_cache_table(config, prompt_length: int, bytes_per_value: int = 4) -> list[tuple[int, int]]:
    """``(length, bytes)`` for the prompt's length and for doublings up to ``max_seq_len``."""
    lengths = {max(prompt_length, 1), config.max_seq_len}
    length = 16
    while length < config.max_seq_len:
        lengths.add(length)
        length *= 2
    return [(n, kv_cache_bytes(config, n, bytes_per_value=bytes_per_value)) for n in sorted(lengths)]


# ---- sampling ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SamplerStage:
    """The distribution ``probs [V]`` after one processor; ``active`` is False where it changes nothing."""

    name: str
    active: bool
    probs: torch.Tensor


def sampler_stages(logits: torch.Tensor, context: torch.Tensor, config: SamplingConfig) -> list[SamplerStage]:
    """The next-token distribution before and after each step of ``Sampler.distribution``.

    ``logits [V]`` for one position, ``context [N]`` the ids seen so far. The steps, in order:
    the raw model, repetition penalty, temperature, top-k, top-p, min-p. The sampler applies its
    processors in that fixed order, so the distribution after step ``k`` is the sampler's own
    distribution with only the first ``k`` processors turned on; the last stage is exactly the
    distribution the sampler draws from.
    """
    logits = logits.float().unsqueeze(0)
    context = context.long().unsqueeze(0)
    c, filtering = config, not config.greedy  # τ = 0 puts all the mass on the arg-max: the filters change nothing
    processors = (
        ("repetition_penalty", f"rep-pen {c.repetition_penalty:g}", c.repetition_penalty != 1.0 and context.numel() > 0),
        ("temperature", "temp 0 (greedy)" if c.greedy else f"temp {c.temperature:g}", c.temperature != 1.0),
        ("top_k", f"top-k {c.top_k}" if c.top_k else "top-k off", filtering and bool(c.top_k)),
        ("top_p", f"top-p {c.top_p:g}" if c.top_p < 1 else "top-p off", filtering and c.top_p < 1.0),
        ("min_p", f"min-p {c.min_p:g}" if c.min_p else "min-p off", filtering and c.min_p > 0),
    )
    so_far = SamplingConfig()  # every processor off: the model's own distribution
    stages = [SamplerStage("model", True, Sampler(so_far).distribution(logits, context)[0])]
    for field, name, active in processors:
        so_far = replace(so_far, **{field: getattr(config, field)})
        stages.append(SamplerStage(name, active, Sampler(so_far).distribution(logits, context)[0]))
    return stages
