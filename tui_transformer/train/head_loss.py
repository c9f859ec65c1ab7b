"""The trainer's loss: the LM head and the cross-entropy in one pass, a chunk of positions at a time.

An optimisation outside the model as it is taught. ``model(x, targets=y)`` computes the plain
``F.cross_entropy`` of the whole logits; the trainer instead wraps the model in
:class:`ChunkedHeadLoss`, which computes the same loss and the same gradients without ever
building the logits whole. (Tested equal: loss and gradients, tied and untied.)

Training ends with the two largest tensors of the whole step. The LM head turns the hidden states
``h [N, D]`` (``N = B·T`` positions) into logits ``z = h Wᵀ [N, V]``, and the cross-entropy reads them.
Written plainly (``F.cross_entropy(F.linear(h, W), y)``), autograd keeps ``z``, builds its log-softmax (a
second ``[N, V]``), and in the backward pass a third and a fourth (the gradient arriving at the
log-softmax, and the one leaving it). At the tiny preset's batch that is four tensors of 64 MB; at
cl100k's 100k-token vocabulary, four of 800 MB. Each is written once and read once or twice, so the
step spends its time moving them through memory, not on arithmetic.

The gradient of the mean cross-entropy with respect to the logits has a closed form, so there is
no need to keep anything for autograd::

    loss     = (1/N) Σᵢ ( logsumexp(zᵢ) − zᵢ,yᵢ )
    ∂loss/∂zᵢ = ( softmax(zᵢ) − onehot(yᵢ) ) / N                 [V] for each position i
    ∂loss/∂hᵢ = ∂loss/∂zᵢ · W                                    [D]
    ∂loss/∂W  = Σᵢ (∂loss/∂zᵢ)ᵀ hᵢ                               [V, D]

:class:`LinearCrossEntropy` computes the loss **and both gradients in the forward pass**, ``CHUNK``
positions at a time: the chunk's logits ``[CHUNK, V]`` are made, turned into their softmax in place
(one ``exp`` per logit), then into ``∂loss/∂z`` in place, and used at once for the chunk's share of
``∂loss/∂h`` and ``∂loss/∂W``. Only one chunk of logits exists at any moment. The backward pass
multiplies the two saved gradients by the gradient of the loss (1, or ``1/n`` under gradient
accumulation). The arithmetic is the plain path's: the same three matmuls (``h Wᵀ``, ``∂z · W``,
``∂zᵀ h``); what goes is the memory traffic, and the page faults of allocating the big tensors.

**Soft-capped logits** (``logit_softcap = c``) put ``s = c·tanh(z/c)`` between the logits and the
loss. The chain rule adds one factor, ``∂s/∂z = 1 − tanh²(z/c)``, so ``∂loss/∂z`` is
``(softmax(s) − onehot(y)) / N · (1 − tanh²(z/c))``: the chunk keeps ``tanh(z/c)`` for it (one more
``[CHUNK, V]`` buffer), and everything else is as above.

``CHUNK`` is 256 rows: each pass over ``W`` (4 MB at the tiny shape, 100 MB at cl100k's) then
serves 256 positions, and a chunk of logits (8 MB; 100 MB) is a small part of ``[N, V]``.

**When it runs.** :func:`head_loss` takes this path when training in float32 (gradients wanted, no
autocast) outside ``torch.compile``. Elsewhere it computes the logits and their plain
cross-entropy: under autocast the logits' dtype is autocast's choice and the loss upcasts them;
under ``torch.compile`` the compiler fuses the plain path itself; without gradients there is
nothing to precompute. The two paths agree to float32 rounding (tested: loss and gradients, tied and untied).

Two consequences of computing gradients early: a loss computed with gradients enabled but never
backpropagated still paid for them, and it cannot be differentiated twice (``create_graph``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd.function import once_differentiable

CHUNK = 256


class ChunkedHeadLoss(nn.Module):
    """``model`` with the chunked head loss: ``forward(tokens, targets)`` -> the mean next-token loss.

    The trainer runs its steps through this module (and wraps this one in DDP or ``torch.compile``),
    so ``model(x, targets=y)`` and ``ChunkedHeadLoss(model)(x, targets=y)`` are the same number, but
    the second never holds the ``[B·T, V]`` logits. Its parameters are the model's.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, tokens: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return head_loss(self.model.hidden(tokens), self.model.head_weight, targets, self.model.config.logit_softcap)


