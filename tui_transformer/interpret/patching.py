"""Activation patching: which activations carry the information that decides an answer?

Run the model on two prompts of the same token length that differ where it matters:

    clean      "The Eiffel Tower is in the city of"   -> answer  " Paris"
    corrupted  "The Colosseum is in the city of"      -> answer  " Rome"

and measure the **logit difference** ``m = logit[answer] − logit[wrong]`` at the last position (the
clean answer against the corrupted one). Then run the corrupted prompt again, but replace one
activation with its value from the clean run. If ``m`` comes back, that activation carried it::

    recovered = (m_patched − m_corrupted) / (m_clean − m_corrupted)     0 = no effect, 1 = all of it

Two grids, each a patch of one piece at a time:

* **residual stream** ``[layers, positions]``: the stream entering block ``l``
  (``blocks.{l}.hook_resid_pre``) at one position. Patching every position at layer 0 replaces the
  whole input, so it recovers exactly 1;
* **heads** ``[layers, heads]``: head ``h``'s output (``blocks.{l}.attn.hook_z``) at every position.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from tui_transformer.errors import ConfigError
from tui_transformer.model.tools.eval_mode import eval_mode
from tui_transformer.model.tools.hooks import hooks, run_with_cache


def logit_difference(logits: torch.Tensor, answer: int, wrong: int) -> float:
    """``logit[answer] − logit[wrong]`` at the last position of the first sequence."""
    last = logits[0, -1].float()
    return float(last[answer] - last[wrong])


@dataclass(frozen=True)
class PatchingResult:
    clean: float  # logit difference on the clean prompt
    corrupted: float  # ... on the corrupted one
    residual: torch.Tensor  # [L, T] fraction recovered by patching blocks.{l}.hook_resid_pre at one position
    heads: torch.Tensor  # [L, H] fraction recovered by patching one head's output at every position


def patch(model, clean: torch.Tensor, corrupted: torch.Tensor, answer: int, wrong: int) -> PatchingResult:
    """Both grids for the prompts ``clean`` and ``corrupted`` (``[T]`` or ``[1, T]``, same ``T``)."""
    clean, corrupted = (torch.as_tensor(t, dtype=torch.long).reshape(1, -1).to(model.embed.weight.device)
                        for t in (clean, corrupted))
    if clean.shape != corrupted.shape:
        raise ConfigError(f"patching needs prompts of the same token length, got {clean.shape[1]} and "
                          f"{corrupted.shape[1]} tokens")
    n_layers, n_heads, n_tokens = model.config.n_layers, model.config.n_heads, clean.shape[1]
    names = [f"blocks.{layer}.{point}" for layer in range(n_layers) for point in ("hook_resid_pre", "attn.hook_z")]
    with eval_mode(model), torch.inference_mode():
        clean_logits, clean_cache = run_with_cache(model, clean, names)
        m_clean = logit_difference(clean_logits, answer, wrong)
        m_corrupted = logit_difference(model(corrupted), answer, wrong)
        if m_clean == m_corrupted:
            raise ConfigError("the clean and corrupted prompts give the same logit difference: nothing to recover")

        def recovered(name: str, replace) -> float:
            with hooks(model, {name: replace}):
                return (logit_difference(model(corrupted), answer, wrong) - m_corrupted) / (m_clean - m_corrupted)

        residual = torch.zeros(n_layers, n_tokens)
        heads = torch.zeros(n_layers, n_heads)
        for layer in range(n_layers):
            name = f"blocks.{layer}.hook_resid_pre"
            for position in range(n_tokens):
                residual[layer, position] = recovered(name, _from_clean(clean_cache[name], (slice(None), position)))
            name = f"blocks.{layer}.attn.hook_z"
            for head in range(n_heads):
                heads[layer, head] = recovered(name, _from_clean(clean_cache[name], (slice(None), head)))
    return PatchingResult(m_clean, m_corrupted, residual, heads)


def _from_clean(clean: torch.Tensor, index: tuple):
    """A hook that copies ``clean[index]`` into the corrupted run's tensor (``index`` picks a position or a head)."""

    def replace(corrupted: torch.Tensor) -> torch.Tensor:
        patched = corrupted.clone()
        patched[index] = clean[index]
        return patched

    return replace
