"""How much arithmetic one token of training costs: the numerator of MFU.

A matrix of ``N`` weights multiplying an activation costs ``2N`` FLOPs (a multiply and an add per
weight) in the forward pass and twice that in the backward pass (the gradient with respect to the
input and to the weights), so ``6N`` per token for training (Kaplan et al. 2020). Attention adds its
own products ``q·kᵀ`` and ``weights·v``, ``2 · 2 · T · D`` per token and layer forward, ``12 · L · D · T``
for the three passes::

    matmul weights   N = L · (4·D² + 2·D·F) + D·V         QKV and output, the MLP, the LM head
                                                         (swiglu's MLP has three matrices: 3·D·F)
    per token        6·N + 12·L·D·T

The embedding lookups, LayerNorms, softmax and biases are left out, as is usual: they are a few
percent at these shapes. **MFU** (model FLOPs utilisation) is ``tokens/s · FLOPs/token`` divided by
the device's peak.
"""

from __future__ import annotations

from tui_transformer.model.config import ModelConfig


def matmul_params(c: ModelConfig) -> int:
    """Weights that multiply activations: per layer QKV + output (4 d^2) and the MLP (2 d d_ff, or 3 d d_ff
    for swiglu), plus the LM head."""
    mlp = (3 if c.activation == "swiglu" else 2) * c.d_model * c.d_ff  # swiglu's gate is a third matrix
    return c.n_layers * (4 * c.d_model * c.d_model + mlp) + c.d_model * c.vocab_size


def flops_per_token(c: ModelConfig) -> int:
    """Training FLOPs per token: ``6 N + 12 L D T`` (see the module docstring)."""
    return 6 * matmul_params(c) + 12 * c.n_layers * c.d_model * c.max_seq_len