def head_loss(hidden: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor, softcap: float = 0.0) -> torch.Tensor:
    """The mean next-token loss of the logits ``hidden [B, T, D] · weightᵀ [D, V]`` against ``targets [B, T]``,
    soft-capped to ``softcap · tanh(logits / softcap)`` when ``softcap`` > 0."""
    if _chunked_applies(hidden, weight):
        return LinearCrossEntropy.apply(hidden.reshape(-1, hidden.size(-1)), weight, targets.reshape(-1), softcap)
    logits = F.linear(hidden, weight)
    if softcap:
        logits = softcap * torch.tanh(logits / softcap)
    return F.cross_entropy(logits.float().view(-1, logits.size(-1)), targets.reshape(-1))


def _chunked_applies(hidden: torch.Tensor, weight: torch.Tensor) -> bool:
    """Training in float32 outside the compiler (see the module docstring)."""
    wants_grad = torch.is_grad_enabled() and (hidden.requires_grad or weight.requires_grad)
    return (wants_grad and hidden.dtype == weight.dtype == torch.float32
            and not torch.is_autocast_enabled(hidden.device.type) and not torch.compiler.is_compiling())


class LinearCrossEntropy(torch.autograd.Function):
    """``hidden [N, D], weight [V, D], targets [N]`` -> the mean cross-entropy of ``hidden · weightᵀ``
    (soft-capped by ``softcap`` > 0)."""

    @staticmethod
    def forward(ctx, hidden: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor,
                softcap: float = 0.0) -> torch.Tensor:
        n = hidden.shape[0]
        grad_hidden = torch.empty_like(hidden) if ctx.needs_input_grad[0] else None
        grad_weight = torch.empty_like(weight) if ctx.needs_input_grad[1] else None
        total = hidden.new_zeros(())
        minus_one_over_n = hidden.new_full((CHUNK, 1), -1.0 / n)
        for start in range(0, n, CHUNK):
            h, y = hidden[start : start + CHUNK], targets[start : start + CHUNK, None]
            z = h @ weight.t()  # [c, V], the only logits that exist now
            if softcap:
                capped = z.div_(softcap).tanh_()  # tanh(z/c), kept for the chain rule's factor
                z = capped * softcap
            z_target = z.gather(1, y)
            z_max = z.amax(1, keepdim=True)
            e = z.sub_(z_max).exp_()  # exp(z - max) in place: no overflow, one exp per logit
            e_sum = e.sum(1, keepdim=True)
            total += (z_max + e_sum.log() - z_target).sum()  # Σ logsumexp(z) - z_y
            dz = e.mul_(1.0 / (n * e_sum))  # softmax / N
            dz.scatter_add_(1, y, minus_one_over_n[: len(y)])  # - onehot / N
            if softcap:
                dz.mul_(capped.square_().neg_().add_(1.0))  # · (1 - tanh²(z/c))
            if grad_hidden is not None:
                torch.mm(dz, weight, out=grad_hidden[start : start + CHUNK])
            if grad_weight is not None and start == 0:
                torch.mm(dz.t(), h, out=grad_weight)  # the first chunk's share, written over the empty buffer
            elif grad_weight is not None:
                grad_weight.addmm_(dz.t(), h)
        ctx.save_for_backward(grad_hidden, grad_weight)
        return total / n

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_loss: torch.Tensor):
        grad_hidden, grad_weight = ctx.saved_tensors
        return (None if grad_hidden is None else grad_hidden * grad_loss,
                None if grad_weight is None else grad_weight * grad_loss, None, None)
