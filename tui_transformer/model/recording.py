"""Recording: what :func:`~.inspect.inspect` asks one forward pass to keep.

A forward pass normally keeps nothing: the attention weights and the residual stream are freed as
soon as the next layer has used them. To look inside, :func:`~.inspect.inspect` opens a
:class:`Recording` and the model appends to it as it goes:

* ``embedded``: the residual stream entering the first block, ``[B, T, D]``;
* ``residual[l]``: the residual stream after block ``l``, ``[B, T, D]``;
* ``attention[l]``: the attention weights of layer ``l``, ``[B, H, T, T]``.

**Per thread, not per model.** The dashboard runs several forward passes of one model at the same
time, each in its own worker thread (the Playground's preview, a generation, the inspect panel).
If recording were a switch on the model, a preview running beside an inspection would append its
own tensors to the inspection's lists. So the open recording lives in a :class:`~contextvars.ContextVar`,
which every thread sees separately: only the forward passes of the thread that opened it record.

When no recording is open, each attention layer and the model pay one ``ContextVar.get``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

import torch


@dataclass
class Recording:
    """The tensors of one forward pass, in the order the model produced them."""

    embedded: list[torch.Tensor] = field(default_factory=list)
    residual: list[torch.Tensor] = field(default_factory=list)
    attention: list[torch.Tensor] = field(default_factory=list)


_OPEN: ContextVar[Recording | None] = ContextVar("tui_transformer_recording", default=None)


def open_recording() -> Recording | None:
    """The recording this thread has open, or None (always None inside ``torch.compile``).

    A compiled graph never records: :func:`~.inspect.inspect` runs the plain model, and this check
    lets the compiler drop the branch instead of breaking the graph at every layer.
    """
    if torch.compiler.is_compiling():
        return None
    return _OPEN.get()


@contextmanager
def recording() -> Iterator[Recording]:
    """Record the forward passes this thread runs inside the ``with`` block; stop on exit."""
    opened = Recording()
    token = _OPEN.set(opened)
    try:
        yield opened
    finally:
        _OPEN.reset(token)
