"""The KV cache: remembering keys and values so each new token costs the same.

To generate token ``t+1`` a decoder attends over all ``t`` previous tokens. Without a cache every
step re-runs the whole context: ``O(t)`` work per token and ``O(T²)`` for a generation. But in a
causal model the key and value of a past token never change once computed, so we store them:

* **prefill**: run the prompt once, writing its keys and values at positions ``0 .. P-1``;
* **decode**: feed only the newest token; compute its ``q, k, v`` (``[B, H, 1, d_head]``), write
  ``k, v`` at position ``length`` and attend over the cached ``[B, H, length + 1, d_head]``.

:class:`KVCache` preallocates, per layer, zeroed buffers for keys and values of shape
``[B, H, max_len, d_head]`` (nanochat / litgpt style), sized to the tokens the caller will need,
and writes into them in place, tracking how many positions are filled with ``length``. Nothing is
allocated per step and the attention reads a view (``narrow``) of the filled part, so a decode step
at position 1000 costs nearly what one at position 100 costs.

Keys and values are stored alike, ``[B, H, max_len, d_head]``, the layout both attention paths
read without a copy. (An earlier version stored the keys transposed, so that ``q · Kᵀ`` would read
rows; measured here, decode steps were 8-27 % faster in this plain layout on both paths, and the
fused kernel lost the most with the transposed view.)

:class:`NaiveKVCache` does what a first attempt does, ``torch.cat`` of the old keys with the new
ones at every step. Each step then copies the whole cache: ``O(t)`` bytes moved per token. It is
kept only as the contrast the KV-cache benchmark measures.

Memory of the preallocated cache (K and V, every layer)::

    bytes = 2 · layers · batch · heads · max_len · d_head · bytes_per_value
"""

from __future__ import annotations

import torch

from tui_transformer.errors import ConfigError


class KVCache:
    """Preallocated per-layer key/value buffers, filled in place up to ``length``.

    ``keys`` and ``values`` are ``[layers, B, H, max_len, d_head]``. ``update(layer, k, v)`` writes the
    new ``k, v [B, H, T, d_head]`` at positions ``length .. length + T - 1`` of that layer and returns
    views of everything cached so far.
    The model calls ``advance(T)`` once all layers have written, so every layer of one forward pass
    writes at the same positions.
    """

    def __init__(
        self,
        n_layers: int,
        batch_size: int,
        n_heads: int,
        max_len: int,
        d_head: int,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str = "cpu",
    ) -> None:
        self.keys = torch.zeros(n_layers, batch_size, n_heads, max_len, d_head, dtype=dtype, device=device)
        self.values = torch.zeros(n_layers, batch_size, n_heads, max_len, d_head, dtype=dtype, device=device)
        # One view per layer, taken once, so a step does not pay for re-indexing the big tensor.
        self._layer_keys = [self.keys[layer] for layer in range(n_layers)]
        self._layer_values = [self.values[layer] for layer in range(n_layers)]
        self.max_len = max_len
        self.length = 0

    def update(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n_new = k.shape[-2]
        end = self.length + n_new
        if end > self.max_len:
            raise ConfigError(f"KV cache is full: it holds {self.max_len} positions, {end} were needed")
        keys, values = self._layer_keys[layer], self._layer_values[layer]
        keys.narrow(2, self.length, n_new).copy_(k)
        values.narrow(2, self.length, n_new).copy_(v)
        return keys.narrow(2, 0, end), values.narrow(2, 0, end)

    def advance(self, n_new: int) -> None:
        self.length += n_new

    def reset(self) -> None:
        """Forget everything (the buffers are overwritten by the next prefill)."""
        self.length = 0

    def memory_bytes(self) -> int:
        """Bytes held by the K and V buffers: ``2 · layers · batch · heads · max_len · d_head · bytes``."""
        return 2 * self.keys.numel() * self.keys.element_size()


class NaiveKVCache:
    """The teaching contrast: grows by ``torch.cat`` at every step (a full copy each time)."""

    def __init__(self, n_layers: int) -> None:
        self._keys: list[torch.Tensor | None] = [None] * n_layers
        self._values: list[torch.Tensor | None] = [None] * n_layers
        self.length = 0

    def update(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        old_k, old_v = self._keys[layer], self._values[layer]
        self._keys[layer] = k if old_k is None else torch.cat([old_k, k], dim=2)
        self._values[layer] = v if old_v is None else torch.cat([old_v, v], dim=2)
        return self._keys[layer], self._values[layer]

    def advance(self, n_new: int) -> None:
        self.length += n_new

    def reset(self) -> None:
        self._keys = [None] * len(self._keys)
        self._values = [None] * len(self._values)
        self.length = 0

    def memory_bytes(self) -> int:
        """Bytes currently held (it grows with ``length``)."""
        return sum(t.numel() * t.element_size() for t in self._keys + self._values if t is not None)


Cache = KVCache | NaiveKVCache
"""What the model's ``cache=`` accepts: one of the two caches above (a union, not a protocol); both have
``length``, ``update(layer, k, v)`` and ``advance(n)``."""
