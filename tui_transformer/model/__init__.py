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
"""

from tui_transformer.model.config import ModelConfig
from tui_transformer.model.generation import GenerationStep, generate, generate_steps
from tui_transformer.model.kv_cache import KVCache, NaiveKVCache
from tui_transformer.model.perplexity import perplexity
from tui_transformer.model.sampling import SAMPLER_PRESETS, SamplingConfig
from tui_transformer.model.transformer import DecoderTransformer, count_parameters

__all__ = [
    "SAMPLER_PRESETS",
    "DecoderTransformer",
    "GenerationStep",
    "KVCache",
    "ModelConfig",
    "NaiveKVCache",
    "SamplingConfig",
    "count_parameters",
    "generate",
    "generate_steps",
    "perplexity",
]
