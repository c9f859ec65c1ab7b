"""The transformer, from scratch: one concept per module.

This package is the transformer as it is taught, and nothing else: read it top to bottom, as
nanoGPT's ``model.py`` is read. The order: :mod:`.config` (the shape), :mod:`.embedding`,
:mod:`.positional`, :mod:`.attention`, :mod:`.multi_head`, :mod:`.feedforward`, :mod:`.block`,
:mod:`.transformer` (the model and its loss), then inference: :mod:`.kv_cache`, :mod:`.sampling`,
:mod:`.generation`. :mod:`.hook_point` is the identity layer that names the places a probe may look.

**The naming rule.** What probes, measures or runs the model, without being the model, lives in
the sub-package :mod:`.tools` (hooks, inspection, explain, the loss of given logits, perplexity,
eval mode, FLOPs), and it imports the model, never the other way round. Optimisations that a
learner need not read are the trainer's and the benchmarks' (the chunked head loss is
:mod:`tui_transformer.train.head_loss`); each keeps a test of equality with the plain code here.

::

    from tui_transformer.model import ModelConfig, DecoderTransformer, SamplingConfig, generate
    model = DecoderTransformer(ModelConfig(vocab_size=8192, d_model=128, n_heads=4, n_layers=4, d_ff=512))
    logits = model(tokens)                           # [B, T] -> [B, T, V]
    for token_id in generate(model, prompt_ids, max_new_tokens=64, sampling=SamplingConfig(temperature=0.8)):
        ...

Importing this package imports no torch: each name below is imported from its module on first use
(:mod:`tui_transformer.lazy_exports`), so ``from tui_transformer.model.config import ModelConfig`` in a
settings form or a ``--help`` costs milliseconds, not the seconds torch takes to load.
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
