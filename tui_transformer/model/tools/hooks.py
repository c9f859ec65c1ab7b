"""Hooks by name: read or replace the tensors that pass the model's hook points.

The model marks the places worth looking at with :class:`~tui_transformer.model.hook_point.HookPoint`
(identity layers, named as TransformerLens names them). ``hook_names(model)`` lists them, in the
order a forward pass reaches them.

**Reading and patching.** ``with hooks(model, {"blocks.0.hook_resid_post": fn}): model(tokens)``
calls ``fn(tensor)`` as the tensor passes. ``fn`` returns None to leave it alone (a read) or a
tensor of the same shape, which the rest of the pass uses instead (a patch, or an ablation).
Underneath it is PyTorch's own ``register_forward_hook``, removed when the block ends.

**Per thread, not per model.** The dashboard runs one model from several worker threads at once
(the Playground's preview, a generation, the inspect panel). A forward hook belongs to the module,
so every thread's pass would reach it; each hook therefore first asks a
:class:`~contextvars.ContextVar`, which every thread sees separately, whether its ``with`` block is
open here, and does nothing for the passes of other threads. Nested blocks add their hooks; two
on one point run in the order they were opened, the second seeing what the first returned.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import torch
from torch import nn

from tui_transformer.errors import ConfigError
from tui_transformer.model.hook_point import HookPoint

Hook = Callable[[torch.Tensor], "torch.Tensor | None"]

_OPEN: ContextVar[frozenset[object]] = ContextVar("tui_transformer_open_hooks", default=frozenset())


def hook_names(model: nn.Module) -> list[str]:
    """Every hook point's name, in the order a forward pass reaches them."""
    return [name for name, module in model.named_modules() if isinstance(module, HookPoint)]


@contextmanager
def hooks(model: nn.Module, by_name: dict[str, Hook]) -> Iterator[None]:
    """Call ``by_name[name](tensor)`` at each named hook point of ``model``, in this thread, inside the block.

    A name that is no hook point is a ConfigError.
    """
    points = {name: module for name, module in model.named_modules() if isinstance(module, HookPoint)}
    unknown = sorted(set(by_name) - set(points))
    if unknown:
        raise ConfigError(f"no hook point called {', '.join(unknown)}; see hook_names(model)")
    block = object()  # this with-block; its hooks fire only where it is open

    def forward_hook(hook: Hook):
        def call(_module: nn.Module, _inputs: tuple, output: torch.Tensor) -> torch.Tensor | None:
            return hook(output) if block in _OPEN.get() else None

        return call

    handles = [points[name].register_forward_hook(forward_hook(hook)) for name, hook in by_name.items()]
    token = _OPEN.set(_OPEN.get() | {block})
    try:
        yield
    finally:
        _OPEN.reset(token)
        for handle in handles:
            handle.remove()


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
