"""The training optimizer: AdamW for every parameter, or Muon for the blocks' matrices and AdamW for the rest.

**AdamW** scales each parameter's step by a running estimate of its own gradient's size (the second
moment), so every number moves at about the learning rate, whatever its gradient's scale. Weight
decay pulls every weight a little towards zero each step (``w -= lr * wd * w``), a prior that prefers
small weights. It makes sense for the matrices that mix features (attention and feed-forward
projections, embeddings), whose scale is free. Biases and norm gains are 1-D: they set offsets and
scales that the network needs at specific values, and decaying them only hurts. So AdamW's
parameters are split into two groups by dimensionality.

**Muon** (Keller Jordan 2024; ``torch.optim.Muon``) treats a weight matrix as what it is, a linear
map, rather than a bag of numbers. Each step it takes the momentum of the gradient, ``B`` (shape
``out × in``), and replaces it by its nearest *orthogonal* matrix: write ``B = U S Vᵀ`` (its singular
value decomposition); the update is ``U Vᵀ``, every singular value set to 1. Five Newton–Schulz
iterations compute it with matrix products alone (no SVD): after scaling ``X = B / ‖B‖`` so that
every singular value is at most 1, each iteration applies the odd polynomial
``X ← a X + b (X Xᵀ) X + c (X Xᵀ)² X``, which acts on each singular value ``σ`` alone as
``σ ← a σ + b σ³ + c σ⁵``; its coefficients ``(a, b, c) = (3.4445, -4.775, 2.0315)`` push every
``σ`` in (0, 1] quickly towards 1 (into about 0.5..1.5 after five: torch's source notes that this works
as well as exactly 1, and it is cheaper than iterating to convergence).

Why that helps: the gradient of a transformer's matrix is dominated by a few directions (its
largest singular values), so a plain or Adam step mostly moves the weights along those few, and
the rare directions that matter for learning barely move. Orthogonalising gives every direction of
the update the same size: the step changes the layer's output by the same amount whichever input
direction it acts on, with a norm set by the learning rate alone. Muon made the NanoGPT speedrun
(GPT-2-small scale, on GPUs) 1.35× faster than AdamW did; at this project's CPU scale, measure.

Muon is for the hidden matrices only: the 2-D weights of the linear layers inside the blocks
(attention's qkv and out projections, the feed-forward's). The token and position embeddings are
lookups, not linear maps of a dense input (each step touches a few rows), and the head's rows are
one per vocabulary token: both stay on AdamW, with the gains and biases, at AdamW's ``lr``.

Muon's learning rate ``muon_lr`` is on its own scale: with ``adjust_lr_fn="original"`` (Keller
Jordan's), an ``out × in`` update is scaled by ``sqrt(max(1, out / in))``, so that wide and tall
matrices move their outputs alike; 0.02 is the published default at that scaling. Its weight
decay is decoupled like AdamW's (``w -= muon_lr * wd * w``); it is given the ``wd`` that shrinks a
matrix per step exactly as much as AdamW's decay does (``weight_decay * lr / muon_lr``), so
``--weight-decay`` means the same pull towards zero under either optimizer.
"""

from __future__ import annotations

import torch

from tui_transformer.train.combined_optimizer import CombinedOptimizer
from tui_transformer.train.config import TrainConfig


def muon_matrices(model: torch.nn.Module) -> list[torch.nn.Parameter]:
    """The hidden matrices Muon trains: the weights of every linear layer inside the transformer blocks."""
    return [module.weight for module in model.blocks.modules()
            if isinstance(module, torch.nn.Linear) and module.weight.requires_grad]


def adamw(params: list[torch.nn.Parameter], config: TrainConfig, device: str) -> torch.optim.AdamW:
    """AdamW over ``params``: weight decay on the 2-D ones, none on the gains and biases."""
    groups = [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": config.weight_decay},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]
    # Fused: one kernel updates every parameter in a single pass over its memory, instead of about ten
    # tensor operations per parameter. Measured on a 2-core CPU, an AdamW step of the tiny model took
    # 2.8 ms fused against 12.9 ms by default, and at d256/L6 86 ms against 310 ms (MPS keeps the default).
    fused = device.startswith("cuda") or device == "cpu"
    return torch.optim.AdamW(groups, lr=config.lr, betas=(config.beta1, config.beta2), fused=fused or None)


def build_optimizer(model: torch.nn.Module, config: TrainConfig, device: str) -> CombinedOptimizer:
    """The run's optimizer: ``{"adamw"}``, or ``{"muon", "adamw"}`` with ``config.optimizer == "muon"``."""
    params = [p for p in model.parameters() if p.requires_grad]
    if config.optimizer != "muon":
        return CombinedOptimizer({"adamw": (adamw(params, config, device), config.lr)})
    matrices = muon_matrices(model)
    taken = {id(p) for p in matrices}
    muon = torch.optim.Muon(matrices, lr=config.muon_lr, weight_decay=config.weight_decay * config.lr / config.muon_lr,
                            momentum=0.95, nesterov=True, adjust_lr_fn="original")
    rest = adamw([p for p in params if id(p) not in taken], config, device)
    return CombinedOptimizer({"muon": (muon, config.muon_lr), "adamw": (rest, config.lr)})
