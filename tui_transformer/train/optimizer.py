"""AdamW, with weight decay on the 2-D weight matrices only.

Weight decay pulls every weight a little towards zero each step (``w -= lr * wd * w``), a prior that
prefers small weights. It makes sense for the matrices that mix features (attention and
feed-forward projections, embeddings), whose scale is free. Biases and LayerNorm gains are 1-D:
they set offsets and scales that the network needs at specific values, and decaying them only
hurts. So the parameters are split into two groups by dimensionality.
"""

from __future__ import annotations

import torch

from tui_transformer.train.config import TrainConfig


def build_optimizer(model: torch.nn.Module, config: TrainConfig, device: str) -> torch.optim.AdamW:
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    groups = [
        {"params": decay, "weight_decay": config.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    # Fused: one kernel updates every parameter in a single pass over its memory, instead of about ten
    # tensor operations per parameter. Measured on a 2-core CPU, an AdamW step of the tiny model took
    # 2.8 ms fused against 12.9 ms by default, and at d256/L6 86 ms against 310 ms (MPS keeps the default).
    fused = device.startswith("cuda") or device == "cpu"
    return torch.optim.AdamW(groups, lr=config.lr, betas=(config.beta1, config.beta2), fused=fused or None)
