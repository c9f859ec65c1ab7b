"""Hook points: named places in the forward pass where a probe may read or replace a tensor.

The model's maths stays free of instrumentation: where a reader might want to look, the forward
pass only passes its tensor through a :class:`HookPoint`, an identity layer. The hook points get
their names from where they sit in the model, in the convention of TransformerLens::

    blocks.{l}.hook_resid_pre     [B, T, D]          the residual stream entering block l
    blocks.{l}.hook_resid_mid     [B, T, D]          after the attention's contribution is added
    blocks.{l}.hook_resid_post    [B, T, D]          after the feed-forward's: what block l writes
    blocks.{l}.attn.hook_q        [B, H, Tq, d_head] the queries (rotated, under rope)
    blocks.{l}.attn.hook_k        [B, H, Tk, d_head] the keys attended to (cached ones included)
    blocks.{l}.attn.hook_z        [B, H, Tq, d_head] each head's output, before the heads are merged

(TransformerLens puts the head axis after the position axis; here the heads come first, as the
attention computes them.) ``hook_names(model)`` lists them all.

**Reading and patching.** ``with hooks(model, {"blocks.0.hook_resid_post": fn}): model(tokens)``
calls ``fn(tensor)`` as the tensor passes. ``fn`` returns None to leave it alone (a read) or a
tensor of the same shape, which the rest of the pass uses instead (a patch, or an ablation).

**Per thread, not per model.** The dashboard runs one model from several worker threads at once
(the Playground's preview, a generation, the inspect panel). Hooks live in a
:class:`~contextvars.ContextVar`, which every thread sees separately, so only the forward passes of
the thread that opened the ``with`` block call them. With no hooks open, a hook point costs one
``ContextVar.get``; inside ``torch.compile`` it is a plain identity that the compiler removes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import torch
from torch import nn

from tui_transformer.errors import ConfigError

Hook = Callable[[torch.Tensor], "torch.Tensor | None"]

_OPEN: ContextVar[dict[nn.Module, Hook] | None] = ContextVar("tui_transformer_hooks", default=None)


class HookPoint(nn.Module):
    """The identity ``x -> x``, unless this thread has opened a hook on it (see the module docstring)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.compiler.is_compiling():
            return x
        open_hooks = _OPEN.get()
        hook = None if open_hooks is None else open_hooks.get(self)
        if hook is None:
            return x
        replaced = hook(x)
        return x if replaced is None else replaced

    # Called straight, past nn.Module's own call machinery (and its register_forward_hook hooks):
    # a decode step passes six hook points per layer, and small models are bound by per-call
    # overhead, so this cuts their cost from about 1 µs to about 0.25 µs each (measured here).
    __call__ = forward


def hook_names(model: nn.Module) -> list[str]:
    """Every hook point's name, in the order a forward pass reaches them."""
    return [name for name, module in model.named_modules() if isinstance(module, HookPoint)]


@contextmanager
def hooks(model: nn.Module, by_name: dict[str, Hook]) -> Iterator[None]:
    """Call ``by_name[name](tensor)`` at each named hook point of ``model``, in this thread, inside the block.

    Nested blocks add to the hooks already open; a name that is no hook point is a ConfigError.
    """
    points = {name: module for name, module in model.named_modules() if isinstance(module, HookPoint)}
    unknown = sorted(set(by_name) - set(points))
    if unknown:
        raise ConfigError(f"no hook point called {', '.join(unknown)}; see hook_names(model)")
    opened = dict(_OPEN.get() or {})
    opened.update({points[name]: hook for name, hook in by_name.items()})
    token = _OPEN.set(opened)
    try:
        yield
    finally:
        _OPEN.reset(token)


def run_with_cache(model: nn.Module, tokens: torch.Tensor, names: list[str]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Run ``model(tokens)`` once and keep the tensors that pass the ``names`` hook points.

    Returns ``(logits, {name: tensor})``, as TransformerLens's ``run_with_cache`` does.
    """
    kept: dict[str, torch.Tensor] = {}

    def keeper(name: str) -> Hook:
        def keep(tensor: torch.Tensor) -> None:
            kept[name] = tensor

        return keep

    with hooks(model, {name: keeper(name) for name in names}):
        logits = model(tokens)
    return logits, kept
