"""Several optimizers that act as one: each steps its own parameters, at its own peak learning rate.

Muon trains the blocks' matrices and AdamW the rest (see :mod:`tui_transformer.train.optimizer`), but
the trainer wants one object to step, zero, save and load. :class:`CombinedOptimizer` holds named
torch optimizers, each with the peak rate the schedule scales::

    lr of every group of optimizer "muon"  = schedule(muon_lr)     (muon_lr × the schedule's factor)
    lr of every group of optimizer "adamw" = schedule(lr)

The peaks live here, not in the optimizers' state: a resume takes them from the config it runs with
(``--lr`` may change on a resume), while ``load_state_dict`` puts back the moments and momenta.
"""

from __future__ import annotations

from typing import Any, Callable

import torch


class CombinedOptimizer:
    """Named torch optimizers and their peak learning rates, stepped, zeroed, saved and loaded together."""

    def __init__(self, parts: dict[str, tuple[torch.optim.Optimizer, float]]) -> None:
        self.optimizers = {name: optimizer for name, (optimizer, _) in parts.items()}
        self.peak_lrs = {name: peak for name, (_, peak) in parts.items()}

    @property
    def param_groups(self) -> list[dict[str, Any]]:
        """Every group of every optimizer, in order."""
        return [group for optimizer in self.optimizers.values() for group in optimizer.param_groups]

    def set_lrs(self, rate: Callable[[float], float]) -> dict[str, float]:
        """Give each optimizer's groups ``rate(its peak)``; returns the rate each optimizer now uses."""
        lrs = {name: rate(peak) for name, peak in self.peak_lrs.items()}
        for name, optimizer in self.optimizers.items():
            for group in optimizer.param_groups:
                group["lr"] = lrs[name]
        return lrs

    def step(self) -> None:
        for optimizer in self.optimizers.values():
            optimizer.step()

    def zero_grad(self, set_to_none: bool = True) -> None:
        for optimizer in self.optimizers.values():
            optimizer.zero_grad(set_to_none=set_to_none)

    def state_dict(self) -> dict[str, Any]:
        """``{name: that optimizer's state_dict}``: Muon's momentum buffers, AdamW's moments and step counts."""
        return {name: optimizer.state_dict() for name, optimizer in self.optimizers.items()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Put back what :meth:`state_dict` saved. Raises ValueError when it holds other optimizers."""
        if set(state) != set(self.optimizers):
            raise ValueError(f"the saved state holds the optimizers {', '.join(sorted(state))}, "
                             f"not {', '.join(sorted(self.optimizers))}")
        for name, optimizer in self.optimizers.items():
            optimizer.load_state_dict(state[name])
