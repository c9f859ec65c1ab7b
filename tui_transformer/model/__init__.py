"""The transformer, from scratch: one concept per module.

Read in this order: :mod:`.embedding`, :mod:`.positional`, :mod:`.attention`, :mod:`.multi_head`,
:mod:`.feedforward`, :mod:`.block`, :mod:`.transformer`, :mod:`.kv_cache`, :mod:`.sampling`,
:mod:`.generation`, :mod:`.perplexity`; then :mod:`.hooks` (named points where a probe reads or
patches the forward pass) and :mod:`.inspection` (attention maps, residual stream, logit lens of one
forward pass).

::

    from tui_transformer.model import ModelConfig, DecoderTransformer, SamplingConfig, generate
    model = DecoderTransformer(ModelConfig(vocab_size=8192, d_model=128, n_heads=4, n_layers=4, d_ff=512))
    logits = model(tokens)                           # [B, T] -> [B, T, V]
    for token_id in generate(model, prompt_ids, max_new_tokens=64, sampling=SamplingConfig(temperature=0.8)):
        ...

Importing this package imports no torch: each name below is imported from its module on first use
(:mod:`tui_transformer.lazy_exports`), so ``from tui_transformer.model.config import ModelConfig`` in a
settings form or a ``--help`` costs milliseconds, not the seconds torch takes to load.
(``perplexity`` is not among them: it is also its module's name, and importing that module, as the
trainer does, binds the module here, so the name would mean one or the other by import order.
Import it from :mod:`.perplexity`.)
"""

from typing import TYPE_CHECKING

from tui_transformer.lazy_exports import lazy_exports

if TYPE_CHECKING:  # for readers, editors and type checkers: what each name is
    from tui_transformer.model.config import ModelConfig
    from tui_transformer.model.generation import GenerationStep, generate, generate_steps
    from tui_transformer.model.kv_cache import KVCache, NaiveKVCache
    from tui_transformer.model.sampling import SAMPLER_PRESETS, SamplingConfig
    from tui_transformer.model.transformer import DecoderTransformer, count_parameters

HOMES = {  # exported name -> the module that defines it
    "ModelConfig": "config",
    "GenerationStep": "generation",
    "generate": "generation",
    "generate_steps": "generation",
    "KVCache": "kv_cache",
    "NaiveKVCache": "kv_cache",
    "SAMPLER_PRESETS": "sampling",
    "SamplingConfig": "sampling",
    "DecoderTransformer": "transformer",
    "count_parameters": "transformer",
}
__all__ = list(HOMES)
__getattr__, __dir__ = lazy_exports(__name__, HOMES)
